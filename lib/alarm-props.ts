/**
 * The alarms the stack watches its own parts with, so each alarm reads as what it watches.
 */
import type { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  type AlarmProps,
  ComparisonOperator,
  type IAlarmAction,
  type IMetric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/**
 * Alarms in the first period whose value reaches `threshold` (an error, a parked message, a
 * failed execution). No datapoint means nothing happened (no invocations, no errors).
 */
export function alarmWhenAtLeast(alarmDescription: string, metric: IMetric, threshold = 1): AlarmProps {
  return {
    alarmDescription,
    metric,
    threshold,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  };
}

/**
 * Alarms when something that runs every period (a scheduled function's invocations) did not run
 * for `periods` periods in a row. No datapoint is the same as not running.
 */
export function alarmWhenNotRunning(alarmDescription: string, metric: IMetric, periods: number): AlarmProps {
  return {
    alarmDescription,
    metric,
    threshold: 1,
    comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: periods,
    treatMissingData: TreatMissingData.BREACHING,
  };
}

/** The descriptions (what it means, what to do) of a scheduled function's two alarms. */
export interface ScheduledFunctionAlarms {
  /** An invocation failed. */
  readonly errors: string;
  /** No invocation for three periods. @default - not alarmed (the schedule is off) */
  readonly notRunning?: string;
}

/**
 * A scheduled function watched from outside: an invocation that failed, and a schedule that stopped
 * starting it (three periods without an invocation), both to `action`. Ids `Errors${suffix}` and
 * `NotRunning${suffix}`.
 */
export function watchScheduledFunction(
  scope: Construct,
  fn: IFunction,
  period: Duration,
  descriptions: ScheduledFunctionAlarms,
  action: IAlarmAction,
  suffix = '',
): void {
  new Alarm(
    scope,
    `Errors${suffix}`,
    alarmWhenAtLeast(descriptions.errors, fn.metricErrors({ period, statistic: 'Sum' })),
  ).addAlarmAction(action);
  if (descriptions.notRunning === undefined) return;
  new Alarm(
    scope,
    `NotRunning${suffix}`,
    alarmWhenNotRunning(descriptions.notRunning, fn.metricInvocations({ period, statistic: 'Sum' }), 3),
  ).addAlarmAction(action);
}
