/**
 * AutomationMonitoring: the automation watched as a product. Automatic failover masks failures, so
 * the automation must say when it could not act, and when it could not act if it had to.
 *
 *   alarms on the automation (all to the notification topic):
 *     - failover Lambda errors, dead-letter queue not empty   (created by FailoverAutomation; reused)
 *     - a workflow execution failed or timed out, the zone shifter failed or lags (parent stack)
 *     - per service: no healthy replica (composite over the node health alarms) and replica lag
 *       over the budget (metric math over the nodes' lag), in nested stacks hashed by service id
 *       (service-alarms.ts)
 *   dashboards: an overview (overview.ts) and per-service rows, 20 services per dashboard
 *   (service-dashboards.ts), all in nested stacks, so the parent template stays small.
 */
import { Duration, NestedStack, Stack } from 'aws-cdk-lib';
import { Alarm, Dashboard, type IAlarm, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import { alarmWhenAtLeast } from '../alarm-props.ts';
import type { FailoverAutomation } from '../failover-automation.ts';
import type { SwitchoverWorkflow } from '../switchover-workflow.ts';
import { overviewRows, ZONE_SHIFT_MAX_AGE_SECONDS } from './overview.ts';
import {
  createServiceAlarms,
  DEFAULT_ALARM_STACK_SHARDS,
  MAX_ALARM_STACK_SHARDS,
  type ServiceAlarms,
} from './service-alarms.ts';
import { createServiceDashboards } from './service-dashboards.ts';

export { ZONE_SHIFT_MAX_AGE_SECONDS } from './overview.ts';
export {
  ALARM_RULE_MAX_CHARS,
  DEFAULT_ALARM_STACK_SHARDS,
  LAG_ALARM_MINUTES,
  lagOverBudgetAlarmName,
  MAX_ALARM_STACK_SHARDS,
  maxLagExpression,
  noHealthyReplicaAlarmName,
  noHealthyReplicaRule,
  type ServiceAlarms,
  serviceAlarmNames,
} from './service-alarms.ts';
export { DASHBOARDS_PER_STACK } from './service-dashboards.ts';

export interface AutomationMonitoringProps {
  /** The automation to watch: configuration, topic, failover Lambda, dead-letter queue, health alarms. */
  readonly automation: FailoverAutomation;
  /**
   * The switchover / operator-failover workflow, for its executions alarm and widgets.
   * @default - no workflow alarm or widgets
   */
  readonly workflow?: SwitchoverWorkflow;
  /**
   * How many buckets the per-service alarms are hashed into (a nested stack per bucket that holds a
   * service). Adding, removing or reordering services never moves another service's alarms;
   * changing this value moves most of them, which re-creates them: keep the default unless the
   * deploy-limit check says a bucket is full (see service-alarms.ts).
   * @default 16
   */
  readonly alarmStackShards?: number;
  /**
   * Services per service dashboard (4 widgets each).
   * @default 20
   */
  readonly servicesPerDashboard?: number;
  /**
   * Prefix of the dashboard names (`<prefix>-overview`, `<prefix>-services-<n>`).
   * @default - the stack name
   */
  readonly dashboardNamePrefix?: string;
}

export class AutomationMonitoring extends Construct {
  /** The overview dashboard. */
  readonly overview: Dashboard;
  /** The overview's name, a plain string (the stack output DashboardName; no cross-stack reference). */
  readonly overviewDashboardName: string;
  readonly serviceDashboards: readonly Dashboard[];
  /** The nested stack holding the overview dashboard. */
  readonly overviewStack: NestedStack;
  /** Nested stacks holding the service dashboards, by number. */
  readonly dashboardStacks: ReadonlyMap<number, NestedStack>;
  /** Workflow executions that failed or timed out; undefined without a workflow. */
  readonly failedExecutionsAlarm?: Alarm;
  /** The zone-shift Lambda (Route 53 changes throttled during correlated failures) failed. */
  readonly zoneShiftErrorsAlarm: Alarm;
  /** A queued failover has waited too long for the zone shifter. */
  readonly zoneShiftBacklogAlarm: Alarm;
  readonly serviceAlarms: ReadonlyMap<string, ServiceAlarms>;
  /** Nested stacks holding the per-service alarms, by shard. */
  readonly alarmStacks: ReadonlyMap<number, NestedStack>;
  /** Every alarm about the automation itself, FailoverAutomation's own included. */
  readonly automationAlarms: readonly IAlarm[];

  constructor(scope: Construct, id: string, props: AutomationMonitoringProps) {
    super(scope, id);
    const { automation, workflow } = props;
    const shards = props.alarmStackShards ?? DEFAULT_ALARM_STACK_SHARDS;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_ALARM_STACK_SHARDS) {
      throw new Error(
        `alarmStackShards must be an integer between 1 and ${MAX_ALARM_STACK_SHARDS}, got: ${shards}`,
      );
    }
    const perDashboard = props.servicesPerDashboard ?? 20;
    if (!Number.isInteger(perDashboard) || perDashboard < 1 || perDashboard > 100) {
      throw new Error(`servicesPerDashboard must be an integer between 1 and 100, got: ${perDashboard}`);
    }
    const prefix = (props.dashboardNamePrefix ?? Stack.of(this).stackName).replace(/[^A-Za-z0-9_-]/g, '-');
    if (prefix.length === 0 || prefix.length > 200) {
      throw new Error(`dashboardNamePrefix must be 1-200 characters, got: ${JSON.stringify(prefix)}`);
    }

    const action = new SnsAction(automation.topic);
    // FailoverAutomation alarms on its own dead-letter queue and handler errors: reuse, never duplicate.
    const own = ['DeadLetterAlarm', 'FailoverErrorsAlarm'].map((childId) => {
      const child = automation.node.tryFindChild(childId);
      if (!(child instanceof Alarm)) {
        throw new Error(`FailoverAutomation no longer has the alarm ${childId} that monitoring builds on`);
      }
      return child;
    });

    if (workflow) {
      const sm = workflow.stateMachine;
      this.failedExecutionsAlarm = new Alarm(
        this,
        'FailedExecutionsAlarm',
        alarmWhenAtLeast(
          'A switchover / operator failover execution failed, timed out or was stopped (refused, rolled back, a failed rollback, ' +
            'or StopExecution, which runs no rollback: the old primary may be fenced and the lease held): ' +
            'read its error and cause, or its last states (failover switchover ... --wait prints them; Step Functions console)',
          new MathExpression({
            expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
            usingMetrics: {
              failed: sm.metricFailed({ statistic: 'Sum' }),
              timedOut: sm.metricTimedOut({ statistic: 'Sum' }),
              // A stopped execution ran no rollback: it may have left the old primary fenced.
              aborted: sm.metricAborted({ statistic: 'Sum' }),
            },
            label: 'failed, timed-out or stopped executions',
            period: Duration.minutes(1),
          }),
        ),
      );
      this.failedExecutionsAlarm.addAlarmAction(action);
    }

    // Correlated failures: Route 53 throttled changes wait in the zone-shift queue for the zone
    // shifter. A failing shifter or a queue that stops draining delays every queued failover,
    // long before the redrive parks them in the (alarmed) dead-letter queue.
    this.zoneShiftErrorsAlarm = new Alarm(
      this,
      'ZoneShiftErrorsAlarm',
      alarmWhenAtLeast(
        'The zone-shift Lambda failed: failovers Route 53 throttled are waiting in the zone-shift queue; read its logs',
        automation.zoneShiftFunction.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      ),
    );
    this.zoneShiftErrorsAlarm.addAlarmAction(action);
    this.zoneShiftBacklogAlarm = new Alarm(
      this,
      'ZoneShiftBacklogAlarm',
      alarmWhenAtLeast(
        `A queued failover has waited ${ZONE_SHIFT_MAX_AGE_SECONDS} s or more for the zone shifter (batches gather for 1 s): traffic has not moved yet`,
        automation.shiftQueue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        ZONE_SHIFT_MAX_AGE_SECONDS,
      ),
    );
    this.zoneShiftBacklogAlarm.addAlarmAction(action);

    const { stacks, alarms } = createServiceAlarms(this, automation, shards, action);
    this.alarmStacks = stacks;
    this.serviceAlarms = alarms;
    this.automationAlarms = [
      ...own,
      this.zoneShiftErrorsAlarm,
      this.zoneShiftBacklogAlarm,
      ...(this.failedExecutionsAlarm ? [this.failedExecutionsAlarm] : []),
    ];

    const boards = createServiceDashboards(this, automation.config.services, perDashboard, prefix);
    this.serviceDashboards = boards.dashboards;
    this.dashboardStacks = boards.stacks;
    // Its own nested stack: the overview lists every per-service alarm (an ARN of tokens each,
    // ~470 KB of template at 1,000 services), which would crowd the parent template.
    this.overviewStack = new NestedStack(this, 'Overview', {
      description: 'Failover automation: the overview dashboard',
    });
    this.overviewDashboardName = `${prefix}-overview`;
    this.overview = new Dashboard(this.overviewStack, 'OverviewDashboard', {
      dashboardName: this.overviewDashboardName,
      defaultInterval: Duration.days(1),
      widgets: overviewRows(this.overviewStack, {
        automation,
        workflow,
        prefix,
        automationAlarms: this.automationAlarms,
        serviceDashboards: boards.dashboards.length,
      }),
    });
  }
}
