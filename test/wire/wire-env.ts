/**
 * The AWS side of the wire suites, built in moto_server through the real SDK: the state table
 * (key schema taken from the synthesized stack, so the two cannot drift), the SNS topic with an
 * SQS queue subscribed to read announcements back, health alarms, lag datapoints, a Route 53
 * zone, and a VPC for load balancers. The code under test gets its ports from the production
 * composition root (`buildAwsPorts`), whose clients find moto through AWS_ENDPOINT_URL.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  type AttributeDefinition,
  type BillingMode,
  CreateTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { elbv2Client, route53Client } from '../../lambdas/aws/clients.ts';
import { TrafficRouter } from '../../lambdas/aws/traffic-router.ts';
import type { FailoverConfig, FailoverConfigInput, LagMetric } from '../../lambdas/domain/config.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import type { Clock } from '../../lambdas/domain/ports.ts';
import { type AwsPorts, buildAwsPorts } from '../../lambdas/runtime/aws-ports.ts';
import { JsonLogger } from '../../lambdas/runtime/logger.ts';
import { EmfMetrics } from '../../lambdas/runtime/metrics.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';
import type { MotoServer } from '../support/moto.ts';

// biome-ignore lint/suspicious/noExplicitAny: AWS JSON answers are walked structurally
type Json = any;

/** Clients for setting the scene and reading it back; the code under test has its own. */
export interface SceneClients {
  readonly cloudWatch: CloudWatchClient;
  readonly dynamoDb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly route53: Route53Client;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
}

export function sceneClients(moto: MotoServer): SceneClients {
  const dynamoDb = new DynamoDBClient(moto.clientConfig);
  return {
    cloudWatch: new CloudWatchClient(moto.clientConfig),
    dynamoDb,
    doc: DynamoDBDocumentClient.from(dynamoDb),
    route53: new Route53Client(moto.clientConfig),
    elbv2: new ElasticLoadBalancingV2Client(moto.clientConfig),
    sns: new SNSClient(moto.clientConfig),
    sqs: new SQSClient(moto.clientConfig),
  };
}

export function destroyClients(clients: SceneClients | undefined): void {
  if (!clients) return;
  for (const [name, client] of Object.entries(clients)) if (name !== 'doc') client.destroy();
}

// ---------------------------------------------------------------------------------------------
// The stack's state table
// ---------------------------------------------------------------------------------------------

export interface TableSpec {
  readonly keySchema: KeySchemaElement[];
  readonly attributeDefinitions: AttributeDefinition[];
  readonly billingMode: BillingMode;
}

/** Synthesizes the deployable stack for `config` (bundling skipped). */
export function synthesizeStack(config: FailoverConfig): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new FailoverStack(app, 'WireTest', { config }));
}

/** The DynamoDB table exactly as the stack declares it (keys, attribute types, billing). */
export function stateTableSpec(template: Template): TableSpec {
  const tables = Object.values(template.findResources('AWS::DynamoDB::Table')) as Json[];
  if (tables.length !== 1)
    throw new Error(`expected one DynamoDB table in the stack, found ${tables.length}`);
  const p = tables[0].Properties;
  return {
    keySchema: p.KeySchema,
    attributeDefinitions: p.AttributeDefinitions,
    billingMode: p.BillingMode ?? 'PROVISIONED',
  };
}

export async function createStateTable(
  clients: SceneClients,
  spec: TableSpec,
  tableName: string,
): Promise<void> {
  await clients.dynamoDb.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: spec.keySchema,
      AttributeDefinitions: spec.attributeDefinitions,
      BillingMode: spec.billingMode,
      ...(spec.billingMode === 'PROVISIONED'
        ? { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }
        : {}),
    }),
  );
}

/** The state item and the history items of one service, read back raw (not through the adapter). */
export async function readService(
  clients: SceneClients,
  tableName: string,
  serviceId: string,
): Promise<{ state: Json | undefined; history: Json[] }> {
  const pk = `service#${serviceId}`;
  const [state, history] = await Promise.all([
    clients.doc.send(
      new GetCommand({ TableName: tableName, Key: { pk, sk: 'state' }, ConsistentRead: true }),
    ),
    clients.doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :h)',
        ExpressionAttributeValues: { ':pk': pk, ':h': 'history#' },
        ConsistentRead: true,
      }),
    ),
  ]);
  return { state: state.Item, history: history.Items ?? [] };
}

// ---------------------------------------------------------------------------------------------
// Notifications: SNS topic -> SQS queue, read back over SQS's JSON protocol
// ---------------------------------------------------------------------------------------------

