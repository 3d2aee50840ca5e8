/**
 * The game day's stand-ins for what moto does not do: CloudWatch's evaluation of an alarm over its
 * last periods, and EventBridge's matching of events against the rule patterns the stack synthesizes.
 */
import { describe, expect, it } from 'vitest';
import { type AlarmState, breaches, evaluate } from '../../drill/gameday/alarms.ts';
import { matchesPattern } from '../../drill/gameday/lambda.ts';
import type { AlarmDefinition } from '../../drill/gameday/synth.ts';
import { alarmEventPattern } from '../../lib/alarm-rules.ts';
import { alarmStateChangeEvent, EVENT_ACCOUNT, EVENT_REGION } from '../support/alarm-events.ts';

/** The probe's health alarm: Healthy below 1, 2 of 2 periods of 10 s, missing data breaching. */
const health: AlarmDefinition = {
  alarmName: 'gameday-crash-db-a-healthy',
  namespace: 'FailoverAutomation/Probe',
  metricName: 'Healthy',
  dimensions: { ServiceId: 'crash', NodeId: 'db-a' },
  statistic: 'Minimum',
  periodSeconds: 10,
  evaluationPeriods: 2,
  datapointsToAlarm: 2,
  threshold: 1,
  comparison: 'LessThanThreshold',
  treatMissingData: 'breaching',
};

describe('evaluate (CloudWatch alarm evaluation over the last periods)', () => {
  it.each<[string, Partial<AlarmDefinition>, (number | undefined)[], AlarmState, AlarmState]>([
    ['healthy in both periods', {}, [1, 1], 'OK', 'OK'],
    ['one bad period of two is not enough (2 of 2)', {}, [1, 0], 'OK', 'OK'],
    ['two bad periods', {}, [0, 0], 'OK', 'ALARM'],
    ['a missing period counts as breaching', {}, [undefined, 0], 'OK', 'ALARM'],
    ['no data at all is breaching', {}, [undefined, undefined], 'OK', 'ALARM'],
    ['recovery: two healthy periods', {}, [1, 1], 'ALARM', 'OK'],
    ['1 of 2: one bad period alarms', { datapointsToAlarm: 1 }, [1, 0], 'OK', 'ALARM'],
    [
      'notBreaching: missing counts as good',
      { treatMissingData: 'notBreaching' },
      [undefined, 0],
      'OK',
      'OK',
    ],
    [
      'notBreaching: no data is OK',
      { treatMissingData: 'notBreaching' },
      [undefined, undefined],
      'ALARM',
      'OK',
    ],
    [
      'ignore: no data keeps the state',
      { treatMissingData: 'ignore' },
      [undefined, undefined],
      'ALARM',
      'ALARM',
    ],
    [
      'missing: no data is INSUFFICIENT_DATA',
      { treatMissingData: 'missing' },
      [undefined, undefined],
      'OK',
      'INSUFFICIENT_DATA',
    ],
    [
      'missing: the present periods decide',
      { treatMissingData: 'missing', datapointsToAlarm: 1 },
      [undefined, 0],
      'OK',
      'ALARM',
    ],
  ])('%s', (_name, overrides, values, current, expected) => {
    expect(evaluate({ ...health, ...overrides }, values, current)).toBe(expected);
  });

  it.each([
    ['GreaterThanThreshold', 5, [false, false, true]],
    ['GreaterThanOrEqualToThreshold', 5, [false, true, true]],
    ['LessThanThreshold', 5, [true, false, false]],
    ['LessThanOrEqualToThreshold', 5, [true, true, false]],
  ] as const)('%s compares with the threshold', (comparison, threshold, expected) => {
    const def = { ...health, comparison, threshold };
    expect([4, 5, 6].map((v) => breaches(def, v))).toEqual(expected);
  });

  it('refuses a comparison it cannot evaluate, naming the alarm', () => {
    expect(() => breaches({ ...health, comparison: 'LessThanLowerOrGreaterThanUpperThreshold' }, 1)).toThrow(
      /gameday-crash-db-a-healthy: comparison LessThanLowerOrGreaterThanUpperThreshold/,
    );
  });
});

describe('matchesPattern (EventBridge rule patterns)', () => {
  const pattern = alarmEventPattern(['gameday-crash-db-a-healthy', 'gameday-crash-db-b-healthy'], {
    account: EVENT_ACCOUNT,
    region: EVENT_REGION,
  });
  const event = (alarmName: string) =>
    alarmStateChangeEvent({ alarmName, at: Date.UTC(2026, 0, 1), id: 'e-1' });

  it('delivers a state change of an alarm the rule lists', () => {
    expect(matchesPattern(pattern, event('gameday-crash-db-b-healthy'))).toBe(true);
  });

  it('does not deliver an alarm the rule does not list', () => {
    expect(matchesPattern(pattern, event('some-other-alarm'))).toBe(false);
  });

  it('does not deliver an event from another account or region', () => {
    expect(matchesPattern(pattern, { ...event('gameday-crash-db-a-healthy'), account: '111122223333' })).toBe(
      false,
    );
    expect(matchesPattern(pattern, { ...event('gameday-crash-db-a-healthy'), region: 'eu-west-1' })).toBe(
      false,
    );
  });

  it('does not deliver another source or detail type', () => {
    expect(matchesPattern(pattern, { ...event('gameday-crash-db-a-healthy'), source: 'aws.ec2' })).toBe(
      false,
    );
    expect(
      matchesPattern(pattern, {
        ...event('gameday-crash-db-a-healthy'),
        'detail-type': 'EC2 Instance State-change Notification',
      }),
    ).toBe(false);
  });

  it('needs every field of the pattern in the event', () => {
    const { detail: _detail, ...withoutDetail } = event('gameday-crash-db-a-healthy');
    expect(matchesPattern(pattern, withoutDetail)).toBe(false);
  });

  it('matches a value inside an array field of the event', () => {
    expect(matchesPattern({ resources: ['arn:x'] }, { resources: ['arn:y', 'arn:x'] })).toBe(true);
    expect(matchesPattern({ resources: ['arn:x'] }, { resources: ['arn:y'] })).toBe(false);
  });
});
