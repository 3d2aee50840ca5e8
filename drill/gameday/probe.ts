/**
 * The probe the game day runs while the stack does not schedule one itself: the project's own
 * probe handler (lambdas/handlers/probe.ts `makeProbeHandler`, the code the probe Lambda runs)
 * with its production adapters (CloudWatch metrics, Secrets Manager credentials, DynamoDB primary
 * positions) on moto_server, invoked with every service once a minute on the minute, as its
 * EventBridge rule would. When the synthesized stack has a scheduled probe function, the harness
 * runs that bundled function instead and this is not used.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CloudWatchProbeMetrics } from '../../lambdas/aws/cloudwatch-probe-metrics.ts';
import { DynamoDbProbePositions } from '../../lambdas/aws/dynamodb-probe-positions.ts';
import { SecretsManagerSecrets } from '../../lambdas/aws/secrets-manager.ts';
import { makeProbeHandler } from '../../lambdas/handlers/probe.ts';
import { JsonLogger } from '../../lambdas/runtime/logger.ts';
import type { ProbeFactory } from './harness.ts';

const POSITIONS_TABLE = 'gameday-probe-positions';

export const stackProbeCode: ProbeFactory = async ({ config, moto, onLog }) => {
  const cloudWatch = new CloudWatchClient(moto.clientConfig);
  const dynamoDb = new DynamoDBClient(moto.clientConfig);
  const secrets = new SecretsManagerClient(moto.clientConfig);
  await dynamoDb.send(
    new CreateTableCommand({
      TableName: POSITIONS_TABLE,
      KeySchema: [{ AttributeName: 'serviceId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'serviceId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const handler = makeProbeHandler({
    config,
    secrets: new SecretsManagerSecrets({ client: secrets }),
    metrics: new CloudWatchProbeMetrics({ client: cloudWatch }),
    positions: new DynamoDbProbePositions({ tableName: POSITIONS_TABLE, client: dynamoDb }),
    logger: new JsonLogger({
      service: 'node-probe',
      write: (line) => onLog({ at: Date.now(), function: 'node-probe', line: JSON.parse(line) }),
    }),
    now: Date.now,
  });
  const event = { serviceIds: config.services.map((s) => s.id) };
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const invoke = () => {
    if (!running) return;
    handler(event).catch((err: Error) => {
      if (running)
        onLog({ at: Date.now(), function: 'node-probe', line: { level: 'error', message: err.message } });
    });
    timer = setTimeout(invoke, 60_000 - (Date.now() % 60_000));
  };
  return {
    start: () => {
      running = true;
      invoke();
    },
    stop: async () => {
      running = false;
      clearTimeout(timer);
      cloudWatch.destroy();
      dynamoDb.destroy();
      secrets.destroy();
    },
  };
};
