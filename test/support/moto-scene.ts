/**
 * A moto scene: a private moto_server (test/support/moto.ts) with the deployed stack's AWS side
 * built in it through the real SDK, and the code under test wired to it by the production
 * composition root. One module for every suite that talks to moto (the wire suites, the moto
 * races, the game day):
 *
 * - `useMotoScene({ config })` registers the suite's hooks: moto started (and reset before each
 *   test), AWS_ENDPOINT_URL and dummy credentials in process.env for the Lambdas' shared clients,
 *   the stack synthesized once from `config` (bundling skipped) for the state table's key schema
 *   and the switchover state machine, and everything undone in afterAll.
 * - `suite.scene({ zone, alarms, lag })` builds one test's world: the state table exactly as the
 *   stack declares it, the SNS topic with an SQS queue subscribed to read announcements back, a
 *   Route 53 zone with one A record, health alarms (moto never evaluates them: SetAlarmState) and
 *   lag datapoints; `scene.ports()` is `buildAwsPorts` over it, logs and metrics captured.
 * - The builders underneath (`createStateTable`, `NotificationInbox`, `createAlarm`, `putLag`,
 *   `createZone`, `createARecord`, `createVpc`, `readService`, ...) for scenes it does not cover.
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
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll } from 'vitest';
import { elbv2Client, resetAwsClientsForTests, route53Client } from '../../lambdas/aws/clients.ts';
import { TrafficRouter } from '../../lambdas/aws/traffic-router.ts';
import type { FailoverConfig, FailoverConfigInput, LagMetric } from '../../lambdas/domain/config.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import type { Clock } from '../../lambdas/domain/ports.ts';
import { type AwsPorts, buildAwsPorts } from '../../lambdas/runtime/aws-ports.ts';
import { JsonLogger } from '../../lambdas/runtime/logger.ts';
import { EmfMetrics } from '../../lambdas/runtime/metrics.ts';
import { type SynthesizedWorkflow, synthesizeWorkflow } from '../workflow/harness.ts';
import { applyEnv, type MotoServer, type StartMotoOptions, useMoto } from './moto.ts';
import { createRecord } from './route53-records.ts';

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

/** The DynamoDB table exactly as the stack declares it (keys, attribute types, billing). */
export function stateTableSpec(template: Template): TableSpec {
  // The state table; others (the readiness verdicts, the probe's positions) are not under test here.
  const tables = Object.entries(template.findResources('AWS::DynamoDB::Table'))
    .filter(([id]) => id.startsWith('AutomationStateTable'))
    .map(([, t]) => t) as Json[];
  if (tables.length !== 1)
    throw new Error(`expected one DynamoDB state table in the stack, found ${tables.length}`);
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
  state: AlarmState,
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

export async function setAlarm(clients: SceneClients, alarmName: string, state: AlarmState): Promise<void> {
  await clients.cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: state, StateReason: 'wire test' }),
  );
}

