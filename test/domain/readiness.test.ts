import { describe, expect, it } from 'vitest';
import { parseConfig, type ServiceConfig } from '../../lambdas/domain/config.ts';
import {
  actionResources,
  type CheckResult,
  evaluateReadiness,
  type LiveRecord,
  type LiveRouting,
  type ReadinessFacts,
  resourceKey,
} from '../../lambdas/domain/readiness.ts';
import { readinessBudgetProblems, readinessRoute53Requests } from '../../lambdas/domain/readiness-config.ts';
import type {
  AlarmStateValue,
  ClusterState,
  LagSample,
  StoredClusterState,
} from '../../lambdas/domain/types.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

function withActions(): ServiceConfig {
  const base = route53Service({ id: 'pg', nodes: ['a', 'b'] });
  const config = parseConfig({
    services: [
      {
        ...base,
        actions: {
          fence: { type: 'ec2-stop' },
          promote: { type: 'ssm-command', commands: ['promote {node}'] },
          demote: {
            type: 'lambda',
            functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:demote',
          },
        },
        nodes: base.nodes.map((n, i) => ({ ...n, instanceId: `i-0000000000000000${i}` })),
      },
    ],
  });
  return config.services[0] as ServiceConfig;
}

const SERVICE = withActions();

/** A ready service: record on a with the configured TTL, alarms OK, b's lag fresh, resources exist. */
function facts(overrides: Partial<ReadinessFacts> = {}): ReadinessFacts {
  const alarms = new Map<string, AlarmStateValue>([
    ['pg-a-health', 'OK'],
    ['pg-b-health', 'OK'],
  ]);
  const lag = new Map<string, LagSample | undefined>([
    ['a', { lagSeconds: 0, timestamp: NOW - 5000 }],
    ['b', { lagSeconds: 1, timestamp: NOW - 5000 }],
  ]);
  const routing: LiveRouting = {
    type: 'route53',
    record: { values: ['10.0.0.1'], ttlSeconds: 15, alias: false },
  };
  return {
    service: SERVICE,
    state: { ok: true, value: undefined },
    alarms: { ok: true, value: alarms },
    lag: { ok: true, value: lag },
    routing: { ok: true, value: routing },
    resources: {
      ok: true,
      value: new Map(actionResources(SERVICE).map((r) => [resourceKey(r.ref), { exists: true }])),
    },
    now: NOW,
    ...overrides,
  };
}

function check(result: ReturnType<typeof evaluateReadiness>, name: CheckResult['check']): CheckResult {
  const c = result.checks.find((x) => x.check === name);
  if (!c) throw new Error(`no check ${name}`);
  return c;
}

function reasons(c: CheckResult): string {
  return c.status === 'pass' ? '' : c.reasons.join('\n');
}

/** The verdict when the record reads as `record` (undefined: it does not exist). */
const withRecord = (record?: LiveRecord) =>
  evaluateReadiness(
    facts({ routing: { ok: true, value: { type: 'route53', ...(record ? { record } : {}) } } }),
  );

