import { describe, expect, it } from 'vitest';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import { MAX_EVENT_BYTES, parseAlarmEvent } from '../../lambdas/handlers/event.ts';
import { makeHandler } from '../../lambdas/handlers/failover.ts';
import { JsonLogger } from '../../lambdas/runtime/logger.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { CallLog, faultOnce, instrument } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';

/** Shaped like the sample in the CloudWatch documentation, with the fields we do not use. */
function alarmEvent(overrides: { alarmName?: string; value?: string; at?: string } = {}) {
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: '2025-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-a-health'],
    detail: {
      alarmName: overrides.alarmName ?? 'orders-a-health',
      configuration: { metrics: [], description: 'primary health' },
      previousState: {
        reason: 'Threshold Crossed',
        reasonData: '{}',
        timestamp: '2024-12-31T23:00:00.000+0000',
        value: 'OK',
      },
      state: {
        reason: 'Threshold Crossed: 3 datapoints were less than the threshold (1.0)',
        reasonData: '{"version":"1.0"}',
        timestamp: overrides.at ?? '2024-12-31T23:59:58.000+0000',
        value: overrides.value ?? 'ALARM',
      },
    },
  };
}

type Mutable = Record<string, unknown> & { detail: Record<string, Record<string, unknown>> };
const mutate = (f: (e: Mutable) => void) => {
  const e = alarmEvent() as unknown as Mutable;
  f(e);
  return e;
};

function setup() {
  const config = testConfig([
    route53Service({ id: 'orders', nodes: ['a', 'b'], policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 } }),
  ]);
  const env = createMemoryEnvironment(config, { clock: { start: Date.parse('2025-01-01T00:00:00Z') } });
  env.lag.put('orders', 'b', 1);
  env.alarms.setNode('orders', 'a', 'ALARM');
  const log = new CallLog(env.clock);
  const ports = {
    alarms: instrument(env.alarms, 'alarms', { log }),
    lag: instrument(env.lag, 'lag', { log }),
    state: instrument(env.state, 'state', { log }),
    traffic: instrument(env.traffic, 'traffic', { log }),
    notifier: instrument(env.notifier, 'notifier', { log }),
  };
  return { env, log, ports, handler: makeHandler({ ...env, ...ports }) };
}

const circular: Record<string, unknown> = { id: 'x' };
circular.self = circular;

const malformed: [string, unknown, RegExp][] = [
  ['null', null, /\(root\)/],
  ['undefined', undefined, /\(root\)/],
  ['a number', 42, /\(root\)/],
  ['a string', 'ALARM', /\(root\)/],
  ['an array', [alarmEvent()], /\(root\)/],
  ['an empty object', {}, /^id: /],
  ['another source', mutate((e) => (e.source = 'aws.ec2')), /^source: /],
  [
    'another detail-type',
    mutate((e) => (e['detail-type'] = 'EC2 Instance State-change Notification')),
    /^detail-type: /,
  ],
  ['no id', mutate((e) => delete e.id), /^id: /],
  ['an empty id', mutate((e) => (e.id = '')), /^id: /],
  ['no detail', mutate((e) => delete (e as Record<string, unknown>).detail), /^detail: /],
  ['no alarm name', mutate((e) => delete e.detail.alarmName), /^detail.alarmName: /],
  [
    'an empty alarm name',
    mutate((e) => ((e.detail as Record<string, unknown>).alarmName = '')),
    /^detail.alarmName: /,
  ],
  [
    'an alarm name over 255 characters',
    mutate((e) => ((e.detail as Record<string, unknown>).alarmName = 'x'.repeat(256))),
    /^detail.alarmName: /,
  ],
  [
    'a numeric alarm name',
    mutate((e) => ((e.detail as Record<string, unknown>).alarmName = 7)),
    /^detail.alarmName: /,
  ],
  ['an unknown state value', mutate((e) => (e.detail.state!.value = 'BROKEN')), /^detail.state.value: /],
  ['a lower-case state value', mutate((e) => (e.detail.state!.value = 'alarm')), /^detail.state.value: /],
  ['no state', mutate((e) => delete e.detail.state), /^detail.state: /],
  ['no state timestamp', mutate((e) => delete e.detail.state!.timestamp), /^detail.state.timestamp: /],
  [
    'a state timestamp in words',
    mutate((e) => (e.detail.state!.timestamp = 'yesterday')),
    /^detail.state.timestamp: /,
  ],
  [
    'an impossible state timestamp',
    mutate((e) => (e.detail.state!.timestamp = '2025-13-45T99:99:99Z')),
    /^detail.state.timestamp: must be a valid date/,
  ],
  [
    'a timestamp without a zone',
    mutate((e) => (e.detail.state!.timestamp = '2025-01-01T00:00:00')),
    /^detail.state.timestamp: /,
  ],
  ['no previous state', mutate((e) => delete e.detail.previousState), /^detail.previousState: /],
  [
    'an unknown previous state',
    mutate((e) => (e.detail.previousState!.value = 'MAYBE')),
    /^detail.previousState.value: /,
  ],
  ['an invalid time', mutate((e) => (e.time = 'now')), /^time: /],
  [
    'an event over 256 KB',
    mutate(
      (e) =>
        ((e.detail as Record<string, unknown>).configuration = { description: 'x'.repeat(MAX_EVENT_BYTES) }),
    ),
    /over the 262144 byte EventBridge limit/,
  ],
  ['a circular object', circular, /not serializable as JSON/],
];

