/** Events as EventBridge delivers them to the failover Lambda. */
import type { AlarmStateValue } from '../../../lambdas/domain/types.ts';

// biome-ignore lint/suspicious/noExplicitAny: events are hostile JSON on purpose
export type Json = any;

/** A `CloudWatch Alarm State Change` event with the fields EventBridge really sends. */
export function alarmEvent(
  alarmName: string,
  state: AlarmStateValue,
  previous: AlarmStateValue,
  at: number,
  id: string,
): Json {
  const iso = new Date(at).toISOString();
  return {
    version: '0',
    id,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: iso.replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: state, reason: 'reliability test', timestamp: iso.replace('Z', '+0000') },
      previousState: { value: previous, reason: 'reliability test', timestamp: iso.replace('Z', '+0000') },
      configuration: { metrics: [] },
    },
  };
}