export async function putLag(
  clients: SceneClients,
  metric: Pick<LagMetric, 'namespace' | 'metricName' | 'dimensions'>,
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
  await createRecord(clients.route53, zoneId, { name, type: 'A', ttl, value, action });
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

// ---------------------------------------------------------------------------------------------
// The suite and the scene
// ---------------------------------------------------------------------------------------------

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface MotoSceneSuiteOptions {
  /**
   * The configuration as the operator writes it: the stack synthesized from it gives the state
   * table's key schema and the state machine, and `scene.ports()` reads it by default.
   */
  readonly config: FailoverConfigInput;
  /** How moto_server runs. @default one request at a time (see StartMotoOptions.serialized) */
  readonly moto?: Omit<StartMotoOptions, 'resetBeforeEach'>;
}

export interface SceneSpec {
  /** @default 'FailoverState' */
  readonly tableName?: string;
  /** The topic the Lambdas publish to (an SQS queue subscribed reads it back). @default 'failover-events' */
  readonly topicName?: string;
  /** A Route 53 hosted zone holding one A record; `ports()` then points route53 routers at it. */
  readonly zone?: {
    readonly name: string;
    readonly record: string;
    readonly value: string;
    /** @default 15 */
    readonly ttlSeconds?: number;
    /** UPSERT when traffic will swap back to `value` (see createARecord). @default 'CREATE' */
    readonly action?: 'CREATE' | 'UPSERT';
  };
  /** Health alarms by name, created in this state. */
  readonly alarms?: Readonly<Record<string, AlarmState>>;
  /** Lag datapoints, published before the scene is returned. */
  readonly lag?: readonly {
    readonly metric: Parameters<typeof putLag>[1];
    readonly seconds: number;
    readonly at: number;
  }[];
}

export interface ScenePortsOptions {
  /** @default 'failover' */
  readonly component?: string;
  /** @default the real clock */
  readonly clock?: Clock;
  /** @default the suite's configuration */
  readonly config?: FailoverConfigInput;
}

export interface MotoScene {
  readonly tableName: string;
  /** The hosted zone's id (undefined without `zone`). */
  readonly zoneId: string | undefined;
  readonly inbox: NotificationInbox;
  /** `buildAwsPorts` over this scene, as the Lambda runs it. Each call is a new composition root. */
  ports(options?: ScenePortsOptions): ProductionPorts;
  /** The state item and history items of one service, read back raw. */
  readService(serviceId: string): Promise<{ state: Json | undefined; history: Json[] }>;
  /** The values of the A record `name` in the scene's zone. */
  recordValues(name: string): Promise<string[]>;
}

export interface MotoSceneSuite {
  readonly moto: MotoServer;
  /** Clients for setting the scene and reading it back; the code under test has its own. */
  readonly clients: SceneClients;
  /** The stack's state machine, for test/workflow/harness.ts's WorkflowRunner. */
  readonly workflow: SynthesizedWorkflow;
  readonly tableSpec: TableSpec;
  /** Builds one test's world in the (freshly reset) moto_server. */
  scene(spec?: SceneSpec): Promise<MotoScene>;
}

/**
 * Registers the suite's hooks (call it at the top of a test file or describe block) and returns
 * the suite; read its fields inside tests. moto is reset before each test.
 */
export function useMotoScene(options: MotoSceneSuiteOptions): MotoSceneSuite {
  const { config } = options;
  const moto = useMoto({ ...options.moto, resetBeforeEach: true });
  let clients: SceneClients | undefined;
  let workflow: SynthesizedWorkflow | undefined;
  let tableSpec: TableSpec | undefined;
  let restoreEnv: () => void = () => {};
  beforeAll(() => {
    restoreEnv = applyEnv(moto.current.env);
    clients = sceneClients(moto.current);
    workflow = synthesizeWorkflow(validated(config));
    tableSpec = stateTableSpec(workflow.template);
  });
  afterAll(() => {
    destroyClients(clients);
    resetAwsClientsForTests();
    restoreEnv();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`moto scene: ${what} is not ready (did beforeAll fail?)`);
    return value;
  };
  const suite: MotoSceneSuite = {
    get moto() {
      return moto.current;
    },
    get clients() {
      return ready(clients, 'clients');
    },
    get workflow() {
      return ready(workflow, 'the synthesized workflow');
    },
    get tableSpec() {
      return ready(tableSpec, 'the state table');
    },
    scene: (spec = {}) => buildScene(suite, config, spec),
  };
  return suite;
}

async function buildScene(
  suite: MotoSceneSuite,
  config: FailoverConfigInput,
  spec: SceneSpec,
): Promise<MotoScene> {
  const { clients } = suite;
  const tableName = spec.tableName ?? 'FailoverState';
  await createStateTable(clients, suite.tableSpec, tableName);
  const inbox = await NotificationInbox.create(clients, spec.topicName ?? 'failover-events');
  let zoneId: string | undefined;
  if (spec.zone) {
    const { name, record, value, ttlSeconds = 15, action = 'CREATE' } = spec.zone;
    zoneId = await createZone(clients, name);
    await createARecord(clients, zoneId, record, value, ttlSeconds, action);
  }
  for (const [alarmName, state] of Object.entries(spec.alarms ?? {})) {
    await createAlarm(clients, alarmName, state);
  }
  for (const { metric, seconds, at } of spec.lag ?? []) await putLag(clients, metric, seconds, at);
  return {
    tableName,
    zoneId,
    inbox,
    ports: (options = {}) =>
      productionPorts({
        tableName,
        topicArn: inbox.topicArn,
        config: options.config ?? config,
        ...(zoneId ? { patch: (c: FailoverConfig) => withZoneId(c, zoneId) } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.component ? { component: options.component } : {}),
      }),
    readService: (serviceId) => readService(clients, tableName, serviceId),
    recordValues: (name) => {
      if (!zoneId) throw new Error('moto scene: no zone (pass `zone` to scene())');
      return aRecordValues(clients, zoneId, name);
    },
  };
}
