/**
 * Commit the role change (epoch + 1, history, lease removed, in one transaction) and announce it.
 *
 * The commit comes BEFORE the old primary's demote: it is the point of no return. Until it is
 * durable, everything can be undone (the old primary is only fenced, and an unfence makes it the
 * writer again); once the old primary is demoted it replicates from the new one, and no rollback
 * can make it the writer again. A failed commit therefore rolls back with a writer to go back to,
 * and nothing after the commit (demote, recordDemote, notify) ever rolls back.
 */
import { LeaseLostError } from '../../domain/errors.ts';
import type { HistoryEntry } from '../../domain/types.ts';
import { dataLossBound } from '../../domain/workflow.ts';
import type { WorkflowDeps } from './deps.ts';
import type { ExecutionState, WorkflowResult } from './execution-state.ts';

export async function commit(deps: WorkflowDeps, state: ExecutionState): Promise<WorkflowResult> {
  const { plan, catchUp } = state;
  const now = deps.clock.now();
  const forced = catchUp?.forced === true;
  const lagSeconds = catchUp?.lagSeconds;
  const bound =
    plan.mode === 'switchover'
      ? '0 s (caught up after the fence)'
      : dataLossBound(lagSeconds, catchUp?.lagAgeSeconds);
  const warnings = [...plan.warnings];
  // An operator failover may leave writes on the old primary that the new one never saw. It is
  // marked needs-rejoin in this commit (invariant 9): never promoted or given traffic again until
  // it is demoted (the demote after this commit clears the mark in recordDemote; the failover
  // Lambda's rejoin, when it comes back healthy) or an operator made it a replica and ran
  // `failover rejoin`. Marked before the demote, not after: if the demote or the step recording
  // it fails, the durable state still says the old primary has not rejoined.
  const rejoinNeeded = plan.mode === 'failover';
  const needsRejoin = rejoinNeeded
    ? await rejoinSetAfter(deps, plan.serviceId, plan.from, plan.to)
    : undefined;
  if (rejoinNeeded) warnings.push(needsRejoinWarning(plan));
  const notes = [forced ? `forced: data-loss bound ${bound}` : undefined].filter((n) => n !== undefined);
  const timings: Record<string, number> = { totalMs: now - plan.startedAt };
  if (catchUp) timings.catchUpMs = Math.max(0, now - catchUp.startedAt);
  if (state.shift) timings.sinceShiftMs = now - state.shift.at;

  const history: HistoryEntry = {
    serviceId: plan.serviceId,
    epoch: plan.epoch,
    at: now,
    operation: plan.mode,
    from: plan.from,
    to: plan.to,
    reason: notes.length ? `${plan.reason} [${notes.join('; ')}]` : plan.reason,
    ...(lagSeconds !== undefined ? { lagSeconds } : {}),
    ...(forced ? { forced: true } : {}),
    timings,
    actor: plan.holder,
    ...(rejoinNeeded ? { needsRejoin: [plan.from] } : {}),
  };
  try {
    await deps.state.commit({
      serviceId: plan.serviceId,
      expectedEpoch: plan.expectedEpoch,
      holder: plan.holder,
      newPrimary: plan.to,
      at: now,
      history,
      ...(needsRejoin ? { needsRejoin } : {}),
    });
  } catch (err) {
    // A retried commit whose first attempt applied finds its own change: done, not lost.
    if (!(err instanceof LeaseLostError) || !(await committedByUs(deps, state))) throw err;
    deps.logger.info('commit already applied', { serviceId: plan.serviceId, holder: plan.holder });
  }
  const result: WorkflowResult = {
    outcome: plan.mode === 'switchover' ? 'switched-over' : 'failed-over',
    serviceId: plan.serviceId,
    from: plan.from,
    to: plan.to,
    epoch: plan.epoch,
    ...(lagSeconds !== undefined ? { lagSeconds } : {}),
    forced,
    dataLossBound: bound,
    warnings,
    timings,
    ...(rejoinNeeded ? { needsRejoin: [plan.from] } : {}),
  };
  deps.logger.info('role change committed', { ...result, holder: plan.holder, reason: plan.reason });
  deps.metrics.add(plan.mode === 'switchover' ? 'Switchover' : 'OperatorFailover', 1, 'Count', {
    serviceId: plan.serviceId,
  });
  deps.metrics.add('WorkflowTotalMs', timings.totalMs ?? 0, 'Milliseconds', { serviceId: plan.serviceId });
  return result;
}

/**
 * The stored needs-rejoin set with `from` added and `to` removed. Read before the commit: a rejoin
 * recorded in between (it keeps the epoch) is undone by the commit, which leaves that node marked
 * once more: the safe direction (an operator runs `failover rejoin` again).
 */
async function rejoinSetAfter(
  deps: WorkflowDeps,
  serviceId: string,
  from: string,
  to: string,
): Promise<string[]> {
  const current = await deps.state.get(serviceId);
  const kept = (current?.needsRejoin ?? []).filter((n) => n !== from && n !== to);
  return [...kept, from];
}

/** The warning a result carries while the old primary is marked needs-rejoin. */
export function needsRejoinWarning(plan: ExecutionState['plan']): string {
  return `${plan.from} is marked needs-rejoin: it is never promoted or given traffic until it is a replica of ${plan.to}; make it one, then run failover rejoin ${plan.serviceId} ${plan.from}`;
}

async function committedByUs(deps: WorkflowDeps, state: ExecutionState): Promise<boolean> {
  const current = await deps.state.get(state.plan.serviceId);
  return (
    current?.epoch === state.plan.epoch &&
    current.primary === state.plan.to &&
    current.lastChange?.actor === state.plan.holder
  );
}

export async function notify(deps: WorkflowDeps, state: ExecutionState): Promise<void> {
  const { plan, result } = state;
  const needsHuman = state.demoteError !== undefined || (result?.needsRejoin?.length ?? 0) > 0;
  await deps.notifier.publish({
    kind: plan.mode,
    serviceId: plan.serviceId,
    subject: `${plan.mode} ${plan.serviceId}: ${plan.from} -> ${plan.to} (epoch ${plan.epoch})${needsHuman ? ': ACTION NEEDED' : ''}`,
    detail: {
      ...result,
      reason: plan.reason,
      execution: plan.holder,
      needsHuman,
    },
  });
}
