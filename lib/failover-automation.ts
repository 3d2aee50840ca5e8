/**
 * FailoverAutomation: everything the automatic failover needs, from one validated configuration.
 *
 *   health alarms (nested stacks) --EventBridge rules--> failover Lambda --> DynamoDB state table
 *                                                               |--> Route 53 / ELBv2 (scoped IAM)
 *                                                               '--> SNS topic (KMS) --> subscribers
 *   undeliverable events and failed async invocations --> SQS dead-letter queue (alarmed)
 *
 * Other constructs (the switchover workflow) build their Lambdas with `createHandlerFunction`,
 * which gives them the same bundle settings, the same config.json and the same grants.
 */

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  Arn,
  ArnFormat,
  Duration,
  NestedStack,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Architecture, Function as LambdaFunctionResource, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription, SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type FailoverConfig, healthAlarmName, parseConfig } from '../lambdas/domain/config.ts';
import { configWarnings } from '../lambdas/domain/config-checks.ts';
import { ConfigValidationError } from '../lambdas/domain/errors.ts';
import { failoverConcurrency, MAX_FAILOVER_CONCURRENCY } from '../lambdas/domain/failover-concurrency.ts';
import { failoverTimeoutSeconds, roleChangeBudgetProblems } from '../lambdas/domain/role-change-budget.ts';
import { workflowHistoryProblems } from '../lambdas/domain/workflow-history.ts';
import { alarmWhenAtLeast } from './alarm-props.ts';
import { AlarmRules, EVENT_PATTERN_QUOTA_CHARS } from './alarm-rules.ts';
import { checkArnAccounts } from './arn-accounts.ts';
import {
  DEFAULT_HEALTH_STACK_SHARDS,
  HealthAlarms,
  healthResourceCount,
  healthShardOf,
  MAX_HEALTH_STACK_SHARDS,
} from './health-alarms.ts';
import { addDeployLimitChecks } from './limits.ts';
import { grantNodeActions, hasNodeActions } from './node-action-permissions.ts';
import { NodeProbe } from './node-probe.ts';
import { ReadinessCheck } from './readiness.ts';
import { TrafficPermissions } from './traffic-permissions.ts';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What the handlers do to the state table (lambdas/aws/dynamodb-state.ts), and nothing else. */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

/** CloudFormation's per-stack resource quota. */
export const STACK_RESOURCE_LIMIT = 500;

export interface FailoverAutomationProps {
  /** The validated configuration (see `parseConfig` / `loadConfigFile`). It is validated again here. */
  readonly config: FailoverConfig;
  /**
   * How many nested stacks the per-node health checks and alarms are spread over. A service's
   * stack is a hash of its id, so adding services never moves others; changing this value does
   * (and re-creates their alarms), so pick it once with room to grow: each shard holds at most
   * 500 resources (2 per Route 53 health-checked node, 1 per target-group-health or probe node).
   * @default - the configuration's `healthStackShards`, else 32 (DEFAULT_HEALTH_STACK_SHARDS)
   */
  readonly healthStackShards?: number;
  /**
   * Retention of the Lambdas' log groups. The durable audit trail is the state table's history.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the state table (epochs, leases, history) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /**
   * Key for the notification topic. Its key policy must grant `cloudwatch.amazonaws.com`
   * `kms:GenerateDataKey*` and `kms:Decrypt` (conditioned on this account's alarms) if the
   * automation's own alarms are to reach the topic: the AWS managed alias/aws/sns key does not, and
   * cannot be changed to, and an imported key's policy is not changed by the stack.
   * @default - a new customer managed key with rotation that SNS publishers and this account's CloudWatch alarms may use
   */
  readonly topicKey?: IKey;
  /**
   * EventBridge's event pattern size quota in the account (adjustable to 4096).
   * @default 2048
   */
  readonly maxEventPatternChars?: number;
  /**
   * The account the stack deploys to, when the stack itself is env-agnostic: hook and subscriber
   * ARNs must be in it or in the configuration's `allowedAccountIds`.
   * @default - the stack's account if it has one; else the account the load balancer ARNs name; else only consistency is checked (a warning says so)
   */
  readonly expectedAccountId?: string;
  /**
   * Concurrency reserved for the failover Lambda, so that other functions exhausting the account's
   * concurrency cannot throttle a failover. Lambda requires 100 to stay unreserved in the account:
   * an account whose quota is below 100 + this value cannot deploy it (lower it, or ask for a quota
   * increase).
   * @default - the configuration's `failoverConcurrency`, else one per service between 10 and 100 (lambdas/domain/failover-concurrency.ts)
   */
  readonly failoverReservedConcurrency?: number;
  /**
   * Source of the failover handler (absolute, or relative to the project root).
   * @default 'lambdas/handlers/failover.ts'
   */
  readonly failoverEntry?: string;
}

