/**
 * The end of a rollback, successful or not. The state machine runs the undo steps in order
 * (traffic back, demote the promoted target, unfence the old primary) and then one of these:
 *
 * - rollbackFinish: every undo step succeeded. Releases the lease and announces what was done and
 *   what still needs a human; the execution then fails with SwitchoverRolledBack/FailoverRolledBack.
 * - rollbackFailed: an undo step failed. Stops there (retrying blindly could make it worse), reads
 *   the live state, pauses automatic failover for the service so nothing acts on a half-undone
 *   change, releases the lease (so an operator's repairing workflow can run), and announces exactly
 *   which state the service is in. The execution then fails with RollbackFailedError.
 */

import { describeCause } from '../../domain/errors.ts';
import { ROLLED_BACK_ERROR } from '../../domain/workflow.ts';
import { serviceOf, type WorkflowDeps } from './deps.ts';
import { type CaughtError, caught, type ExecutionState } from './execution-state.ts';

export interface RollbackReport {
  /** The error name the execution fails with. */
  readonly error: string;
  /** One paragraph for the execution's Cause and the notification. */
  readonly message: string;
  readonly done: readonly string[];
  readonly needsHuman: readonly string[];
}

/** What failed in the forward path. */
function originalFailure(state: ExecutionState): string {
  if (state.fenceError) return `fence hook on ${state.plan.from} failed (${caught(state.fenceError)})`;
  return caught(state.error);
}

/** The forward path reached promote (the Catch of promote and everything after it starts at the traffic undo). */
function promoteAttempted(state: ExecutionState): boolean {
  return state.rollbackTraffic !== undefined || state.rollbackTrafficError !== undefined;
}

/** The forward call the state machine waited out before undoing it (WaitOutAbandoned*), in words. */
export function waitedOut(state: ExecutionState): string | undefined {
  const w = state.waitedOut;
  if (!w) return undefined;
  return `waited ${w.seconds} s for the abandoned ${w.call} of ${w.node} (${w.error}) to end before undoing it`;
}

export async function rollbackFinish(deps: WorkflowDeps, state: ExecutionState): Promise<RollbackReport> {
  const { plan } = state;
  const done: string[] = [];
  const needsHuman: string[] = [];
  const waited = waitedOut(state);
  if (waited) done.push(waited);
  // Read, not assumed: traffic may not have been on the old primary when the workflow started (a
  // failover recording where an interrupted operation left it), and then nothing here restores it.
  const current = await deps.traffic.current(plan.serviceId);
  if (current === plan.from) done.push(state.rollbackTraffic?.detail ?? `traffic never left ${plan.from}`);
  else {
    needsHuman.push(
      `traffic points at ${current ?? 'no single node'}, not at ${plan.from} whom the record names (it was there before this ${plan.mode} began, or was moved outside it): record where traffic is with a failover to it, or move it back to ${plan.from}`,
    );
  }
  if (promoteAttempted(state)) {
    if (state.rollbackDemoted !== undefined) done.push(`${plan.to} demoted back to a replica`);
    else if (plan.hooks.promote) {
      needsHuman.push(
        `${plan.to} may have been promoted and there is no demote hook: re-attach it as a replica of ${plan.from}`,
      );
    }
  }
  if (plan.hooks.fence) {
    if (state.rollbackUnfenced !== undefined) done.push(`${plan.from} unfenced`);
    else if (state.unfenceError) {
      needsHuman.push(
        `unfence of ${plan.from} failed (${caught(state.unfenceError)}); tolerated because it was unhealthy when the workflow started: it may still be fenced`,
      );
    }
  }
  await deps.state.releaseLease(plan.serviceId, plan.holder);
  done.push('lease released');

  const error = ROLLED_BACK_ERROR[plan.mode];
  const message =
    `${plan.mode} of ${plan.serviceId} ${plan.from} -> ${plan.to} rolled back after ${originalFailure(state)}. ` +
    `${plan.from} is still the primary (epoch ${plan.expectedEpoch}). Done: ${done.join('; ')}. ` +
    `Needs a human: ${needsHuman.length ? needsHuman.join('; ') : 'nothing'}.`;
  deps.logger.warn('workflow rolled back', {
    serviceId: plan.serviceId,
    holder: plan.holder,
    failure: originalFailure(state),
    done,
    needsHuman,
  });
  deps.metrics.add('WorkflowRolledBack', 1, 'Count', { serviceId: plan.serviceId, mode: plan.mode });
  await deps.notifier.publish({
    kind: 'rollback',
    serviceId: plan.serviceId,
    subject: `${plan.mode} ${plan.serviceId} rolled back: ${plan.from} still primary${needsHuman.length ? ': ACTION NEEDED' : ''}`,
    detail: {
      error,
      failure: originalFailure(state),
      from: plan.from,
      to: plan.to,
      epoch: plan.expectedEpoch,
      done,
      needsHuman,
      reason: plan.reason,
      execution: plan.holder,
    },
  });
  return { error, message, done, needsHuman };
}

type Stage = 'lease' | 'traffic' | 'demote' | 'unfence' | 'finish';

function failedStage(state: ExecutionState): { stage: Stage; error: CaughtError | undefined } {
  if (state.rollbackFinishError) return { stage: 'finish', error: state.rollbackFinishError };
  if (state.unfenceError) return { stage: 'unfence', error: state.unfenceError };
  if (state.rollbackDemoteError) return { stage: 'demote', error: state.rollbackDemoteError };
  // The state machine sends a lost lease straight here: nothing was undone (lib/switchover-workflow.ts).
  if (!state.rollbackTrafficError && state.error?.Error === 'LeaseLostError')
    return { stage: 'lease', error: state.error };
  return { stage: 'traffic', error: state.rollbackTrafficError };
}

