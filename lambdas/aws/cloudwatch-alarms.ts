import { type AlarmType, DescribeAlarmsCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import type { AlarmPort } from '../domain/ports.ts';
import type { AlarmStateValue } from '../domain/types.ts';
import { CloudWatchAdapter, type CloudWatchAdapterProps } from './adapter-props.ts';
import { allPages, sendClassified } from './errors.ts';

/** DescribeAlarms accepts at most 100 alarm names per call. */
export const ALARM_NAMES_PER_CALL = 100;
const ALARM_TYPES: AlarmType[] = ['MetricAlarm', 'CompositeAlarm'];
const STATES: ReadonlySet<string> = new Set<StateValue>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

export type CloudWatchAlarmsProps = CloudWatchAdapterProps;

/** Current state of named alarms, metric and composite alike (a node's health may be either). */
export class CloudWatchAlarms extends CloudWatchAdapter implements AlarmPort {
  async getStates(alarmNames: readonly string[]): Promise<ReadonlyMap<string, AlarmStateValue>> {
    // Without AlarmNames, DescribeAlarms lists every alarm in the account: never send an empty list.
    const names = [...new Set(alarmNames)];
    const chunks: string[][] = [];
    for (let i = 0; i < names.length; i += ALARM_NAMES_PER_CALL) {
      chunks.push(names.slice(i, i + ALARM_NAMES_PER_CALL));
    }
    const states = new Map<string, AlarmStateValue>();
    await Promise.all(chunks.map((chunk) => this.describe(chunk, states)));
    return states;
  }

  private async describe(alarmNames: string[], into: Map<string, AlarmStateValue>): Promise<void> {
    const pages = allPages((nextToken) =>
      sendClassified('DescribeAlarms', () =>
        this.client.send(
          new DescribeAlarmsCommand({
            AlarmNames: alarmNames,
            AlarmTypes: ALARM_TYPES,
            MaxRecords: ALARM_NAMES_PER_CALL,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      ),
    );
    for await (const out of pages) {
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName && alarm.StateValue && STATES.has(alarm.StateValue)) {
          into.set(alarm.AlarmName, alarm.StateValue as AlarmStateValue);
        }
      }
    }
  }
}