export interface HandlerFunctionOptions {
  /** Path of the handler's TypeScript file (absolute, or relative to the project root). */
  readonly entry: string;
  readonly description: string;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /**
   * Lambda gives CPU in proportion to memory.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Grant Route 53 / ELBv2 traffic changes (and the health/lag reads) as well as table and topic.
   * @default true
   */
  readonly grantTrafficControl?: boolean;
  /**
   * Grant the state table and the topic (the node probe needs neither).
   * @default true
   */
  readonly grantState?: boolean;
  /**
   * Concurrency reserved for this function alone.
   * @default - none: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
}

export class FailoverAutomation extends Construct {
  /** The validated configuration the Lambdas receive as config.json. */
  readonly config: FailoverConfig;
  /** Cluster state and history: pk `service#<id>`, sk `state` | `history#<epoch, 10 digits>`. */
  readonly table: Table;
  readonly topic: Topic;
  /** Undeliverable alarm events and failover invocations that failed all retries. */
  readonly deadLetterQueue: Queue;
  readonly failoverFunction: NodejsFunction;
  /**
   * Traffic changes Route 53 refused the failover Lambda (Throttling, PriorRequestNotComplete),
   * still leased, for the zone shifter. Redrives to the dead-letter queue after 3 receives.
   */
  readonly shiftQueue: Queue;
  /** Sends the queued changes as one Route 53 batch per hosted zone, then commits and announces each. */
  readonly zoneShiftFunction: NodejsFunction;
  /** Every health alarm name the failover Lambda listens to, in configuration order. */
  readonly healthAlarmNames: readonly string[];
  /** The nested stacks holding the stack-created health checks and alarms, by shard number. */
  readonly healthStacks: ReadonlyMap<number, NestedStack>;
  readonly alarmRules: AlarmRules;
  /** The node probe, when any node has one (lib/node-probe.ts). */
  readonly nodeProbe?: NodeProbe;
  /** The scheduled readiness check (lib/readiness.ts). */
  readonly readiness: ReadinessCheck;

  private readonly configFile: string;
  private trafficPermissions?: TrafficPermissions;
  private readonly logRetention: RetentionDays;

  constructor(scope: Construct, id: string, props: FailoverAutomationProps) {
    super(scope, id);
    // Re-validate: a construct consumer may hand over a hand-built object instead of parser output.
    this.config = parseConfig(props.config);
    // The actions of one automatic failover run inside the failover Lambda: they must fit it; one
    // switchover's history must fit Step Functions' quota.
    const budget = [...roleChangeBudgetProblems(this.config), ...workflowHistoryProblems(this.config)];
    if (budget.length > 0) throw new ConfigValidationError(budget);
    const shards = props.healthStackShards ?? this.config.healthStackShards ?? DEFAULT_HEALTH_STACK_SHARDS;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_HEALTH_STACK_SHARDS) {
      throw new Error(
        `healthStackShards must be an integer between 1 and ${MAX_HEALTH_STACK_SHARDS}, got: ${shards}`,
      );
    }
    const reservedConcurrency = props.failoverReservedConcurrency ?? failoverConcurrency(this.config);
    if (
      !Number.isInteger(reservedConcurrency) ||
      reservedConcurrency < 1 ||
      reservedConcurrency > MAX_FAILOVER_CONCURRENCY
    ) {
      throw new Error(
        `failoverReservedConcurrency must be an integer between 1 and ${MAX_FAILOVER_CONCURRENCY}, got: ${reservedConcurrency}`,
      );
    }
    const stackAccount = Stack.of(this).account;
    const accounts = checkArnAccounts(
      this.config,
      Token.isUnresolved(stackAccount) ? props.expectedAccountId : stackAccount,
    );
    if (accounts.problems.length > 0) throw new ConfigValidationError(accounts.problems);
    if (accounts.unchecked) Annotations.of(this).addWarningV2('failover:arn-accounts', accounts.unchecked);
    // `cdk synth` prints these: setups that work but leave a human a job.
    for (const w of configWarnings(this.config)) {
      Annotations.of(this).addWarningV2(`failover:config:${w.path}`, `${w.path}: ${w.message}`);
    }
    this.logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    this.configFile = writeConfigFile(bundledConfig(this.config));

