/**
 * Resume: Lambda retries a failed or timed-out invocation under the same request id, so a retry
 * may find its own lease. When the fresh decision is to hold, what the earlier attempt did must
 * still be accounted for:
 * - traffic already moved and not recorded: a human must reconcile it (the record and the router
 *   disagree);
 * - a target named in the lease may have been promoted while traffic never moved: it is demoted
 *   again (and the old primary unfenced) so there is one writer, then the lease is released.
 */

import type { Decision } from '../../domain/types.ts';
import { needsAttention } from './announce.ts';
import { commitChange } from './commit.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverOutcome } from './deps.ts';
import { takeLease } from './lease.ts';
import type { FailoverDecision } from './plan.ts';
import { rollBackActions } from './shift-outcome.ts';

type HoldDecision = Extract<Decision, { action: 'hold' }>;

/**
 * Holds under which an earlier attempt's move is finished (recorded) rather than handed to a
 * human: they only say the candidates look different now (a promoted node stops publishing lag).
 * A pause, a disabled policy or a recovered primary are a human's call.
 */
const FINISHABLE: ReadonlySet<HoldDecision['reason']> = new Set<HoldDecision['reason']>([
  'no-healthy-candidate',
  'lag-unknown',
  'lag-stale',
  'lag-over-budget',
  'cooldown',
]);

/** Undefined when there is nothing left over from the earlier attempt: the hold stands as decided. */
export async function resumeIntoHold(
  ctx: ChangeContext,
  decision: HoldDecision,
): Promise<FailoverOutcome | undefined> {
  const { deps, service, state } = ctx;
  const live = await deps.traffic.current(service.id);
  const target = state.lease?.target;
  if (live !== state.primary && live !== undefined && live === target && FINISHABLE.has(decision.reason)) {
    // The earlier attempt moved traffic to the target it had leased and died before recording
    // it (a throttled commit, a timeout): finish its change. The fresh hold does not undo a move
    // that happened; the promoted node's own lag is no longer published once it is primary.
    deps.logger.info('an earlier attempt moved traffic to its leased target: committing it', {
      serviceId: service.id,
      target,
      hold: decision.reason,
    });
    const finished: FailoverDecision = {
      action: 'failover',
      serviceId: service.id,
      from: state.primary,
      to: target,
      expectedEpoch: state.epoch,
      lagSeconds: state.lease?.targetLagSeconds ?? Number.NaN,
      candidates: decision.candidates,
    };
    return finishEarlierAttempt(ctx, finished);
  }
  if (live !== state.primary) return unrecordedShift(ctx, live, decision);
  if (target === undefined || target === state.primary || !ctx.withActions) return undefined;
  const abandoned: FailoverDecision = {
    action: 'failover',
    serviceId: service.id,
    from: state.primary,
    to: target,
    expectedEpoch: state.epoch,
    lagSeconds: 0,
    candidates: decision.candidates,
  };
  deps.logger.warn(
    'an earlier attempt chose a target and did not move traffic; the decision is now to hold: undoing its actions',
    {
      serviceId: service.id,
      target,
      hold: decision.reason,
    },
  );
  // Under a lease written now, so the undoing calls outrank everything the earlier attempt sent.
  const renewed = await takeLease(ctx, abandoned);
  if (!renewed.acquired) return undefined;
  const undone = await rollBackActions(ctx, abandoned, { fenced: 'unknown' });
  if (undone.length > 0) {
    const paused = await ctx.pauseQuietly('abandoned promotion not undone');
    return needsAttention(
      ctx,
      abandoned,
      'promote-not-undone',
      `an earlier attempt of this invocation promoted (or tried to promote) ${target} and the decision is now to hold (${decision.reason}); undoing it failed: ${undone.join('; ')}`,
      { paused },
    );
  }
  await ctx.releaseQuietly('abandoned promotion undone');
  return undefined;
}

async function finishEarlierAttempt(
  ctx: ChangeContext,
  decision: FailoverDecision,
): Promise<FailoverOutcome> {
  const renewed = await takeLease(ctx, decision);
  if (!renewed.acquired) return unrecordedShift(ctx, decision.to, undefined);
  return commitChange(ctx, decision, ctx.withActions ? { fenced: 'unknown' } : {});
}

/** Traffic left on a node the record does not name, by an earlier attempt of this invocation. */
async function unrecordedShift(
  ctx: ChangeContext,
  live: string | undefined,
  decision: HoldDecision | undefined,
): Promise<FailoverOutcome> {
  const { deps, service, state } = ctx;
  const where = live ?? 'no single node';
  const why = decision
    ? `now the decision is to hold (${decision.reason}: ${decision.detail})`
    : 'its lease was taken over';
  const detail = `traffic points at ${where} but the record names ${state.primary} (epoch ${state.epoch}): an earlier attempt of this invocation moved it and did not record it, and ${why}; the lease is left to expire`;
  deps.logger.error('failover needs a human', { serviceId: service.id, reason: 'unrecorded-shift', detail });
  deps.metrics.add('FailoverNeedsAttention', 1, 'Count', { serviceId: service.id });
  await deps.notifier.publish({
    kind: 'failover-failed',
    serviceId: service.id,
    subject: `${service.id}: traffic is on ${where}, the record names ${state.primary}: needs attention (unrecorded-shift)`,
    detail: {
      serviceId: service.id,
      primary: state.primary,
      traffic: live ?? null,
      epoch: state.epoch,
      reason: 'unrecorded-shift',
      detail,
      eventId: ctx.transition.eventId,
      holder: deps.holderId,
      action: 'check which node takes writes, then record it with a manual failover (or move traffic back)',
    },
  });
  return {
    outcome: 'needs-attention',
    serviceId: service.id,
    from: state.primary,
    ...(live !== undefined ? { to: live } : {}),
    reason: 'unrecorded-shift',
    detail,
    epoch: state.epoch,
    timings: ctx.timings(),
  };
}
