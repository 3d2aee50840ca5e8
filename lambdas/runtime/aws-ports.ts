/**
 * The composition root for Lambdas running in AWS: every port built once per execution
 * environment from the shared SDK clients, the bundled configuration and the environment.
 * Fails fast, naming what is missing, so a misconfigured function fails its first invocation
 * loudly instead of half-working.
 */
import {
  cloudWatchClient,
  dynamoDbDocumentClient,
  elbv2Client,
  route53Client,
  snsClient,
} from '../aws/clients.ts';
import { CloudWatchAlarms } from '../aws/cloudwatch-alarms.ts';
import { CloudWatchLag } from '../aws/cloudwatch-lag.ts';
import { DynamoDbState } from '../aws/dynamodb-state.ts';
import { SnsNotifier } from '../aws/sns-notifier.ts';
import { TrafficRouter } from '../aws/traffic-router.ts';
import type { FailoverConfig } from '../domain/config.ts';
import type { AlarmPort, Clock, LagPort, NotifierPort, StatePort, TrafficPort } from '../domain/ports.ts';
import { loadRuntimeConfig, requireEnv } from './config.ts';
import { JsonLogger, parseLogLevel } from './logger.ts';
import { EmfMetrics } from './metrics.ts';

export interface AwsPorts {
  readonly config: FailoverConfig;
  readonly alarms: AlarmPort;
  readonly lag: LagPort;
  readonly state: StatePort;
  readonly traffic: TrafficPort;
  readonly notifier: NotifierPort;
  readonly logger: JsonLogger;
  readonly metrics: EmfMetrics;
  readonly clock: Clock;
}

/**
 * Reads TABLE_NAME, TOPIC_ARN, LOG_LEVEL (optional) and the configuration file
 * (`loadRuntimeConfig`), and wires the AWS adapters. `component` names the function in logs.
 */
export function buildAwsPorts(component: string, env: NodeJS.ProcessEnv = process.env): AwsPorts {
  const tableName = requireEnv('TABLE_NAME', env);
  const topicArn = requireEnv('TOPIC_ARN', env);
  const config = loadRuntimeConfig(env);
  // Only the clients these ports use (not awsClients()), so a bundle leaves the others out.
  return {
    config,
    alarms: new CloudWatchAlarms({ client: cloudWatchClient() }),
    lag: new CloudWatchLag({ client: cloudWatchClient() }),
    state: new DynamoDbState({ tableName, client: dynamoDbDocumentClient() }),
    traffic: new TrafficRouter({ config, route53: route53Client(), elb: elbv2Client() }),
    notifier: new SnsNotifier({ topicArn, client: snsClient() }),
    logger: new JsonLogger({ service: component, level: parseLogLevel(env.LOG_LEVEL) }),
    metrics: new EmfMetrics(),
    clock: { now: () => Date.now() },
  };
}
