/**
 * What the CLI talks to, behind the same ports the Lambdas use, plus the Step Functions client.
 * `awsServices` builds them from SDK clients that honour --region and --endpoint-url (and, through
 * the SDK's default providers, AWS_REGION, AWS_ENDPOINT_URL and the credential chain). The table,
 * topic and state machine come from flags or, by default, from the stack outputs: one
 * DescribeStacks call, made only when a command needs one of them.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CloudWatchAlarms } from '../lambdas/aws/cloudwatch-alarms.ts';
import { CloudWatchLag } from '../lambdas/aws/cloudwatch-lag.ts';
import { DynamoDbState } from '../lambdas/aws/dynamodb-state.ts';
import { describeAwsError } from '../lambdas/aws/errors.ts';
import { SnsNotifier } from '../lambdas/aws/sns-notifier.ts';
import { TrafficRouter } from '../lambdas/aws/traffic-router.ts';
import { STACK_OUTPUTS, type StackOutputName } from '../lambdas/contract/stack-outputs.ts';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { FailoverError } from '../lambdas/domain/errors.ts';
import type { AlarmPort, LagPort, NotifierPort, StatePort, TrafficPort } from '../lambdas/domain/ports.ts';
import type { ResourcePort, RoutingReadPort } from '../lambdas/domain/readiness.ts';
import type { AlarmSettings, TargetGroupHealthCheck } from '../lambdas/domain/rto.ts';
import type { GlobalOptions } from './args.ts';
import { awsReadinessReaders } from './check.ts';

export interface CliServices {
  readonly alarms: AlarmPort;
  readonly lag: LagPort;
  readonly traffic: TrafficPort;
  /** Resolves the table (flag or stack output) on first use. */
  state(): Promise<StatePort>;
  /** Resolves the topic (flag or stack output) on first use. */
  notifier(): Promise<NotifierPort>;
  readonly sfn: SFNClient;
  stateMachineArn(): Promise<string>;
  /**
   * The deployed configuration's hash (stack output ConfigHash), checked before a command changes
   * anything. Absent: the caller wires its own state (tests), nothing to compare.
   */
  deployedConfigHash?(): Promise<string>;
  /** The caller's IAM principal ARN (STS GetCallerIdentity), recorded by `pause`. Absent: the local user. */
  callerIdentity?(): Promise<string>;
  /** How existing alarms evaluate (period, datapoints), for the RTO model; absent names are left out. */
  alarmSettings(alarmNames: readonly string[]): Promise<ReadonlyMap<string, AlarmSettings>>;
  /** Target group health checks (interval, unhealthy threshold) by ARN, for the RTO model. */
  targetGroupHealthChecks(arns: readonly string[]): Promise<ReadonlyMap<string, TargetGroupHealthCheck>>;
  /** The live routing in detail (record value and TTL) and the action resources, for `check`. */
  readonly readiness?: { readonly routing: RoutingReadPort; readonly resources: ResourcePort };
}

/** DescribeAlarms takes at most 100 names per call, DescribeTargetGroups 20 ARNs. */
const ALARM_NAMES_PER_CALL = 100;
const TARGET_GROUPS_PER_CALL = 20;

export interface AwsServicesOptions {
  /** Injected clients (tests); each defaults to a new client for --region / --endpoint-url. */
  readonly clients?: Partial<CliClients>;
}

export interface CliClients {
  readonly cloudFormation: CloudFormationClient;
  readonly cloudWatch: CloudWatchClient;
  /** Marshals plain JS objects; `undefined` attributes are dropped (optional history fields). */
  readonly dynamoDbDocument: DynamoDBDocumentClient;
  readonly route53: Route53Client;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly sns: SNSClient;
  readonly sfn: SFNClient;
  readonly sts: STSClient;
}

/**
 * Standard retries with a few more attempts than the Lambdas use: an operator can wait a second,
 * and a throttled read should not fail a status command.
 */
const CLIENT_DEFAULTS = { retryMode: 'standard', maxAttempts: 5 } as const;

