/**
 * How EventBridge and Lambda deliver one alarm event to the failover function: asynchronous
 * invocation, retried twice after an error (about one and two minutes later) with the same
 * request id, then parked in the dead-letter queue.
 */
import type { FailoverOutcome } from '../../../lambdas/app/auto-failover.ts';
import type { FailoverHandler } from '../../../lambdas/handlers/failover.ts';
import type { ManualClock } from '../../../lambdas/testing/clock.ts';

export const RETRY_DELAYS_MS = [60_000, 120_000] as const;

export interface Delivery {
  /** The outcome of the attempt that returned, or undefined when every attempt threw (dead-lettered). */
  readonly outcome: FailoverOutcome | undefined;
  readonly attempts: number;
  /** Error names of the attempts that threw. */
  readonly thrown: readonly string[];
}

export async function deliver(
  handler: FailoverHandler,
  event: unknown,
  clock: ManualClock,
  options: { readonly requestId?: string; readonly beforeAttempt?: (attempt: number) => void } = {},
): Promise<Delivery> {
  const thrown: string[] = [];
  for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
    options.beforeAttempt?.(attempt);
    try {
      const outcome = await handler(event, { awsRequestId: options.requestId ?? 'req-1' });
      return { outcome, attempts: attempt + 1, thrown };
    } catch (err) {
      thrown.push((err as Error).name);
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay !== undefined) clock.advance(delay);
    }
  }
  return { outcome: undefined, attempts: RETRY_DELAYS_MS.length + 1, thrown };
}
