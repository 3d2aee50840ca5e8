/**
 * Throttled changes handed to the zone shifter, as the failover Lambda leaves them: the primary's
 * alarm fired, the service is leased under the failover invocation's request id, and the change
 * a -> b waits in the shift queue. One builder for the zone-shift use-case and handler tests.
 */
import type { ZoneShiftDeps } from '../../lambdas/app/zone-shift.ts';
import type { QueuedShift } from '../../lambdas/domain/types.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';

/** The failover Lambda's lease: two minutes. */
export const FAILOVER_LEASE_MS = 120_000;

export interface QueuedShiftOptions {
  /** The failover invocation's request id. @default `req-<serviceId>` */
  readonly holder?: string;
  /** The error that made the failover queue the change. @default 'PriorRequestNotComplete' */
  readonly reason?: string;
  /** The alarm event's id. @default `evt-<serviceId>` */
  readonly eventId?: string;
  /** How long before the queueing the alarm changed state. @default 2_000 */
  readonly alarmAgeMs?: number;
}

/** What the failover Lambda did before queueing: alarm on `a`, lease under its request id, change a -> b queued. */
export function leaseAndQueue(
  env: MemoryEnvironment,
  serviceId: string,
  options: QueuedShiftOptions = {},
): QueuedShift {
  const holder = options.holder ?? `req-${serviceId}`;
  const alarmName = env.alarms.setNode(serviceId, 'a', 'ALARM');
  const now = env.clock.now();
  void env.state.acquireLease({
    serviceId,
    expectedEpoch: 0,
    seedPrimary: 'a',
    lease: { holder, operation: 'auto-failover', acquiredAt: now, expiresAt: now + FAILOVER_LEASE_MS },
    now,
  });
  return {
    serviceId,
    from: 'a',
    to: 'b',
    expectedEpoch: 0,
    holder,
    transition: {
      alarmName,
      state: 'ALARM',
      previousState: 'OK',
      timestamp: now - (options.alarmAgeMs ?? 2_000),
      eventId: options.eventId ?? `evt-${serviceId}`,
    },
    lagSeconds: 1,
    queuedAt: now,
    reason: options.reason ?? 'PriorRequestNotComplete',
  };
}

/** The zone shifter's ports on the memory environment: virtual sleep, no jitter (`random` 0.5). */
export function zoneShifterDeps(env: MemoryEnvironment, invocationId = 'shifter-1'): ZoneShiftDeps {
  return { ...env, invocationId, sleep: env.clock.sleep, random: () => 0.5 };
}
