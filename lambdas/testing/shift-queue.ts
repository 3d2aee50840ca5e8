/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * An in-memory zone-shift queue for tests, the drill and the benchmark: keeps what was enqueued,
 * in order, hands it out in SQS-shaped records, and can refuse the next enqueue.
 */

import type { ShiftQueuePort } from '../domain/ports.ts';
import { encodeQueuedShift } from '../domain/queued-shift.ts';
import type { QueuedShift } from '../domain/types.ts';

export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
}

export class MemoryShiftQueue implements ShiftQueuePort {
  /** Every shift handed over, in order (never removed). */
  readonly enqueued: QueuedShift[] = [];
  private pending: QueueRecord[] = [];
  private failures: unknown[] = [];
  private seq = 0;

  async enqueue(shift: QueuedShift): Promise<void> {
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    this.enqueued.push(structuredClone(shift));
    // As SqsShiftQueue: a token minted per enqueue, carried by every copy of the message.
    const body = encodeQueuedShift({ ...shift, token: shift.token ?? `t-${this.seq + 1}` });
    this.pending.push({ messageId: `m-${++this.seq}`, body });
  }

  /** Delivers a copy of a waiting message under a new message id (a SendMessage the SDK retried after a lost answer). */
  duplicate(messageId: string): void {
    const record = this.pending.find((r) => r.messageId === messageId);
    if (record) this.pending.push({ messageId: `m-${++this.seq}`, body: record.body });
  }

  /** The next enqueue throws `error` (SendMessage refused). */
  failNext(error: unknown): void {
    this.failures.push(error);
  }

  /** Removes and returns up to `max` waiting messages, oldest first. */
  take(max = Number.POSITIVE_INFINITY): QueueRecord[] {
    const out = this.pending.slice(0, max);
    this.pending = this.pending.slice(out.length);
    return out;
  }

  /** Puts messages back (a batch item failure: SQS makes them visible again). */
  putBack(records: readonly QueueRecord[]): void {
    this.pending.push(...records);
  }

  get depth(): number {
    return this.pending.length;
  }

  /** The SQS event an event source mapping would deliver for these records. */
  static event(records: readonly QueueRecord[]): { Records: { messageId: string; body: string }[] } {
    return { Records: records.map((r) => ({ messageId: r.messageId, body: r.body })) };
  }
}
