import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ShiftQueuePort } from '../domain/ports.ts';
import { encodeQueuedShift } from '../domain/queued-shift.ts';
import type { QueuedShift } from '../domain/types.ts';
import { requireFormat } from './adapter-props.ts';
import { sendClassified } from './errors.ts';
import { stringAttributes } from './message-attributes.ts';

export interface SqsShiftQueueProps {
  /** The zone-shift queue's URL (https://sqs.<region>.amazonaws.com/<account>/<name>). */
  readonly queueUrl: string;
  /** @default - a new SQSClient with the default providers */
  readonly client?: SQSClient;
}

/**
 * Hands a throttled traffic change to the zone shifter through a standard SQS queue. Standard,
 * not FIFO: the shifter's event source gathers hundreds of messages into one invocation (FIFO
 * event sources deliver at most 10), and order does not matter, because each change is guarded by
 * its own lease and compare-and-swap. SQS may deliver a message twice; the shifter is idempotent.
 */
export class SqsShiftQueue implements ShiftQueuePort {
  private readonly queueUrl: string;
  private readonly client: SQSClient;

  constructor(props: SqsShiftQueueProps) {
    this.queueUrl = requireFormat(
      'queueUrl',
      props.queueUrl,
      /^https?:\/\/[^/\s]+\/\d{12}\/[A-Za-z0-9_-]{1,80}$/,
      'be an SQS queue URL',
    );
    this.client = props.client ?? new SQSClient({});
  }

  async enqueue(shift: QueuedShift): Promise<void> {
    const command = new SendMessageCommand({
      QueueUrl: this.queueUrl,
      // The token is minted here, once: the SDK retries this same body after a lost answer, so
      // every copy of the change carries it.
      MessageBody: encodeQueuedShift({ ...shift, token: shift.token ?? randomUUID() }),
      MessageAttributes: stringAttributes({ serviceId: shift.serviceId }),
    });
    await sendClassified('SendMessage', () => this.client.send(command));
  }
}