    this.table = new Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      // A handful of writes per role change: on-demand costs nothing while idle and never throttles a failover.
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      // Losing the epochs would restart every service at epoch 0 with a possibly wrong primary.
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      deletionProtection: true,
    });

    const topicKey = props.topicKey ?? this.createTopicKey();
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Failover automation',
      masterKey: topicKey,
      enforceSSL: true,
    });
    // enforceSSL replaces SNS's default access policy with one holding only the TLS Deny, and
    // CloudWatch alarm actions publish as the service, not as a role: without this Allow every
    // alarm on the automation fails with "not authorized to perform: SNS:Publish". The conditions
    // keep other accounts' alarms out (confused deputy).
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: alarmSourceConditions(this),
      }),
    );
    // Construct ids by position, never by endpoint: a webhook URL can hold a secret, and ids end up
    // in logical ids, the manifest and tree.json (addSubscription would use the endpoint as the id).
    this.config.notifications.subscribers.forEach((s, i) => {
      switch (s.protocol) {
        case 'email':
        case 'https':
          new Subscription(this, `Subscriber${i}`, {
            topic: this.topic,
            protocol: s.protocol === 'email' ? SubscriptionProtocol.EMAIL : SubscriptionProtocol.HTTPS,
            endpoint: s.endpoint,
          });
          break;
        case 'sqs':
          this.topic.addSubscription(
            new SqsSubscription(Queue.fromQueueArn(this, `Subscriber${i}`, s.endpoint)),
          );
          break;
        case 'lambda':
          this.topic.addSubscription(
            new LambdaSubscription(
              LambdaFunctionResource.fromFunctionArn(this, `Subscriber${i}`, s.endpoint),
            ),
          );
          break;
      }
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      // SSE-SQS, not KMS: EventBridge can deliver to it without a key policy.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The maximum: time for a human to look before anything is lost.
      retentionPeriod: Duration.days(14),
    });

    this.failoverFunction = this.createHandlerFunction('FailoverFunction', {
      entry: props.failoverEntry ?? 'lambdas/handlers/failover.ts',
      description:
        'Automatic failover on a primary health alarm: decide, fence (epoch), shift traffic, record, notify',
      reservedConcurrentExecutions: reservedConcurrency,
      // Long enough for the node actions' worst path; the lease (derived the same way) outlives it.
      timeout: Duration.seconds(failoverTimeoutSeconds(this.config)),
    });
    // EventBridge invokes asynchronously. Lambda retries a failed invocation (the handler is
    // idempotent: epoch compare-and-swap), then parks the event in the DLQ instead of dropping it.
    this.failoverFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    // The automatic path runs the configured node actions (fence, promote) itself.
    if (hasNodeActions(this.config)) {
      grantNodeActions(this.failoverFunction, this.config, this.failoverFunction.role);
    }
    const { queue, shifter } = this.createZoneShift();
    this.shiftQueue = queue;
    this.zoneShiftFunction = shifter;

    const { stacks, names } = this.createHealthAlarms(shards);
    this.healthStacks = stacks;
    this.healthAlarmNames = names;
    this.alarmRules = new AlarmRules(this, 'AlarmRules', {
      alarmNames: names,
      target: this.failoverFunction,
      deadLetterQueue: this.deadLetterQueue,
      maxPatternChars: props.maxEventPatternChars ?? EVENT_PATTERN_QUOTA_CHARS,
    });

    checkLoadBalancerRegions(this.config, Stack.of(this).region);
    // Template, IAM, EventBridge, Lambda and dashboard limits fail at deploy time; check them at synth.
    addDeployLimitChecks(Stack.of(this));
    this.createOwnAlarms();
    this.acknowledgeNagFindings();
    if (this.config.services.some((s) => s.nodes.some((n) => n.probe))) {
      this.nodeProbe = new NodeProbe(this, 'NodeProbe', { automation: this });
    }
    this.readiness = new ReadinessCheck(this, 'Readiness', { automation: this });
  }

  /**
   * A Lambda with the failover Lambda's bundling, config.json, environment and grants: Node.js 22
   * on ARM64, ESM, minified, bundled by the local esbuild, config.json next to the handler.
   */
  createHandlerFunction(id: string, options: HandlerFunctionOptions): NodejsFunction {
    const configFile = this.configFile;
    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: this.logRetention,
      // Every decision, hold included, is logged here with its reason: deleting the stack (to
      // redeploy, or by mistake) must not delete the record of what the automation did.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: logs go to this one log group only.
    const role = new Role(this, `${id}ServiceRole`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${options.description} (Lambda execution role)`.slice(0, 1000),
    });
    logGroup.grantWrite(role);
    const fn = new NodejsFunction(this, id, {
      role,
      entry: resolve(PROJECT_ROOT, options.entry),
      handler: 'handler',
      description: options.description,
      runtime: Runtime.NODEJS_22_X,
      // Graviton: ~20% cheaper per GB-second, and nothing here needs x86.
      architecture: Architecture.ARM_64,
      // CPU scales with memory. 512 MB gives the cold start (SDK clients, zod schema) and the
      // parallel fact-gathering enough CPU to finish in well under a second; the function runs a
      // few times a month, so the price of the extra memory is negligible next to seconds of outage.
      memorySize: options.memorySize ?? 512,
      timeout: options.timeout ?? Duration.seconds(60),
      ...(options.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: options.reservedConcurrentExecutions }
        : {}),
      logGroup,
      // The configuration is a file, not environment variables (4 KB total for those).
      environment: {
        TABLE_NAME: this.table.tableName,
        TOPIC_ARN: this.topic.topicArn,
        NODE_OPTIONS: '--enable-source-maps',
      },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        target: 'node22',
        // ESM: the sources are ESM ("type": "module", `.ts` import specifiers, which esbuild
        // resolves), and ESM allows top-level await at cold start. CommonJS dependencies bundled
        // into ESM still call require() for Node built-ins, hence the createRequire banner.
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        // Pin the SDK versions we test against instead of whatever the runtime ships.
        bundleAwsSDK: true,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The runtime reads ${LAMBDA_TASK_ROOT}/config.json once at cold start. The asset is
          // hashed from the bundle output, config.json included: a config change is a new version.
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(configFile)} ${shellQuote(join(outputDir, 'config.json'))}`,
          ],
        },
      },
    });
    // The calls the state adapter makes, listed (TransactWriteItems is authorized per item as
    // PutItem/UpdateItem): no DeleteItem, BatchWriteItem or Scan, so no handler can erase history.
    if (options.grantState ?? true) {
      fn.addToRolePolicy(
        new PolicyStatement({ actions: [...STATE_TABLE_ACTIONS], resources: [this.table.tableArn] }),
      );
      this.topic.grantPublish(fn);
    }
    if (options.grantTrafficControl ?? true) this.grantTrafficControl(fn);
    acknowledgeHandlerFindings(fn, role, options.grantTrafficControl ?? true, options.grantState ?? true);
    return fn;
  }

  /**
   * Correlated failures (an AZ or Region event failing hundreds of services): Route 53 takes
   * 5 requests/s per account and one change at a time per hosted zone, so one change per event
   * loses failovers to throttling. The failover Lambda hands a refused change, still leased, to
   * this queue; the zone shifter sends what arrived within the batching window as one change
   * batch per zone (see lambdas/app/zone-shift.ts and BENCHMARKS.md).
   */
  private createZoneShift(): { queue: Queue; shifter: NodejsFunction } {
    const timeout = Duration.seconds(60);
    const queue = new Queue(this, 'ZoneShiftQueue', {
      // SSE-SQS like the dead-letter queue: no key policy for the redrive to get wrong.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for a Lambda event source: at least six times the function timeout, so a
      // batch still being worked on is not delivered to a second invocation.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      // A change still refused after three deliveries (minutes of throttling) is parked where the
      // dead-letter alarm pages a human; its lease expires and the primary's alarm stays in ALARM.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
    });
    const shifter = this.createHandlerFunction('ZoneShiftFunction', {
      entry: 'lambdas/handlers/zone-shift.ts',
      description:
        'Sends failover changes Route 53 throttled as one batch per hosted zone, then records and announces each',
      timeout,
    });
    shifter.addEventSource(
      new SqsEventSource(queue, {
        // Everything that arrives within a second goes in one invocation (up to 6 MB of payload):
        // one Route 53 request per zone instead of one per service.
        batchSize: 1000,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        // The lowest the event source allows: more invocations would only compete for the same
        // zones (PriorRequestNotComplete) and the account's 5 requests/s.
        maxConcurrency: 2,
      }),
    );
    queue.grantSendMessages(this.failoverFunction);
    this.failoverFunction.addEnvironment('SHIFT_QUEUE_URL', queue.queueUrl);
    return { queue, shifter };
  }

  /** Route 53 / ELBv2 changes scoped to the configured records, target groups and listeners, plus the signal reads. */
  grantTrafficControl(grantee: IGrantable): void {
    // Created on first use: the scoped writes are managed policies shared by every grantee.
    this.trafficPermissions ??= new TrafficPermissions(this, 'TrafficPermissions', { config: this.config });
    this.trafficPermissions.grant(grantee);
  }

  private createTopicKey(): Key {
    const key = new Key(this, 'TopicKey', {
      description: 'Failover automation notifications (SNS)',
      enableKeyRotation: true,
    });
    // CloudWatch alarm actions publish to the topic as the service, not as a role in the account,
    // and SNS asks KMS for a data key on their behalf. Only this account's alarms (confused deputy).
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToUseTheKey',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: alarmSourceConditions(this),
      }),
    );
    return key;
  }

  private createHealthAlarms(shards: number): {
    stacks: Map<number, NestedStack>;
    names: string[];
  } {
    const byShard = new Map<number, FailoverConfig['services']>();
    const names: string[] = [];
    for (const service of this.config.services) {
      for (const node of service.nodes) names.push(healthAlarmName(service, node));
      if (!service.nodes.some((n) => healthResourceCount(n) > 0)) continue;
      const shard = healthShardOf(service.id, shards);
      byShard.set(shard, [...(byShard.get(shard) ?? []), service]);
    }
    const stacks = new Map<number, NestedStack>();
    for (const [shard, services] of [...byShard.entries()].sort(([a], [b]) => a - b)) {
      const count = services.flatMap((s) => s.nodes).reduce((n, node) => n + healthResourceCount(node), 0);
      if (count > STACK_RESOURCE_LIMIT) {
        throw new Error(
          `health shard ${shard} needs ${count} resources, over CloudFormation's ${STACK_RESOURCE_LIMIT} per stack ` +
            `(services: ${services.map((s) => s.id).join(', ')}); raise healthStackShards (now ${shards})`,
        );
      }
      const stack = new NestedStack(this, `Health${String(shard).padStart(2, '0')}`, {
        description: `Failover automation health checks and alarms, shard ${shard} of ${shards}`,
      });
      new HealthAlarms(stack, 'Alarms', { services });
      stacks.set(shard, stack);
    }
    return { stacks, names };
  }

  /**
   * cdk-nag (AwsSolutions) findings that are deliberate, each with the reason, acknowledged on the
   * resource that has them (CDK validation acknowledgments), so
   * `Validations.of(app).addPlugins(new AwsSolutionsChecks(app))` reports only new problems. The
   * handlers' are acknowledged where they are built (acknowledgeHandlerFindings).
   */
  private acknowledgeNagFindings(): void {
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is the dead-letter queue (EventBridge target DLQ and Lambda on-failure destination)',
    });
  }

  /** The automation watches itself: a parked event or a crashing handler is a page. */
  private createOwnAlarms(): void {
    const action = new SnsAction(this.topic);
    const dlq = new Alarm(
      this,
      'DeadLetterAlarm',
      alarmWhenAtLeast(
        'Failover events or invocations failed after all retries: inspect the dead-letter queue and the failover Lambda logs',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
      ),
    );
    dlq.addAlarmAction(action);
    const errors = new Alarm(
      this,
      'FailoverErrorsAlarm',
      alarmWhenAtLeast(
        'The failover Lambda failed (it will be retried): read its logs',
        this.failoverFunction.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      ),
    );
    errors.addAlarmAction(action);
  }
}

