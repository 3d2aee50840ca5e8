/**
 * A retry (Lambda keeps the request id) that finds its own change recorded: the earlier attempt's
 * commit landed, its answer was lost (a timeout after the write applied), and the read-back that
 * would have told it so failed too, so it threw before announcing. Nothing else would announce the
 * change (the retry's fresh decision holds: the alarm no longer watches the primary), so the
 * retry announces it now, from the history entry the commit wrote, and rejoins the old primary if
 * it is back. An earlier attempt that announced never throws afterwards, so this announces once.
 */
import type { ClusterState } from '../../domain/types.ts';
import { addFailoverMetrics, announceCommitted, failedOverNotification } from './announce.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverOutcome } from './deps.ts';
import type { FailoverDecision } from './plan.ts';
import { rejoinIfBack } from './rejoin-after-commit.ts';

export async function announceOwnCommit(
  ctx: ChangeContext,
  state: ClusterState,
): Promise<FailoverOutcome | undefined> {
  const { deps, service } = ctx;
  const last = state.lastChange;
  if (
    last === undefined ||
    last.actor !== deps.holderId ||
    last.operation !== 'auto-failover' ||
    last.epoch !== state.epoch ||
    state.primary !== last.to
  )
    return undefined;
  const decision: FailoverDecision = {
    action: 'failover',
    serviceId: service.id,
    from: last.from,
    to: last.to,
    expectedEpoch: last.epoch - 1,
    lagSeconds: last.lagSeconds ?? Number.NaN,
    candidates: [],
  };
  deps.logger.warn('an earlier attempt of this invocation committed the change and did not announce it', {
    serviceId: service.id,
    from: last.from,
    to: last.to,
    epoch: last.epoch,
  });
  const timings = ctx.timings();
  addFailoverMetrics(deps.metrics, decision, timings);
  await announceCommitted(
    ctx,
    failedOverNotification({
      decision,
      epoch: last.epoch,
      reason: last.reason,
      transition: ctx.transition,
      timings: last.timings ?? timings,
      actor: deps.holderId,
      extra: {
        ...(state.needsRejoin ? { needsRejoin: state.needsRejoin } : {}),
        ...(last.fenced !== undefined ? { fenced: last.fenced } : {}),
        ...(last.actions ? { actions: last.actions } : {}),
        announcedBy: 'retry',
      },
    }),
  );
  if (ctx.withActions) await rejoinIfBack(ctx, decision, state);
  return {
    outcome: 'failed-over',
    serviceId: service.id,
    from: last.from,
    to: last.to,
    reason: 'primary-alarm',
    epoch: last.epoch,
    timings: ctx.timings(),
  };
}