export interface ReceivedNotification {
  readonly subject: string | undefined;
  readonly kind: string | undefined;
  readonly serviceId: string | undefined;
  readonly body: Json;
}

/** The topic the Lambdas publish to, and an SQS queue subscribed to it to read announcements back. */
export class NotificationInbox {
  private constructor(
    private readonly sqs: SQSClient,
    readonly topicArn: string,
    private readonly queueUrl: string,
  ) {}

  static async create(clients: SceneClients, name: string): Promise<NotificationInbox> {
    const topic = await clients.sns.send(new CreateTopicCommand({ Name: name }));
    const queue = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-inbox` }));
    const attrs = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await clients.sns.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn,
        Protocol: 'sqs',
        Endpoint: attrs.Attributes?.QueueArn,
      }),
    );
    return new NotificationInbox(clients.sqs, topic.TopicArn as string, queue.QueueUrl as string);
  }

  /** Every notification delivered since the last call (received messages are deleted). */
  async drain(): Promise<ReceivedNotification[]> {
    const out: ReceivedNotification[] = [];
    for (;;) {
      const res = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) return out;
      for (const m of messages) {
        // SNS wraps the message in its JSON envelope (no raw message delivery).
        const envelope = JSON.parse(m.Body ?? '{}');
        out.push({
          subject: envelope.Subject,
          kind: envelope.MessageAttributes?.kind?.Value,
          serviceId: envelope.MessageAttributes?.serviceId?.Value,
          body: JSON.parse(envelope.Message),
        });
        await this.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }),
        );
      }
    }
  }
}

function scopedAuthorization(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

// ---------------------------------------------------------------------------------------------
// CloudWatch: health alarms (moto never evaluates them: SetAlarmState) and lag datapoints
// ---------------------------------------------------------------------------------------------

export async function createAlarm(
  clients: SceneClients,
  alarmName: string,
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA',
): Promise<void> {
  await clients.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName,
      Namespace: 'Wire/Health',
      MetricName: 'Healthy',
      Dimensions: [{ Name: 'Alarm', Value: alarmName }],
      Statistic: 'Minimum',
      Period: 10,
      EvaluationPeriods: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    }),
  );
  if (state !== 'INSUFFICIENT_DATA') await setAlarm(clients, alarmName, state);
}

export async function setAlarm(
  clients: SceneClients,
  alarmName: string,
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA',
): Promise<void> {
  await clients.cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: state, StateReason: 'wire test' }),
  );
}

export async function putLag(
  clients: SceneClients,
  metric: LagMetric,
  lagSeconds: number,
  at: number,
): Promise<void> {
  await clients.cloudWatch.send(
    new PutMetricDataCommand({
      Namespace: metric.namespace,
      MetricData: [
        {
          MetricName: metric.metricName,
          Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
          Timestamp: new Date(at),
          Value: lagSeconds,
          Unit: 'Seconds',
        },
      ],
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Route 53
// ---------------------------------------------------------------------------------------------

/** A hosted zone; its id as the router config wants it (without `/hostedzone/`). */
export async function createZone(clients: SceneClients, zoneName: string): Promise<string> {
  const out = await clients.route53.send(
    new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `${zoneName}-${Date.now()}` }),
  );
  return (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
}

/**
 * Creates the A record. `UPSERT` matters on moto when traffic will later swap *back* to `value`
 * (a rollback, a failback): moto refuses a CREATE identical to one in its change journal while
 * the name exists, checked before the same batch's DELETE applies, where Route 53 applies the
 * batch in order and accepts `[DELETE current, CREATE earlier value]`.
 */
export async function createARecord(
  clients: SceneClients,
  zoneId: string,
  name: string,
  value: string,
  ttl: number,
  action: 'CREATE' | 'UPSERT' = 'CREATE',
): Promise<void> {
  await clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: action,
            ResourceRecordSet: { Name: name, Type: 'A', TTL: ttl, ResourceRecords: [{ Value: value }] },
          },
        ],
      },
    }),
  );
}

/** The values of every A record called `name` in the zone (normally exactly one record, one value). */
export async function aRecordValues(clients: SceneClients, zoneId: string, name: string): Promise<string[]> {
  const out = await clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  const fqdn = name.endsWith('.') ? name : `${name}.`;
  return (out.ResourceRecordSets ?? [])
    .filter((r) => r.Name === fqdn && r.Type === 'A')
    .flatMap((r) => (r.ResourceRecords ?? []).map((v) => v.Value ?? ''));
}

/**
 * moto's hosted zone ids are 22 random characters, real ones start with Z (the config schema
 * checks it). The config is validated with a placeholder id, then pointed at moto's zone.
 */
export function withZoneId(config: FailoverConfig, zoneId: string): FailoverConfig {
  return {
    ...config,
    services: config.services.map((s) =>
      s.router.type === 'route53' ? { ...s, router: { ...s.router, hostedZoneId: zoneId } } : s,
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// EC2 (for load balancers): client-ec2 is not a dependency, moto's query API is enough
// ---------------------------------------------------------------------------------------------

async function ec2(moto: MotoServer, params: Record<string, string>, field: string): Promise<string> {
  const res = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    body: new URLSearchParams({ Version: '2016-11-15', ...params }),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: scopedAuthorization('ec2'),
    },
  });
  const text = await res.text();
  const value = text.match(new RegExp(`<${field}>(.*?)</${field}>`))?.[1];
  if (!res.ok || !value)
    throw new Error(`moto EC2 ${params.Action} returned no ${field}: ${text.slice(0, 300)}`);
  return value;
}

/** A VPC 10.0.0.0/16 with two subnets in two zones (an ALB needs two). */
export async function createVpc(moto: MotoServer): Promise<{ vpcId: string; subnetIds: string[] }> {
  const vpcId = await ec2(moto, { Action: 'CreateVpc', CidrBlock: '10.0.0.0/16' }, 'vpcId');
  const subnetIds = [
    await ec2(
      moto,
      { Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' },
      'subnetId',
    ),
    await ec2(
      moto,
      { Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: '10.0.2.0/24', AvailabilityZone: 'us-east-1b' },
      'subnetId',
    ),
  ];
  return { vpcId, subnetIds };
}

// ---------------------------------------------------------------------------------------------
// The code under test, wired like production
// ---------------------------------------------------------------------------------------------

export interface CapturedLog {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface ProductionPorts extends AwsPorts {
  /** Every log line the code under test wrote, parsed. */
  readonly logs: CapturedLog[];
  /** Every EMF metrics document flushed, parsed. */
  readonly emf: Json[];
}

export interface ProductionPortsOptions {
  readonly tableName: string;
  readonly topicArn: string;
  /** The configuration as the operator writes it: written to a file, read back by loadRuntimeConfig. */
  readonly config: FailoverConfigInput;
  /** Applied to the validated configuration before the ports use it (moto's zone ids). */
  readonly patch?: (config: FailoverConfig) => FailoverConfig;
  /** @default the real clock */
  readonly clock?: Clock;
  readonly component?: string;
}

/**
 * `buildAwsPorts` as the Lambda runs it: TABLE_NAME, TOPIC_ARN, the configuration file, and the
 * shared clients of lambdas/aws/clients.ts (which must find moto through AWS_ENDPOINT_URL in
 * process.env). Logs and metrics are captured instead of printed.
 */
export function productionPorts(options: ProductionPortsOptions): ProductionPorts {
  const dir = mkdtempSync(join(tmpdir(), 'failover-wire-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(options.config));
  const ports = buildAwsPorts(options.component ?? 'failover', {
    TABLE_NAME: options.tableName,
    TOPIC_ARN: options.topicArn,
    FAILOVER_CONFIG_FILE: file,
  });
  let config = ports.config;
  let traffic = ports.traffic;
  if (options.patch) {
    config = options.patch(ports.config);
    traffic = new TrafficRouter({ config, route53: route53Client(), elb: elbv2Client() });
  }
  const logs: CapturedLog[] = [];
  const emf: Json[] = [];
  return {
    ...ports,
    config,
    traffic,
    logger: new JsonLogger({
      service: options.component ?? 'failover',
      level: 'debug',
      write: (line) => logs.push(JSON.parse(line)),
    }),
    metrics: new EmfMetrics({ write: (line) => emf.push(JSON.parse(line)) }),
    ...(options.clock ? { clock: options.clock } : {}),
    logs,
    emf,
  };
}

/** Parses and validates a configuration, as `cdk synth` and the Lambdas do. */
export function validated(input: FailoverConfigInput): FailoverConfig {
  return parseConfig(input);
}

/** An EventBridge `CloudWatch Alarm State Change` event, as the rule delivers it. */
export function alarmEvent(
  alarmName: string,
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA',
  previous: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA',
  at: number,
  id: string,
): Json {
  const iso = new Date(at).toISOString();
  return {
    version: '0',
    id,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: iso.replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: state, reason: 'wire test', timestamp: iso.replace('Z', '+0000') },
      previousState: { value: previous, reason: 'wire test', timestamp: iso.replace('Z', '+0000') },
      configuration: { metrics: [] },
    },
  };
}
