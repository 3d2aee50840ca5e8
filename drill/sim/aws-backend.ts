/**
 * The drill against real AWS APIs at an endpoint (moto_server, LocalStack): the same scenarios,
 * the same simulated nodes and alarm evaluation, but every port is the project's real AWS adapter
 * (CloudWatch, DynamoDB, Route 53, ELBv2, SNS) talking to the endpoint, and the simulated world
 * reaches AWS the way the real one does: alarm states with SetAlarmState, lag with PutMetricData.
 *
 * The drill creates what it needs, named `drill-<run id>-*`: one DynamoDB table, one SNS topic,
 * one hosted zone with a record per service, the health alarms, and for load-balanced scenarios a
 * VPC, an ALB, a listener and a target group per node (EC2 through its query API: client-ec2 is
 * not a dependency). The failover handler runs in this process: nothing at a bare API endpoint
 * routes alarm events to a Lambda. Against a deployed stack, see docs/drill.md (game day).
 *
 * Time: real time flows (API latency is measured, not modelled) and idle stretches are skipped.
 * The clock starts an hour in the past so every datapoint the drill writes is in CloudWatch's past.
 */
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CLIENT_CONFIG } from '../../lambdas/aws/clients.ts';
import { CloudWatchAlarms } from '../../lambdas/aws/cloudwatch-alarms.ts';
import { CloudWatchLag } from '../../lambdas/aws/cloudwatch-lag.ts';
import { DynamoDbState } from '../../lambdas/aws/dynamodb-state.ts';
import { SnsNotifier } from '../../lambdas/aws/sns-notifier.ts';
import { TrafficRouter } from '../../lambdas/aws/traffic-router.ts';
import { type FailoverConfig, findService, healthAlarmName } from '../../lambdas/domain/config.ts';
import { createRecord } from '../../test/support/route53-records.ts';
import { createStateTable } from '../../test/support/state-table.ts';
import type { Environment } from '../run.ts';
import type { Scenario, ScenarioResources } from '../scenario.ts';
import type { Backend } from './backend.ts';
import { SkipClock } from './clock.ts';
import type { SimModel } from './model.ts';

export interface AwsEnvironmentOptions {
  /** e.g. http://127.0.0.1:5000 */
  readonly endpoint: string;
  /** @default AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** @default the SDK's default credential chain */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Prefix of every resource name. @default drill-<base36 time> */
  readonly runId?: string;
}

/** The zone id the configuration schema accepts; replaced by the endpoint's own id after validation. */
const PLACEHOLDER_ZONE_ID = 'Z0DRILLPLACEHOLDER';
const ALARM_NAMESPACE = 'Drill/Health';

