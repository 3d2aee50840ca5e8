/**
 * Production wiring of the shift queue: SHIFT_QUEUE_URL set, a throttled Route 53 change leaves
 * the failover Lambda as one SQS message (the SDK calls answered by aws-sdk-client-mock), and the
 * failover Lambda's Route 53 client does not retry on its own.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeQueuedShift } from '../../lambdas/domain/queued-shift.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';
import { awsErrors } from '../aws/fixtures.ts';

const taskRoot = mkdtempSync(join(tmpdir(), 'failover-task-'));
writeFileSync(
  join(taskRoot, 'config.json'),
  JSON.stringify({ services: [route53Service({ id: 'orders' })] }),
);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/111122223333/zone-shift';

const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const route53 = mockClient(Route53Client);
const sqs = mockClient(SQSClient);

const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const event = {
  id: 'e-1',
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  time: iso(now).replace(/\.\d+Z$/, 'Z'),
  detail: {
    alarmName: 'orders-a-health',
    state: { value: 'ALARM', timestamp: iso(now).replace('Z', '+0000') },
    previousState: { value: 'OK' },
  },
};

async function fresh() {
  vi.resetModules();
  return {
    handler: (await import('../../lambdas/handlers/failover.ts')).handler,
    clients: await import('../../lambdas/aws/clients.ts'),
  };
}

describe('failover handler with SHIFT_QUEUE_URL', () => {
  beforeEach(() => {
    for (const [k, v] of Object.entries({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      LAMBDA_TASK_ROOT: taskRoot,
      TABLE_NAME: 'failover-state',
      TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:failover',
      FAILOVER_CONFIG_FILE: '',
      SHIFT_QUEUE_URL: QUEUE,
      LOG_LEVEL: 'error',
    }))
      vi.stubEnv(k, v);
    for (const m of [cloudWatch, dynamo, route53, sqs]) m.reset();
  });
  afterEach(() => vi.unstubAllEnvs());

  it('sends a throttled change to the queue, leased, and answers queued', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'orders-a-health', StateValue: 'ALARM' },
        { AlarmName: 'orders-b-health', StateValue: 'OK' },
      ],
    });
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'q1', Timestamps: [new Date(now - 5_000)], Values: [1] }],
    });
    dynamo.on(GetCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({ Attributes: { leaseSequence: 1 } });
    route53.on(ChangeResourceRecordSetsCommand).rejects(awsErrors.throttling());
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const { handler } = await fresh();
    const out = await handler(event, { awsRequestId: 'req-7' });

    expect(out).toMatchObject({
      outcome: 'queued',
      serviceId: 'orders',
      from: 'a',
      to: 'b',
      reason: 'shift-queued',
    });
    const sent = sqs.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.args[0].input.QueueUrl).toBe(QUEUE);
    const decoded = decodeQueuedShift(sent[0]?.args[0].input.MessageBody ?? '');
    expect(decoded).toMatchObject({
      ok: true,
      shift: { serviceId: 'orders', holder: 'req-7', expectedEpoch: 0, reason: 'Throttling' },
    });
  });

  it('gives the failover Lambda a Route 53 client without SDK retries, and the shifter the retrying one', async () => {
    const { clients } = await fresh();
    expect(await clients.route53FailFastClient().config.maxAttempts()).toBe(1);
    expect(await clients.route53Client().config.maxAttempts()).toBe(3);
    expect(clients.route53FailFastClient()).not.toBe(clients.route53Client());
  });
});
