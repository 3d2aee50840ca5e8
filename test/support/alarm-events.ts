/**
 * `CloudWatch Alarm State Change` events as EventBridge delivers them to the failover Lambda, with
 * the fields EventBridge really sends (whole-second `time`, CloudWatch's `+0000` timestamps, the
 * alarm ARN in `resources`). One builder for the unit, wire and reliability suites and the
 * benchmarks, so they all feed the handler the same shape.
 */
import type { AlarmStateValue } from '../../lambdas/domain/types.ts';

/** moto's default account, and the one the sample events in the CloudWatch guide carry. */
export const EVENT_ACCOUNT = '123456789012';
export const EVENT_REGION = 'us-east-1';

// biome-ignore lint/suspicious/noExplicitAny: events are walked and mutated as JSON on purpose
export type AlarmEventJson = any;

export interface AlarmEventOptions {
  readonly alarmName: string;
  /** @default 'ALARM' */
  readonly state?: AlarmStateValue;
  /** @default 'OK' */
  readonly previous?: AlarmStateValue;
  /** When the state changed (epoch ms): the event's `time` and both state timestamps. */
  readonly at: number;
  /** The EventBridge event id. */
  readonly id: string;
  /** @default EVENT_ACCOUNT */
  readonly account?: string;
  /** @default EVENT_REGION */
  readonly region?: string;
  /** The state reason CloudWatch writes. @default 'Threshold Crossed' */
  readonly reason?: string;
}

/** A `CloudWatch Alarm State Change` event. */
export function alarmStateChangeEvent(options: AlarmEventOptions): AlarmEventJson {
  const account = options.account ?? EVENT_ACCOUNT;
  const region = options.region ?? EVENT_REGION;
  const reason = options.reason ?? 'Threshold Crossed';
  const iso = new Date(options.at).toISOString();
  const timestamp = iso.replace('Z', '+0000');
  return {
    version: '0',
    id: options.id,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    // EventBridge's `time` has whole seconds.
    time: iso.replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${options.alarmName}`],
    detail: {
      alarmName: options.alarmName,
      state: { value: options.state ?? 'ALARM', reason, timestamp },
      previousState: { value: options.previous ?? 'OK', reason, timestamp },
      configuration: { metrics: [] },
    },
  };
}

/** The positional form the suites use most: `alarmEvent(name, 'ALARM', 'OK', at, id)`. */
export function alarmEvent(
  alarmName: string,
  state: AlarmStateValue,
  previous: AlarmStateValue,
  at: number,
  id: string,
): AlarmEventJson {
  return alarmStateChangeEvent({ alarmName, state, previous, at, id });
}
