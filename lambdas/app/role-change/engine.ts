/**
 * The role-change engine: the one sequence by which the automatic path changes a service's roles.
 *
 *   plan -> lease (epoch compare-and-swap, naming the target)
 *        -> fence the old primary (best effort, short bound; fenced yes | no | unknown; a fence
 *           the live node refused, failed or hung on stops here: held, nothing promoted)
 *        -> promote the target (fencing token; must succeed before any traffic moves)
 *        -> the state read again: paused meanwhile, the promotion is undone and nothing moves
 *        -> shift traffic (compare-and-swap) -> verify -> commit (epoch + 1, history, needs-rejoin)
 *        -> announce
 *
 * A failed promotion moves nothing: the target is demoted again if its promotion may have
 * happened (a timeout), the on-call is told, and the next eligible candidate is tried (at most
 * MAX_PROMOTION_ATTEMPTS in all). When none could be promoted, the old primary is unfenced and the
 * lease released. A failure that cannot be undone stops in needs-attention, paused and notified.
 *
 * Services without node actions keep the traffic-only fast path: lease -> shift -> commit.
 * The steps live one per file next to this one.
 */
import { NodeActionFailedError, TransientAwsError } from '../../domain/errors.ts';
import type { FenceGate } from '../../domain/fence-gate.ts';
import type { NodeActionResult } from '../../domain/node-actions.ts';
import type { FencedVerdict } from '../../domain/types.ts';
import { hold, needsAttention } from './announce.ts';
import type { ChangeContext } from './context.ts';
import { FAILOVER_INVOCATION_ATTEMPTS, type FailoverOutcome } from './deps.ts';
import { fenceOldPrimary } from './fence.ts';
import { takeLease } from './lease.ts';
import { stopIfPaused } from './pause-check.ts';
import { decisionFor, type FailoverDecision, type RoleChangePlan } from './plan.ts';
import { promoteTarget } from './promote.ts';
import { demoteOrPage, keepOldPrimary } from './rollback.ts';
import { shiftVerifyCommit } from './shift-outcome.ts';

export async function runRoleChange(ctx: ChangeContext, plan: RoleChangePlan): Promise<FailoverOutcome> {
  const [firstTarget] = plan.targets;
  if (!firstTarget) throw new Error('a role-change plan needs at least one target');
  const first = decisionFor(plan, firstTarget);
  if (plan.abandoned !== undefined && ctx.withActions) {
    // An earlier attempt (of this invocation, or one whose expired lease this one took over)
    // leased (and may have promoted) a node that is no longer eligible: demote it first, under a
    // lease written now that still names it (a crash here leaves the retry the same job), so the
    // demote's token outranks that attempt's promote.
    const abandoned = { ...first, to: plan.abandoned };
    const renewed = await takeLease(ctx, abandoned);
    if (!renewed.acquired) return leaseHeld(ctx, plan, first, renewed.message);
    const stuck = await demoteOrPage(
      ctx,
      abandoned,
      'abandoned promotion not undone',
      (undone) =>
        `an earlier attempt (${ctx.state.lease?.holder ?? 'unknown'}) promoted (or tried to promote) ${plan.abandoned}, which is no longer eligible; undoing it failed: ${undone.join('; ')}`,
    );
    if (stuck) return stuck;
  }
  const lease = await takeLease(ctx, first, { unlessPaused: true });
  if (!lease.acquired && lease.paused) return pausedBeforeLease(ctx, plan, first);
  if (!lease.acquired) return leaseHeld(ctx, plan, first, lease.message);
  if (!ctx.withActions) return shiftVerifyCommit(ctx, first);

  const gate = await fenceOldPrimary(ctx, first);
  if (!gate.promote) return fenceNotEstablished(ctx, first, gate);
  const fenced = gate.fenced;
  const failures: string[] = [];
  for (let i = 0; i < plan.targets.length; i++) {
    const decision = decisionFor(plan, plan.targets[i]!);
    if (i > 0) {
      // The lease names the node being promoted, so a retry of this invocation continues with it.
      const renewed = await takeLease(ctx, decision);
      if (!renewed.acquired) return leaseTakenDuringPromotion(ctx, decision, fenced, renewed.message);
    }
    const promoted = await promoteTarget(ctx, decision);
    if (promoted.promoted) {
      // The promote may have run for a while: a pause written meanwhile stops the change here.
      const stopped = await stopIfPaused(ctx, decision, { fenced });
      if (stopped) return stopped;
      return shiftVerifyCommit(ctx, decision, { fenced });
    }

    failures.push(`${decision.to}: ${promoted.result.status} (${promoted.result.detail})`);
    if (promoted.result.status === 'timed-out') {
      // It may still be promoting: demote it with a token that outranks the promote, so a late
      // promote is refused. If that fails too, two writers are possible: stop and page.
      const stuck = await demoteOrPage(
        ctx,
        decision,
        'promotion not undone',
        (undone) =>
          `promote of ${decision.to} timed out and could not be undone (${undone.join('; ')}); traffic stays on ${decision.from}`,
        fenced,
      );
      if (stuck) return stuck;
    }
    const next = plan.targets[i + 1]?.nodeId;
    await announcePromoteFailed(ctx, decision, promoted.result, fenced, next);
  }

  const last = decisionFor(plan, plan.targets[plan.targets.length - 1]!);
  const unfenced = await keepOldPrimary(ctx, last, fenced, 'no promotion succeeded');
  ctx.deps.metrics.add('FailoverPromoteFailed', 1, 'Count', { serviceId: ctx.service.id });
  return {
    outcome: 'promote-failed',
    serviceId: ctx.service.id,
    from: first.from,
    to: first.to,
    reason: 'promote-failed',
    detail: `no candidate could be promoted, traffic stays on ${first.from}: ${failures.join('; ')}${unfenced}`,
    epoch: first.expectedEpoch,
    timings: ctx.timings(),
  };
}

