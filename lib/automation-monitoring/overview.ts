/**
 * The overview dashboard: the automation itself (its alarms, Lambdas, queues, workflow), every
 * per-service alarm in ALARM, role changes across services, and the primary per service.
 */
import { Duration } from 'aws-cdk-lib';
import {
  AlarmState,
  AlarmStatusWidget,
  AlarmStatusWidgetSortBy,
  GraphWidget,
  type IAlarm,
  type IWidget,
  LogQueryWidget,
  MathExpression,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/contract/metrics.ts';
import type { FailoverAutomation } from '../failover-automation.ts';
import type { SwitchoverWorkflow } from '../switchover-workflow.ts';
import { serviceAlarmNames } from './service-alarms.ts';
import { importAlarm } from './service-dashboards.ts';

/** An alarm status widget shows at most 100 alarms. */
const ALARMS_PER_STATUS_WIDGET = 100;
/** A queued failover older than this has waited far beyond the shifter's 1 s batching window. */
export const ZONE_SHIFT_MAX_AGE_SECONDS = 60;

export interface OverviewProps {
  readonly automation: FailoverAutomation;
  readonly workflow: SwitchoverWorkflow | undefined;
  readonly prefix: string;
  /** Alarms on the automation itself. */
  readonly automationAlarms: readonly IAlarm[];
  /** How many service dashboards there are (named `<prefix>-services-<n>`). */
  readonly serviceDashboards: number;
}

export function overviewRows(scope: Construct, o: OverviewProps): IWidget[][] {
  const { automation, workflow, prefix } = o;
  const services = automation.config.services;
  const alarmNames = services.flatMap(serviceAlarmNames);
  const attention: IWidget[] = [];
  for (let i = 0; i < alarmNames.length; i += ALARMS_PER_STATUS_WIDGET) {
    attention.push(
      new AlarmStatusWidget({
        title: `Services needing attention (${i / ALARMS_PER_STATUS_WIDGET + 1}): alarms in ALARM`,
        alarms: alarmNames.slice(i, i + ALARMS_PER_STATUS_WIDGET).map((n) => importAlarm(scope, n)),
        states: [AlarmState.ALARM],
        sortBy: AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        width: 8,
        height: 6,
      }),
    );
  }
  const fn = automation.failoverFunction;
  const period = Duration.minutes(5);
  const roleChange = (metricName: string, label: string) =>
    new MathExpression({
      expression: `SUM(SEARCH('{${METRICS_NAMESPACE},serviceId} MetricName="${metricName}"', 'Sum', 3600))`,
      label,
      period: Duration.hours(1),
    });
  const shifter = automation.zoneShiftFunction;
  // Every writer of a role change: the failover Lambda, the zone shifter, the workflow.
  const logGroups = [
    fn.logGroup.logGroupName,
    shifter.logGroup.logGroupName,
    ...(workflow ? [workflow.stepFunction.logGroup.logGroupName] : []),
  ];
  const dashboards = Array.from(
    { length: o.serviceDashboards },
    (_, i) => `${prefix}-services-${i + 1}`,
  ).join(', ');
  return [
    [
      new TextWidget({
        markdown:
          `# Failover automation: ${services.length} service${services.length === 1 ? '' : 's'}\n` +
          `Operate with \`npx failover status | switchover | failover | pause | resume | history\` (docs/operating.md). ` +
          `Per-service rows: ${dashboards}. Every alarm here notifies the automation's SNS topic.`,
        width: 24,
        height: 2,
      }),
    ],
    [
      new AlarmStatusWidget({
        title: 'The automation itself',
        alarms: [...o.automationAlarms],
        sortBy: AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        width: 8,
        height: 6,
      }),
      ...attention,
    ],
    [
      new GraphWidget({
        title: 'Failover Lambda: invocations, errors, throttles',
        left: [
          fn.metricInvocations({ period, statistic: 'Sum' }),
          fn.metricErrors({ period, statistic: 'Sum' }),
          fn.metricThrottles({ period, statistic: 'Sum' }),
        ],
        right: [fn.metricDuration({ period, statistic: 'p99' })],
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Zone shift: queued failovers (Route 53 throttled) and the shifter',
        left: [
          automation.shiftQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
          shifter.metricInvocations({ period, statistic: 'Sum' }),
          shifter.metricErrors({ period, statistic: 'Sum' }),
        ],
        right: [automation.shiftQueue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' })],
        rightAnnotations: [{ value: ZONE_SHIFT_MAX_AGE_SECONDS, label: 'alarm (s)', color: '#d62728' }],
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Dead-letter queue: events and invocations that failed every retry',
        left: [
          automation.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
          }),
        ],
        leftAnnotations: [{ value: 1, label: 'alarm', color: '#d62728' }],
        width: 8,
        height: 6,
      }),
      ...(workflow
        ? [
            new GraphWidget({
              title: 'Workflow executions (switchover, operator failover)',
              left: [
                workflow.stateMachine.metricStarted({ period, statistic: 'Sum' }),
                workflow.stateMachine.metricSucceeded({ period, statistic: 'Sum' }),
                workflow.stateMachine.metricFailed({ period, statistic: 'Sum' }),
                workflow.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
                workflow.stateMachine.metricAborted({ period, statistic: 'Sum' }),
              ],
              width: 8,
              height: 6,
            }),
          ]
        : []),
    ],
    [
      new GraphWidget({
        title: 'Role changes and held failovers, all services (per hour)',
        left: [
          roleChange('FailoverCompleted', 'automatic failovers'),
          roleChange('Switchover', 'switchovers'),
          roleChange('OperatorFailover', 'operator failovers'),
          new MathExpression({
            expression: `SUM(SEARCH('{${METRICS_NAMESPACE},action,reason,serviceId} MetricName="FailoverDecision" action="hold"', 'Sum', 3600))`,
            label: 'held failover decisions',
            period: Duration.hours(1),
          }),
        ],
        width: 12,
        height: 6,
      }),
      new GraphWidget({
        title: 'Automatic failover: detection and total time (max, ms)',
        left: [
          new MathExpression({
            expression: `MAX(SEARCH('{${METRICS_NAMESPACE},serviceId} MetricName="FailoverTotalMs"', 'Maximum', 300))`,
            label: 'event to recorded change',
          }),
          new MathExpression({
            expression: `MAX(SEARCH('{${METRICS_NAMESPACE},serviceId} MetricName="FailoverDetectionMs"', 'Maximum', 300))`,
            label: 'alarm to Lambda',
          }),
        ],
        width: 12,
        height: 6,
      }),
    ],
    [
      new LogQueryWidget({
        title: 'Primary per service: the last role change in range (failover status shows the live state)',
        logGroupNames: logGroups,
        queryLines: [
          'fields @timestamp, serviceId, from, to, epoch',
          "filter message = 'failed over' or message = 'role change committed'",
          'stats latest(to) as primary, max(epoch) as epoch, latest(from) as previous, max(@timestamp) as changedAt by serviceId',
          'sort serviceId asc',
        ],
        width: 12,
        height: 8,
      }),
      new LogQueryWidget({
        title: 'Automatic failover decisions (newest first)',
        logGroupNames: [fn.logGroup.logGroupName, shifter.logGroup.logGroupName],
        queryLines: [
          'fields @timestamp, serviceId, action, reason, detail, to',
          "filter message = 'failover decision' or message = 'zone shift decision'",
          'sort @timestamp desc',
          'limit 100',
        ],
        width: 12,
        height: 8,
      }),
    ],
  ];
}
