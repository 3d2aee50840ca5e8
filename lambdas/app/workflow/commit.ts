/**
 * Commit the role change (epoch + 1, history, lease removed, in one transaction) and announce it.
 *
 * The commit comes BEFORE the old primary's demote: it is the point of no return. Until it is
 * durable, everything can be undone (the old primary is only fenced, and an unfence makes it the
 * writer again); once the old primary is demoted it replicates from the new one, and no rollback
 * can make it the writer again. A failed commit therefore rolls back with a writer to go back to,
 * and nothing after the commit (demote, recordDemote, notify) ever rolls back.
 *
 * "Failed" is decided by the record, not by the answer: a Commit step whose write landed but
 * whose answers were all lost is confirmed from the state table (confirmCommit) and carries on as
 * committed; only a record without the change rolls back.
 */
import { moveCommit } from '../../domain/commit-request.ts';
import { LeaseLostError } from '../../domain/errors.ts';
import type { HistoryEntry } from '../../domain/types.ts';
import { dataLossBound } from '../../domain/workflow.ts';
import type { WorkflowDeps } from './deps.ts';
import { caught, type ExecutionState, type WorkflowResult } from './execution-state.ts';

export async function commit(deps: WorkflowDeps, state: ExecutionState): Promise<WorkflowResult> {
  const { plan } = state;
  const now = deps.clock.now();
  const change = committedChange(state, now);
  // An operator failover may leave writes on the old primary that the new one never saw. It is
  // marked needs-rejoin in this commit (invariant 9): never promoted or given traffic again until
  // it is demoted (the demote after this commit clears the mark in recordDemote; the failover
  // Lambda's rejoin, when it comes back healthy) or an operator made it a replica and ran
  // `failover rejoin`. Marked before the demote, not after: if the demote or the step recording
  // it fails, the durable state still says the old primary has not rejoined.
  const needsRejoin = change.rejoinNeeded
    ? await rejoinSetAfter(deps, plan.serviceId, plan.from, plan.to)
    : undefined;
  try {
    await deps.state.commit(moveCommit(plan, now, change.history, needsRejoin ? { needsRejoin } : {}));
  } catch (err) {
    // A retried commit whose first attempt applied finds its own change: done, not lost.
    if (!(err instanceof LeaseLostError) || !(await committedByUs(deps, state))) throw err;
    deps.logger.info('commit already applied', { serviceId: plan.serviceId, holder: plan.holder });
  }
  return committed(deps, state, change.result);
}

/**
 * After the Commit step failed (its Catch): the step guard has read the record and found this
 * execution's change there (primary = plan.to at plan.epoch, written by plan.holder), so the write
 * landed and only its answers were lost (the DynamoDB response timed out on every retry, or the
 * step Lambda's own answer never came back). The change is durable and traffic is on the new
 * primary: the workflow carries on exactly as after a clean commit (demote, record, notify). A
 * record without the change fails the guard (LeaseLostError) and the Catch rolls back.
 */
export async function confirmCommit(deps: WorkflowDeps, state: ExecutionState): Promise<WorkflowResult> {
  const { plan } = state;
  const change = committedChange(state, deps.clock.now());
  const failure = caught(state.error);
  deps.logger.warn('commit landed, its answer was lost', {
    serviceId: plan.serviceId,
    holder: plan.holder,
    epoch: plan.epoch,
    failure,
  });
  return committed(deps, state, {
    ...change.result,
    warnings: [
      ...change.result.warnings,
      `the commit's answer was lost (${failure}); the record shows the change at epoch ${plan.epoch}, so it was carried forward`,
    ],
  });
}

/** What a committed change records and returns, from the plan and what the execution measured. */
function committedChange(
  state: ExecutionState,
  now: number,
): { history: HistoryEntry; result: WorkflowResult; rejoinNeeded: boolean } {
  const { plan, catchUp } = state;
  const forced = catchUp?.forced === true;
  const lagSeconds = catchUp?.lagSeconds;
  const bound =
    plan.mode === 'switchover'
      ? '0 s (caught up after the fence)'
      : dataLossBound(lagSeconds, catchUp?.lagAgeSeconds);
  const warnings = [...plan.warnings];
  const rejoinNeeded = plan.mode === 'failover';
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
  return { history, result, rejoinNeeded };
}

function committed(deps: WorkflowDeps, state: ExecutionState, result: WorkflowResult): WorkflowResult {
  const { plan } = state;
  deps.logger.info('role change committed', { ...result, holder: plan.holder, reason: plan.reason });
  deps.metrics.add(plan.mode === 'switchover' ? 'Switchover' : 'OperatorFailover', 1, 'Count', {
    serviceId: plan.serviceId,
  });
  deps.metrics.add('WorkflowTotalMs', result.timings.totalMs ?? 0, 'Milliseconds', {
    serviceId: plan.serviceId,
  });
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
