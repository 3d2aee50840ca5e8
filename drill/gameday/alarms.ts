/**
 * CloudWatch alarm evaluation, which moto_server never does: the synthesized alarm definitions
 * (period, evaluation periods, datapoints to alarm, threshold, comparison, missing-data treatment)
 * evaluated over the datapoints the probe really put into moto's CloudWatch (GetMetricData), then
 * the new state written back with SetAlarmState and the `CloudWatch Alarm State Change` event
 * handed to EventBridge.
 *
 * Timing follows CloudWatch: an alarm is evaluated once per period, on period boundaries, over the
 * last `evaluationPeriods` complete periods. (CloudWatch may also evaluate a few seconds late; this
 * harness adds one second after each boundary for the last datapoint to land.)
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { alarmStateChangeEvent } from '../../test/support/alarm-events.ts';
import type { AlarmDefinition } from './synth.ts';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

const COMPARISON_WORDS: Readonly<Record<string, string>> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

export interface AlarmTransition {
  readonly alarmName: string;
  readonly from: AlarmState;
  readonly to: AlarmState;
  readonly at: number;
  readonly reason: string;
  // biome-ignore lint/suspicious/noExplicitAny: the EventBridge event JSON
  readonly event: any;
}

/** Whether one period's value breaches the threshold. */
export function breaches(def: AlarmDefinition, value: number): boolean {
  switch (def.comparison) {
    case 'GreaterThanThreshold':
      return value > def.threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= def.threshold;
    case 'LessThanThreshold':
      return value < def.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= def.threshold;
    default:
      throw new Error(
        `alarm ${def.alarmName}: comparison ${def.comparison} is not supported by the game day`,
      );
  }
}

/**
 * The state CloudWatch would give an alarm from its last `evaluationPeriods` period values
 * (undefined = no datapoint in that period), oldest first. `ignore` keeps the current state when
 * data is missing; `missing` (the default) goes to INSUFFICIENT_DATA when every period is empty.
 */
export function evaluate(
  def: AlarmDefinition,
  values: readonly (number | undefined)[],
  current: AlarmState,
): AlarmState {
  const present = values.filter((v): v is number => v !== undefined);
  let breaching = present.filter((v) => breaches(def, v)).length;
  const missing = values.length - present.length;
  if (def.treatMissingData === 'breaching') breaching += missing;
  if (present.length === 0) {
    if (def.treatMissingData === 'breaching') return breaching >= def.datapointsToAlarm ? 'ALARM' : 'OK';
    if (def.treatMissingData === 'notBreaching') return 'OK';
    if (def.treatMissingData === 'ignore') return current;
    return 'INSUFFICIENT_DATA';
  }
  return breaching >= def.datapointsToAlarm ? 'ALARM' : 'OK';
}

export interface AlarmEvaluatorOptions {
  readonly cloudWatch: CloudWatchClient;
  readonly alarms: readonly AlarmDefinition[];
  /** Called for every state change, after SetAlarmState. */
  readonly onTransition: (t: AlarmTransition) => void | Promise<void>;
  /** Called for every evaluation (state may be unchanged), for the timeline's series. */
  readonly onEvaluation?: (
    alarmName: string,
    state: AlarmState,
    values: readonly (number | undefined)[],
  ) => void;
}

/** Creates the alarms in moto, then evaluates each one at its period boundaries until stopped. */
export class AlarmEvaluator {
  private readonly states = new Map<string, AlarmState>();
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private eventSeq = 0;
  private pending = new Set<Promise<void>>();
  private readonly dimensionOrder = new Map<string, { Name: string; Value: string }[]>();

  constructor(private readonly options: AlarmEvaluatorOptions) {}

  state(alarmName: string): AlarmState | undefined {
    return this.states.get(alarmName);
  }