export function awsEnvironment(options: AwsEnvironmentOptions): Environment {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const common = {
    ...CLIENT_CONFIG,
    region,
    endpoint: options.endpoint,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const cloudWatch = new CloudWatchClient(common);
  const dynamoDb = new DynamoDBClient(common);
  const document = DynamoDBDocumentClient.from(dynamoDb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const route53 = new Route53Client(common);
  const elb = new ElasticLoadBalancingV2Client(common);
  const sns = new SNSClient(common);
  const runId = options.runId ?? `drill-${Date.now().toString(36)}`;
  let zoneId = '';
  let zoneName = '';
  let tableName = '';
  let topicArn = '';

  /** EC2 through its query API (moto, LocalStack), enough for a VPC and subnets. */
  const ec2 = async (params: Record<string, string>, field: string): Promise<string> => {
    const res = await fetch(`${options.endpoint.replace(/\/$/, '')}/`, {
      method: 'POST',
      body: new URLSearchParams({ Version: '2016-11-15', ...params }),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=drill/20250101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
      },
    });
    const value = (await res.text()).match(new RegExp(`<${field}>(.*?)</${field}>`))?.[1];
    if (!value) throw new Error(`EC2 ${params.Action} at ${options.endpoint} returned no ${field}`);
    return value;
  };

  const loadBalanced = async (scenario: Scenario): Promise<ScenarioResources['elb']> => {
    const vpcId = await ec2({ Action: 'CreateVpc', CidrBlock: '10.80.0.0/16' }, 'vpcId');
    const subnets = [
      await ec2(
        { Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: '10.80.1.0/24', AvailabilityZone: `${region}a` },
        'subnetId',
      ),
      await ec2(
        { Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: '10.80.2.0/24', AvailabilityZone: `${region}b` },
        'subnetId',
      ),
    ];
    const nodes = Object.keys(scenario.nodes);
    const targetGroupArns: Record<string, string> = {};
    for (const node of nodes) {
      const out = await elb.send(
        new CreateTargetGroupCommand({
          Name: `${node}-${runId.slice(-8)}`.slice(0, 32),
          Protocol: 'HTTP',
          Port: 80,
          VpcId: vpcId,
          TargetType: 'ip',
        }),
      );
      targetGroupArns[node] = required(out.TargetGroups?.[0]?.TargetGroupArn, 'CreateTargetGroup');
    }
    const lb = await elb.send(
      new CreateLoadBalancerCommand({
        Name: `${scenario.serviceId}-${runId.slice(-8)}`.slice(0, 32),
        Subnets: subnets,
      }),
    );
    const listener = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: required(lb.LoadBalancers?.[0]?.LoadBalancerArn, 'CreateLoadBalancer'),
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: nodes.map((n, i) => ({
                TargetGroupArn: targetGroupArns[n]!,
                Weight: i === 0 ? 1 : 0,
              })),
            },
          },
        ],
      }),
    );
    return { listenerArn: required(listener.Listeners?.[0]?.ListenerArn, 'CreateListener'), targetGroupArns };
  };

  return {
    kind: 'endpoint',
    endpoint: options.endpoint,

    async resources(scenarios) {
      tableName = `${runId}-state`;
      await createStateTable(dynamoDb, tableName);
      for (let i = 0; i < 60; i++) {
        const t = await dynamoDb.send(new DescribeTableCommand({ TableName: tableName }));
        if (t.Table?.TableStatus === 'ACTIVE') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      topicArn = required(
        (await sns.send(new CreateTopicCommand({ Name: `${runId}-notifications` }))).TopicArn,
        'CreateTopic',
      );
      zoneName = `${runId}.example.com`;
      const zone = await route53.send(
        new CreateHostedZoneCommand({ Name: zoneName, CallerReference: runId }),
      );
      zoneId = required(zone.HostedZone?.Id, 'CreateHostedZone').replace('/hostedzone/', '');

      const out = new Map<string, ScenarioResources>();
      for (const scenario of scenarios) {
        out.set(scenario.name, {
          hostedZoneId: PLACEHOLDER_ZONE_ID,
          zoneName,
          ...(scenario.router === 'elbv2-weighted' ? { elb: await loadBalanced(scenario) } : {}),
        });
      }
      return out;
    },

    adjust(config: FailoverConfig): FailoverConfig {
      return {
        ...config,
        services: config.services.map((s) => ({
          ...s,
          // Validated with a Route 53-shaped id; the endpoint's own ids need not match that shape.
          ...(s.router.type === 'route53' ? { router: { ...s.router, hostedZoneId: zoneId } } : {}),
          // Metrics outlive a run and every run's clock starts an hour back: a Run dimension keeps
          // an earlier run's datapoints out of this run's lag queries.
          nodes: s.nodes.map((n) => ({
            ...n,
            lag: { ...n.lag, dimensions: { ...n.lag.dimensions, Run: runId } },
          })),
        })),
      };
    },

    async backend(config: FailoverConfig, scenario: Scenario, model: SimModel) {
      const service = findService(config, scenario.serviceId);
      if (!service) throw new Error(`no service ${scenario.serviceId} in the drill configuration`);
      // The steady state before t=0: the record on the primary, one alarm per node. The record is
      // created on the scenario's earlier primary directly rather than swapped there: moto refuses
      // to CREATE a value a record held before (its change journal), so a swap back would fail.
      const r = service.router;
      if (r.type === 'route53') {
        const primaryId = scenario.before?.primary ?? service.initialPrimary;
        const primary = service.nodes.find((n) => n.id === primaryId);
        await createRecord(route53, zoneId, {
          name: r.recordName,
          type: r.recordType,
          ttl: r.ttlSeconds,
          value: required(primary?.address, 'initial primary address'),
        });
      }
      for (const node of service.nodes) {
        await cloudWatch.send(
          new PutMetricAlarmCommand({
            AlarmName: healthAlarmName(service, node),
            AlarmDescription: `drill: health of ${service.id}/${node.id}`,
            Namespace: ALARM_NAMESPACE,
            MetricName: 'HealthCheckStatus',
            Dimensions: [
              { Name: 'Service', Value: service.id },
              { Name: 'Node', Value: node.id },
            ],
            Statistic: 'Minimum',
            Period: model.alarm.periodSeconds,
            EvaluationPeriods: model.alarm.evaluationPeriods,
            DatapointsToAlarm: model.alarm.datapointsToAlarm,
            Threshold: 1,
            ComparisonOperator: 'LessThanThreshold',
            TreatMissingData: 'breaching',
          }),
        );
      }

      const start = Math.floor((Date.now() - 3_600_000) / 10_000) * 10_000;
      const traffic = new TrafficRouter({ config, route53, elb });
      const backend: Backend = {
        kind: 'endpoint',
        clock: new SkipClock(start),
        ports: {
          alarms: new CloudWatchAlarms({ client: cloudWatch }),
          lag: new CloudWatchLag({ client: cloudWatch }),
          state: new DynamoDbState({ tableName, client: document }),
          traffic,
          notifier: new SnsNotifier({ topicArn, client: sns }),
          changes: traffic,
        },
        async setAlarmState(alarmName, value, reason, reasonData) {
          await cloudWatch.send(
            new SetAlarmStateCommand({
              AlarmName: alarmName,
              StateValue: value,
              StateReason: reason.slice(0, 1023),
              ...(reasonData ? { StateReasonData: reasonData.slice(0, 4000) } : {}),
            }),
          );
        },
        async putLag(metric, lagSeconds, timestamp) {
          await cloudWatch.send(
            new PutMetricDataCommand({
              Namespace: metric.namespace,
              MetricData: [
                {
                  MetricName: metric.metricName,
                  Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
                  Timestamp: new Date(timestamp),
                  Value: lagSeconds,
                  Unit: 'Seconds',
                  StorageResolution: metric.periodSeconds < 60 ? 1 : 60,
                },
              ],
            }),
          );
        },
        async close() {},
      };
      return { backend, start };
    },

    async close() {
      for (const c of [cloudWatch, dynamoDb, route53, elb, sns]) c.destroy();
    },
  };
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null || value === '') throw new Error(`${what} returned nothing`);
  return value;
}
