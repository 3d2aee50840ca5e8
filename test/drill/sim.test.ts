/**
 * The simulated environment's own parts: CloudWatch-style alarm evaluation, the EventBridge event
 * it emits (accepted by the real handler's parser), EventBridge pattern matching, the scheduler,
 * the clocks, and Route 53 change propagation.
 */
import { describe, expect, it } from 'vitest';
import { alarmStateChangeEvent, DEFAULT_ALARM_SETTINGS, SimAlarm } from '../../drill/sim/alarm.ts';
import { SimRouting } from '../../drill/sim/backend.ts';
import { SkipClock, VirtualClock } from '../../drill/sim/clock.ts';
import { Priority, Scheduler } from '../../drill/sim/scheduler.ts';
import { matchesPattern } from '../../drill/sim/stack.ts';
import { parseAlarmEvent } from '../../lambdas/handlers/event.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { MemoryTraffic } from '../../lambdas/testing/memory.ts';

const T0 = Date.UTC(2025, 5, 2, 9, 0, 0);
const metric = { namespace: 'Drill/Health', name: 'HealthCheckStatus', dimensions: { Node: 'a' } };

function alarm(): SimAlarm {
  const a = new SimAlarm('svc-a-health', metric, DEFAULT_ALARM_SETTINGS, 'OK', T0);
  for (const t of [-30, -20, -10]) a.record(T0 + t * 1000, 1);
  return a;
}

/** Records one datapoint per 10 s period from `values` (null = missing) and evaluates after each. */
function run(a: SimAlarm, values: (number | null)[]): string[] {
  return values.map((v, i) => {
    const at = T0 + i * 10_000;
    if (v !== null) a.record(at, v);
    const change = a.evaluate(at + 10_000, at + 1000);
    return change ? `${change.previous.value}->${change.current.value}` : '-';
  });
}

describe('SimAlarm (CloudWatch evaluation, 3 of 3 periods of 10 s)', () => {
  it('goes to ALARM on the third breaching period, not before', () => {
    expect(run(alarm(), [1, 0, 0, 0, 0])).toEqual(['-', '-', '-', 'OK->ALARM', '-']);
  });

  it('rides out a blip shorter than three periods (debounce)', () => {
    expect(run(alarm(), [0, 0, 1, 0, 0, 1])).toEqual(['-', '-', '-', '-', '-', '-']);
  });

  it('counts missing datapoints as breaching (a node that stops reporting is not healthy)', () => {
    expect(run(alarm(), [null, null, null])).toEqual(['-', '-', 'OK->ALARM']);
  });

  it('returns to OK as soon as fewer than three periods breach', () => {
    expect(run(alarm(), [0, 0, 0, 1, 1])).toEqual(['-', '-', 'OK->ALARM', 'ALARM->OK', '-']);
  });

  it('explains the transition as CloudWatch does, with the evaluated datapoints', () => {
    const a = alarm();
    run(a, [0, 0, 0]);
    expect(a.state.reason).toMatch(
      /^Threshold Crossed: 3 out of the last 3 datapoints \[0\.0 \(02\/06\/25 09:00:20\), 0\.0 \(02\/06\/25 09:00:10\), 0\.0 \(02\/06\/25 09:00:00\)\] were less than the threshold \(1\.0\) \(minimum 3 datapoints for OK -> ALARM transition\)\.$/,
    );
    const data = JSON.parse(a.state.reasonData!);
    expect(data).toMatchObject({
      version: '1.0',
      statistic: 'Minimum',
      period: 10,
      threshold: 1,
      recentDatapoints: [0, 0, 0],
    });
    expect(data.evaluatedDatapoints[0]).toEqual({
      timestamp: '2025-06-02T09:00:20.000+0000',
      sampleCount: 1,
      value: 0,
    });
  });
});

describe('alarmStateChangeEvent', () => {
  const a = alarm();
  const [change] = [0, 0, 0]
    .map((v, i) => {
      a.record(T0 + i * 10_000, v);
      return a.evaluate(T0 + (i + 1) * 10_000, T0 + i * 10_000 + 1000);
    })
    .filter((c) => c !== undefined);
  const event = alarmStateChangeEvent(a, change!, {
    account: '123456789012',
    region: 'us-east-1',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    metricId: '30b6c6b2-a864-43a2-4877-c09a1afc3b87',
    description: 'Health of svc/a',
  });

  it('has the envelope EventBridge delivers for CloudWatch', () => {
    expect(event).toMatchObject({
      version: '0',
      id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '123456789012',
      region: 'us-east-1',
      time: '2025-06-02T09:00:21Z',
      resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:svc-a-health'],
    });
    expect(Object.keys(event.detail)).toEqual(['alarmName', 'configuration', 'previousState', 'state']);
    expect(event.detail.state).toMatchObject({ value: 'ALARM', timestamp: '2025-06-02T09:00:21.000+0000' });
    expect(event.detail.previousState.value).toBe('OK');
    expect(event.detail.configuration.metrics[0]).toEqual({
      id: '30b6c6b2-a864-43a2-4877-c09a1afc3b87',
      metricStat: {
        metric: { dimensions: { Node: 'a' }, name: 'HealthCheckStatus', namespace: 'Drill/Health' },
        period: 10,
        stat: 'Minimum',
      },
      returnData: true,
    });
  });

  it('is accepted by the failover handler parser as the transition it describes', () => {
    const parsed = parseAlarmEvent(JSON.parse(JSON.stringify(event)));
    expect(parsed).toEqual({
      ok: true,
      transition: {
        alarmName: 'svc-a-health',
        state: 'ALARM',
        previousState: 'OK',
        timestamp: T0 + 21_000,
        eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      },
    });
  });
});

