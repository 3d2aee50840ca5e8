/**
 * The per-service alarms (no healthy replica, replica lag over budget), in nested stacks sharded by
 * a hash of the service id over a fixed number of buckets.
 *
 * Why a fixed count and not one that grows with the fleet: these alarms have fixed names (the
 * dashboards, the runbook and the operator's filters use them). A named resource cannot move
 * between stacks in one CloudFormation update: the new stack creates it (CloudWatch's PutMetricAlarm
 * overwrites the existing alarm) and the old stack deletes it afterwards, in its cleanup phase,
 * leaving no alarm at all. Any scheme whose shard count grows with the fleet (powers of two,
 * consistent hashing) moves a share of the existing services when it grows. A fixed count of
 * buckets never moves one when services are added, removed or reordered; only buckets that hold a
 * service become stacks, so a small fleet has few stacks. The cost: a mid-size fleet has more,
 * smaller nested stacks than it strictly needs (they deploy in parallel and cost nothing), and past
 * the capacity of the buckets the deploy-limit check fails synth and the count must be raised once,
 * re-creating the moved alarms (delete the old stack's alarms first; see docs/operating.md).
 */
import { Duration, NestedStack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  ComparisonOperator,
  CompositeAlarm,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import { healthAlarmName, type ServiceConfig } from '../../lambdas/domain/config.ts';
import type { FailoverAutomation } from '../failover-automation.ts';
import { HealthAlarms, healthShardOf } from '../health-alarms.ts';

/** CloudWatch's limit on a composite alarm's rule expression. */
export const ALARM_RULE_MAX_CHARS = 10_240;
/** CloudWatch: a metric math alarm may use at most 10 metrics. */
const MAX_ALARM_METRICS = 10;
/** Lag over budget must last this many minutes before the alarm pages (one spike is not a page). */
export const LAG_ALARM_MINUTES = 3;
/**
 * Buckets the per-service alarms are hashed into. 16 holds 1,000 services at 2 alarms each with
 * the fullest bucket near 160 resources (a third of CloudFormation's 500), leaving room for more
 * alarms per service; `npm run bench -- scale` records the figures.
 */
export const DEFAULT_ALARM_STACK_SHARDS = 16;
export const MAX_ALARM_STACK_SHARDS = 64;

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

/** Names of the alarms a service gets here, in the order the dashboards list them. */
export const serviceAlarmNames = (service: ServiceConfig): string[] => [
  noHealthyReplicaAlarmName(service),
  lagOverBudgetAlarmName(service),
];

export interface ServiceAlarmShards {
  readonly stacks: Map<number, NestedStack>;
  readonly alarms: Map<string, ServiceAlarms>;
}

/** The per-service alarms, in nested stacks sharded by service id. */
export function createServiceAlarms(
  scope: Construct,
  automation: FailoverAutomation,
  shards: number,
  action: SnsAction,
): ServiceAlarmShards {
  // Health alarms the stack creates live in FailoverAutomation's nested stacks: a composite alarm
  // can only be created once the alarms in its rule exist, so our stack waits for theirs.
  const healthStackOf = new Map<string, NestedStack>();
  for (const stack of automation.healthStacks.values()) {
    const health = stack.node.tryFindChild('Alarms');
    if (!(health instanceof HealthAlarms)) continue;
    for (const name of health.alarms.keys()) healthStackOf.set(name, stack);
  }

  const byShard = new Map<number, ServiceConfig[]>();
  for (const service of automation.config.services) {
    const shard = healthShardOf(service.id, shards);
    byShard.set(shard, [...(byShard.get(shard) ?? []), service]);
  }
  const stacks = new Map<number, NestedStack>();
  const alarms = new Map<string, ServiceAlarms>();
  for (const [shard, services] of [...byShard.entries()].sort(([a], [b]) => a - b)) {
    const stack = new NestedStack(scope, `Alarms${String(shard).padStart(2, '0')}`, {
      description: `Failover automation: no-healthy-replica and lag-over-budget alarms, shard ${shard} of ${shards}`,
    });
    stacks.set(shard, stack);
    for (const service of services) {
      const serviceScope = new Construct(stack, service.id);
      for (const node of service.nodes) {
        const healthStack = healthStackOf.get(healthAlarmName(service, node));
        if (healthStack)
          stack.addStackDependency(healthStack, 'composite alarms need their child alarms to exist');
      }
      const noHealthyReplica = new CompositeAlarm(serviceScope, 'NoHealthyReplica', {
        compositeAlarmName: noHealthyReplicaAlarmName(service),
        alarmDescription:
          `Fewer than two nodes of ${service.id} are healthy (health alarm not OK): whichever is primary, ` +
          'there is no healthy replica to fail over to, and the next failure is an outage. Check the node health alarms.',
        alarmRule: AlarmRule.fromString(noHealthyReplicaRule(service)),
      });
      noHealthyReplica.addAlarmAction(action);
      const lagOverBudget = new Alarm(serviceScope, 'LagOverBudget', {
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
