/**
 * The scheduled readiness Lambda: an EventBridge rule starts it every `readiness.intervalMinutes`
 * (default 5); one pass checks every service (lambdas/app/readiness.ts), publishes the readiness
 * metrics (embedded metric format, no API call) and announces services that stopped being ready
 * or became ready again. Route 53 is read through a paced client (1 request/s, backing off on
 * throttling) so that a pass never takes the requests a failover needs.
 */
import { Route53Client } from '@aws-sdk/client-route-53';
import {
  runScheduledReadiness,
  type ScheduledReadinessDeps,
  type ScheduledReadinessResult,
} from '../app/readiness.ts';
import {
  CLIENT_CONFIG,
  cloudWatchClient,
  dynamoDbDocumentClient,
  ec2Client,
  elbv2Client,
  lambdaClient,
  rdsClient,
  secretsManagerClient,
  snsClient,
  ssmClient,
} from '../aws/clients.ts';
import { CloudWatchAlarms } from '../aws/cloudwatch-alarms.ts';
import { CloudWatchLag } from '../aws/cloudwatch-lag.ts';
import { DynamoDbReadinessStore } from '../aws/dynamodb-readiness.ts';
import { DynamoDbState } from '../aws/dynamodb-state.ts';
import { Pacer, paceClient } from '../aws/pacing.ts';
import { AwsResources } from '../aws/readiness-resources.ts';
import { AwsRoutingReader } from '../aws/readiness-routing.ts';
import { SnsNotifier } from '../aws/sns-notifier.ts';
import type { FailoverConfig } from '../domain/config.ts';
import { READINESS_ROUTE53_REQUESTS_PER_SECOND } from '../domain/readiness-config.ts';
import { loadRuntimeConfig, requireEnv } from '../runtime/config.ts';
import { JsonLogger, parseLogLevel } from '../runtime/logger.ts';
import { EmfMetrics } from '../runtime/metrics.ts';

export type ReadinessHandler = (
  event: unknown,
  context?: { readonly awsRequestId?: string },
) => Promise<ScheduledReadinessResult>;

export function makeReadinessHandler(deps: ScheduledReadinessDeps): ReadinessHandler {
  return async (_event, context) => {
    const logger =
      deps.logger instanceof JsonLogger
        ? deps.logger.child({ requestId: context?.awsRequestId })
        : deps.logger;
    const result = await runScheduledReadiness({ ...deps, logger });
    logger.info('readiness pass done', { ...result });
    return result;
  };
}

/** Every port from the environment (TABLE_NAME, READINESS_TABLE, TOPIC_ARN, LOG_LEVEL) and the bundled configuration. */
export function awsReadinessDeps(
  env: NodeJS.ProcessEnv = process.env,
  /** @default the bundled configuration (loadRuntimeConfig) */
  config: FailoverConfig = loadRuntimeConfig(env),
): ScheduledReadinessDeps {
  const tableName = requireEnv('TABLE_NAME', env);
  const logger = new JsonLogger({ service: 'readiness', level: parseLogLevel(env.LOG_LEVEL) });
  // Its own client, never the shared one: the pacing applies to the readiness reads only.
  const route53 = paceClient(
    new Route53Client({ ...CLIENT_CONFIG, maxAttempts: 5 }),
    new Pacer({ requestsPerSecond: READINESS_ROUTE53_REQUESTS_PER_SECOND }),
  );
  return {
    services: config.services,
    alarms: new CloudWatchAlarms({ client: cloudWatchClient() }),
    lag: new CloudWatchLag({ client: cloudWatchClient() }),
    state: new DynamoDbState({ tableName, client: dynamoDbDocumentClient() }),
    routing: new AwsRoutingReader({ config, route53, elb: elbv2Client() }),
    resources: new AwsResources({
      ec2: ec2Client(),
      ssm: ssmClient(),
      rds: rdsClient(),
      lambda: lambdaClient(),
      secretsManager: secretsManagerClient(),
      logger,
    }),
    store: new DynamoDbReadinessStore({
      tableName: requireEnv('READINESS_TABLE', env),
      client: dynamoDbDocumentClient(),
    }),
    notifier: new SnsNotifier({ topicArn: requireEnv('TOPIC_ARN', env), client: snsClient() }),
    metrics: new EmfMetrics(),
    logger,
    clock: { now: () => Date.now() },
  };
}

let cached: ReadinessHandler | undefined;

export async function handler(
  event: unknown,
  context?: { awsRequestId?: string },
): Promise<ScheduledReadinessResult> {
  cached ??= makeReadinessHandler(awsReadinessDeps());
  return cached(event, context);
}