describe('evaluateReadiness', () => {
  it('reports a correctly set-up service as ready, every check passing', () => {
    const r = evaluateReadiness(facts());
    expect(r.status).toBe('ready');
    expect(r.checks.map((c) => [c.check, c.status])).toEqual([
      ['routing', 'pass'],
      ['state', 'pass'],
      ['alarms', 'pass'],
      ['lag', 'pass'],
      ['decision', 'pass'],
      ['actions', 'pass'],
    ]);
    const decision = check(r, 'decision');
    expect(decision.status === 'pass' && decision.notes[0]).toMatch(/failover to b/);
  });

  it('fails routing when the record TTL differs from the one the swap will DELETE, naming both', () => {
    const r = withRecord({ values: ['10.0.0.1'], ttlSeconds: 300, alias: false });
    expect(r.status).toBe('not-ready');
    const c = check(r, 'routing');
    expect(c.status).toBe('fail');
    expect(reasons(c)).toMatch(/TTL 300 but router\.ttlSeconds is 15/);
    expect(reasons(c)).toMatch(/DELETE of 10\.0\.0\.1 with TTL 15/);
    // Where traffic points is still right: only the record's shape is wrong.
    expect(check(r, 'state').status).toBe('pass');
  });

  it.each([
    ['a missing record', undefined, /does not exist/],
    ['two values', { values: ['10.0.0.1', '10.0.0.2'], ttlSeconds: 15, alias: false }, /2 values/],
    [
      'a weighted record',
      { values: ['10.0.0.1'], ttlSeconds: 15, alias: false, setIdentifier: 'w1' },
      /set identifier w1/,
    ],
    ['an alias', { values: [], alias: true }, /alias record/],
    ['a value of no node', { values: ['10.9.9.9'], ttlSeconds: 15, alias: false }, /no node's address/],
  ])('fails routing for %s', (_, record, pattern) => {
    const r = withRecord(record);
    expect(check(r, 'routing').status).toBe('fail');
    expect(reasons(check(r, 'routing'))).toMatch(pattern);
    expect(r.status).toBe('not-ready');
  });

  it('fails state when traffic points elsewhere than the recorded primary', () => {
    const r = withRecord({ values: ['10.0.0.2'], ttlSeconds: 15, alias: false });
    expect(check(r, 'routing').status).toBe('pass');
    expect(check(r, 'state').status).toBe('fail');
    expect(reasons(check(r, 'state'))).toMatch(/traffic is on b, but nothing is recorded yet/);
  });

  it('fails alarms for a missing alarm and one without data, saying what each breaks', () => {
    const alarms = new Map<string, AlarmStateValue>([['pg-b-health', 'INSUFFICIENT_DATA']]);
    const r = evaluateReadiness(facts({ alarms: { ok: true, value: alarms } }));
    const c = check(r, 'alarms');
    expect(c.status).toBe('fail');
    expect(reasons(c)).toMatch(
      /pg-a-health of a \(primary\) does not exist: a failure of a would never start a failover/,
    );
    expect(reasons(c)).toMatch(/pg-b-health of b \(replica\) has no data/);
    // b is not positively healthy: no candidate either.
    expect(check(r, 'decision').status).toBe('fail');
    expect(reasons(check(r, 'decision'))).toMatch(/no-healthy-candidate/);
  });

  it('fails lag for a replica whose newest datapoint is older than maxLagAgeSeconds, and decision holds lag-stale', () => {
    const lag = new Map<string, LagSample | undefined>([['b', { lagSeconds: 1, timestamp: NOW - 600_000 }]]);
    const r = evaluateReadiness(facts({ lag: { ok: true, value: lag } }));
    expect(check(r, 'lag').status).toBe('fail');
    expect(reasons(check(r, 'lag'))).toMatch(
      /b: newest datapoint of Test\/Replication LagSeconds .* is 10 min old, over the 2 min of policy.maxLagAgeSeconds/,
    );
    expect(reasons(check(r, 'decision'))).toMatch(/HOLD \(lag-stale\)/);
    expect(r.status).toBe('not-ready');
  });

  it("does not require the primary's own lag metric (only a note)", () => {
    const lag = new Map<string, LagSample | undefined>([['b', { lagSeconds: 1, timestamp: NOW - 1000 }]]);
    const r = evaluateReadiness(facts({ lag: { ok: true, value: lag } }));
    const c = check(r, 'lag');
    expect(c.status).toBe('pass');
    expect(c.status === 'pass' && c.notes.join()).toMatch(/a \(primary\): no datapoint/);
  });

  it('fails actions for a missing instance, naming the action, node and resource', () => {
    const resources = new Map(actionResources(SERVICE).map((r) => [resourceKey(r.ref), { exists: true }]));
    resources.set('ec2-instance:i-00000000000000001', { exists: false, detail: 'terminated' } as never);
    const r = evaluateReadiness(facts({ resources: { ok: true, value: resources } }));
    const c = check(r, 'actions');
    expect(c.status).toBe('fail');
    expect(reasons(c)).toMatch(
      /the fence action \(ec2-stop\) of b needs EC2 instance i-00000000000000001: terminated/,
    );
    expect(reasons(c)).toMatch(
      /the promote action \(ssm-command\) of b needs EC2 instance i-00000000000000001/,
    );
  });

  it('lists every resource the configured actions need', () => {
    expect(new Set(actionResources(SERVICE).map((r) => resourceKey(r.ref)))).toEqual(
      new Set([
        'ec2-instance:i-00000000000000000',
        'ec2-instance:i-00000000000000001',
        'ssm-document:AWS-RunShellScript',
        'lambda-function:arn:aws:lambda:us-east-1:111122223333:function:demote',
      ]),
    );
  });

  it('is unknown, never ready, when a fact could not be read', () => {
    const r = evaluateReadiness(facts({ routing: { ok: false, error: 'Throttling: Rate exceeded' } }));
    expect(r.status).toBe('unknown');
    expect(check(r, 'routing')).toEqual({
      check: 'routing',
      status: 'unknown',
      reasons: ['routing not read: Throttling: Rate exceeded'],
    });
  });

  it('a failing check wins over an unknown one', () => {
    const r = evaluateReadiness(
      facts({ routing: { ok: false, error: 'denied' }, alarms: { ok: true, value: new Map() } }),
    );
    expect(r.status).toBe('not-ready');
  });

  it('notes a pause but still judges the replicas as if automation could act', () => {
    const state: ClusterState = { serviceId: 'pg', primary: 'a', epoch: 3, paused: true };
    const ok = evaluateReadiness(facts({ state: { ok: true, value: state } }));
    expect(ok.status).toBe('ready');
    const c = check(ok, 'decision');
    expect(c.status === 'pass' && c.notes[0]).toMatch(/hold \(paused\).*otherwise: failover to b/);
    const stale = new Map<string, LagSample | undefined>([
      ['b', { lagSeconds: 1, timestamp: NOW - 600_000 }],
    ]);
    const bad = evaluateReadiness(
      facts({ state: { ok: true, value: state }, lag: { ok: true, value: stale } }),
    );
    expect(reasons(check(bad, 'decision'))).toMatch(/otherwise it would also HOLD \(lag-stale\)/);
  });

  it('takes the configured initial primary when only a pause was recorded (no primary on the item)', () => {
    // `failover pause` before any role change writes the flag and epoch 0, never a primary.
    const pausedOnly: StoredClusterState = {
      serviceId: 'pg',
      epoch: 0,
      paused: true,
      pause: { by: 'alice@ops-laptop', at: NOW - 60_000, reason: 'db-b is being rebuilt' },
    };
    const r = evaluateReadiness(facts({ state: { ok: true, value: pausedOnly } }));
    expect(r.status).toBe('ready');
    const state = check(r, 'state');
    expect(state.status === 'pass' && state.notes[0]).toBe(
      'traffic is on a, the configured initialPrimary (nothing recorded yet)',
    );
    // a is the primary: its own missing lag is only a note, and b is the candidate.
    const decision = check(r, 'decision');
    expect(decision.status === 'pass' && decision.notes[0]).toMatch(
      /hold \(paused\).*otherwise: failover to b/,
    );
  });

  it('fails the decision for a former primary that still needs to rejoin', () => {
    const state: ClusterState = {
      serviceId: 'pg',
      primary: 'a',
      epoch: 3,
      paused: false,
      needsRejoin: ['b'],
    };
    const r = evaluateReadiness(facts({ state: { ok: true, value: state } }));
    expect(reasons(check(r, 'decision'))).toMatch(/no-healthy-candidate.*b needs-rejoin/);
  });

  it('judges ELB routing by the single node it sends traffic to', () => {
    const none = evaluateReadiness(facts({ routing: { ok: true, value: { type: 'elbv2-target' } } }));
    expect(check(none, 'state').status).toBe('fail');
  });
});

describe('readiness budget', () => {
  it('counts one Route 53 page per 300 records per zone', () => {
    const services = Array.from({ length: 301 }, (_, i) => route53Service({ index: i }));
    const config = parseConfig({ services });
    expect(readinessRoute53Requests(config)).toBe(2);
  });

  it('refuses an interval too short for the paced zone walks, naming the field and value', () => {
    const services = Array.from({ length: 60 }, (_, i) =>
      route53Service({ index: i, hostedZoneId: `Z${i}ZONE` }),
    );
    const config = parseConfig({ services, readiness: { intervalMinutes: 1 } });
    expect(readinessBudgetProblems(config)).toEqual([
      expect.objectContaining({
        path: 'readiness.intervalMinutes',
        value: 1,
        message: expect.stringMatching(/use at least 2/),
      }),
    ]);
    expect(readinessBudgetProblems({ ...config, readiness: { enabled: true, intervalMinutes: 2 } })).toEqual(
      [],
    );
  });

  it('validates the readiness block at parse time with the path', () => {
    expect(() => parseConfig({ services: [route53Service()], readiness: { intervalMinutes: 0 } })).toThrow(
      /readiness\.intervalMinutes/,
    );
    expect(parseConfig({ services: [route53Service()] }).readiness).toEqual({
      enabled: true,
      intervalMinutes: 5,
    });
  });
});
