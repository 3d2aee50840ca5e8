/**
 * Rejoin: a former primary (marked needs-rejoin by the change that replaced it) whose health
 * alarm returns to OK is demoted with the current epoch's rejoin token, or fenced when it has no
 * demote action, so it can never take writes on its own again (invariant 9). Recorded in the
 * history and announced; the mark is cleared with a write conditional on the epoch. A node with
 * neither action stays marked until an operator runs `failover rejoin <service> <node>`.
 */
import { RejoinConflictError } from '../../domain/errors.ts';
import type { HistoryEntry } from '../../domain/types.ts';
import type { ChangeContext } from './context.ts';
import { describe } from './context.ts';
import type { FailoverOutcome } from './deps.ts';

export async function runRejoin(ctx: ChangeContext, nodeId: string): Promise<FailoverOutcome> {
  const { deps, service, state } = ctx;
  const base = { serviceId: service.id, from: nodeId, to: nodeId, epoch: state.epoch } as const;
  const role = ctx.has(nodeId, 'demote') ? 'demote' : ctx.has(nodeId, 'fence') ? 'fence' : undefined;
  if (role === undefined) {
    deps.logger.info('former primary is back and needs an operator to rejoin it', {
      serviceId: service.id,
      nodeId,
    });
    // Once per node and epoch: a flapping node must not page on every OK.
    const note = `rejoin-needed:${nodeId}@${state.epoch}`;
    const first = await deps.state.noteOnce(service.id, note, service.initialPrimary);
    if (first)
      await deps.notifier.publish({
        kind: 'rejoin',
        serviceId: service.id,
        subject: `${service.id}: former primary ${nodeId} is healthy again; it stays out of every role until an operator runs: failover rejoin ${service.id} ${nodeId}`,
        detail: {
          ...base,
          needsRejoin: true,
          action: `make ${nodeId} a replica of ${state.primary}, then run: failover rejoin ${service.id} ${nodeId}`,
        },
      });
    return {
      ...base,
      outcome: 'held',
      reason: 'needs-rejoin',
      detail: `${nodeId} has no demote or fence action`,
      timings: ctx.timings(),
    };
  }
  const result = await ctx.runAction(nodeId, role, 'rejoin', state.epoch, 'rejoin');
  if (result.status !== 'succeeded') {
    deps.logger.error('rejoin action failed: the former primary stays marked needs-rejoin', {
      serviceId: service.id,
      nodeId,
      role,
      ...result,
    });
    await deps.notifier.publish({
      kind: 'rejoin-failed',
      serviceId: service.id,
      subject: `${service.id}: ${role} of returning former primary ${nodeId} ${result.status}: it stays out of every role; check it does not take writes`,
      detail: { ...base, role, status: result.status, reason: result.detail, actions: ctx.recorded },
    });
    return {
      ...base,
      outcome: 'needs-attention',
      reason: 'rejoin-failed',
      detail: result.detail,
      timings: ctx.timings(),
    };
  }
  const history: HistoryEntry = {
    serviceId: service.id,
    epoch: state.epoch,
    at: deps.clock.now(),
    operation: 'rejoin',
    from: nodeId,
    to: nodeId,
    reason: `former primary ${nodeId} healthy again (${ctx.transition.alarmName} OK): ${role === 'demote' ? 'demoted to replica' : 'fenced'} with epoch ${state.epoch}`,
    actor: deps.holderId,
    actions: [...ctx.recorded],
  };
  try {
    await deps.state.markRejoined({ serviceId: service.id, nodeId, expectedEpoch: state.epoch, history });
  } catch (err) {
    if (!(err instanceof RejoinConflictError)) throw err;
    // The epoch moved (another role change) or the mark is gone (an operator, a duplicate event):
    // the node was demoted anyway; the next change's own mark governs it.
    deps.logger.warn('rejoin not recorded: the state moved meanwhile', {
      serviceId: service.id,
      nodeId,
      error: describe(err),
    });
    return {
      ...base,
      outcome: 'conflict',
      reason: 'rejoin-superseded',
      detail: err.message,
      timings: ctx.timings(),
    };
  }
  deps.metrics.add('Rejoined', 1, 'Count', { serviceId: service.id });
  await deps.notifier.publish({
    kind: 'rejoin',
    serviceId: service.id,
    subject: `${service.id}: former primary ${nodeId} rejoined (${role === 'demote' ? 'demoted' : 'fenced'} with epoch ${state.epoch})`,
    detail: { ...base, role, actions: ctx.recorded },
  });
  return { ...base, outcome: 'rejoined', reason: role, timings: ctx.timings() };
}
