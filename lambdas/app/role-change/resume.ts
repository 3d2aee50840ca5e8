/**
 * Resume: Lambda retries a failed or timed-out invocation under the same request id, so a retry
 * may find its own lease. What the earlier attempt did must be accounted for before the fresh
 * decision counts:
 * - traffic already on the target the lease names: the earlier attempt promoted it and died before
 *   its commit; the change is finished (old primary fenced again, committed), whatever the decision;
 * - traffic moved anywhere else and not recorded: a human must reconcile it (the record and the
 *   router disagree);
 * - a target named in the lease may have been promoted while traffic never moved, and the decision
 *   is now to hold: it is demoted again (and the old primary unfenced) so there is one writer, then
 *   the lease is released.
 */

import type { Decision, FencedVerdict } from '../../domain/types.ts';
import { commitChange } from './commit.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverOutcome } from './deps.ts';
import { fenceOldPrimary } from './fence.ts';
import { takeLease } from './lease.ts';
import type { FailoverDecision } from './plan.ts';
import { promotionNotUndone } from './rollback.ts';
import { rollBackActions } from './shift-outcome.ts';

type HoldDecision = Extract<Decision, { action: 'hold' }>;

/**
 * Traffic already on the target a left-over lease names (our own, or another attempt's that
 * expired), the record still naming the old primary: that earlier attempt promoted the target
 * (traffic never moves before a promotion succeeded, and the lease names the node before it is
 * promoted) and died before its commit. The change is finished whatever the fresh decision is (a
 * recovered old primary included: recording the move that happened is not a failback, and the
 * promoted node has taken writes the old one never saw): the old primary is fenced again (under a
 * new lease, so this fence outranks everything the earlier attempt sent), then the change is
 * committed (the old primary marked needs-rejoin), a pause written since notwithstanding: a pause
 * stops changes not yet sent. Undefined when there is no such leftover.
 */
export async function resumeShifted(
  ctx: ChangeContext,
  decision: Decision,
): Promise<FailoverOutcome | undefined> {
  const { deps, service, state } = ctx;
  const target = state.lease?.target;
  if (target === undefined || target === state.primary) return undefined;
  const live = await deps.traffic.current(service.id);
  if (live !== target) return undefined;
  deps.logger.info('an earlier attempt moved traffic to its leased target: finishing its change', {
    serviceId: service.id,
    target,
    decision: decision.action === 'hold' ? decision.reason : decision.to,
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
  const renewed = await takeLease(ctx, finished);
  if (!renewed.acquired) return unrecordedShift(ctx, target, undefined);
  if (!ctx.withActions) return commitChange(ctx, finished, { alreadySent: true });
  const gate = await fenceOldPrimary(ctx, finished);
  const outcome = await commitChange(ctx, finished, { fenced: gate.fenced, alreadySent: true });
  if (!gate.promote) {
    // The change is done (traffic and the promoted node agree), but the old primary answered and
    // did not take its fence: it may still take writes from clients that bypass the router.
    deps.logger.error('old primary not fenced after an unrecorded shift was finished', {
      serviceId: service.id,
      from: finished.from,
      reason: gate.why,
      detail: gate.detail,
    });
    await deps.notifier.publish({
      kind: 'failover-failed',
      serviceId: service.id,
      subject: `${service.id}: ${finished.to} took over from ${finished.from}, but ${finished.from} could not be fenced (${gate.why}): check it takes no writes`,
      detail: {
        serviceId: service.id,
        primary: finished.to,
        oldPrimary: finished.from,
        reason: gate.why,
        fenced: gate.fenced,
        detail: gate.detail,
        eventId: ctx.transition.eventId,
        actions: ctx.recorded,
        action: `stop or fence ${finished.from}; it stays needs-rejoin until it is demoted (failover rejoin ${service.id} ${finished.from})`,
      },
    });
  }
  return outcome;
}

/** Undefined when there is nothing left over from the earlier attempt: the hold stands as decided. */
export async function resumeIntoHold(
  ctx: ChangeContext,
  decision: HoldDecision,
): Promise<FailoverOutcome | undefined> {
  const { deps, service, state } = ctx;
  const live = await deps.traffic.current(service.id);
  const target = state.lease?.target;
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
    return promotionNotUndone(
      ctx,
      abandoned,
      'abandoned promotion not undone',
      `an earlier attempt of this invocation promoted (or tried to promote) ${target} and the decision is now to hold (${decision.reason}); undoing it failed: ${undone.join('; ')}`,
    );
  }
  await ctx.releaseQuietly('abandoned promotion undone');
  return undefined;
}

/** Traffic left on a node the record does not name, by an earlier attempt of this invocation. */
async function unrecordedShift(
  ctx: ChangeContext,
  live: string | undefined,
  decision: HoldDecision | undefined,
  fenced?: FencedVerdict,
): Promise<FailoverOutcome> {
  const { deps, service, state } = ctx;
  const where = live ?? 'no single node';
  const why = decision
    ? `now the decision is to hold (${decision.reason}: ${decision.detail})`
    : 'its lease was taken over';
  const fence =
    fenced === undefined
      ? ''
      : `; ${state.primary} fenced: ${fenced}${fenced === 'yes' ? ` (only ${where} takes writes)` : ` (it may still take writes)`}`;
  const detail = `traffic points at ${where} but the record names ${state.primary} (epoch ${state.epoch}): an earlier attempt (${state.lease?.holder ?? 'unknown'}) moved it and did not record it, and ${why}${fence}; the lease is left to expire`;
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
      ...(fenced !== undefined ? { fenced, actions: ctx.recorded } : {}),
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