describe('matchesPattern (EventBridge content filtering)', () => {
  const pattern = {
    source: ['aws.cloudwatch'],
    'detail-type': ['CloudWatch Alarm State Change'],
    detail: { alarmName: ['svc-a-health', 'svc-b-health'] },
  };
  const event = (alarmName: string, extra: object = {}) => ({
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName, state: { value: 'ALARM' } },
    ...extra,
  });

  it.each([
    ['a listed alarm', event('svc-b-health'), true],
    ['another alarm', event('other-health'), false],
    [
      'another detail-type',
      event('svc-a-health', { 'detail-type': 'CloudWatch Alarm Configuration Change' }),
      false,
    ],
    ['no detail', { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change' }, false],
  ])('%s -> %s', (_, e, expected) => {
    expect(matchesPattern(pattern, e)).toBe(expected);
  });

  it('supports prefix, exists and anything-but, and refuses matchers it does not know', () => {
    expect(matchesPattern({ detail: { alarmName: [{ prefix: 'svc-' }] } }, event('svc-a-health'))).toBe(true);
    expect(matchesPattern({ detail: { alarmName: [{ prefix: 'db-' }] } }, event('svc-a-health'))).toBe(false);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, event('x'))).toBe(true);
    expect(matchesPattern({ detail: { state: { value: [{ 'anything-but': ['OK'] }] } } }, event('x'))).toBe(
      true,
    );
    expect(() => matchesPattern({ detail: { n: [{ numeric: ['>', 1] }] } }, event('x'))).toThrow(
      /not supported/,
    );
  });
});

describe('Scheduler', () => {
  it('runs items in time, then priority, then insertion order, and lets an item run the world on', async () => {
    const clock = new SkipClock(T0, () => 0);
    const s = new Scheduler(clock);
    const seen: string[] = [];
    s.at(T0 + 2000, Priority.deliver, () => {
      seen.push('deliver@2');
    });
    s.at(T0 + 2000, Priority.world, () => {
      seen.push('world@2');
    });
    s.every(T0, 1000, T0 + 4000, Priority.probe, (at) => {
      seen.push(`probe@${(at - T0) / 1000}`);
    });
    s.at(T0 + 1000, Priority.script, async () => {
      seen.push('script@1 waits');
      await s.runUntil(clock.now() + 1500); // nested: the world moves while the script waits
      seen.push(`script resumes@${(clock.now() - T0) / 1000}`);
    });
    await s.runUntil(T0 + 10_000);
    expect(seen).toEqual([
      'probe@0',
      'probe@1',
      'script@1 waits',
      'world@2',
      'probe@2',
      'deliver@2',
      'script resumes@2.5',
      'probe@3',
    ]);
    expect(clock.now()).toBe(T0 + 10_000);
    expect(s.pending).toBe(0);
  });
});

describe('clocks', () => {
  it('SkipClock flows with real time and jumps forward, never back', () => {
    let real = 100;
    const clock = new SkipClock(T0, () => real);
    real += 250;
    expect(clock.now()).toBe(T0 + 250);
    clock.advanceTo(T0 + 60_000);
    expect(clock.now()).toBe(T0 + 60_000);
    clock.advanceTo(T0 + 1000);
    expect(clock.now()).toBe(T0 + 60_000);
  });

  it('VirtualClock waits modelled latency in virtual time and refuses a jump while a call is in flight', async () => {
    const clock = new VirtualClock(T0);
    const calls = Promise.all([clock.sleep(110), clock.sleep(45)]);
    expect(() => clock.advanceTo(T0 + 5000)).toThrow(/in flight/);
    await calls;
    // Parallel calls take the longest one's time, not the sum.
    expect(clock.now()).toBe(T0 + 110);
    clock.advanceTo(T0 + 5000);
    expect(clock.now()).toBe(T0 + 5000);
  });
});

describe('SimRouting (Route 53 change propagation over the in-memory router)', () => {
  const config = testConfig([route53Service({ id: 'dns' })]);

  it('keeps a Route 53 change PENDING until it has propagated, then INSYNC', async () => {
    let now = T0;
    const routing = new SimRouting(new MemoryTraffic(config), config, { now: () => now }, 30_000);
    const [result] = await routing.shift([{ serviceId: 'dns', from: 'a', to: 'b' }]);
    expect(result).toMatchObject({ status: 'shifted', changeId: expect.stringMatching(/^C\d{4}DRILL$/) });
    const id = (result as { changeId: string }).changeId;
    now += 29_999;
    expect(await routing.changeStatus(id)).toBe('PENDING');
    now += 1;
    expect(await routing.changeStatus(id)).toBe('INSYNC');
    expect(await routing.current('dns')).toBe('b');
    await expect(routing.changeStatus('C9999NONE')).rejects.toMatchObject({ name: 'NoSuchChange' });
  });

  it('reports a swap that already applied without a new change id, and a stale swap as a conflict', async () => {
    const routing = new SimRouting(new MemoryTraffic(config), config, { now: () => T0 }, 30_000);
    await routing.shift([{ serviceId: 'dns', from: 'a', to: 'b' }]);
    expect(await routing.shift([{ serviceId: 'dns', from: 'a', to: 'b' }])).toEqual([
      { serviceId: 'dns', status: 'shifted' },
    ]);
    const [stale] = await routing.shift([{ serviceId: 'dns', from: 'a', to: 'a' }]);
    expect(stale).toMatchObject({ status: 'conflict', observed: 'b' });
  });
});
