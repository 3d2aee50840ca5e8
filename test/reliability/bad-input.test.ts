/**
 * Bad input: malformed and hostile alarm events, wrong workflow inputs and step events, invalid
 * configurations. Each one gets a clear message naming the field and the value it got (or, for a
 * well-formed event that asks for nothing, the reason with the alarm and its state), and changes
 * nothing: no write to the state table, no traffic call, no notification, no stack, no cold start.
 */
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { type FailoverConfigInput, parseConfig } from '../../lambdas/domain/config.ts';
import { ConfigValidationError, formatValue } from '../../lambdas/domain/errors.ts';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import { splitBrainAlarmName } from '../../lambdas/domain/split-brain.ts';
import type { AlarmStateValue } from '../../lambdas/domain/types.ts';
import { makeHandler as makeFailoverHandler } from '../../lambdas/handlers/failover.ts';
import { makeHandler as makeNodeActionHandler } from '../../lambdas/handlers/node-action.ts';
import { makeHandler as makeWorkflowHandler } from '../../lambdas/handlers/workflow.ts';
import { readConfigFile } from '../../lambdas/runtime/config.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { CallLog } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../lambdas/testing/node-actions.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';
import { alarmEvent, type AlarmEventJson as Json } from '../support/alarm-events.ts';
import { promotePayload } from '../support/node-action-payloads.ts';
import { instrumentedFailoverPorts } from '../support/orders-world.ts';
import { recordFigures } from './support/results.ts';

const SVC = 'orders';
const config = testConfig([
  route53Service({ id: SVC, nodes: ['a', 'b', 'c'], policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 } }),
]);
const WRITES = new Set(['acquireLease', 'commit', 'releaseLease', 'setPaused', 'shift', 'publish']);

function world() {
  const env = createMemoryEnvironment(config);
  env.lag.put(SVC, 'b', 1, env.clock.now() - 5_000);
  env.lag.put(SVC, 'c', 1, env.clock.now() - 5_000);
  const log = new CallLog(env.clock);
  const ports = instrumentedFailoverPorts(env, { log });
  return { env, log, ports };
}

/** Nothing written, nothing moved, nobody paged. */
function expectNothingChanged(env: MemoryEnvironment, log: CallLog, primary = 'a', epoch = 0) {
  expect(log.calls.filter((c) => WRITES.has(c.method)).map((c) => `${c.port}.${c.method}`)).toEqual([]);
  expect(env.traffic.pointsAt(SVC)).toBe(primary);
  expect(env.state.snapshot(SVC)?.epoch ?? 0).toBe(epoch);
  expect(env.notifier.published).toEqual([]);
}

const AT = Date.UTC(2025, 0, 1);
const base = (): Json => alarmEvent('orders-a-health', 'ALARM', 'OK', AT - 2_000, 'evt-1');
const edit = (f: (e: Json) => void) => () => {
  const e = base();
  f(e);
  return e;
};
const got = (v: unknown) => `got: ${formatValue(v)}`;

/** `node`'s alarm is `state` in CloudWatch, and the event says it went there from `previous`. */
const alarmNow =
  (node: string, state: AlarmStateValue, previous: AlarmStateValue) => (env: MemoryEnvironment) => {
    env.alarms.setNode(SVC, node, state);
    return alarmEvent(`orders-${node}-health`, state, previous, AT, 'e');
  };

