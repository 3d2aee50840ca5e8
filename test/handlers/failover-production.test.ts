/**
 * The production entry point: built once per execution environment from the environment, the
 * bundled config.json and the real AWS adapters (SDK calls answered by aws-sdk-client-mock).
 */
import { join } from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answerQuietOrders, freshModule, useLambdaEnvironment } from '../support/lambda-environment.ts';

const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBDocumentClient);

async function freshHandler() {
  return (await freshModule(() => import('../../lambdas/handlers/failover.ts'))).handler;
}

const event = {
  id: 'e-1',
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  time: '2025-01-01T00:00:00Z',
  detail: {
    alarmName: 'orders-a-health',
    state: { value: 'ALARM', timestamp: '2025-01-01T00:00:00.000+0000' },
    previousState: { value: 'OK' },
  },
};

describe('failover handler (production wiring)', () => {
  const { taskRoot } = useLambdaEnvironment('failover');
  beforeEach(() => {
    cloudWatch.reset();
    dynamo.reset();
  });

  it.each(['TABLE_NAME', 'TOPIC_ARN'])('fails the invocation naming a missing %s', async (name) => {
    vi.stubEnv(name, '');
    const handler = await freshHandler();
    await expect(handler(event, { awsRequestId: 'r' })).rejects.toThrow(
      `missing environment variable ${name}`,
    );
  });

  it('fails the invocation when no configuration file can be found', async () => {
    vi.stubEnv('LAMBDA_TASK_ROOT', join(taskRoot, 'nowhere'));
    const handler = await freshHandler();
    await expect(handler(event, { awsRequestId: 'r' })).rejects.toThrow(
      /cannot read the failover configuration/,
    );
  });

  it('reads facts through the AWS adapters and holds on a stale event', async () => {
    answerQuietOrders(cloudWatch, dynamo);
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const handler = await freshHandler();
      const out = await handler(event, { awsRequestId: 'req-1' });
      expect(out).toMatchObject({ outcome: 'held', reason: 'primary-healthy', serviceId: 'orders' });
      // Built once: a second invocation reuses the clients and the configuration.
      await handler(event, { awsRequestId: 'req-2' });
    } finally {
      write.mockRestore();
    }
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(2);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input.AlarmNames).toEqual([
      'orders-a-health',
      'orders-b-health',
    ]);
    expect(dynamo.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({
      TableName: 'failover-state',
      Key: { pk: 'service#orders', sk: 'state' },
    });
    const entries = lines.flatMap((l) => l.split('\n').filter(Boolean)).map((l) => JSON.parse(l));
    expect(entries.find((e) => e.message === 'failover decision')).toMatchObject({
      level: 'info',
      service: 'failover',
      requestId: 'req-1',
      reason: 'primary-healthy',
    });
    // Metrics leave as EMF documents on stdout.
    expect(entries.find((e) => e._aws)).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'FailoverAutomation' }] },
      FailoverDecision: 1,
    });
    expect(JSON.stringify(entries)).not.toContain('testing');
  });
});