describe('failover handler', () => {
  it.each(malformed)('ignores %s with a reason and changes nothing', async (_name, event, problem) => {
    const { env, log, handler } = setup();
    const out = await handler(event, { awsRequestId: 'req-1' });
    expect(out).toMatchObject({ outcome: 'ignored', reason: 'invalid-event' });
    expect(out.problems!.length).toBeGreaterThan(0);
    expect(out.problems!.some((p) => problem.test(p))).toBe(true);
    expect(log.calls).toEqual([]);
    expect(env.traffic.pointsAt('orders')).toBe('a');
    expect(env.state.snapshot('orders')).toBeUndefined();
    expect(env.notifier.published).toEqual([]);
    const warning = env.logger.find('invalid event ignored');
    expect(warning).toHaveLength(1);
    expect(warning[0]!.data!.problems).toEqual(out.problems);
    expect(env.metrics.named('FailoverIgnored')[0]!.dimensions).toEqual({ reason: 'invalid-event' });
    expect(env.metrics.flushes).toBe(1);
  });

  it('names the field and the value it got in every problem', async () => {
    const { handler } = setup();
    const out = await handler(
      mutate((e) => {
        e.source = 'aws.ec2';
        e.detail.state!.value = 'alarm';
      }),
      { awsRequestId: 'req-1' },
    );
    expect(out.problems).toEqual([
      'source: Invalid input: expected "aws.cloudwatch", got: "aws.ec2"',
      'detail.state.value: Invalid option: expected one of "OK"|"ALARM"|"INSUFFICIENT_DATA", got: "alarm"',
    ]);
  });

  it('fails over on a real-shaped event, the request id as lease holder and actor', async () => {
    const { env, handler } = setup();
    const out = await handler(alarmEvent(), { awsRequestId: 'req-42' });
    expect(out).toMatchObject({ outcome: 'failed-over', serviceId: 'orders', from: 'a', to: 'b', epoch: 1 });
    // State timestamp 2 s before the invocation: CloudWatch's +0000 offset is understood.
    expect(out.timings!.detectionMs).toBe(2_000);
    expect(env.traffic.pointsAt('orders')).toBe('b');
    expect((await env.state.history('orders', 1))[0]!.actor).toBe('req-42');
    expect(env.logger.find('failover invocation finished')[0]!.data).toMatchObject({
      outcome: 'failed-over',
    });
    expect(env.metrics.flushes).toBe(1);
  });

  it('returns plain JSON (what Lambda serializes is what the test sees)', async () => {
    const { handler } = setup();
    const out = await handler(alarmEvent({ value: 'OK' }), { awsRequestId: 'r' });
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    expect(out).toMatchObject({ outcome: 'held', reason: 'not-an-alarm-transition' });
  });

  it('ignores an alarm it does not manage', async () => {
    const { handler, env } = setup();
    const out = await handler(alarmEvent({ alarmName: 'billing-alarm' }), { awsRequestId: 'r' });
    expect(out).toMatchObject({ outcome: 'ignored', reason: 'unknown-alarm' });
    expect(env.traffic.calls).toEqual([]);
  });

  it('rethrows transient errors (EventBridge retries), logs them and still flushes metrics', async () => {
    const { env, ports } = setup();
    const handler = makeHandler({
      ...env,
      ...ports,
      state: instrument(env.state, 'state', {
        fault: faultOnce((c) => c.method === 'get', {
          mode: 'throw',
          error: new TransientAwsError('GetItem'),
        }),
      }),
    });
    await expect(handler(alarmEvent(), { awsRequestId: 'r' })).rejects.toBeInstanceOf(TransientAwsError);
    expect(env.logger.find(/invocation failed/)).toHaveLength(1);
    expect(env.metrics.flushes).toBe(1);
    expect(env.traffic.pointsAt('orders')).toBe('a');
  });

  it('makes up a holder id when there is no context', async () => {
    const { env, ports } = setup();
    const handler = makeHandler({ ...env, ...ports, newHolderId: () => 'generated-1' });
    await handler(alarmEvent());
    expect((await env.state.history('orders', 1))[0]!.actor).toBe('generated-1');
  });

  it('tags every JSON log line of an invocation with the request id', async () => {
    const { env, ports } = setup();
    const lines: string[] = [];
    const logger = new JsonLogger({ service: 'failover', write: (l) => lines.push(l) });
    await makeHandler({ ...env, ...ports, logger })(alarmEvent(), { awsRequestId: 'req-7' });
    const entries = lines.map((l) => JSON.parse(l));
    expect(entries.length).toBeGreaterThan(1);
    for (const e of entries) expect(e).toMatchObject({ service: 'failover', requestId: 'req-7' });
    expect(entries.find((e) => e.message === 'failover decision')).toMatchObject({
      action: 'failover',
      to: 'b',
    });
  });
});

describe('parseAlarmEvent', () => {
  it('maps the event to a transition', () => {
    expect(parseAlarmEvent(alarmEvent())).toEqual({
      ok: true,
      transition: {
        alarmName: 'orders-a-health',
        state: 'ALARM',
        previousState: 'OK',
        timestamp: Date.parse('2024-12-31T23:59:58.000Z'),
        eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      },
    });
  });

  it('accepts every offset style CloudWatch and EventBridge use', () => {
    for (const at of [
      '2025-01-01T00:00:00Z',
      '2025-01-01T01:00:00.5+01:00',
      '2025-01-01T01:00:00.123+0100',
    ]) {
      const parsed = parseAlarmEvent(alarmEvent({ at }));
      expect(parsed.ok).toBe(true);
    }
  });
});
