/**
 * What follows the traffic shift's answer: verify and commit when it moved; when it did not,
 * roll back what the node actions did (demote the promoted target, unfence the old primary) and
 * say why; when nobody knows, read back and ask a human.
 */
import { TrafficShiftError, TransientAwsError } from '../../domain/errors.ts';
import type { FencedVerdict, TrafficShiftResult } from '../../domain/types.ts';
import { needsAttention, reportTrafficConflict, trafficConflictNotification } from './announce.ts';
import { commitChange } from './commit.ts';
import type { ChangeContext } from './context.ts';
import { describe } from './context.ts';
import { FAILOVER_INVOCATION_ATTEMPTS, type FailoverOutcome } from './deps.ts';
import type { FailoverDecision } from './plan.ts';
import { demoteTarget, unfenceOldPrimary } from './rollback.ts';
import { enqueueShift, isRetryableShiftError, readBack, shiftTraffic } from './shift.ts';
import { verifyShift } from './verify.ts';

/** Set when the change runs with node actions: the target is promoted, the old primary fenced or not. */
export interface Promoted {
  readonly fenced: FencedVerdict;
}

export async function shiftVerifyCommit(
  ctx: ChangeContext,
  decision: FailoverDecision,
  promoted?: Promoted,
): Promise<FailoverOutcome> {
  const result = await shiftTraffic(ctx, decision);
  switch (result.status) {
    case 'shifted':
      return verifyAndCommit(ctx, decision, promoted, result.changeId);
    case 'conflict':
      return conflict(ctx, decision, result, promoted);
    case 'failed':
      return shiftFailed(ctx, decision, result, promoted);
  }
}

async function verifyAndCommit(
  ctx: ChangeContext,
  decision: FailoverDecision,
  promoted: Promoted | undefined,
  changeId?: string,
): Promise<FailoverOutcome> {
  if (promoted) {
    const verified = await verifyShift(ctx, decision);
    if (!verified.ok) {
      // Not rolled back: the router accepted our swap and then moved; which node takes writes is
      // for a human to judge. Paused so nothing automatic adds to it.
      const paused = await ctx.pauseQuietly('verify failed');
      return needsAttention(ctx, decision, 'verify-failed', verified.detail, {
        paused,
        fenced: promoted.fenced,
      });
    }
  }
  return commitChange(ctx, decision, {
    ...(changeId !== undefined ? { changeId } : {}),
    ...(promoted ? { fenced: promoted.fenced } : {}),
  });
}

/**
 * Undoes the node actions of a change whose traffic did not move: the target is demoted, then the
 * old primary unfenced (it still has the traffic). Returns what could not be undone.
 */
export async function rollBackActions(
  ctx: ChangeContext,
  decision: FailoverDecision,
  promoted: Promoted,
): Promise<string[]> {
  const demote = await demoteTarget(ctx, decision);
  // With the target possibly still writable, unfencing the old primary would make two writers.
  if (demote.length > 0) return demote;
  return unfenceOldPrimary(ctx, decision, promoted.fenced);
}

/** What to undo, tell and return when the shift ended with `status` instead of `shifted`. */
type ShiftNotDoneHandler<S extends Exclude<TrafficShiftResult['status'], 'shifted'>> = (
  ctx: ChangeContext,
  decision: FailoverDecision,
  result: Extract<TrafficShiftResult, { status: S }>,
  promoted: Promoted | undefined,
) => Promise<FailoverOutcome>;

const conflict: ShiftNotDoneHandler<'conflict'> = async (ctx, decision, result, promoted) => {
  const { deps, service } = ctx;
  // Someone moved traffic outside the lease. Never overwrite it: tell a human what is live now.
  const undone = promoted ? await rollBackActions(ctx, decision, promoted) : [];
  const paused = undone.length > 0 ? await ctx.pauseQuietly('rollback incomplete') : false;
  await ctx.releaseQuietly('traffic conflict');
  reportTrafficConflict(deps, decision, result, { rollbackProblems: undone });
  await deps.notifier.publish(
    trafficConflictNotification({
      decision,
      observed: result.observed,
      message: result.message,
      eventId: ctx.transition.eventId,
      paused,
      extra: {
        ...(promoted ? { fenced: promoted.fenced, actions: ctx.recorded } : {}),
        ...(undone.length > 0 ? { rollbackProblems: undone, paused } : {}),
      },
    }),
  );
  return {
    outcome: 'conflict',
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason: 'traffic-conflict',
    detail: result.message,
    epoch: decision.expectedEpoch,
    timings: ctx.timings(),
  };
};

