/**
 * The simulated environment's assumptions, in one place: how long AWS API calls take, how the
 * health alarm is tuned, how fast DNS and replication move. Every number here is a model, not a
 * measurement; the reports print them next to the figures they produce. The control flow they
 * time (which calls, in which order, in parallel or not) is the real code's.
 *
 * Latencies are typical same-Region figures for small requests; change them to see what moves.
 */
import { type AlarmSettings, DEFAULT_ALARM_SETTINGS } from './alarm.ts';

export interface SimModel {
  readonly alarm: AlarmSettings;
  /** Modelled latency of each port method, in ms (port name -> method -> ms). */
  readonly latencyMs: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Route 53 ChangeResourceRecordSets vs ELB ModifyListener: the shift call's latency by router type. */
  readonly shiftLatencyMs: { readonly route53: number; readonly elb: number };
  /** Hook Lambdas (fence, promote, demote) acting on the database, in ms. */
  readonly hookLatencyMs: Readonly<Record<string, number>>;
  /** Step Functions to the step Lambda and back (state transition plus invoke), in ms. */
  readonly stepOverheadMs: number;
  /** Alarm state change to the start of the failover Lambda (CloudWatch -> EventBridge -> Lambda), in ms. */
  readonly eventDeliveryMs: number;
  /** Lambda's wait before retrying a failed asynchronous invocation (1 min, then 2 min), in ms. */
  readonly asyncRetryDelaysMs: readonly number[];
  /** A lag datapoint is readable this long after its timestamp (CloudWatch ingestion), in ms. */
  readonly lagIngestionMs: number;
  /** A Route 53 change is PENDING this long before it is INSYNC on every name server, in ms. */
  readonly route53PropagationMs: number;
  /** Seconds of replication backlog a replica applies per second once the primary stops writing. */
  readonly catchUpRate: number;
}

export const DEFAULT_MODEL: SimModel = {
  alarm: DEFAULT_ALARM_SETTINGS,
  latencyMs: {
    alarms: { getStates: 45 },
    lag: { getLatest: 110 },
    state: { get: 9, acquireLease: 14, commit: 28, releaseLease: 12, setPaused: 12, history: 15 },
    traffic: { current: 70 },
    notifier: { publish: 35 },
    changes: { changeStatus: 60 },
  },
  shiftLatencyMs: { route53: 380, elb: 160 },
  hookLatencyMs: { fence: 400, unfence: 300, promote: 1500, demote: 800 },
  stepOverheadMs: 60,
  eventDeliveryMs: 450,
  asyncRetryDelaysMs: [60_000, 120_000],
  lagIngestionMs: 2000,
  route53PropagationMs: 30_000,
  catchUpRate: 1.5,
};

/** The model as printed in the reports: what each figure was computed under. */
export function describeModel(model: SimModel): Record<string, string> {
  const l = model.latencyMs;
  return {
    'health alarm': `${model.alarm.datapointsToAlarm} of ${model.alarm.evaluationPeriods} periods of ${model.alarm.periodSeconds} s breaching (missing data breaches), evaluated ${model.alarm.evaluationDelayMs / 1000} s after each period`,
    'event delivery': `${model.eventDeliveryMs} ms from the alarm state change to the failover Lambda`,
    'API latency': `DescribeAlarms ${l.alarms?.getStates} ms, GetMetricData ${l.lag?.getLatest} ms, DynamoDB get ${l.state?.get} ms / conditional write ${l.state?.acquireLease} ms / transaction ${l.state?.commit} ms, SNS ${l.notifier?.publish} ms`,
    'traffic shift': `Route 53 ChangeResourceRecordSets ${model.shiftLatencyMs.route53} ms, ELB ModifyListener ${model.shiftLatencyMs.elb} ms`,
    'DNS propagation': `Route 53 change INSYNC ${model.route53PropagationMs / 1000} s after it is accepted; clients then keep the old answer for up to the record TTL`,
    'lag metric': `one datapoint per period, readable ${model.lagIngestionMs / 1000} s after its timestamp`,
    replication: `a replica applies ${model.catchUpRate} s of backlog per second once the primary stops writing`,
    hooks: Object.entries(model.hookLatencyMs)
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', '),
  };
}
