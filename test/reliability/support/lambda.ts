/**
 * How EventBridge and Lambda deliver one alarm event to the failover function: asynchronous
 * invocation, retried twice after an error (about one and two minutes later) with the same
 * request id, then parked in the dead-letter queue.
 */
import type { FailoverOutcome } from '../../../lambdas/app/auto-failover.ts';
import type { FailoverHandler } from '../../../lambdas/handlers/failover.ts';
import type { ManualClock } from '../../../lambdas/testing/clock.ts';
import { route53Service, testConfig } from '../../../lambdas/testing/fixtures.ts';
import type { MemoryEnvironment } from '../../../lambdas/testing/memory.ts';
import { alarmEvent } from '../../support/alarm-events.ts';

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

/**
 * Node `a` of `serviceId` goes to ALARM; its alarm event is delivered 2 s later, with Lambda's
 * retries, `beforeAttempt` before each attempt (publish lag, scope the faults).
 */
export async function deliverPrimaryAlarm(
  env: MemoryEnvironment,
  serviceId: string,
  handler: FailoverHandler,
  beforeAttempt: () => void,
): Promise<Delivery> {
  const alarmName = env.alarms.setNode(serviceId, 'a', 'ALARM');
  const event = alarmEvent(alarmName, 'ALARM', 'OK', env.clock.now(), 'evt-1');
  env.clock.advance(2_000);
  return deliver(handler, event, env.clock, { beforeAttempt });
}

/** The service the failover fault matrices run: primary `a`, replicas `b` (2 s behind) and `c` (4 s). */
export const MATRIX_SERVICE = 'orders';
export const MATRIX_CONFIG = testConfig([
  route53Service({
    id: MATRIX_SERVICE,
    nodes: ['a', 'b', 'c'],
    policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600 },
  }),
]);

/** The replicas publish their lag (b 2 s, c 4 s), stamped 5 s ago. */
export function publishMatrixLag(env: MemoryEnvironment): void {
  env.lag.put(MATRIX_SERVICE, 'b', 2, env.clock.now() - 5_000);
  env.lag.put(MATRIX_SERVICE, 'c', 4, env.clock.now() - 5_000);
}
