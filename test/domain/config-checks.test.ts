import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema, parseConfig } from '../../lambdas/domain/config.ts';
import { configWarnings, unreachableFromInternet } from '../../lambdas/domain/config-checks.ts';
import { knownKeysAt, nearestKey } from '../../lambdas/domain/config-messages.ts';
import { type ConfigProblem, ConfigValidationError } from '../../lambdas/domain/errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited per test
const sample = (file = 'examples/aws-signals.json'): any =>
  JSON.parse(readFileSync(join(ROOT, 'config', file), 'utf8'));
const SAMPLES = ['examples/aws-signals.json', 'examples/node-actions.json', 'failover.json'];

function problemsOf(input: unknown): readonly ConfigProblem[] {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems;
    throw err;
  }
  return [];
}

const TG = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/git/0123456789abcdef';
const LB = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/git-alb/0123456789abcdef';

describe('route53-health-check on an address the internet cannot reach', () => {
  it.each([
    ['10.0.1.10', 'a private address (RFC 1918)'],
    ['172.16.0.5', 'a private address (RFC 1918)'],
    ['172.31.255.1', 'a private address (RFC 1918)'],
    ['192.168.1.1', 'a private address (RFC 1918)'],
    ['127.0.0.1', 'a loopback address'],
    ['169.254.169.254', 'a link-local address'],
    ['100.64.0.1', 'a shared address (RFC 6598, carrier-grade NAT)'],
    ['::1', 'a loopback address'],
    ['fe80::1', 'a link-local address'],
    ['fd12:3456::1', 'a unique local address (fc00::/7)'],
    ['localhost', 'a loopback name'],
  ])('refuses %s at its path, with the value and the remedy (a probe)', (host, why) => {
    const config = sample();
    config.services[0].nodes[1].health.host = host;
    expect(problemsOf(config)).toEqual([
      {
        path: 'services[0].nodes[1].health.host',
        message: expect.stringContaining(`is ${why}: Route 53's health checkers run on the internet`),
        value: host,
      },
    ]);
    expect(problemsOf(config)[0]?.message).toContain('health type "probe"');
  });

  it.each(['192.0.2.10', '8.8.8.8', '172.32.0.1', '100.128.0.1', 'db.example.com', '2001:db8::1'])(
    'accepts %s',
    (host) => {
      expect(unreachableFromInternet(host)).toBeUndefined();
      const config = sample();
      config.services[0].nodes[1].health.host = host;
      expect(problemsOf(config)).toEqual([]);
    },
  );
});

describe('two nodes whose health signals watch one target group', () => {
  const elbTarget = (tgs: [string, string]) => {
    const config = sample();
    config.services = [
      {
        id: 'git',
        initialPrimary: 'g1',
        router: { type: 'elbv2-target', targetGroupArn: TG },
        nodes: ['g1', 'g2'].map((id, i) => ({
          id,
          target: { id: `i-0123456789abcdef${i}` },
          health: { type: 'target-group-health', targetGroupArn: tgs[i], loadBalancerArn: LB },
          lag: { namespace: 'Custom/Git', metricName: 'Lag', dimensions: { Node: id } },
        })),
      },
    ];
    return config;
  };

  it('refuses the second one: both alarms fire together and no replica is ever a candidate', () => {
    expect(problemsOf(elbTarget([TG, TG]))).toEqual([
      {
        path: 'services[0].nodes[1].health.targetGroupArn',
        message: expect.stringMatching(
          /^is also the health signal of nodes\[0\] \(g1\): HealthyHostCount counts the whole target group, .*no-healthy-candidate.*give each node its own target group, a probe, or an alarm/,
        ),
        value: TG,
      },
    ]);
  });

  it('accepts a target group per node', () => {
    expect(problemsOf(elbTarget([TG, TG.replace('targetgroup/git/', 'targetgroup/git2/')]))).toEqual([]);
  });
});

