import { describe, expect, it } from 'vitest';
import { alarmStateSource } from '../../lambdas/domain/alarm-source.ts';
import { makeHandler } from '../../lambdas/handlers/failover.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { alarmStateChangeEvent } from '../support/alarm-events.ts';

const EVALUATED =
  'Threshold Crossed: 3 out of the last 3 datapoints [0.0 (25/11/26 17:00:00), 0.0 (25/11/26 16:59:50)] were less than the threshold (1.0) (minimum 3 datapoints for OK -> ALARM transition).';
const DATAPOINTS = JSON.stringify({
  version: '1.0',
  queryDate: '2026-11-25T17:00:05.000+0000',
  recentDatapoints: [0, 0, 0],
  threshold: 1,
});

describe('alarmStateSource', () => {
  it.each([
    [EVALUATED, DATAPOINTS, 'metric-evaluation'],
    ['Insufficient Data: 1 datapoint was unknown.', DATAPOINTS, 'metric-evaluation'],
    ['Threshold Crossed', undefined, 'metric-evaluation'],
    [
      'arn:aws:cloudwatch:us-east-1:111122223333:alarm:orders-a-health transitioned to ALARM at Tuesday 25 November, 2026 17:00:00 UTC',
      JSON.stringify({ triggeringAlarms: [{ arn: 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:x' }] }),
      'composite-evaluation',
    ],
    ['game day: primary-crash', undefined, 'manual'],
    ['testing', '{"anything": 1}', 'manual'],
    [undefined, undefined, 'unknown'],
    ['', 'not json', 'manual'],
  ])('%j with reasonData %j is %s', (reason, reasonData, expected) => {
    expect(alarmStateSource(reason, reasonData)).toBe(expected);
  });
});

describe('the failover Lambda on an alarm someone set by hand', () => {
  const config = testConfig([route53Service({ id: 'orders', nodes: ['a', 'b'] })]);

  async function run(reason: string) {
    const env = createMemoryEnvironment(config, { initialLagSeconds: 0 });
    const handler = makeHandler({ ...env });
    const name = env.alarms.setNode('orders', 'a', 'ALARM');
    const event = alarmStateChangeEvent({ alarmName: name, at: env.clock.now(), id: 'e-1', reason });
    const outcome = await handler(event, { awsRequestId: 'req-1' });
    return { env, outcome };
  }

  it('still decides as usual, but the decision log and the announcement say the state was set by hand', async () => {
    const { env, outcome } = await run('game day: primary-crash');
    expect(outcome.outcome).toBe('failed-over');
    const decision = env.logger.entries.find((e) => e.message === 'failover decision');
    expect(decision?.data).toMatchObject({
      alarmStateSource: 'manual',
      alarmState: 'set by hand (SetAlarmState), not by CloudWatch evaluating the alarm',
      alarmStateReason: 'game day: primary-crash',
    });
    const [announcement] = env.notifier.published;
    expect(announcement?.subject).toMatch(/^\[alarm set by hand\] /);
    expect(announcement?.detail).toMatchObject({
      alarmStateSource: 'manual',
      alarmStateReason: 'game day: primary-crash',
    });
    expect(env.metrics.named('AlarmStateSetByHand')).toHaveLength(1);
  });

  it('says nothing of the kind when CloudWatch evaluated the alarm', async () => {
    const { env, outcome } = await run(EVALUATED);
    expect(outcome.outcome).toBe('failed-over');
    for (const e of env.logger.entries) expect(e.data?.alarmStateSource).toBeUndefined();
    expect(env.notifier.published[0]?.subject).not.toMatch(/set by hand/);
    expect(env.notifier.published[0]?.detail.alarmStateSource).toBeUndefined();
  });
});
