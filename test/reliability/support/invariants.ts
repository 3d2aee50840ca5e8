/**
 * What must hold after any operation, completed or failed (DESIGN.md invariants 3 and 4, the
 * lease, and "a failure is told to someone"), checked on the in-memory environment.
 * Each check returns violations as text, so a run can report all of them at once.
 */
import { findService } from '../../../lambdas/domain/config.ts';
import { currentState } from '../../../lambdas/domain/decide.ts';
import type { ClusterState } from '../../../lambdas/domain/types.ts';
import type { MemoryEnvironment } from '../../../lambdas/testing/memory.ts';

export interface Baseline {
  readonly epoch: number;
  readonly historyLength: number;
  readonly notifications: number;
}

export function stateOf(env: MemoryEnvironment, serviceId: string): ClusterState {
  const service = findService(env.config, serviceId);
  if (!service) throw new Error(`no service ${serviceId}`);
  return currentState(env.state.snapshot(serviceId), service);
}

export async function baseline(env: MemoryEnvironment, serviceId: string): Promise<Baseline> {
  return {
    epoch: stateOf(env, serviceId).epoch,
    historyLength: (await env.state.history(serviceId, 10_000)).filter((h) => h.operation !== 'rejoin')
      .length,
    notifications: env.notifier.published.length,
  };
}

export interface SettledOptions {
  /**
   * The run told a human it could not finish (needs-attention, RollbackFailedError) and a
   * notification says so: traffic and the record may then disagree, on purpose, for a human.
   */
  readonly flaggedForHuman: boolean;
  /** The longest lease the operation takes (ms): a lease left behind must expire within it. */
  readonly maxLeaseMs: number;
  /**
   * Where traffic points, when it is not the in-memory router (a fake SDK behind the real adapters).
   * @default env.traffic.pointsAt
   */
  readonly live?: string | undefined | (() => string | undefined);
}

/**
 * Traffic on exactly one node, the record matching it (unless flagged), one role change at most
 * and epochs that never go backwards, history in step with the epoch, a lease that is gone or
 * expires. Also proves the lease frees the service: a probe takes it once it has expired.
 */
export async function settledViolations(
  env: MemoryEnvironment,
  serviceId: string,
  before: Baseline,
  options: SettledOptions,
): Promise<string[]> {
  const v: string[] = [];
  const service = findService(env.config, serviceId);
  if (!service) return [`no service ${serviceId}`];
  const nodes = new Set(service.nodes.map((n) => n.id));
  const state = stateOf(env, serviceId);
  const live =
    'live' in options
      ? typeof options.live === 'function'
        ? options.live()
        : options.live
      : env.traffic.pointsAt(serviceId);
  if ((live === undefined || !nodes.has(live)) && !options.flaggedForHuman) {
    v.push(`traffic is on no single node (${String(live)}) and nobody was told`);
  }
  if (live !== state.primary && !options.flaggedForHuman) {
    v.push(`recorded primary ${state.primary} but traffic on ${String(live)}, and nobody was told`);
  }
  if (state.epoch < before.epoch) v.push(`epoch went backwards: ${before.epoch} -> ${state.epoch}`);
  if (state.epoch > before.epoch + 1)
    v.push(`more than one role change: epoch ${before.epoch} -> ${state.epoch}`);
  const entries = await env.state.history(serviceId, 10_000);
  // A `rejoin` entry records a former primary made a replica at the current epoch: no role change.
  const history = entries.filter((h) => h.operation !== 'rejoin');
  for (const r of entries.filter((h) => h.operation === 'rejoin' && h.epoch === state.epoch)) {
    if (r.from === state.primary) v.push(`the primary ${r.from} is recorded as a rejoined replica`);
  }
  if (history.length - before.historyLength !== state.epoch - before.epoch) {
    v.push(
      `history grew by ${history.length - before.historyLength} but the epoch by ${state.epoch - before.epoch}`,
    );
  }
  const epochs = history.map((h) => h.epoch);
  if (new Set(epochs).size !== epochs.length) v.push(`duplicate history epochs: ${epochs.join(',')}`);
  if (state.epoch > before.epoch && history[0]?.to !== state.primary) {
    v.push(`newest history entry names ${history[0]?.to}, the state ${state.primary}`);
  }
  const now = env.clock.now();
  if (state.lease && state.lease.expiresAt > now + options.maxLeaseMs) {
    v.push(
      `lease held by ${state.lease.holder} until ${state.lease.expiresAt}, beyond any operation's lease`,
    );
  }
  // The service is not locked forever: once the lease has expired, anyone can take it.
  const at = Math.max(now, (state.lease?.expiresAt ?? now) + 1);
  try {
    await env.state.acquireLease({
      serviceId,
      expectedEpoch: state.epoch,
      seedPrimary: service.initialPrimary,
      lease: { holder: 'probe', operation: 'failover', acquiredAt: at, expiresAt: at + 1 },
      now: at,
    });
    await env.state.releaseLease(serviceId, 'probe');
  } catch (err) {
    v.push(`the lease never frees the service: ${(err as Error).message}`);
  }
  return v;
}

/** Lease of an automatic failover (DEFAULT_LEASE_SECONDS). */
export const AUTO_LEASE_MS = 120_000;

/**
 * After one alarm event was delivered (with its retries) to the failover Lambda: the settled
 * checks, plus "a failure is told to someone" and invariant 7 (the decision is logged).
 */
export async function autoFailoverViolations(
  env: MemoryEnvironment,
  serviceId: string,
  before: Baseline,
  delivery: {
    readonly outcome: { readonly outcome: string; readonly reason?: string } | undefined;
    readonly attempts: number;
    readonly thrown: readonly string[];
  },
  options: Pick<SettledOptions, 'live'> = {},
): Promise<string[]> {
  const { outcome } = delivery;
  const published = env.notifier.published.slice(before.notifications);
  const flaggedForHuman =
    outcome?.outcome === 'needs-attention' && published.some((n) => n.kind === 'failover-failed');
  const violations = await settledViolations(env, serviceId, before, {
    flaggedForHuman,
    maxLeaseMs: AUTO_LEASE_MS,
    ...options,
  });
  // A failure is told to someone: the on-call hears about every outcome but a clean failover, and
  // a clean failover is announced (or its lost announcement is logged and counted).
  if (outcome?.outcome === 'failed-over') {
    const announced = published.some((n) => n.kind === 'failover');
    const counted = env.metrics.named('NotificationFailed').length > 0;
    if (!announced && !counted)
      violations.push('failed over without an announcement or a NotificationFailed metric');
  } else if (outcome === undefined) {
    // Every attempt threw: the FailoverErrorsAlarm pages on the first error and the event is parked
    // in the dead-letter queue (DeadLetterAlarm); test/infra checks both alarms publish to the topic.
    if (delivery.thrown.length !== delivery.attempts) violations.push('no outcome and no error');
  } else {
    const told = published.some((n) => n.kind === 'failover-failed' || n.kind === 'failover-held');
    if (!told)
      violations.push(
        `outcome ${outcome.outcome} (${outcome.reason}) with the primary down, and nobody was told`,
      );
  }
  // Invariant 7: the decision is logged with its reason on every attempt that got that far.
  if (outcome && !env.logger.find('failover decision').length) violations.push('no decision logged');
  return violations;
}