describe('every problem at once, structural ones included', () => {
  it('reports the cross-field problems next to missing fields and unknown keys (they hid them before)', () => {
    const config = sample();
    delete config.services[0].initialPrimary;
    config.services[0].router.recordname = 'db.example.com';
    config.services[0].nodes[1].id = 'db-a';
    config.services[0].nodes[0].health.host = '10.0.1.10';
    delete config.services[1].router;
    expect(problemsOf(config).map((p) => `${p.path}: ${p.message}`)).toEqual(
      expect.arrayContaining([
        'services[0].initialPrimary: required (a string)',
        'services[0].router.recordname: unknown key (did you mean "recordName"?)',
        'services[1].router: required (an object)',
        'services[0].nodes[1].id: duplicate node id in this service',
        expect.stringMatching(/^services\[0\]\.nodes\[0\]\.health\.host: is a private address/),
      ]),
    );
  });

  it('says the bound a number, a list or a text broke, in the words of the other messages', () => {
    const config = sample();
    config.services[0].router.ttlSeconds = 1;
    config.services[0].policy.cooldownSeconds = 100_000;
    config.services[0].description = 'x'.repeat(300);
    config.healthStackShards = 0;
    const messages = problemsOf(config).map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'services[0].router.ttlSeconds: must be at least 5',
        'services[0].policy.cooldownSeconds: must be at most 86400',
        'services[0].description: must be at most 256 characters long',
        'healthStackShards: must be at least 1',
      ]),
    );
    expect(messages.join('\n')).not.toMatch(/Too (small|big)/);
    // A schema's own wording stays: a service with one node is told why it needs two.
    config.services[1].nodes = [config.services[1].nodes[0]];
    expect(problemsOf(config).map((p) => `${p.path}: ${p.message}`)).toContain(
      'services[1].nodes: a service needs at least two nodes',
    );
  });

  it('never fails with anything but the list of problems, whatever one field holds', () => {
    const paths: [string, (string | number)[]][] = [];
    const walk = (file: string, v: unknown, path: (string | number)[]) => {
      if (path.length > 0) paths.push([file, path]);
      if (v !== null && typeof v === 'object')
        for (const [k, child] of Object.entries(v))
          walk(file, child, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    for (const file of SAMPLES) walk(file, sample(file), []);
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.constantFrom(null, 42, 'x', {}, [], undefined, true),
        ([file, path], value) => {
          const config = sample(file);
          let parent = config;
          for (const key of path.slice(0, -1)) parent = parent[key];
          const last = path[path.length - 1] as string | number;
          if (value === undefined) delete parent[last];
          else parent[last] = value;
          try {
            parseConfig(config);
          } catch (err) {
            expect(err).toBeInstanceOf(ConfigValidationError);
          }
        },
      ),
      { numRuns: 600 },
    );
  });
});

describe('unknown keys name the nearest known key', () => {
  it.each([
    ['recordname', ['services', 0, 'router'], 'recordName'],
    ['ttl', ['services', 0, 'router'], undefined],
    ['ttlSecond', ['services', 0, 'router'], 'ttlSeconds'],
    ['intialPrimary', ['services', 0], 'initialPrimary'],
    ['alarmname', ['services', 0, 'nodes', 0, 'health'], 'alarmName'],
    ['maxlag', ['services', 0, 'policy'], undefined],
    ['maxLagSecond', ['services', 0, 'policy'], 'maxLagSeconds'],
  ])('%s at %j -> %s', (key, path, expected) => {
    expect(nearestKey(key, knownKeysAt(configSchema, path))).toBe(expected);
  });

  it('finds keys through unions, defaults and the probe preprocessing', () => {
    expect(knownKeysAt(configSchema, ['services', 0, 'router'])).toEqual(
      expect.arrayContaining(['hostedZoneId', 'recordName', 'targetGroupArn', 'listenerArn']),
    );
    expect(knownKeysAt(configSchema, ['services', 3, 'nodes', 1])).toEqual(
      expect.arrayContaining(['id', 'address', 'health', 'lag', 'probe']),
    );
  });

  it('says which keys exist when no key is near', () => {
    const config = sample();
    config.services[0].policy.zzz = 1;
    expect(problemsOf(config)).toEqual([
      {
        path: 'services[0].policy.zzz',
        message: expect.stringMatching(/^unknown key \(known keys here: autoFailover, cooldownSeconds, /),
        value: 1,
      },
    ]);
  });
});

describe('configWarnings', () => {
  const withActions = (actions: Record<string, unknown>) => {
    const config = sample();
    config.services[0].actions = actions;
    return parseConfig(config);
  };
  const lambda = (name: string) => ({
    type: 'lambda',
    functionArn: `arn:aws:lambda:us-east-1:111122223333:function:${name}`,
  });

  it('warns, per node, when a service promotes with an action but a node has no demote or fence', () => {
    const warnings = configWarnings(withActions({ promote: lambda('promote') }));
    expect(warnings.map((w) => w.path)).toEqual(['services[0].nodes[0]', 'services[0].nodes[1]']);
    expect(warnings[0]?.message).toContain(
      "db-a has no demote or fence action: after a failover away from it, db-a is marked needs-rejoin and stays out of every role until someone makes it a replica and runs 'failover rejoin orders-db db-a'",
    );
  });

  it.each([
    ['demote', { promote: lambda('p'), demote: lambda('d') }],
    ['fence', { promote: lambda('p'), fence: lambda('f') }],
    ['no promote action', { fence: lambda('f') }],
  ])('is quiet with %s', (_name, actions) => {
    expect(configWarnings(withActions(actions))).toEqual([]);
  });
});