const shiftFailed: ShiftNotDoneHandler<'failed'> = async (ctx, decision, result, promoted) => {
  const { deps, service } = ctx;
  const fenced = promoted ? { fenced: promoted.fenced } : {};
  deps.metrics.add('FailoverShiftFailed', 1, 'Count', { serviceId: service.id, errorName: result.errorName });
  if (result.uncertain) {
    // The change may have applied: ask the router which node it points at now.
    const { observed, error } = await readBack(ctx);
    deps.logger.warn('uncertain traffic shift read back', {
      serviceId: service.id,
      errorName: result.errorName,
      observed,
      readError: error === undefined ? undefined : describe(error),
    });
    if (error === undefined && observed === decision.to) return commitChange(ctx, decision, fenced);
    if (error !== undefined || observed !== decision.from) {
      // Leave the lease to expire: nothing automatic should touch this service until a human looks.
      const paused = promoted ? await ctx.pauseQuietly('shift uncertain') : false;
      return needsAttention(
        ctx,
        decision,
        'shift-uncertain',
        `traffic shift to ${decision.to} failed with ${result.errorName} (${result.message}) and traffic now points at ${
          error === undefined
            ? (observed ?? 'no single node')
            : `an unknown target (read-back failed: ${describe(error)})`
        }`,
        { paused, ...fenced },
      );
    }
    // Traffic is still on `from`: the change did not apply, a certain failure after all.
  }
  const retryable = isRetryableShiftError(result.errorName);
  if (retryable) {
    // Nothing was applied and the lease is ours: hand the change over instead of retrying the
    // whole invocation a minute later (what loses failovers when a zone's changes pile up).
    const queued = await enqueueShift(ctx, decision, result, promoted);
    if (queued) return queued;
  }
  const error = new TrafficShiftError(service.id, `${result.errorName}: ${result.message}`, false);
  if (promoted && retryable && ctx.attempt < FAILOVER_INVOCATION_ATTEMPTS) {
    // The target is promoted and named in our lease: keep both, and let Lambda's retry (same
    // request id) resume with the same target. Releasing would let another choice promote a second node.
    deps.logger.warn(
      'traffic shift failed after the promotion, nothing moved: the retry resumes under this lease',
      {
        serviceId: service.id,
        to: decision.to,
        errorName: result.errorName,
      },
    );
    throw new TransientAwsError('traffic.shift', { cause: error });
  }
  if (promoted) {
    const undone = await rollBackActions(ctx, decision, promoted);
    const paused = undone.length > 0 ? await ctx.pauseQuietly('rollback incomplete') : false;
    if (undone.length === 0) await ctx.releaseQuietly('shift failed');
    return needsAttention(
      ctx,
      decision,
      'shift-failed',
      `traffic shift to ${decision.to} failed with ${result.errorName} (${result.message}); traffic stays on ${decision.from}, which is down; ${
        undone.length > 0 ? `rollback incomplete: ${undone.join('; ')}` : `${decision.to} demoted again`
      }`,
      { paused, ...fenced },
    );
  }
  if (retryable) {
    // The lease stays ours: Lambda's retry (same request id) resumes under it, and the lease
    // counts the invocations, so the last one knows no retry follows it (a commit that fails
    // transiently then says so instead of throwing into the dead-letter queue unannounced).
    deps.logger.warn('traffic shift failed, nothing changed: retrying the whole invocation', {
      serviceId: service.id,
      errorName: result.errorName,
      message: result.message,
    });
    throw new TransientAwsError('traffic.shift', { cause: error });
  }
  await ctx.releaseQuietly('shift failed');
  return needsAttention(
    ctx,
    decision,
    'shift-failed',
    `traffic shift to ${decision.to} failed with ${result.errorName} (${result.message}); traffic stays on ${decision.from}, which is down`,
  );
};