export function cliClients(globals: GlobalOptions): CliClients {
  const config = {
    ...CLIENT_DEFAULTS,
    ...(globals.region ? { region: globals.region } : {}),
    ...(globals.endpointUrl ? { endpoint: globals.endpointUrl } : {}),
  };
  return {
    cloudFormation: new CloudFormationClient(config),
    cloudWatch: new CloudWatchClient(config),
    dynamoDbDocument: DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    route53: new Route53Client(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    sns: new SNSClient(config),
    sfn: new SFNClient(config),
    sts: new STSClient(config),
  };
}

export function awsServices(
  config: FailoverConfig,
  globals: GlobalOptions,
  options: AwsServicesOptions = {},
): CliServices {
  const clients: CliClients = { ...cliClients(globals), ...options.clients };
  const stackName = globals.stackName ?? config.stackName;
  const outputs = memo(() => readStackOutputs(clients.cloudFormation, stackName));
  const resolve = async (name: StackOutputName, flag: string | undefined, flagName: string) => {
    if (flag !== undefined) return flag;
    const all = await outputs().catch((err: unknown) => {
      const { errorName, message } = describeAwsError(err);
      // Deploying or naming the stack would not help: the SDK has no region to look in.
      if (/region is missing/i.test(message))
        throw new FailoverError(
          `no AWS region to read stack ${stackName}'s outputs in: set AWS_REGION (or a region in your AWS profile), or pass --region <region>`,
          { cause: err },
        );
      throw new FailoverError(
        `cannot read the outputs of stack ${stackName} (${errorName}: ${message}); deploy it, pass --stack-name, or pass --${flagName}`,
        { cause: err },
      );
    });
    const value = all.get(STACK_OUTPUTS[name]);
    if (value === undefined) {
      throw new FailoverError(`stack ${stackName} has no output ${STACK_OUTPUTS[name]}; pass --${flagName}`);
    }
    return value;
  };
  const state = memo(
    async () =>
      new DynamoDbState({
        tableName: await resolve('tableName', globals.tableName, 'table-name'),
        client: clients.dynamoDbDocument,
      }),
  );
  const notifier = memo(
    async () =>
      new SnsNotifier({
        topicArn: await resolve('topicArn', globals.topicArn, 'topic-arn'),
        client: clients.sns,
      }),
  );
  return {
    alarms: new CloudWatchAlarms({ client: clients.cloudWatch }),
    lag: new CloudWatchLag({ client: clients.cloudWatch }),
    traffic: new TrafficRouter({ config, route53: clients.route53, elb: clients.elbv2 }),
    state,
    notifier,
    sfn: clients.sfn,
    stateMachineArn: memo(() => resolve('stateMachineArn', globals.stateMachineArn, 'state-machine-arn')),
    callerIdentity: memo(async () => {
      const arn = (await clients.sts.send(new GetCallerIdentityCommand({}))).Arn;
      if (!arn) throw new FailoverError('GetCallerIdentity returned no Arn');
      return arn;
    }),
    deployedConfigHash: memo(() => resolve('configHash', undefined, 'allow-config-drift')),
    alarmSettings: async (names) => {
      const settings = new Map<string, AlarmSettings>();
      for (const chunk of chunks(names, ALARM_NAMES_PER_CALL)) {
        let nextToken: string | undefined;
        do {
          const out = await clients.cloudWatch.send(
            new DescribeAlarmsCommand({
              AlarmNames: chunk,
              AlarmTypes: ['MetricAlarm'],
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          );
          for (const a of out.MetricAlarms ?? []) {
            const datapoints = a.DatapointsToAlarm ?? a.EvaluationPeriods;
            // A metric math alarm keeps its period on the queries, not on the alarm.
            const returned = a.Metrics?.find((m) => m.ReturnData !== false);
            const period =
              a.Period ??
              returned?.Period ??
              returned?.MetricStat?.Period ??
              a.Metrics?.find((m) => m.MetricStat)?.MetricStat?.Period;
            if (a.AlarmName && period && datapoints) {
              settings.set(a.AlarmName, { periodSeconds: period, datapointsToAlarm: datapoints });
            }
          }
          nextToken = out.NextToken;
        } while (nextToken);
      }
      return settings;
    },
    readiness: awsReadinessReaders(config, globals, clients.elbv2),
    targetGroupHealthChecks: async (arns) => {
      const checks = new Map<string, TargetGroupHealthCheck>();
      for (const chunk of chunks(arns, TARGET_GROUPS_PER_CALL)) {
        const out = await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: chunk }));
        for (const tg of out.TargetGroups ?? []) {
          if (tg.TargetGroupArn && tg.HealthCheckIntervalSeconds && tg.UnhealthyThresholdCount) {
            checks.set(tg.TargetGroupArn, {
              intervalSeconds: tg.HealthCheckIntervalSeconds,
              unhealthyThreshold: tg.UnhealthyThresholdCount,
            });
          }
        }
      }
      return checks;
    },
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Every output of the stack, by OutputKey. */
export async function readStackOutputs(
  client: CloudFormationClient,
  stackName: string,
): Promise<ReadonlyMap<string, string>> {
  const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (!stack) throw new FailoverError(`stack ${stackName} not found`);
  return new Map(
    (stack.Outputs ?? []).flatMap((o) =>
      o.OutputKey !== undefined && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue] as const] : [],
    ),
  );
}

/** Calls `make` once; a rejected promise is forgotten so a later call can try again. */
function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= make().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