const STAGE_TEXT: Record<Stage, string> = {
  lease:
    'checking the lease: this execution no longer holds it, so it undid nothing (another operation may own the service now)',
  traffic: 'moving traffic back',
  demote: 'demoting the promoted target back',
  unfence: 'unfencing the old primary',
  finish: 'releasing the lease / announcing the rollback',
};

/** Runs a best-effort action and says what happened; its failure is part of the report, not hidden. */
async function attempt<T>(
  action: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await action() };
  } catch (err) {
    return { ok: false, error: describeCause(err) };
  }
}

export async function rollbackFailed(deps: WorkflowDeps, state: ExecutionState): Promise<RollbackReport> {
  const { plan } = state;
  const service = serviceOf(deps.config, plan.serviceId);
  const { stage, error } = failedStage(state);

  const [traffic, stored] = await Promise.all([
    attempt(() => deps.traffic.current(plan.serviceId)),
    attempt(() => deps.state.get(plan.serviceId)),
  ]);
  const paused = await attempt(() =>
    deps.state.setPaused(plan.serviceId, true, {
      by: plan.holder,
      at: deps.clock.now(),
      reason: `${plan.mode} from ${plan.from} to ${plan.to} rolled back after its ${stage} step failed`,
    }),
  );
  // With automation paused, holding the lease only blocks the operator's repair; without the pause
  // the lease is all that keeps automatic failover away, so it stays until it expires.
  const released = paused.ok
    ? await attempt(() => deps.state.releaseLease(plan.serviceId, plan.holder))
    : undefined;

  const facts: string[] = [];
  const waited = waitedOut(state);
  if (waited) facts.push(waited);
  facts.push(
    traffic.ok
      ? `traffic points at ${traffic.value ?? 'no single node (or several)'}`
      : `where traffic points is unknown (read failed: ${traffic.error})`,
  );
  if (plan.hooks.fence) {
    facts.push(
      state.rollbackUnfenced !== undefined
        ? `${plan.from} (old primary) unfenced`
        : `${plan.from} (old primary) is still fenced${stage === 'unfence' ? ' (unfence failed)' : ''}`,
    );
  } else {
    facts.push(`${plan.from} (old primary) was never fenced (no fence hook)`);
  }
  if (promoteAttempted(state)) {
    facts.push(
      state.rollbackDemoted !== undefined
        ? `${plan.to} demoted back to a replica`
        : `${plan.to} may be promoted (accepting writes)${stage === 'demote' ? ': demoting it back failed' : ''}`,
    );
  } else {
    facts.push(`${plan.to} was never promoted`);
  }
  if (stored.ok) {
    const s = stored.value;
    facts.push(
      s
        ? `recorded primary ${s.primary} at epoch ${s.epoch} (${
            s.epoch === plan.expectedEpoch
              ? 'the change was not committed'
              : s.epoch === plan.epoch && s.primary === plan.to
                ? 'the change WAS committed'
                : `moved on since this execution started at epoch ${plan.expectedEpoch}`
          })`
        : `no recorded state: primary ${service.initialPrimary} at epoch 0`,
    );
  } else facts.push(`the recorded state is unknown (read failed: ${stored.error})`);
  facts.push(
    paused.ok
      ? 'automatic failover PAUSED for this service'
      : `automatic failover NOT paused (${paused.error})`,
  );
  facts.push(
    released === undefined
      ? `lease kept by ${plan.holder} until ${new Date(plan.leaseExpiresAt).toISOString()} so automation stays off`
      : released.ok
        ? 'lease released'
        : `lease still held by ${plan.holder} until ${new Date(plan.leaseExpiresAt).toISOString()} (${released.error})`,
  );

  const message =
    `ROLLBACK FAILED while ${STAGE_TEXT[stage]} (${caught(error)}); the rollback stopped there. ` +
    `${plan.mode} of ${plan.serviceId} ${plan.from} -> ${plan.to} had failed: ${originalFailure(state)}. ` +
    `State now: ${facts.join('; ')}. ` +
    `A human must make exactly one node the writer with traffic on it, then resume automatic failover.`;
  deps.logger.error('rollback failed', { serviceId: plan.serviceId, holder: plan.holder, stage, facts });
  deps.metrics.add('WorkflowRollbackFailed', 1, 'Count', { serviceId: plan.serviceId, mode: plan.mode });
  const notified = await attempt(() =>
    deps.notifier.publish({
      kind: 'rollback-failed',
      serviceId: plan.serviceId,
      subject: `ROLLBACK FAILED: ${plan.mode} ${plan.serviceId} needs a human now`,
      detail: {
        error: 'RollbackFailedError',
        stage,
        stageError: caught(error),
        failure: originalFailure(state),
        from: plan.from,
        to: plan.to,
        state: facts,
        reason: plan.reason,
        execution: plan.holder,
      },
    }),
  );
  if (!notified.ok) deps.logger.error('rollback-failed notification not sent', { error: notified.error });
  return {
    error: 'RollbackFailedError',
    message: notified.ok ? message : `${message} (The notification could not be sent: ${notified.error}.)`,
    done: [],
    needsHuman: facts,
  };
}