  /** PutMetricAlarm for every definition, each starting in `initial` (set with SetAlarmState). */
  async create(initial: AlarmState = 'OK'): Promise<void> {
    for (const def of this.options.alarms) {
      await this.options.cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: def.alarmName,
          Namespace: def.namespace,
          MetricName: def.metricName,
          Dimensions: Object.entries(def.dimensions).map(([Name, Value]) => ({ Name, Value })),
          Statistic: def.statistic as 'Minimum',
          Period: def.periodSeconds,
          EvaluationPeriods: def.evaluationPeriods,
          DatapointsToAlarm: def.datapointsToAlarm,
          Threshold: def.threshold,
          ComparisonOperator: def.comparison as 'LessThanThreshold',
          TreatMissingData: def.treatMissingData,
        }),
      );
      await this.setState(def.alarmName, initial, 'game day start');
    }
  }

  start(): void {
    this.running = true;
    for (const def of this.options.alarms) this.schedule(def);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await Promise.allSettled([...this.pending]);
  }

  private schedule(def: AlarmDefinition): void {
    if (!this.running) return;
    const periodMs = def.periodSeconds * 1000;
    const now = Date.now();
    const next = Math.floor(now / periodMs) * periodMs + periodMs + 1000;
    const timer = setTimeout(() => {
      this.timers = this.timers.filter((t) => t !== timer);
      const run = this.evaluateOnce(def, next - 1000).catch((err: unknown) => {
        process.stderr.write(`alarm evaluation of ${def.alarmName} failed: ${(err as Error).message}\n`);
      });
      this.pending.add(run);
      void run.finally(() => this.pending.delete(run));
      this.schedule(def);
    }, next - now);
    this.timers.push(timer);
  }

  /**
   * The alarm's dimensions in the order the publisher stored them. moto 5.2.1 matches dimension
   * lists by sorting them with a broken `__lt__` (name against value), so the same set in another
   * order matches nothing; CloudWatch itself ignores the order.
   */
  private async dimensionsOf(def: AlarmDefinition): Promise<{ Name: string; Value: string }[]> {
    const wanted = Object.entries(def.dimensions).map(([Name, Value]) => ({ Name, Value }));
    const cached = this.dimensionOrder.get(def.alarmName);
    if (cached) return cached;
    const out = await this.options.cloudWatch.send(
      new ListMetricsCommand({ Namespace: def.namespace, MetricName: def.metricName }),
    );
    const stored = (out.Metrics ?? []).find(
      (m) =>
        (m.Dimensions ?? []).length === wanted.length &&
        wanted.every((w) => m.Dimensions?.some((d) => d.Name === w.Name && d.Value === w.Value)),
    );
    if (!stored) return wanted;
    const order = (stored.Dimensions ?? []).map((d) => ({
      Name: d.Name as string,
      Value: d.Value as string,
    }));
    this.dimensionOrder.set(def.alarmName, order);
    return order;
  }

  /** Evaluates one alarm over the periods that ended at `boundary` (ms, a period boundary). */
  async evaluateOnce(def: AlarmDefinition, boundary: number): Promise<void> {
    const periodMs = def.periodSeconds * 1000;
    const start = boundary - def.evaluationPeriods * periodMs;
    const out = await this.options.cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(start),
        EndTime: new Date(boundary),
        MetricDataQueries: [
          {
            Id: 'm',
            ReturnData: true,
            MetricStat: {
              Metric: {
                Namespace: def.namespace,
                MetricName: def.metricName,
                Dimensions: await this.dimensionsOf(def),
              },
              Period: def.periodSeconds,
              Stat: def.statistic,
            },
          },
        ],
      }),
    );
    const result = out.MetricDataResults?.[0];
    const byPeriod = new Map<number, number>();
    (result?.Timestamps ?? []).forEach((ts, i) => {
      const value = result?.Values?.[i];
      if (value !== undefined) byPeriod.set(Math.floor(ts.getTime() / periodMs) * periodMs, value);
    });
    const values: (number | undefined)[] = [];
    for (let p = start; p < boundary; p += periodMs) values.push(byPeriod.get(p));
    const current = this.states.get(def.alarmName) ?? 'INSUFFICIENT_DATA';
    const next = evaluate(def, values, current);
    this.options.onEvaluation?.(def.alarmName, next, values);
    if (next === current || !this.running) return;
    // CloudWatch's own wording: this is the evaluation's state change, not a SetAlarmState by hand.
    const shown = values.map((v) => (v === undefined ? 'missing' : String(v))).join(', ');
    const breachingCount = values.filter((v) =>
      v === undefined ? def.treatMissingData === 'breaching' : breaches(def, v),
    ).length;
    const reason = `Threshold Crossed: ${breachingCount} out of the last ${def.evaluationPeriods} datapoints [${shown}] ${next === 'ALARM' ? 'were' : 'were not'} ${COMPARISON_WORDS[def.comparison] ?? def.comparison} the threshold (${def.threshold}) (minimum ${def.datapointsToAlarm} datapoints for ${current} -> ${next} transition; period ${def.periodSeconds} s, ${def.statistic}, missing data ${def.treatMissingData}).`;
    await this.setState(def.alarmName, next, reason);
    const at = Date.now();
    const event = alarmStateChangeEvent({
      alarmName: def.alarmName,
      state: next,
      previous: current,
      at,
      id: `gameday-${++this.eventSeq}`,
      reason,
    });
    await this.options.onTransition({ alarmName: def.alarmName, from: current, to: next, at, reason, event });
  }

  private async setState(alarmName: string, state: AlarmState, reason: string): Promise<void> {
    await this.options.cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: alarmName,
        StateValue: state,
        StateReason: reason.slice(0, 1023),
      }),
    );
    this.states.set(alarmName, state);
  }
}
