/**
 * The execution environment a production entry point (`handler`, built from the environment
 * and the bundled config.json) finds in AWS Lambda, for tests of that wiring.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, vi } from 'vitest';
import { route53Service } from '../../lambdas/testing/fixtures.ts';

export interface LambdaEnvironment {
  /** LAMBDA_TASK_ROOT: it holds config.json with one Route 53 service `orders` (nodes a, b). */
  readonly taskRoot: string;
}

/**
 * Before each test of the calling file: the variables Lambda and our stack set (region, fake
 * credentials, LAMBDA_TASK_ROOT, TABLE_NAME `failover-state`, TOPIC_ARN, no FAILOVER_CONFIG_FILE);
 * after each, the real environment back.
 */
export function useLambdaEnvironment(name: string): LambdaEnvironment {
  const taskRoot = mkdtempSync(join(tmpdir(), `${name}-task-`));
  writeFileSync(
    join(taskRoot, 'config.json'),
    JSON.stringify({ services: [route53Service({ id: 'orders' })] }),
  );
  beforeEach(() => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('LAMBDA_TASK_ROOT', taskRoot);
    vi.stubEnv('TABLE_NAME', 'failover-state');
    vi.stubEnv('TOPIC_ARN', 'arn:aws:sns:us-east-1:111122223333:failover');
    vi.stubEnv('FAILOVER_CONFIG_FILE', '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  return { taskRoot };
}

/** Loads an entry point as a new execution environment would: module caches (clients, config, built handler) start empty. */
export async function freshModule<M>(load: () => Promise<M>): Promise<M> {
  vi.resetModules();
  return load();
}

/** The task root's `orders` as AWS answers before anything happened: both health alarms OK, no lag datapoints, no state item. */
export function answerQuietOrders(
  cloudWatch: AwsClientStub<CloudWatchClient>,
  dynamo: AwsClientStub<DynamoDBDocumentClient>,
): void {
  cloudWatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      { AlarmName: 'orders-a-health', StateValue: 'OK' },
      { AlarmName: 'orders-b-health', StateValue: 'OK' },
    ],
  });
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  dynamo.on(GetCommand).resolves({});
}
