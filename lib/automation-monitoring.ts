/**
 * AutomationMonitoring: the automation watched as a product. Automatic failover masks failures, so
 * the automation must say when it could not act, and when it could not act if it had to.
 *
 *   alarms on the automation (all to the notification topic):
 *     - failover Lambda errors, dead-letter queue not empty   (created by FailoverAutomation; reused)
 *     - a workflow execution failed or timed out               (parent stack, one alarm)
 *     - per service: no healthy replica (composite over the node health alarms) and replica lag
 *       over the budget (metric math over the nodes' lag), in nested stacks sharded like the
 *       health alarms, so 200 services add 400 alarms without nearing 500 resources per stack
 *   dashboards: an overview (automation health, role changes, primary per service, decisions),
 *   and per-service rows (health alarm states, lag against the budget, role changes), 20
 *   services per dashboard to stay far below the widget limit.
 */
import { Duration, NestedStack, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmState,
  AlarmStatusWidget,
  AlarmStatusWidgetSortBy,
  ComparisonOperator,
  CompositeAlarm,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IWidget,
  LogQueryWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../lambdas/contract/metrics.ts';
import { healthAlarmName, type ServiceConfig } from '../lambdas/domain/config.ts';
import { type FailoverAutomation, STACK_RESOURCE_LIMIT } from './failover-automation.ts';
import { HealthAlarms, healthShardOf } from './health-alarms.ts';
import type { SwitchoverWorkflow } from './switchover-workflow.ts';

/** CloudWatch's limit on a composite alarm's rule expression. */
export const ALARM_RULE_MAX_CHARS = 10_240;
/** An alarm status widget shows at most 100 alarms. */
const ALARMS_PER_STATUS_WIDGET = 100;
/** A queued failover older than this has waited far beyond the shifter's 1 s batching window. */
export const ZONE_SHIFT_MAX_AGE_SECONDS = 60;
/** CloudWatch: a metric math alarm may use at most 10 metrics. */
const MAX_ALARM_METRICS = 10;
/** Lag over budget must last this many minutes before the alarm pages (one spike is not a page). */
export const LAG_ALARM_MINUTES = 3;

export interface AutomationMonitoringProps {
  /** The automation to watch: configuration, topic, failover Lambda, dead-letter queue, health alarms. */
  readonly automation: FailoverAutomation;
  /**
   * The switchover / operator-failover workflow, for its executions alarm and widgets.
   * @default - no workflow alarm or widgets
   */
  readonly workflow?: SwitchoverWorkflow;
  /**
   * How many nested stacks hold the per-service alarms (2 per service). A service's stack is a hash
   * of its id (the function the health shards use), so adding services never moves others, but
   * changing this value moves alarms between stacks and re-creates them: pick it once, with room.
   * @default 4
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

/** The two alarms each service gets. */
export interface ServiceAlarms {
  /** Fewer than two nodes positively healthy: whichever is primary, nothing to fail over to. */
  readonly noHealthyReplica: CompositeAlarm;
  /** A replica lags more than the budget: an automatic failover to it would be refused. */
  readonly lagOverBudget: Alarm;
}

export const noHealthyReplicaAlarmName = (service: ServiceConfig): string =>
  `failover-${service.id}-no-healthy-replica`;
export const lagOverBudgetAlarmName = (service: ServiceConfig): string =>
  `failover-${service.id}-lag-over-budget`;

export class AutomationMonitoring extends Construct {
  /** The overview dashboard (its name is the stack output DashboardName). */
  readonly overview: Dashboard;
  readonly serviceDashboards: readonly Dashboard[];
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

  private readonly automation: FailoverAutomation;

  constructor(scope: Construct, id: string, props: AutomationMonitoringProps) {
    super(scope, id);
    const { automation, workflow } = props;
    this.automation = automation;
    const shards = props.alarmStackShards ?? 4;
    if (!Number.isInteger(shards) || shards < 1 || shards > 50) {
      throw new Error(`alarmStackShards must be an integer between 1 and 50, got: ${shards}`);
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
      this.failedExecutionsAlarm = new Alarm(this, 'FailedExecutionsAlarm', {
        alarmDescription:
          'A switchover / operator failover execution failed or timed out (refused, rolled back, or a failed rollback): ' +
          'read its error and cause (failover switchover ... --wait prints them; Step Functions console)',
        metric: new MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
          usingMetrics: {
            failed: sm.metricFailed({ statistic: 'Sum' }),
            timedOut: sm.metricTimedOut({ statistic: 'Sum' }),
          },
          label: 'failed or timed-out executions',
          period: Duration.minutes(1),
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      this.failedExecutionsAlarm.addAlarmAction(action);
    }

    // Correlated failures: Route 53 throttled changes wait in the zone-shift queue for the zone
    // shifter. A failing shifter or a queue that stops draining delays every queued failover,
    // long before the redrive parks them in the (alarmed) dead-letter queue.
    this.zoneShiftErrorsAlarm = new Alarm(this, 'ZoneShiftErrorsAlarm', {
      alarmDescription:
        'The zone-shift Lambda failed: failovers Route 53 throttled are waiting in the zone-shift queue; read its logs',
      metric: automation.zoneShiftFunction.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.zoneShiftErrorsAlarm.addAlarmAction(action);
    this.zoneShiftBacklogAlarm = new Alarm(this, 'ZoneShiftBacklogAlarm', {
      alarmDescription: `A queued failover has waited ${ZONE_SHIFT_MAX_AGE_SECONDS} s or more for the zone shifter (batches gather for 1 s): traffic has not moved yet`,
      metric: automation.shiftQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: ZONE_SHIFT_MAX_AGE_SECONDS,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.zoneShiftBacklogAlarm.addAlarmAction(action);

    const { stacks, alarms } = this.createServiceAlarms(shards, action);
    this.alarmStacks = stacks;
    this.serviceAlarms = alarms;
    this.automationAlarms = [
      ...own,
      this.zoneShiftErrorsAlarm,
      this.zoneShiftBacklogAlarm,
      ...(this.failedExecutionsAlarm ? [this.failedExecutionsAlarm] : []),
    ];

    const services = automation.config.services;
    const chunks: ServiceConfig[][] = [];
    for (let i = 0; i < services.length; i += perDashboard) chunks.push(services.slice(i, i + perDashboard));
    this.serviceDashboards = chunks.map(
      (chunk, i) =>
        new Dashboard(this, `ServicesDashboard${i + 1}`, {
          dashboardName: `${prefix}-services-${i + 1}`,
          defaultInterval: Duration.days(1),
          widgets: [
            [
              new TextWidget({
                markdown: `# Failover automation: services ${i * perDashboard + 1}-${i * perDashboard + chunk.length} of ${services.length}\nOne row per service. The live state (primary, epoch, lease, lag verdicts) is \`npx failover status <service>\`; the overview dashboard is **${prefix}-overview**.`,
                width: 24,
                height: 2,
              }),
            ],
            ...chunk.map((service) => this.serviceRow(service)),
          ],
        }),
    );
    this.overview = new Dashboard(this, 'OverviewDashboard', {
      dashboardName: `${prefix}-overview`,
      defaultInterval: Duration.days(1),
      widgets: this.overviewRows(workflow, prefix),
    });
  }

  /** The per-service alarms, in nested stacks sharded by service id. */
  private createServiceAlarms(
    shards: number,
    action: SnsAction,
  ): { stacks: Map<number, NestedStack>; alarms: Map<string, ServiceAlarms> } {
    const { config } = this.automation;
    // Health alarms the stack creates live in FailoverAutomation's nested stacks: a composite alarm
    // can only be created once the alarms in its rule exist, so our stack waits for theirs.
    const healthStackOf = new Map<string, NestedStack>();
    for (const stack of this.automation.healthStacks.values()) {
      const health = stack.node.tryFindChild('Alarms');
      if (!(health instanceof HealthAlarms)) continue;
      for (const name of health.alarms.keys()) healthStackOf.set(name, stack);
    }

    const byShard = new Map<number, ServiceConfig[]>();
    for (const service of config.services) {
      const shard = healthShardOf(service.id, shards);
      byShard.set(shard, [...(byShard.get(shard) ?? []), service]);
    }
    const stacks = new Map<number, NestedStack>();
    const alarms = new Map<string, ServiceAlarms>();
    for (const [shard, services] of [...byShard.entries()].sort(([a], [b]) => a - b)) {
      const resources = services.length * 2;
      if (resources > STACK_RESOURCE_LIMIT) {
        throw new Error(
          `monitoring alarm shard ${shard} needs ${resources} resources, over CloudFormation's ${STACK_RESOURCE_LIMIT} per stack; ` +
            `raise alarmStackShards (now ${shards})`,
        );
      }
      const stack = new NestedStack(this, `Alarms${String(shard).padStart(2, '0')}`, {
        description: `Failover automation: no-healthy-replica and lag-over-budget alarms, shard ${shard} of ${shards}`,
      });
      stacks.set(shard, stack);
      for (const service of services) {
        const scope = new Construct(stack, service.id);
        for (const node of service.nodes) {
          const healthStack = healthStackOf.get(healthAlarmName(service, node));
          if (healthStack)
            stack.addStackDependency(healthStack, 'composite alarms need their child alarms to exist');
        }
        const noHealthyReplica = new CompositeAlarm(scope, 'NoHealthyReplica', {
          compositeAlarmName: noHealthyReplicaAlarmName(service),
          alarmDescription:
            `Fewer than two nodes of ${service.id} are healthy (health alarm not OK): whichever is primary, ` +
            'there is no healthy replica to fail over to, and the next failure is an outage. Check the node health alarms.',
          alarmRule: AlarmRule.fromString(noHealthyReplicaRule(service)),
        });
        noHealthyReplica.addAlarmAction(action);
        const lagOverBudget = new Alarm(scope, 'LagOverBudget', {
          alarmName: lagOverBudgetAlarmName(service),
          alarmDescription:
            `A replica of ${service.id} has lagged more than the ${service.policy.maxLagSeconds} s budget for ${LAG_ALARM_MINUTES} minutes, ` +
            'or no node reports lag: an automatic failover would be refused (invariant 2). ' +
            'Check replication; failover status shows each replica verdict.',
          metric: maxLagExpression(service),
          threshold: service.policy.maxLagSeconds,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: LAG_ALARM_MINUTES,
          datapointsToAlarm: LAG_ALARM_MINUTES,
          // No lag datapoint from any node means lag unknown: automatic failover would hold.
          treatMissingData: TreatMissingData.BREACHING,
        });
        lagOverBudget.addAlarmAction(action);
        alarms.set(service.id, { noHealthyReplica, lagOverBudget });
      }
    }
    return { stacks, alarms };
  }

  /** Header, alarm state, health alarms, lag against the budget, role changes. */
  private serviceRow(service: ServiceConfig): IWidget[] {
    const nodes = service.nodes
      .map((n) => `${n.id}${n.id === service.initialPrimary ? ' (initial primary)' : ''}`)
      .join(', ');
    const p = service.policy;
    const text = new TextWidget({
      markdown: [
        `### ${service.id}`,
        service.description ?? '',
        `**Nodes:** ${nodes}`,
        `**Router:** ${routerText(service)}`,
        `**Policy:** lag <= ${p.maxLagSeconds} s (datapoint <= ${p.maxLagAgeSeconds} s old), cooldown ${p.cooldownSeconds} s, automatic failover ${p.autoFailover ? (p.dryRun ? 'dry run' : 'on') : 'off'}`,
        `Live: \`npx failover status ${service.id}\``,
      ]
        .filter((l) => l !== '')
        .join('\n\n'),
      width: 6,
      height: 6,
    });
    const alarms = this.serviceAlarmRefs(service);
    const status = new AlarmStatusWidget({
      title: `${service.id}: node health and automation alarms`,
      alarms,
      sortBy: AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      width: 6,
      height: 6,
    });
    const lag = new GraphWidget({
      title: `${service.id}: replication lag vs ${p.maxLagSeconds} s budget`,
      left: service.nodes.map(
        (n) =>
          new Metric({
            namespace: n.lag.namespace,
            metricName: n.lag.metricName,
            dimensionsMap: n.lag.dimensions,
            statistic: n.lag.statistic,
            period: Duration.seconds(Math.max(60, n.lag.periodSeconds)),
            label: `${n.id} lag (s)`,
          }),
      ),
      leftAnnotations: [
        { value: p.maxLagSeconds, label: 'budget: automatic failover refused above', color: '#d62728' },
      ],
      leftYAxis: { min: 0, label: 'seconds', showUnits: false },
      width: 6,
      height: 6,
    });
    const dims = { serviceId: service.id };
    const count = (metricName: string, label: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: dims, statistic: 'Sum', label });
    const changes = new SingleValueWidget({
      title: `${service.id}: role changes and holds in range`,
      metrics: [
        count('FailoverCompleted', 'automatic failovers'),
        count('Switchover', 'switchovers'),
        count('OperatorFailover', 'operator failovers'),
        new MathExpression({
          expression: `SUM(SEARCH('{${METRICS_NAMESPACE},action,reason,serviceId} MetricName="FailoverDecision" action="hold" serviceId="${service.id}"', 'Sum', 300))`,
          label: 'held failover decisions',
        }),
      ],
      setPeriodToTimeRange: true,
      width: 6,
      height: 6,
    });
    return [text, status, lag, changes];
  }

  /** Health alarms by name (some exist outside the stack) and the service's own two alarms. */
  private serviceAlarmRefs(service: ServiceConfig): IAlarm[] {
    const names = [
      noHealthyReplicaAlarmName(service),
      lagOverBudgetAlarmName(service),
      ...service.nodes.map((n) => healthAlarmName(service, n)),
    ];
    // By name, not by reference: a reference into a nested stack would add an output per alarm.
    return names.map((name) => this.importAlarm(name));
  }

  private importAlarm(name: string): IAlarm {
    const id = `Ref-${name.replace(/\//g, '_')}`;
    const existing = this.node.tryFindChild(id) as IAlarm | undefined;
    return existing ?? Alarm.fromAlarmName(this, id, name);
  }

  private overviewRows(workflow: SwitchoverWorkflow | undefined, prefix: string): IWidget[][] {
    const { automation } = this;
    const services = automation.config.services;
    const serviceAlarmNames = services.flatMap((s) => [
      noHealthyReplicaAlarmName(s),
      lagOverBudgetAlarmName(s),
    ]);
    const attention: IWidget[] = [];
    for (let i = 0; i < serviceAlarmNames.length; i += ALARMS_PER_STATUS_WIDGET) {
      attention.push(
        new AlarmStatusWidget({
          title: `Services needing attention (${i / ALARMS_PER_STATUS_WIDGET + 1}): alarms in ALARM`,
          alarms: serviceAlarmNames.slice(i, i + ALARMS_PER_STATUS_WIDGET).map((n) => this.importAlarm(n)),
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
    const dashboards = this.serviceDashboards.map((_, i) => `${prefix}-services-${i + 1}`).join(', ');
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
          alarms: [...this.automationAlarms],
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
          right: [
            automation.shiftQueue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
          ],
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
}

/**
 * True when at most one node is positively OK: for each node, "every OTHER node is not OK".
 * NOT OK, not ALARM: an alarm in INSUFFICIENT_DATA (or missing) is not evidence of health,
 * the same rule automatic failover applies (invariant 1).
 */
export function noHealthyReplicaRule(service: ServiceConfig): string {
  const names = service.nodes.map((n) => healthAlarmName(service, n));
  for (const name of names) {
    if (name.includes('"')) {
      throw new Error(`health alarm names used in composite alarm rules cannot contain '"', got: ${name}`);
    }
  }
  const rule = names
    .map(
      (_, i) =>
        `(${names
          .filter((_, j) => j !== i)
          .map((n) => `NOT OK("${n}")`)
          .join(' AND ')})`,
    )
    .join(' OR ');
  if (rule.length > ALARM_RULE_MAX_CHARS) {
    throw new Error(
      `services[${service.id}]: the no-healthy-replica rule over ${names.length} nodes is ${rule.length} characters, ` +
        `over CloudWatch's ${ALARM_RULE_MAX_CHARS}; use shorter health alarm names or fewer nodes`,
    );
  }
  return rule;
}

/**
 * The largest lag any node reports, per minute. A node reports lag while it is a replica (the
 * primary reports none or 0), so this is the worst replica. Standard-resolution periods: the
 * alarm works whether the lag metric is published every second or every minute.
 */
export function maxLagExpression(service: ServiceConfig): MathExpression {
  if (service.nodes.length > MAX_ALARM_METRICS) {
    throw new Error(
      `services[${service.id}]: a lag alarm can combine at most ${MAX_ALARM_METRICS} metrics (CloudWatch), got ${service.nodes.length} nodes`,
    );
  }
  const periodSeconds = Math.max(60, ...service.nodes.map((n) => Math.ceil(n.lag.periodSeconds / 60) * 60));
  const usingMetrics: Record<string, Metric> = {};
  service.nodes.forEach((n, i) => {
    usingMetrics[`lag${i}`] = new Metric({
      namespace: n.lag.namespace,
      metricName: n.lag.metricName,
      dimensionsMap: n.lag.dimensions,
      statistic: n.lag.statistic,
    });
  });
  return new MathExpression({
    expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`,
    usingMetrics,
    label: `${service.id} worst replica lag (s)`,
    period: Duration.seconds(periodSeconds),
  });
}

function routerText(service: ServiceConfig): string {
  const r = service.router;
  switch (r.type) {
    case 'route53':
      return `Route 53 ${r.recordName} ${r.recordType}, TTL ${r.ttlSeconds} s`;
    case 'elbv2-target':
      return `ELB target group ${r.targetGroupArn.split(':').pop()}`;
    case 'elbv2-weighted':
      return `ELB listener weights ${r.listenerArn.split(':').pop()}`;
  }
}
