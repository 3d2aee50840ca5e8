/**
 * The per-node health alarms the stack creates from the configuration ('route53-health-check' and
 * 'target-group-health' signals; an 'alarm' signal names an alarm that exists already and creates
 * nothing). The failover Lambda only ever sees the alarm's state changes, by name.
 */
import { Arn, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Metric,
  type MetricProps,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { CfnHealthCheck } from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { healthAlarmName, type NodeConfig, type ServiceConfig } from '../lambdas/domain/config.ts';
import { probeHealthAlarmProps } from './node-probe-alarms.ts';

/** CloudFormation resources one node's health signal adds to a stack. */
export function healthResourceCount(node: NodeConfig): number {
  switch (node.health.type) {
    case 'alarm':
      return 0;
    case 'target-group-health':
    case 'probe':
      return 1; // the alarm
    case 'route53-health-check':
      return 2; // the health check and its alarm
  }
}

/**
 * Buckets the health checks and alarms are hashed into by default. Fixed, so adding services never
 * moves one (a named alarm cannot move between stacks in one update); only buckets holding a
 * service become nested stacks. 32 holds 1,000 services of two Route 53 health-checked nodes (4
 * resources each) with the fullest bucket at 34 services, 136 resources: 27 % of
 * CloudFormation's 500 (test/infra/scale.test.ts). It was 8, which cannot hold them (over 500): a stack
 * deployed with 8 keeps its layout by setting `healthStackShards: 8`.
 */
export const DEFAULT_HEALTH_STACK_SHARDS = 32;
export const MAX_HEALTH_STACK_SHARDS = 100;

/**
 * A service's shard, stable under adding, removing and reordering other services (FNV-1a of the
 * id). Stability matters: a resource that moves between nested stacks is created in one and deleted
 * from the other, and an alarm with a fixed name would be deleted after its replacement was made.
 */
export function healthShardOf(serviceId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < serviceId.length; i++) {
    hash ^= serviceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

export interface HealthAlarmsProps {
  /** The services whose stack-created health signals live in this scope. */
  readonly services: readonly ServiceConfig[];
}

/** Health checks and alarms for a group of services. */
export class HealthAlarms extends Construct {
  /** Every alarm created here, keyed by alarm name. */
  readonly alarms: ReadonlyMap<string, Alarm>;

  constructor(scope: Construct, id: string, props: HealthAlarmsProps) {
    super(scope, id);
    const alarms = new Map<string, Alarm>();
    const region = Stack.of(this).region;
    const concreteRegion = Token.isUnresolved(region) ? undefined : region;

    for (const service of props.services) {
      for (const node of service.nodes) {
        const health = node.health;
        if (health.type === 'alarm') continue;
        const alarmName = healthAlarmName(service, node);
        const nodeScope = new Construct(this, `${service.id}--${node.id}`);
        const description = `Health of ${service.id}/${node.id}: ALARM starts an automatic failover evaluation when it is the primary`;

        if (health.type === 'route53-health-check') {
          if (concreteRegion !== undefined && concreteRegion !== 'us-east-1') {
            throw new Error(
              `services[${service.id}].nodes[${node.id}].health: route53-health-check needs the stack in us-east-1 ` +
                `(Route 53 publishes HealthCheckStatus metrics only there), got region: ${concreteRegion}; ` +
                `deploy this stack to us-east-1 or use an 'alarm' signal created in us-east-1`,
            );
          }
          const isIp = /^[0-9.]+$/.test(health.host) || health.host.includes(':');
          const check = new CfnHealthCheck(nodeScope, 'HealthCheck', {
            healthCheckConfig: {
              type: health.protocol,
              ...(isIp ? { ipAddress: health.host } : { fullyQualifiedDomainName: health.host }),
              port: health.port,
              ...(health.protocol !== 'TCP' && health.path ? { resourcePath: health.path } : {}),
              ...(health.protocol === 'HTTPS' && !isIp ? { enableSni: true } : {}),
              requestInterval: health.requestIntervalSeconds,
              failureThreshold: health.failureThreshold,
            },
            healthCheckTags: [{ key: 'Name', value: `failover-${service.id}-${node.id}` }],
          });
          // Route 53 publishes HealthCheckStatus once a minute (standard resolution): a 10-30 s
          // alarm period would see no datapoint most of the time. The health check already waited
          // failureThreshold x interval before reporting 0, so one period is enough and a longer
          // window would only delay the failover. A health check that stops reporting is not
          // evidence of health.
          alarms.set(
            alarmName,
            unhealthyBelowOneAlarm(nodeScope, alarmName, description, {
              namespace: 'AWS/Route53',
              metricName: 'HealthCheckStatus',
              dimensionsMap: { HealthCheckId: check.attrHealthCheckId },
            }),
          );
          continue;
        }

        if (health.type === 'probe') {
          alarms.set(
            alarmName,
            new Alarm(nodeScope, 'Alarm', probeHealthAlarmProps(service, node, alarmName, description)),
          );
          continue;
        }

        // target-group-health
        const tg = Arn.split(health.targetGroupArn, ArnFormat.SLASH_RESOURCE_NAME);
        const lb = Arn.split(health.loadBalancerArn, ArnFormat.SLASH_RESOURCE_NAME);
        if (concreteRegion !== undefined && tg.region !== concreteRegion) {
          throw new Error(
            `services[${service.id}].nodes[${node.id}].health.targetGroupArn: the target group must be in the stack's region ` +
              `${concreteRegion} (ELB metrics are regional), got: ${health.targetGroupArn}`,
          );
        }
        // ARN resource "loadbalancer/app/<name>/<id>" -> dimension "app/<name>/<id>";
        // "targetgroup/<name>/<id>" is already the TargetGroup dimension value.
        const lbDimension = `${lb.resourceName}`;
        const tgDimension = `targetgroup/${tg.resourceName}`;
        const namespace = lbDimension.startsWith('net/') ? 'AWS/NetworkELB' : 'AWS/ApplicationELB';
        // ELB publishes HealthyHostCount every 60 s; a shorter period has no data to read. Its own
        // unhealthy threshold already debounced the target, so one period suffices. No datapoint
        // means no healthy-target report at all (target group detached, load balancer gone).
        alarms.set(
          alarmName,
          unhealthyBelowOneAlarm(nodeScope, alarmName, description, {
            namespace,
            metricName: 'HealthyHostCount',
            dimensionsMap: { TargetGroup: tgDimension, LoadBalancer: lbDimension },
          }),
        );
      }
    }
    this.alarms = alarms;
  }
}

/**
 * A node's health alarm on a health metric AWS publishes once a minute (1 or more: healthy): the
 * minimum of one one-minute period below 1 alarms, and a missing datapoint counts as unhealthy,
 * never as healthy.
 */
function unhealthyBelowOneAlarm(
  scope: Construct,
  alarmName: string,
  alarmDescription: string,
  metric: Pick<MetricProps, 'namespace' | 'metricName' | 'dimensionsMap'>,
): Alarm {
  return new Alarm(scope, 'Alarm', {
    alarmName,
    alarmDescription,
    metric: new Metric({ ...metric, statistic: 'Minimum', period: Duration.minutes(1) }),
    threshold: 1,
    comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: TreatMissingData.BREACHING,
  });
}