/**
 * "Requests from this account's CloudWatch alarms in this region": the conditions on the topic
 * policy's and the key policy's grants to `cloudwatch.amazonaws.com`. Per-service alarms have
 * fixed names and the automation's own have generated ones, so the ARN pattern is `alarm:*`.
 */
export function alarmSourceConditions(scope: Construct): Record<string, Record<string, unknown>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: {
      'aws:SourceArn': stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    },
  };
}

/**
 * The Lambdas call ELBv2 in their own region (one client, the default region), so a load balancer
 * router elsewhere would fail every shift at run time. Route 53 is global: a DNS-routed service can
 * be protected from any region (see RELIABILITY.md). Checked only when the stack's region is known.
 */
function checkLoadBalancerRegions(config: FailoverConfig, stackRegion: string): void {
  if (Token.isUnresolved(stackRegion)) return;
  const problems: string[] = [];
  const check = (where: string, arn: string | undefined) => {
    if (arn === undefined) return;
    const region = Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).region;
    if (region !== stackRegion)
      problems.push(`${where} must be in the stack's region ${stackRegion}, got: ${arn}`);
  };
  config.services.forEach((service, si) => {
    const r = service.router;
    if (r.type === 'elbv2-target') check(`services[${si}].router.targetGroupArn`, r.targetGroupArn);
    if (r.type === 'elbv2-weighted') {
      check(`services[${si}].router.listenerArn`, r.listenerArn);
      service.nodes.forEach((n, ni) => {
        check(`services[${si}].nodes[${ni}].targetGroupArn`, n.targetGroupArn);
      });
    }
  });
  if (problems.length > 0) {
    throw new Error(
      `load balancer routers are called in the automation's own region (Route 53 routers work from any region):\n  - ${problems.join('\n  - ')}`,
    );
  }
}