/**
 * The old primary answered and refused or failed its fence, or the fence reached it and hung: it
 * may still take writes, so nothing is promoted (fence-gate.ts). A fence that may have half
 * happened is undone (the old primary keeps the traffic); the lease is released and the on-call
 * paged: the primary's alarm stays in ALARM and raises no new event, so a human must act. A
 * fence that failed retryably (throttled, never reached the node) is retried with the invocation
 * first, under this lease, while Lambda has retries left.
 */
async function fenceNotEstablished(
  ctx: ChangeContext,
  decision: FailoverDecision,
  gate: Extract<FenceGate, { promote: false }>,
): Promise<FailoverOutcome> {
  const { deps, service } = ctx;
  const fence = ctx.recorded.at(-1);
  if (gate.retryable && ctx.attempt < FAILOVER_INVOCATION_ATTEMPTS) {
    deps.logger.warn('fence of the old primary failed retryably: retrying the invocation', {
      serviceId: service.id,
      from: decision.from,
      detail: gate.detail,
    });
    throw new TransientAwsError('node-action.fence', {
      cause: new NodeActionFailedError(fence?.kind ?? 'unknown', 'failed', gate.detail),
    });
  }
  // unfenceOldPrimary leaves a node that was certainly not fenced ('no') alone.
  const unfenced = await keepOldPrimary(ctx, decision, gate.fenced, 'fence not established');
  const detail = `${gate.detail}: not promoting ${decision.to} next to it; traffic stays on ${decision.from}${unfenced}`;
  deps.logger.error('old primary not fenced: automatic failover held', {
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason: gate.why,
    fenced: gate.fenced,
    detail,
  });
  deps.metrics.add('FailoverFenceHeld', 1, 'Count', { serviceId: service.id, reason: gate.why });
  await deps.notifier.publish({
    kind: 'failover-failed',
    serviceId: service.id,
    subject: `${service.id}: primary ${decision.from} is down but could not be fenced (${gate.why}): automatic failover held, fenced: ${gate.fenced}`,
    detail: {
      serviceId: service.id,
      primary: decision.from,
      candidate: decision.to,
      epoch: decision.expectedEpoch,
      reason: gate.why,
      fenced: gate.fenced,
      detail,
      eventId: ctx.transition.eventId,
      actions: ctx.recorded,
      action: `check whether ${decision.from} still takes writes; stop or fence it, then fail over by hand (failover failover ${service.id}) or fix its fence and let the alarm fire again`,
    },
  });
  return {
    outcome: 'held',
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason: gate.why,
    detail,
    epoch: decision.expectedEpoch,
    timings: ctx.timings(),
  };
}

/** Another attempt (most often a duplicate of this event) won the race; it will announce. */
async function leaseHeld(
  ctx: ChangeContext,
  plan: RoleChangePlan,
  first: FailoverDecision,
  message: string,
): Promise<FailoverOutcome> {
  return {
    ...(await hold(ctx, 'operation-in-progress', message, plan.decision, true)),
    to: first.to,
  };
}

/**
 * Paused between the decision's read and the lease write: nothing was done, so the hold is the one
 * the decision would have made had it seen the pause (logged and counted by takeLease).
 */
async function pausedBeforeLease(
  ctx: ChangeContext,
  plan: RoleChangePlan,
  first: FailoverDecision,
): Promise<FailoverOutcome> {
  const detail = `automatic failover of ${ctx.service.id} was paused by an operator before its lease was written; nothing was fenced or promoted`;
  return { ...(await hold(ctx, 'paused', detail, plan.decision, true)), to: first.to };
}

async function announcePromoteFailed(
  ctx: ChangeContext,
  decision: FailoverDecision,
  result: NodeActionResult,
  fenced: FencedVerdict,
  next: string | undefined,
): Promise<void> {
  const { deps, service } = ctx;
  deps.logger.warn('promotion failed: nothing moved', {
    serviceId: service.id,
    to: decision.to,
    status: result.status,
    detail: result.detail,
    next,
  });
  await deps.notifier.publish({
    kind: 'promote-failed',
    serviceId: service.id,
    subject: `${service.id}: promoting ${decision.to} failed (${result.status}), traffic stays on ${decision.from}; ${
      next ? `trying ${next} next` : 'no other candidate: automatic failover held'
    }`,
    detail: {
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      epoch: decision.expectedEpoch,
      status: result.status,
      reason: result.detail,
      ...(result.outputTail !== undefined ? { outputTail: result.outputTail } : {}),
      fenced,
      next: next ?? null,
      eventId: ctx.transition.eventId,
      actions: ctx.recorded,
    },
  });
}

/**
 * Another operation took the lease between two promotion attempts: ours expired under us. The
 * old primary is left as it is (the new holder decides about it); nothing moved.
 */
async function leaseTakenDuringPromotion(
  ctx: ChangeContext,
  decision: FailoverDecision,
  fenced: FencedVerdict,
  message: string,
): Promise<FailoverOutcome> {
  return needsAttention(
    ctx,
    decision,
    'lease-lost',
    `the lease was taken over between promotion attempts (${message}); nothing moved`,
    { fenced },
  );
}
