import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarms } from '../../lambdas/aws/cloudwatch-alarms.ts';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import { type AwsErrorKind, awsErrors } from './fixtures.ts';

const cw = mockClient(CloudWatchClient);
const alarms = () => new CloudWatchAlarms({ client: new CloudWatchClient({ region: 'us-east-1' }) });

beforeEach(() => cw.reset());

describe('CloudWatchAlarms', () => {
  it('asks for metric and composite alarms by name in one call', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'db-a-health', StateValue: 'ALARM' }],
      CompositeAlarms: [{ AlarmName: 'db-b-health', StateValue: 'OK' }],
    });
    const states = await alarms().getStates(['db-a-health', 'db-b-health', 'missing']);
    expect(cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)).toEqual([
      {
        AlarmNames: ['db-a-health', 'db-b-health', 'missing'],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 100,
      },
    ]);
    expect(states).toEqual(
      new Map([
        ['db-a-health', 'ALARM'],
        ['db-b-health', 'OK'],
      ]),
    );
  });

  it('never calls DescribeAlarms without names (that would list every alarm)', async () => {
    expect(await alarms().getStates([])).toEqual(new Map());
    expect(cw.calls()).toHaveLength(0);
  });

  it('splits more than 100 names into calls of at most 100 and de-duplicates', async () => {
    cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.map((n) => ({ AlarmName: n, StateValue: 'INSUFFICIENT_DATA' })),
    }));
    const names = Array.from({ length: 250 }, (_, i) => `alarm-${i}`);
    const states = await alarms().getStates([...names, 'alarm-0']);
    const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames);
    expect(calls.map((c) => c?.length)).toEqual([100, 100, 50]);
    expect(calls.flat()).toEqual(names);
    expect(states.size).toBe(250);
  });

  it('follows NextToken', async () => {
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }], NextToken: 't1' })
      .resolvesOnce({ CompositeAlarms: [{ AlarmName: 'b', StateValue: 'ALARM' }] });
    const states = await alarms().getStates(['a', 'b']);
    const inputs = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(inputs[1]).toEqual({
      AlarmNames: ['a', 'b'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
      MaxRecords: 100,
      NextToken: 't1',
    });
    expect(states).toEqual(
      new Map([
        ['a', 'OK'],
        ['b', 'ALARM'],
      ]),
    );
  });

  it.each<AwsErrorKind>(['throttling', 'internalFailure500', 'requestTimeout', 'econnreset'])(
    'maps %s to TransientAwsError keeping the cause',
    async (kind) => {
      const cause = awsErrors[kind]();
      cw.on(DescribeAlarmsCommand).rejects(cause);
      const err = await alarms()
        .getStates(['a'])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientAwsError);
      expect(err).toMatchObject({ operation: 'DescribeAlarms', cause });
    },
  );

  it('lets a permanent error through unchanged', async () => {
    const cause = awsErrors.accessDenied();
    cw.on(DescribeAlarmsCommand).rejects(cause);
    await expect(alarms().getStates(['a'])).rejects.toBe(cause);
  });
});
