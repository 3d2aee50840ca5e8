import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, SnsNotifier, toSubject } from '../../lambdas/aws/sns-notifier.ts';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import type { Notification } from '../../lambdas/domain/ports.ts';
import { type AwsErrorKind, awsErrors } from './fixtures.ts';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:111122223333:failover-events';
const notifier = () => new SnsNotifier({ topicArn: TOPIC, client: new SNSClient({ region: 'us-east-1' }) });

const failover: Notification = {
  kind: 'failover',
  serviceId: 'orders-db',
  subject: 'orders-db: failed over db-a -> db-b (lag 2 s)',
  detail: { from: 'db-a', to: 'db-b', epoch: 4, lagSeconds: 2 },
};

beforeEach(() => sns.reset());

describe('SnsNotifier', () => {
  it('publishes subject, JSON body and filterable attributes', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await notifier().publish(failover);
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toEqual({
      TopicArn: TOPIC,
      Subject: 'orders-db: failed over db-a -> db-b (lag 2 s)',
      Message: expect.any(String),
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'failover' },
        serviceId: { DataType: 'String', StringValue: 'orders-db' },
      },
    });
    expect(JSON.parse(input?.Message ?? '')).toEqual({
      kind: 'failover',
      serviceId: 'orders-db',
      subject: 'orders-db: failed over db-a -> db-b (lag 2 s)',
      from: 'db-a',
      to: 'db-b',
      epoch: 4,
      lagSeconds: 2,
    });
  });

  it('keeps the fixed keys when detail has keys of the same name', async () => {
    sns.on(PublishCommand).resolves({});
    await notifier().publish({ ...failover, detail: { kind: 'spoofed', serviceId: 'x', extra: true } });
    const body = JSON.parse(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '');
    expect(body).toEqual({
      kind: 'failover',
      serviceId: 'orders-db',
      subject: failover.subject,
      extra: true,
    });
  });

  it('drops an oversized detail instead of failing the publish', async () => {
    sns.on(PublishCommand).resolves({});
    await notifier().publish({ ...failover, detail: { log: 'x'.repeat(MAX_MESSAGE_BYTES) } });
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(JSON.parse(message)).toMatchObject({
      kind: 'failover',
      detailOmitted: expect.stringMatching(/over the SNS limit/),
    });
  });

  it.each<AwsErrorKind>(['throttling', 'internalFailure500', 'econnreset'])(
    'maps %s to TransientAwsError',
    async (kind) => {
      sns.on(PublishCommand).rejects(awsErrors[kind]());
      await expect(notifier().publish(failover)).rejects.toBeInstanceOf(TransientAwsError);
    },
  );

  it('lets an authorization error through unchanged', async () => {
    const err = awsErrors.accessDenied();
    sns.on(PublishCommand).rejects(err);
    await expect(notifier().publish(failover)).rejects.toBe(err);
  });

  it('refuses a topic that is not an SNS ARN', () => {
    expect(() => new SnsNotifier({ topicArn: 'failover-events' })).toThrow(
      'topicArn must be an SNS topic ARN, got: "failover-events"',
    );
  });
});

describe('toSubject', () => {
  it.each([
    ['keeps a short ASCII subject', 'db failed over', 'db failed over'],
    ['joins lines and collapses whitespace', 'line one\n\tline  two\r\n', 'line one line two'],
    ['folds accents', 'bascule réussie', 'bascule reussie'],
    ['replaces other characters', 'primary → replica ✓', 'primary ? replica ?'],
    ['removes control characters', 'a\u0000b\u0007c', 'a?b?c'],
    ['never sends an empty subject', ' \n ', 'failover notification'],
  ])('%s', (_, input, expected) => {
    expect(toSubject(input)).toBe(expected);
  });

  it('truncates to 99 characters with an ellipsis', () => {
    const s = toSubject(`orders-db: ${'x'.repeat(200)}`);
    expect(s).toHaveLength(99);
    expect(s.endsWith('...')).toBe(true);
  });

  it('always yields 1..99 printable ASCII characters starting with a visible one, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (input) => {
        const s = toSubject(input);
        return s.length >= 1 && s.length <= 99 && /^[\x21-\x7e][\x20-\x7e]*$/.test(s);
      }),
      { numRuns: 500 },
    );
  });
});
