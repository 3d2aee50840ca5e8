/**
 * The composition root for Lambdas running in AWS: every port built once per execution
 * environment from the shared SDK clients, the bundled configuration and the environment.
 * Fails fast, naming what is missing, so a misconfigured function fails its first invocation
 * loudly instead of half-working.
 */

import { awsNodeActions } from '../aws/actions/index.ts';
import {
  cloudWatchClient,
  dynamoDbDocumentClient,
  elbv2Client,
  route53Client,
  route53FailFastClient,
  snsClient,
  sqsClient,
} from '../aws/clients.ts';
import { CloudWatchAlarms } from '../aws/cloudwatch-alarms.ts';
import { CloudWatchLag } from '../aws/cloudwatch-lag.ts';
import { DynamoDbState } from '../aws/dynamodb-state.ts';
import { SnsNotifier } from '../aws/sns-notifier.ts';
import { SqsShiftQueue } from '../aws/sqs-shift-queue.ts';
import { TrafficRouter } from '../aws/traffic-router.ts';
import type { FailoverConfig } from '../domain/config.ts';
import type { NodeActionPort } from '../domain/node-actions.ts';
import type { AlarmPort, Clock, LagPort, NotifierPort, ShiftQueuePort, StatePort } from '../domain/ports.ts';
import { loadRuntimeConfig, requireEnv } from './config.ts';
import { JsonLogger, parseLogLevel } from './logger.ts';
import { EmfMetrics } from './metrics.ts';

export interface AwsPorts {
  readonly config: FailoverConfig;
  readonly alarms: AlarmPort;
  readonly lag: LagPort;
  readonly state: StatePort;
  readonly traffic: TrafficRouter;
  readonly notifier: NotifierPort;
  readonly logger: JsonLogger;
  readonly metrics: EmfMetrics;
  readonly clock: Clock;
  /** Fence, promote and demote on the nodes, as configured (none: the service takes the traffic-only path). */
  readonly actions: NodeActionPort;
  /** Set when SHIFT_QUEUE_URL is: where the failover Lambda hands throttled Route 53 changes. */
  readonly shiftQueue?: ShiftQueuePort;
}

/**
 * Reads TABLE_NAME, TOPIC_ARN, LOG_LEVEL (optional), SHIFT_QUEUE_URL (optional) and the
 * configuration file (`loadRuntimeConfig`), and wires the AWS adapters. `component` names the
 * function in logs.
 */
export function buildAwsPorts(component: string, env: NodeJS.ProcessEnv = process.env): AwsPorts {
  const tableName = requireEnv('TABLE_NAME', env);
  const topicArn = requireEnv('TOPIC_ARN', env);
  const config = loadRuntimeConfig(env);
  const shiftQueueUrl = env.SHIFT_QUEUE_URL?.trim() || undefined;
  // With a shift queue a throttled Route 53 change is handed over at once: the SDK's own retries
  // (up to seconds of backoff each) would only delay the hand-off and spend more of the account's
  // 5 requests/s while hundreds of failovers compete for it.
  const route53 = shiftQueueUrl ? route53FailFastClient() : route53Client();
  // Only the clients these ports use (not awsClients()), so a bundle leaves the others out.
  return {
    config,
    alarms: new CloudWatchAlarms({ client: cloudWatchClient() }),
    lag: new CloudWatchLag({ client: cloudWatchClient() }),
    state: new DynamoDbState({ tableName, client: dynamoDbDocumentClient() }),
    traffic: new TrafficRouter({ config, route53, elb: elbv2Client() }),
    notifier: new SnsNotifier({ topicArn, client: snsClient() }),
    logger: new JsonLogger({ service: component, level: parseLogLevel(env.LOG_LEVEL) }),
    metrics: new EmfMetrics(),
    clock: { now: () => Date.now() },
    actions: awsNodeActions(config),
    ...(shiftQueueUrl
      ? { shiftQueue: new SqsShiftQueue({ queueUrl: shiftQueueUrl, client: sqsClient() }) }
      : {}),
  };
}