/**
 * The deliberate cdk-nag findings of one handler Lambda, acknowledged on its function and its role
 * only (so a finding anywhere else is still reported). test/infra/cdk-nag.test.ts checks that no
 * role has a write action on `*`, which a blanket IAM5 acknowledgment could otherwise hide.
 */
function acknowledgeHandlerFindings(
  fn: NodejsFunction,
  role: Role,
  trafficControl: boolean,
  state = true,
): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'pinned to nodejs22.x, the Node.js version the code is built and tested on (node@22 devDependency)',
  });
  Validations.of(role).acknowledge(
    ...(state
      ? [
          {
            id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
            reason: "publishing to the KMS-encrypted topic (Topic.grantPublish), scoped to the topic's key",
          },
        ]
      : []),
    ...(trafficControl
      ? [
          {
            id: 'AwsSolutions-IAM5[Resource::*]',
            reason:
              'read actions that support no resource-level permissions only: cloudwatch:DescribeAlarms/GetMetricData and elasticloadbalancing:Describe*',
          },
          {
            id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]',
            reason:
              'route53:GetChange is read-only and the change id is only known after ChangeResourceRecordSets',
          },
        ]
      : []),
  );
}

/**
 * The configuration as the Lambdas receive it: without the subscribers' endpoints, which they never
 * use and which can hold secrets (a webhook URL's token).
 */
export function bundledConfig(config: FailoverConfig): FailoverConfig {
  return { ...config, notifications: { subscribers: [] } };
}

/**
 * Writes the configuration for the bundling hook to copy, into a fresh directory only this user
 * can read (mkdtemp, mode 0700): a fixed shared path would let another local user read it or plant
 * a file in its place before the copy.
 */
/** Config directories this process wrote, removed when it exits (one listener, not one per synth). */
const CONFIG_DIRS = new Set<string>();

export function writeConfigFile(config: FailoverConfig): string {
  const dir = mkdtempSync(join(tmpdir(), 'failover-automation-config-'));
  chmodSync(dir, 0o700);
  // Bundling runs within this synth, in this process: nothing needs the file afterwards.
  if (CONFIG_DIRS.size === 0) {
    process.once('exit', () => {
      for (const d of CONFIG_DIRS) rmSync(d, { recursive: true, force: true });
    });
  }
  CONFIG_DIRS.add(dir);
  const file = join(dir, 'config.json');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
