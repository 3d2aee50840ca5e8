/**
 * A CloudWatch metric alarm as CloudWatch evaluates it, and the EventBridge event it emits.
 *
 * The node's health metric (1 healthy, 0 failing) gets one datapoint per period. At each
 * evaluation the alarm looks at the newest `evaluationPeriods` periods; missing datapoints count
 * as breaching (`treatMissingData: breaching`: a node that stops reporting is not healthy). It goes
 * to ALARM when at least `datapointsToAlarm` of them breach, and back to OK as soon as fewer do.
 * Every state change emits a `CloudWatch Alarm State Change` event shaped exactly as CloudWatch
 * sends it to EventBridge (docs: "Alarm events and EventBridge", single metric alarm).
 */
import type { AlarmStateValue } from '../../lambdas/domain/types.ts';

export interface AlarmSettings {
  /** High-resolution alarm period (10, 20 or 30 s). */
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** From the end of a period to the evaluation that sees its datapoint. */
  readonly evaluationDelayMs: number;
}

export const DEFAULT_ALARM_SETTINGS: AlarmSettings = {
  periodSeconds: 10,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  evaluationDelayMs: 1000,
};

export interface AlarmMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

interface Datapoint {
  readonly timestamp: number;
  readonly value: number;
}

export interface AlarmStateRecord {
  readonly value: AlarmStateValue;
  readonly reason: string;
  readonly reasonData?: string;
  readonly timestamp: number;
}

export interface AlarmChange {
  readonly previous: AlarmStateRecord;
  readonly current: AlarmStateRecord;
}

const THRESHOLD = 1;

export class SimAlarm {
  private readonly datapoints: Datapoint[] = [];
  private stateRecord: AlarmStateRecord;

  constructor(
    readonly name: string,
    readonly metric: AlarmMetric,
    readonly settings: AlarmSettings,
    /** The state the alarm is in when the drill starts (steady state before the scenario). */
    initial: AlarmStateValue,
    start: number,
  ) {
    this.stateRecord = {
      value: initial,
      reason: `steady state before the drill (${initial})`,
      timestamp: start,
    };
  }

  get state(): AlarmStateRecord {
    return this.stateRecord;
  }

  /** One datapoint for the period starting at `timestamp`. */
  record(timestamp: number, value: number): void {
    this.datapoints.push({ timestamp, value });
  }

  /**
   * Evaluates the periods ending at `periodEnd` (exclusive) at time `at`. Returns the change, or
   * undefined when the state stays.
   */
  evaluate(periodEnd: number, at: number): AlarmChange | undefined {
    const { periodSeconds, evaluationPeriods, datapointsToAlarm } = this.settings;
    const periodMs = periodSeconds * 1000;
    const windows: { start: number; point?: Datapoint }[] = [];
    for (let i = evaluationPeriods; i >= 1; i--) {
      const start = periodEnd - i * periodMs;
      const point = [...this.datapoints]
        .reverse()
        .find((d) => d.timestamp >= start && d.timestamp < start + periodMs);
      windows.push(point ? { start, point } : { start });
    }
    const breaching = windows.filter((w) => !w.point || w.point.value < THRESHOLD);
    const next: AlarmStateValue = breaching.length >= datapointsToAlarm ? 'ALARM' : 'OK';
    if (next === this.stateRecord.value) return undefined;

    const present = windows.filter((w): w is { start: number; point: Datapoint } => w.point !== undefined);
    const recent = [...present].reverse();
    const list = recent
      .map((w) => `${w.point.value.toFixed(1)} (${cloudWatchShortDate(w.start)})`)
      .join(', ');
    const reason =
      next === 'ALARM'
        ? `Threshold Crossed: ${breaching.length} out of the last ${evaluationPeriods} datapoints [${list}] ${
            breaching.length === 1 ? 'was' : 'were'
          } less than the threshold (${THRESHOLD.toFixed(1)}) (minimum ${datapointsToAlarm} datapoint${
            datapointsToAlarm === 1 ? '' : 's'
          } for OK -> ALARM transition).`
        : `Threshold Crossed: ${recent.length} out of the last ${evaluationPeriods} datapoints [${list}] ${
            recent.length === 1 ? 'was' : 'were'
          } not less than the threshold (${THRESHOLD.toFixed(1)}) (minimum 1 datapoint for ALARM -> OK transition).`;
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: cloudWatchTimestamp(at),
      startDate: cloudWatchTimestamp(periodEnd - evaluationPeriods * periodMs),
      statistic: 'Minimum',
      period: periodSeconds,
      recentDatapoints: recent.map((w) => w.point.value),
      threshold: THRESHOLD,
      evaluatedDatapoints: recent.map((w) => ({
        timestamp: cloudWatchTimestamp(w.start),
        sampleCount: 1,
        value: w.point.value,
      })),
    });
    const change: AlarmChange = {
      previous: this.stateRecord,
      current: { value: next, reason, reasonData, timestamp: at },
    };
    this.stateRecord = change.current;
    return change;
  }
}

/** `2019-10-02T17:04:40.989+0000`, as CloudWatch writes state timestamps. */
export function cloudWatchTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** `02/10/19 17:04:00`, as CloudWatch writes datapoint times in a state reason. */
function cloudWatchShortDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(
    d.getUTCMinutes(),
  )}:${p(d.getUTCSeconds())}`;
}

export interface EventContext {
  readonly account: string;
  readonly region: string;
  /** The event id EventBridge assigns (a UUID). */
  readonly id: string;
  /** The id CloudWatch gives the alarm's metric query (a UUID). */
  readonly metricId: string;
  readonly description: string;
}

/** The EventBridge event for one alarm state change, as CloudWatch emits it. */
export function alarmStateChangeEvent(alarm: SimAlarm, change: AlarmChange, ctx: EventContext) {
  const stateJson = (s: AlarmStateRecord) => ({
    reason: s.reason,
    ...(s.reasonData !== undefined ? { reasonData: s.reasonData } : {}),
    timestamp: cloudWatchTimestamp(s.timestamp),
    value: s.value,
  });
  return {
    version: '0',
    id: ctx.id,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ctx.account,
    // EventBridge's `time` has whole seconds.
    time: `${new Date(change.current.timestamp).toISOString().slice(0, 19)}Z`,
    region: ctx.region,
    resources: [`arn:aws:cloudwatch:${ctx.region}:${ctx.account}:alarm:${alarm.name}`],
    detail: {
      alarmName: alarm.name,
      configuration: {
        description: ctx.description,
        metrics: [
          {
            id: ctx.metricId,
            metricStat: {
              metric: {
                dimensions: { ...alarm.metric.dimensions },
                name: alarm.metric.name,
                namespace: alarm.metric.namespace,
              },
              period: alarm.settings.periodSeconds,
              stat: 'Minimum',
            },
            returnData: true,
          },
        ],
      },
      previousState: stateJson(change.previous),
      state: stateJson(change.current),
    },
  };
}

export type AlarmStateChangeEvent = ReturnType<typeof alarmStateChangeEvent>;
