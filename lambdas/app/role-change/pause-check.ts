/**
 * A pause written while the change is in flight. An automatic failover's node actions can run for
 * tens of seconds (the fence bound, then the promote's own timeout), and an operator who pauses
 * during an incident does so to keep automation's hands off: the state is read again just before
 * traffic moves (the point where the change becomes visible to clients), as the zone shifter does
 * before each round. Paused: the promotion is undone (the target demoted, the old primary
 * unfenced), the lease released and the hold announced; traffic stays where it was.
 *
 * The read cannot close the window completely (DynamoDB and the router share no transaction): a
 * pause that lands between this read and the commit meets the commit's own condition, and that
 * move, already sent, is then recorded (commit.ts) rather than left apart from the record.
 */
import { needsAttention } from './announce.ts';
import type { ChangeContext } from './context.ts';
import { describe } from './context.ts';
import type { FailoverOutcome } from './deps.ts';
import type { FailoverDecision } from './plan.ts';
import { demoteTarget, keepOldPrimary } from './rollback.ts';
import type { Promoted } from './shift-outcome.ts';

/** Undefined when the service is not paused (or the read failed: the commit's condition still guards). */
export async function stopIfPaused(
  ctx: ChangeContext,
  decision: FailoverDecision,
  promoted: Promoted,
): Promise<FailoverOutcome | undefined> {
  const { deps, service } = ctx;
  let paused: boolean;
  try {
    paused = (await deps.state.get(service.id))?.paused === true;
  } catch (err) {
    deps.logger.warn('state read before the shift failed; the commit still refuses a pause', {
      serviceId: service.id,
      error: describe(err),
    });
    return undefined;
  }
  if (!paused) return undefined;
  const undone = await demoteTarget(ctx, decision);
  if (undone.length > 0) {
    return needsAttention(
      ctx,
      decision,
      'promote-not-undone',
      `paused while ${decision.to} was being promoted; traffic stays on ${decision.from}, but undoing the promotion failed: ${undone.join('; ')}`,
      { paused: true, fenced: promoted.fenced },
    );
  }
  // The old primary is failing: an unfence it does not answer is expected and harmless (no other
  // node takes writes now), so it is reported, not fatal (rollback.ts).
  const unfenced = await keepOldPrimary(ctx, decision, promoted.fenced, 'paused before the shift');
  const detail = `paused while ${decision.to} was being promoted; ${decision.to} demoted again, traffic stays on ${decision.from}${unfenced}`;
  deps.logger.warn('automatic failover stopped before the shift: the service was paused meanwhile', {
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    fenced: promoted.fenced,
  });
  deps.metrics.add('FailoverPausedInFlight', 1, 'Count', { serviceId: service.id });
  await deps.notifier.publish({
    kind: 'failover-held',
    serviceId: service.id,
    subject: `${service.id}: primary ${decision.from} is down, automatic failover held (paused): ${detail}`,
    detail: {
      serviceId: service.id,
      primary: decision.from,
      candidate: decision.to,
      epoch: decision.expectedEpoch,
      reason: 'paused',
      detail,
      fenced: promoted.fenced,
      actions: ctx.recorded,
      alarmName: ctx.transition.alarmName,
      eventId: ctx.transition.eventId,
    },
  });
  return {
    outcome: 'held',
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason: 'paused',
    detail,
    epoch: decision.expectedEpoch,
    timings: ctx.timings(),
  };
}
