import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsShiftQueue } from '../../lambdas/aws/sqs-shift-queue.ts';
import { FailoverError, TransientAwsError } from '../../lambdas/domain/errors.ts';
import { decodeQueuedShift } from '../../lambdas/domain/queued-shift.ts';
import type { QueuedShift } from '../../lambdas/domain/types.ts';
import { awsErrors } from './fixtures.ts';

const sqs = mockClient(SQSClient);
const shift: QueuedShift = {
  serviceId: 'orders-db',
  from: 'db-a',
  to: 'db-b',
  expectedEpoch: 4,
  holder: 'req-1',
  transition: {
    alarmName: 'failover-orders-db-db-a-health',
    state: 'ALARM',
    previousState: 'OK',
    timestamp: 1_735_689_600_000,
    eventId: 'evt-1',
  },
  lagSeconds: 2.5,
  queuedAt: 1_735_689_601_000,
  reason: 'PriorRequestNotComplete',
};

const URL = 'https://sqs.us-east-1.amazonaws.com/111122223333/failover-zone-shift';
const queue = () => new SqsShiftQueue({ queueUrl: URL, client: new SQSClient({ region: 'us-east-1' }) });

beforeEach(() => sqs.reset());

describe('SqsShiftQueue', () => {
  it('sends one message per change, whose body decodes back to the change', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await queue().enqueue(shift);
    const [call] = sqs.commandCalls(SendMessageCommand);
    expect(call?.args[0].input).toMatchObject({
      QueueUrl: URL,
      MessageAttributes: { serviceId: { DataType: 'String', StringValue: 'orders-db' } },
    });
    expect(decodeQueuedShift(call?.args[0].input.MessageBody ?? '')).toEqual({
      ok: true,
      shift: { ...shift, token: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
  });

  it('two shifter invocations under one holder: each queued change carries its own token, kept by every copy', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await queue().enqueue(shift);
    await queue().enqueue(shift);
    await queue().enqueue({ ...shift, token: 'kept' });
    const tokens = sqs
      .commandCalls(SendMessageCommand)
      .map((c) => JSON.parse(c.args[0].input.MessageBody ?? '{}').token);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(tokens[2]).toBe('kept');
  });

  it.each([
    ['throttling', TransientAwsError],
    ['internalFailure500', TransientAwsError],
  ] as const)('maps %s to TransientAwsError', async (kind, type) => {
    sqs.on(SendMessageCommand).rejects(awsErrors[kind]());
    await expect(queue().enqueue(shift)).rejects.toBeInstanceOf(type);
  });

  it('passes an error that retrying cannot fix through unchanged', async () => {
    sqs.on(SendMessageCommand).rejects(awsErrors.accessDenied());
    await expect(queue().enqueue(shift)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it.each(['', 'arn:aws:sqs:us-east-1:111122223333:q', 'https://sqs.us-east-1.amazonaws.com/q'])(
    'rejects a queue URL that is not one: %j',
    (queueUrl) => {
      expect(() => new SqsShiftQueue({ queueUrl })).toThrow(FailoverError);
      expect(() => new SqsShiftQueue({ queueUrl })).toThrow(/queueUrl must be an SQS queue URL, got: /);
    },
  );

  it('accepts a local endpoint (moto_server, LocalStack)', () => {
    expect(
      () => new SqsShiftQueue({ queueUrl: 'http://127.0.0.1:5000/123456789012/zone-shift' }),
    ).not.toThrow();
  });
});