/** What `f` threw, or undefined. */
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** [name, event, the field, what the problem must say about the value] */
const MALFORMED: [string, () => Json, string, string][] = [
  ['null', () => null, '(root)', got(null)],
  ['a string', () => 'ALARM', '(root)', got('ALARM')],
  ['a number', () => 42, '(root)', got(42)],
  ['an array', () => [base()], '(root)', 'got: [{'],
  ['an empty object', () => ({}), 'source', got(undefined)],
  ['another source', edit((e) => (e.source = 'aws.ec2')), 'source', got('aws.ec2')],
  ['a spoofed custom source', edit((e) => (e.source = 'my.app')), 'source', got('my.app')],
  ['no source', edit((e) => delete e.source), 'source', got(undefined)],
  [
    'another detail-type',
    edit((e) => (e['detail-type'] = 'EC2 Instance State-change Notification')),
    'detail-type',
    got('EC2 Instance State-change Notification'),
  ],
  ['no detail-type', edit((e) => delete e['detail-type']), 'detail-type', got(undefined)],
  ['a numeric id', edit((e) => (e.id = 7)), 'id', got(7)],
  ['an empty id', edit((e) => (e.id = '')), 'id', got('')],
  ['an id of 300 characters', edit((e) => (e.id = 'i'.repeat(300))), 'id', 'got: "iiii'],
  ['a time in words', edit((e) => (e.time = 'now')), 'time', got('now')],
  ['no time', edit((e) => delete e.time), 'time', got(undefined)],
  ['no detail', edit((e) => delete e.detail), 'detail', got(undefined)],
  ['detail as a JSON string', edit((e) => (e.detail = JSON.stringify(e.detail))), 'detail', 'got: "{'],
  ['no alarm name', edit((e) => delete e.detail.alarmName), 'detail.alarmName', got(undefined)],
  ['a numeric alarm name', edit((e) => (e.detail.alarmName = 12)), 'detail.alarmName', got(12)],
  ['an empty alarm name', edit((e) => (e.detail.alarmName = '')), 'detail.alarmName', got('')],
  [
    'an alarm name of 300 characters',
    edit((e) => (e.detail.alarmName = 'x'.repeat(300))),
    'detail.alarmName',
    'got: "xxx',
  ],
  ['no state', edit((e) => delete e.detail.state), 'detail.state', got(undefined)],
  ['a lower-case state', edit((e) => (e.detail.state.value = 'alarm')), 'detail.state.value', got('alarm')],
  ['an unknown state', edit((e) => (e.detail.state.value = 'BROKEN')), 'detail.state.value', got('BROKEN')],
  ['a null state', edit((e) => (e.detail.state.value = null)), 'detail.state.value', got(null)],
  [
    'a state timestamp in words',
    edit((e) => (e.detail.state.timestamp = 'yesterday')),
    'detail.state.timestamp',
    got('yesterday'),
  ],
  [
    'an impossible state timestamp',
    edit((e) => (e.detail.state.timestamp = '2025-13-45T99:99:99Z')),
    'detail.state.timestamp',
    got('2025-13-45T99:99:99Z'),
  ],
  [
    'a timestamp without a zone',
    edit((e) => (e.detail.state.timestamp = '2025-01-01T00:00:00')),
    'detail.state.timestamp',
    got('2025-01-01T00:00:00'),
  ],
  ['no previous state', edit((e) => delete e.detail.previousState), 'detail.previousState', got(undefined)],
  [
    'an unknown previous state',
    edit((e) => (e.detail.previousState.value = 'MAYBE')),
    'detail.previousState.value',
    got('MAYBE'),
  ],
  [
    'a payload over 256 KB',
    edit((e) => (e.detail.configuration = { description: 'x'.repeat(300 * 1024) })),
    '(root)',
    'over the 262144 byte EventBridge limit',
  ],
  [
    'a prototype-pollution attempt',
    () =>
      JSON.parse(
        '{"source":"evil","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      ),
    'source',
    got('evil'),
  ],
];

/** Well-formed events that ask for nothing: [name, setup + event, [outcome, reason], words the detail must contain]. */
const NOTHING_TO_DO: [string, (env: MemoryEnvironment) => Json, [string, string], string[]][] = [
  [
    'an alarm no node is watched by',
    () => alarmEvent('payments-db-health', 'ALARM', 'OK', AT, 'e'),
    ['ignored', 'unknown-alarm'],
    ['payments-db-health'],
  ],
  [
    'an alarm name that differs in case',
    () => alarmEvent('Orders-A-Health', 'ALARM', 'OK', AT, 'e'),
    ['ignored', 'unknown-alarm'],
    ['Orders-A-Health'],
  ],
  [
    'an alarm name carrying a log injection',
    () => alarmEvent('x"}\n{"level":"error","message":"forged', 'ALARM', 'OK', AT, 'e'),
    ['ignored', 'unknown-alarm'],
    ['forged'],
  ],
  [
    'INSUFFICIENT_DATA on the primary',
    alarmNow('a', 'INSUFFICIENT_DATA', 'OK'),
    ['held', 'not-an-alarm-transition'],
    ['orders-a-health', 'INSUFFICIENT_DATA'],
  ],
  [
    'OK -> ALARM for a replica',
    alarmNow('b', 'ALARM', 'OK'),
    ['held', 'not-primary-alarm'],
    ['orders-b-health', 'current primary a'],
  ],
  [
    'the primary recovering (ALARM -> OK)',
    () => alarmEvent('orders-a-health', 'OK', 'ALARM', AT, 'e'),
    ['held', 'not-an-alarm-transition'],
    ['orders-a-health', 'ALARM -> OK'],
  ],
  [
    'a stale ALARM (CloudWatch says OK now)',
    () => alarmEvent('orders-a-health', 'ALARM', 'OK', AT, 'e'),
    ['held', 'primary-healthy'],
    ['orders-a-health', 'OK now', 'stale'],
  ],
  [
    'an ALARM for an alarm that was deleted since',
    (env) => {
      env.alarms.set('orders-a-health', undefined);
      return alarmEvent('orders-a-health', 'ALARM', 'OK', AT, 'e');
    },
    ['held', 'primary-healthy'],
    ['orders-a-health', 'not found'],
  ],
  [
    'a duplicate delivered after the failover it caused',
    (env) => {
      env.state.seed({ serviceId: SVC, primary: 'b', epoch: 1, paused: false, lastChangeAt: AT - 10_000 });
      env.traffic.set(SVC, 'b');
      env.alarms.setNode(SVC, 'a', 'ALARM');
      return alarmEvent('orders-a-health', 'ALARM', 'OK', AT - 20_000, 'e');
    },
    ['held', 'not-primary-alarm'],
    ['orders-a-health', 'current primary b'],
  ],
  [
    // EventBridge and Lambda retry a delivery for up to an hour; a rule under the stack's prefix can forge one.
    'a split-brain ALARM after the detector went back to OK (a late retry, or forged)',
    (env) => {
      env.alarms.set(splitBrainAlarmName(SVC), 'OK');
      return alarmEvent(splitBrainAlarmName(SVC), 'ALARM', 'OK', AT, 'e');
    },
    ['ignored', 'stale-event'],
    [],
  ],
];

const figures = { events: 0, workflow: 0, configs: 0 };

describe('bad input', () => {
  describe('malformed and hostile alarm events', () => {
    it.each(MALFORMED)(
      '%s: ignored, the problem names the field and the value; no AWS call',
      async (_name, make, field, value) => {
        const { env, log, ports } = world();
        const handler = makeFailoverHandler({ ...env, ...ports });
        const out = await handler(make(), { awsRequestId: 'req-1' });
        figures.events++;
        expect(out).toMatchObject({ outcome: 'ignored', reason: 'invalid-event' });
        const problem = out.problems?.find((p) => p.startsWith(`${field}: `));
        expect(problem, JSON.stringify(out.problems)).toBeDefined();
        expect(problem).toContain(value);
        expect(log.calls).toEqual([]);
        expectNothingChanged(env, log);
        expect(env.logger.find('invalid event ignored')[0]?.data?.problems).toEqual(out.problems);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      },
    );

    it.each(NOTHING_TO_DO)(
      '%s: nothing to do, says why, writes nothing',
      async (_name, make, [outcome, reason], words) => {
        const { env, log, ports } = world();
        const event = make(env);
        const primary = env.traffic.pointsAt(SVC) as string;
        const epoch = env.state.snapshot(SVC)?.epoch ?? 0;
        const handler = makeFailoverHandler({ ...env, ...ports });
        const out = await handler(event, { awsRequestId: 'req-1' });
        figures.events++;
        expect(out).toMatchObject({ outcome, reason });
        for (const w of words) expect(out.detail).toContain(w);
        expectNothingChanged(env, log, primary, epoch);
      },
    );
  });

  describe('wrong workflow inputs and step events', () => {
    const valid = { serviceId: SVC, mode: 'switchover', to: 'b', reason: 'patching' };
    const prepare = (input: unknown) => ({ step: 'prepare', input, executionName: 'exec-1' });
    /** A Prepare step whose request is `valid` changed by `changes`, refused as InvalidInputError saying `text`. */
    const invalidRequest = (changes: Record<string, unknown>, text: string): [unknown, string, string] => [
      prepare({ ...valid, ...changes }),
      'InvalidInputError',
      text,
    ];
    /** [name, step event, error name, text the message must contain] */
    const WRONG: [string, unknown, string, string][] = [
      [
        'no input',
        prepare(null),
        'InvalidInputError',
        `(input): Invalid input: expected object, received null, ${got(null)}`,
      ],
      [
        'an empty input',
        prepare({}),
        'InvalidInputError',
        `serviceId: Invalid input: expected string, received undefined, ${got(undefined)}`,
      ],
      [
        'no reason',
        ...invalidRequest(
          { reason: undefined },
          `reason: Invalid input: expected string, received undefined, ${got(undefined)}`,
        ),
      ],
      ['a blank reason', ...invalidRequest({ reason: '   ' }, `reason: must say why, ${got('   ')}`)],
      ['a reason of 600 characters', ...invalidRequest({ reason: 'r'.repeat(600) }, 'reason: Too big')],
      ['an unknown mode', ...invalidRequest({ mode: 'sideways' }, `mode: Invalid option`)],
      [
        'an unknown service',
        prepare({ ...valid, serviceId: 'nope' }),
        'UnknownServiceError',
        'unknown service: "nope"',
      ],
      [
        'a service id of 60 characters',
        ...invalidRequest({ serviceId: 's'.repeat(60) }, 'serviceId: Too big'),
      ],
      [
        'a target that is not a node id',
        ...invalidRequest({ to: 'A B' }, `to: must be a node id, ${got('A B')}`),
      ],
      [
        'a target that is not a node',
        prepare({ ...valid, to: 'zz' }),
        'PreconditionFailedError',
        'zz is not a node of orders (nodes: a, b, c)',
      ],
      [
        'force on a switchover',
        ...invalidRequest({ force: true }, 'force: only a failover may accept data loss'),
      ],
      [
        'force as a string',
        ...invalidRequest(
          { mode: 'failover', force: 'yes' },
          `force: Invalid input: expected boolean, received string, ${got('yes')}`,
        ),
      ],
      [
        'dryRun as a number',
        ...invalidRequest(
          { dryRun: 1 },
          `dryRun: Invalid input: expected boolean, received number, ${got(1)}`,
        ),
      ],
      ['an unknown key', ...invalidRequest({ priority: 'high' }, 'Unrecognized key: "priority"')],
      [
        'a request id with spaces',
        ...invalidRequest(
          { requestId: 'a b' },
          `requestId: must be 1-64 letters, digits, dashes or underscores, ${got('a b')}`,
        ),
      ],
      ['a negative expected epoch', ...invalidRequest({ expectedEpoch: -1 }, `expectedEpoch: Too small`)],
      [
        'a fractional expected epoch',
        ...invalidRequest(
          { expectedEpoch: 1.5 },
          `expectedEpoch: Invalid input: expected int, received number, ${got(1.5)}`,
        ),
      ],
      ['a step event without a step', {}, 'InvalidInputError', `step: Invalid option`],
      ['an unknown step', { step: 'explode' }, 'InvalidInputError', `step: Invalid option: expected one of`],
      [
        'a later step without its state',
        { step: 'commit' },
        'InvalidInputError',
        `state: Invalid input: expected object, received undefined, ${got(undefined)}`,
      ],
      [
        'a later step with an empty plan',
        { step: 'commit', state: { outcome: 'proceed', plan: {} } },
        'InvalidInputError',
        'state.plan.serviceId: Invalid input: expected string',
      ],
      [
        'prepare without an execution name',
        { step: 'prepare', input: valid },
        'InvalidInputError',
        `executionName: Invalid input: expected string, received undefined, ${got(undefined)}`,
      ],
      [
        'prepare with an execution name of 100 characters',
        { step: 'prepare', input: valid, executionName: 'n'.repeat(100) },
        'InvalidInputError',
        'executionName: Too big',
      ],
      [
        'prepare with an extra key',
        { ...prepare(valid), token: 'x' },
        'InvalidInputError',
        'Unrecognized key: "token"',
      ],
    ];

    it.each(WRONG)(
      '%s: refused naming the field and value, nothing changed',
      async (_name, event, error, text) => {
        const { env, log, ports } = world();
        env.lag.put(SVC, 'b', 0);
        const handler = makeWorkflowHandler({ ...env, ...ports });
        const err = await handler(event).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        figures.workflow++;
        expect(err?.name).toBe(error);
        expect(err?.message).toContain(text);
        expectNothingChanged(env, log);
      },
    );
  });

  describe('forged node-action payloads (the function is invoked with whatever a caller sends)', () => {
    const EXEC = 'switchover-orders-b-e0-0123456789abcdef';
    const call = (over: Record<string, unknown> = {}) => promotePayload(SVC, EXEC, over);
    /** [name, payload, lease holder and mode before the call (none: no lease), text the refusal names] */
    const FORGED: [string, Json, [string, 'switchover' | 'failover'] | undefined, string][] = [
      ['a promote while no workflow runs', call(), undefined, 'with no lease held'],
      [
        'a promote naming another execution than the holder',
        call(),
        ['someone-else', 'switchover'],
        'held by someone-else',
      ],
      [
        'a promote with no execution named',
        call({ execution: undefined }),
        [EXEC, 'switchover'],
        'names no execution',
      ],
      [
        'a promote in another mode than the lease',
        call({ mode: 'failover' }),
        [EXEC, 'switchover'],
        'is not making the change',
      ],
      [
        'a demote for a later epoch',
        call({ action: 'demote', epoch: 2, token: fencingToken(2, 'demote', 1) }),
        [EXEC, 'switchover'],
        'is not making the change to epoch 2',
      ],
      [
        'a token far above the epoch (a token-keeping node would refuse every later call)',
        call({ token: fencingToken(40, 'fence', 1) }),
        [EXEC, 'switchover'],
        'is not a token of epoch 1',
      ],
      [
        'an unfence replaying a token of the epoch before',
        call({ action: 'unfence', node: 'a', token: fencingToken(0, 'unfence', 1) }),
        [EXEC, 'switchover'],
        'is not a token of epoch 1',
      ],
    ];
    it.each(FORGED)('%s: refused, nothing runs on any node', async (_name, payload, lease, text) => {
      const env = createMemoryEnvironment(config);
      if (lease) {
        const now = env.clock.now();
        await env.state.acquireLease({
          serviceId: SVC,
          expectedEpoch: 0,
          seedPrimary: 'a',
          lease: { holder: lease[0], operation: lease[1], acquiredAt: now, expiresAt: now + 600_000 },
          now,
        });
      }
      const actions = new MemoryNodeActions(config, { clock: env.clock });
      const handler = makeNodeActionHandler({ actions, logger: env.logger, state: env.state });
      const err = await handler(payload).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      figures.workflow++;
      expect(err?.name).toBe('LeaseLostError');
      expect(err?.message).toContain(text);
      expect(actions.calls).toEqual([]);
    });
  });

  describe('invalid configurations', () => {
    const valid = (): Json =>
      structuredClone({
        services: [
          route53Service({ id: 'orders', nodes: ['a', 'b'] }),
          {
            id: 'backup',
            initialPrimary: 'b1',
            router: {
              type: 'elbv2-target',
              targetGroupArn:
                'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/backup/0123456789abcdef',
            },
            nodes: ['b1', 'b2'].map((id) => ({
              id,
              target: { id: `i-0${id}`, port: 8443 },
              health: { type: 'alarm', alarmName: `backup-${id}-health` },
              lag: { namespace: 'Custom/Lag', metricName: 'Lag', dimensions: { Node: id } },
            })),
          },
          {
            id: 'git',
            initialPrimary: 'g1',
            router: {
              type: 'elbv2-weighted',
              listenerArn:
                'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/git/0123456789abcdef/0123456789abcdef',
            },
            nodes: ['g1', 'g2'].map((id, i) => ({
              id,
              targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/git-${id}/0123456789abcde${i}`,
              health: {
                type: 'route53-health-check',
                protocol: 'HTTPS',
                host: `${id}.example.com`,
                port: 443,
                path: '/health',
              },
              lag: { namespace: 'Custom/Lag', metricName: 'Lag', dimensions: { Node: id } },
            })),
          },
        ],
      });
    const cfg = (f: (c: Json) => void) => () => {
      const c = valid();
      f(c);
      return c;
    };
    const inService = (i: number) => (f: (s: Json) => void) => cfg((c) => f(c.services[i]));
    const s0 = inService(0);
    const s1 = inService(1);

    /** A valid configuration whose service `i` has `change` made at `path`: the problem names the path and `text`. */
    const atField = (
      i: number,
      path: string,
      change: (parent: Json, key: string) => void,
      text: string,
    ): [() => Json, string, string] => {
      const keys = path.split(/[.[\]]+/).filter(Boolean);
      const last = keys.pop() as string;
      const changed = inService(i)((s) =>
        change(
          keys.reduce((o, k) => o[k], s),
          last,
        ),
      );
      return [changed, `services[${i}].${path}`, text];
    };
    /** Service `i` has `value` at `path`. */
    const badField = (i: number, path: string, value: unknown) =>
      atField(i, path, (parent, key) => (parent[key] = value), got(value));
    /** Service `i` has nothing at `path`. */
    const missingField = (i: number, path: string) =>
      atField(i, path, (parent, key) => delete parent[key], got(undefined));

    /** [name, configuration, the problem's path, text about the value] */
    const INVALID: [string, () => Json, string, string][] = [
      ['no services key', cfg((c) => delete c.services), 'services', got(undefined)],
      ['no services', cfg((c) => (c.services = [])), 'services', 'at least one service is required'],
      [
        'an unknown top-level key',
        cfg((c) => (c.servces = [])),
        'servces',
        'unknown key (did you mean "services"?)',
      ],
      ['a stack name starting with a digit', cfg((c) => (c.stackName = '1abc')), 'stackName', got('1abc')],
      ['a service without a router', s0((s) => delete s.router), 'services[0].router', got(undefined)],
      ['an unknown router type', ...badField(0, 'router.type', 'dns')],
      [
        'a service with one node',
        s0((s) => s.nodes.pop()),
        'services[0].nodes',
        'a service needs at least two nodes',
      ],
      ['an unknown initial primary', ...badField(0, 'initialPrimary', 'zz')],
      ['duplicate node ids', ...badField(0, 'nodes[1].id', 'a')],
      ['duplicate service ids', ...badField(1, 'id', 'orders')],
      ['an upper-case service id', ...badField(0, 'id', 'Orders')],
      ['a node id with a space', ...badField(0, 'nodes[0].id', 'node a')],
      ['a TTL of 1 s', ...badField(0, 'router.ttlSeconds', 1)],
      ['a TTL of a day', ...badField(0, 'router.ttlSeconds', 86_400)],
      ['a negative lag budget', ...badField(0, 'policy.maxLagSeconds', -5)],
      ['a lag budget over a day', ...badField(0, 'policy.maxLagSeconds', 100_000)],
      ['a lag age window of 5 s', ...badField(0, 'policy.maxLagAgeSeconds', 5)],
      ['a negative cooldown', ...badField(0, 'policy.cooldownSeconds', -1)],
      ['a cooldown of ten days', ...badField(0, 'policy.cooldownSeconds', 864_000)],
      ['autoFailover as a string', ...badField(0, 'policy.autoFailover', 'yes')],
      ['a record outside its zone', ...badField(0, 'router.recordName', 'db.other.org')],
      ['a malformed hosted zone id', ...badField(0, 'router.hostedZoneId', 'abc')],
      ['an MX record', ...badField(0, 'router.recordType', 'MX')],
      [
        'a CNAME at the zone apex',
        s0((s) => {
          s.router.recordType = 'CNAME';
          s.router.recordName = 'example.com';
          s.nodes[0].address = 'a.example.net';
          s.nodes[1].address = 'b.example.net';
        }),
        'services[0].router.recordType',
        got('CNAME'),
      ],
      ['a node without an address on a route53 router', ...missingField(0, 'nodes[0].address')],
      ['an address that is not IPv4 on an A record', ...badField(0, 'nodes[1].address', '10.0.0.999')],
      [
        'two nodes with one address',
        s0((s) => (s.nodes[1].address = s.nodes[0].address)),
        'services[0].nodes',
        'nodes must have distinct addresses',
      ],
      [
        'one record routed by two services',
        s1((s) => {
          Object.assign(s, route53Service({ id: 'backup', nodes: ['b1', 'b2'], index: 7 }));
          s.router.recordName = 'orders.example.com';
        }),
        'services[1].router.recordName',
        'record already routed by service orders',
      ],
      ['an elbv2-target node without a target', ...missingField(1, 'nodes[0].target')],
      [
        'a malformed target group ARN',
        ...badField(1, 'router.targetGroupArn', 'arn:aws:elasticloadbalancing:tg'),
      ],
      ['an elbv2-weighted node without a target group', ...missingField(2, 'nodes[1].targetGroupArn')],
      ['a malformed listener ARN', ...badField(2, 'router.listenerArn', 'listener/app/git')],
      [
        'one alarm watching two nodes',
        s1((s) => (s.nodes[1].health.alarmName = 'backup-b1-health')),
        'services[1].nodes[1].health.alarmName',
        'alarm already watches backup/b1',
      ],
      [
        'an unknown health signal',
        s1((s) => (s.nodes[0].health = { type: 'ping', host: 'x' })),
        'services[1].nodes[0].health.type',
        got('ping'),
      ],
      ['a health check on port 70000', ...badField(2, 'nodes[0].health.port', 70_000)],
      ['a lag period of 7 s', ...badField(1, 'nodes[0].lag.periodSeconds', 7)],
      [
        'a fence hook that is not a Lambda ARN',
        s0((s) => (s.hooks = { fence: 'arn:aws:sns:us-east-1:111122223333:t' })),
        'services[0].hooks.fence',
        got('arn:aws:sns:us-east-1:111122223333:t'),
      ],
      [
        'a hook timeout of 0 s',
        s0((s) => (s.hooks = { timeoutSeconds: 0 })),
        'services[0].hooks.timeoutSeconds',
        got(0),
      ],
      [
        'a catch-up poll of 0 s',
        s0((s) => (s.switchover = { pollIntervalSeconds: 0 })),
        'services[0].switchover.pollIntervalSeconds',
        got(0),
      ],
      [
        'an email subscriber that is not an address',
        cfg((c) => (c.notifications = { subscribers: [{ protocol: 'email', endpoint: 'oncall' }] })),
        'notifications.subscribers[0].endpoint',
        got('oncall'),
      ],
    ];

    it.each(INVALID)(
      '%s: rejected at synth and at cold start, naming the field and value',
      (_name, make, path, text) => {
        const input = make();
        figures.configs++;
        const error = thrownBy(() => parseConfig(input));
        expect(error).toBeInstanceOf(ConfigValidationError);
        const problems = (error as ConfigValidationError).problems;
        const problem = problems.find((p) => p.path === path);
        expect(problem, (error as Error).message).toBeDefined();
        expect(`${problem?.message}, got: ${formatValue(problem?.value)}`).toContain(
          text.replace(/^got: /, 'got: '),
        );
        expect((error as Error).message).toContain(`${path}: `);

        // Nothing is built from it: the stack refuses it before creating any resource...
        const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
        expect(
          () => new FailoverStack(app, 'Bad', { config: input as FailoverConfigInput as never }),
        ).toThrow(ConfigValidationError);
        // ...and a Lambda handed it as config.json fails its cold start, loudly.
        expect(() => readConfigFile('config.json', () => JSON.stringify(input))).toThrow(
          ConfigValidationError,
        );
      },
    );
  });

  it('records its figures', () => {
    expect(MALFORMED.length + NOTHING_TO_DO.length).toBeGreaterThanOrEqual(30);
    recordFigures('bad-input', {
      label: 'bad inputs tried',
      tried: figures.events + figures.workflow + figures.configs,
      violations: 0,
      detail: `${figures.events} alarm events (${MALFORMED.length} malformed or hostile, ${NOTHING_TO_DO.length} well-formed asking for nothing), ${figures.workflow} workflow inputs, step events and forged node-action payloads, ${figures.configs} invalid configurations; each named the field and value and changed nothing`,
      order: 30,
    });
  });
});
