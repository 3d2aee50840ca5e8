/**
 * Commit: epoch + 1, the new primary, the history entry (with the node actions' results and
 * whether the old primary was fenced) and the old primary marked needs-rejoin, in one conditional
 * write that only the lease holder at the expected epoch can make. Then announce.
 *
 * A commit that fails after traffic moved must not be final while Lambda will still retry: a
 * transient error throws (keeping the lease), and the retry under the same request id resumes,
 * finds traffic already on the target and commits. Only the last attempt reports needs-attention.
 */
import { moveCommit } from '../../domain/commit-request.ts';
import { currentState } from '../../domain/decide.ts';
import { LeaseLostError, TransientAwsError } from '../../domain/errors.ts';
import type { ClusterState, FencedVerdict, HistoryEntry, RecordedAction } from '../../domain/types.ts';
import { announceCommitted, failedOverNotification, needsAttention, reportFailedOver } from './announce.ts';
import type { ChangeContext } from './context.ts';
import { describe } from './context.ts';
import { FAILOVER_INVOCATION_ATTEMPTS, type FailoverOutcome } from './deps.ts';
import type { FailoverDecision } from './plan.ts';
import { rejoinIfBack } from './rejoin-after-commit.ts';

export interface CommitOptions {
  readonly changeId?: string;
  /** Set for a service with node actions. */
  readonly fenced?: FencedVerdict;
  /** The traffic moved in an earlier attempt (CommitRequest.alreadySent): a pause since does not refuse it. */
  readonly alreadySent?: boolean;
}

/**
 * The history entry of an automatic failover, whichever path committed it (the failover Lambda or
 * the zone shifter): the old primary needs to rejoin, and the node actions' results are kept.
 */
export function autoFailoverHistory(input: {
  readonly decision: FailoverDecision;
  readonly epoch: number;
  readonly at: number;
  readonly alarmName: string;
  readonly timings: Readonly<Record<string, number>>;
  readonly actor: string;
  readonly actions?: readonly RecordedAction[];
  readonly fenced?: FencedVerdict;
  /** Appended to the reason, e.g. how the change was sent. */
  readonly note?: string;
}): HistoryEntry {
  const { decision } = input;
  // Unknown only when a retry finishes a change whose lease predates the recorded lag.
  const lagKnown = Number.isFinite(decision.lagSeconds);
  return {
    serviceId: decision.serviceId,
    epoch: input.epoch,
    at: input.at,
    operation: 'auto-failover',
    from: decision.from,
    to: decision.to,
    reason: `health alarm ${input.alarmName} of primary ${decision.from} in ALARM; ${decision.to} OK with ${lagKnown ? `${decision.lagSeconds} s` : 'unrecorded'} lag${input.note ? `; ${input.note}` : ''}`,
    ...(lagKnown ? { lagSeconds: decision.lagSeconds } : {}),
    timings: input.timings,
    actor: input.actor,
    ...(input.actions && input.actions.length > 0 ? { actions: [...input.actions] } : {}),
    ...(input.fenced !== undefined ? { fenced: input.fenced } : {}),
    needsRejoin: [decision.from],
  };
}

/** The needs-rejoin set after `decision`: the old primary joins it, the new primary leaves it. */
export function rejoinSetAfter(state: ClusterState, decision: FailoverDecision): string[] {
  const kept = (state.needsRejoin ?? []).filter((n) => n !== decision.to && n !== decision.from);
  return [...kept, decision.from];
}

export async function commitChange(
  ctx: ChangeContext,
  decision: FailoverDecision,
  options: CommitOptions = {},
): Promise<FailoverOutcome> {
  const { deps, service, transition } = ctx;
  const at = deps.clock.now();
  const epoch = decision.expectedEpoch + 1;
  const timings = ctx.timings();
  const needsRejoin = rejoinSetAfter(ctx.state, decision);
  const history = autoFailoverHistory({
    decision,
    epoch,
    at,
    alarmName: transition.alarmName,
    timings: { ...timings },
    actor: deps.holderId,
    actions: ctx.recorded,
    ...(options.fenced !== undefined ? { fenced: options.fenced } : {}),
  });
  try {
    const move = {
      serviceId: service.id,
      expectedEpoch: decision.expectedEpoch,
      holder: deps.holderId,
      to: decision.to,
    };
    await deps.state.commit(
      moveCommit(move, at, history, { needsRejoin, ...(options.alreadySent ? { alreadySent: true } : {}) }),
    );
  } catch (err) {
    if (err instanceof LeaseLostError) {
      // Refused by a pause written after the last check (pause-check.ts): the move went out
      // before this attempt could see it. Recorded, like a retry's move sent before a pause,
      // so the record names the node that takes writes and the old primary must rejoin.
      if (!options.alreadySent && (await pausedUnderOurLease(ctx, decision))) {
        deps.logger.warn('commit refused by a pause written after the shift went out: recording the move', {
          serviceId: service.id,
          to: decision.to,
          epoch,
        });
        return commitChange(ctx, decision, { ...options, alreadySent: true });
      }
      return leaseLost(ctx, decision, err);
    }
    if (await committedAnyway(ctx, decision)) {
      deps.logger.warn('commit answered with an error but is recorded', {
        serviceId: service.id,
        error: String(err),
      });
    } else if (err instanceof TransientAwsError && ctx.attempt < FAILOVER_INVOCATION_ATTEMPTS) {
      // Lambda retries this invocation under the same request id: it resumes under this lease,
      // finds traffic on the target and commits. Announcing a failure now would be false.
      deps.logger.warn('commit failed transiently after traffic moved: throwing so the retry commits', {
        serviceId: service.id,
        to: decision.to,
        epoch,
        attempt: ctx.attempt,
        error: describe(err),
      });
      deps.metrics.add('FailoverCommitRetried', 1, 'Count', { serviceId: service.id });
      throw err;
    } else {
      return needsAttention(
        ctx,
        decision,
        'commit-failed',
        `traffic moved to ${decision.to}, but recording epoch ${epoch} failed (${describe(err)}, attempt ${ctx.attempt}): the state still names ${decision.from} as primary`,
        options.fenced !== undefined ? { fenced: options.fenced } : {},
      );
    }
  }

  const final = ctx.timings();
  reportFailedOver(deps, decision, epoch, final, { changeId: options.changeId, fenced: options.fenced });
  await announceCommitted(
    ctx,
    failedOverNotification({
      decision,
      epoch,
      reason: history.reason,
      transition,
      timings: final,
      actor: deps.holderId,
      extra: {
        needsRejoin,
        ...(options.fenced !== undefined ? { fenced: options.fenced } : {}),
        ...(ctx.recorded.length > 0 ? { actions: ctx.recorded } : {}),
      },
    }),
  );
  const outcome: FailoverOutcome = {
    outcome: 'failed-over',
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason: 'primary-alarm',
    epoch,
    timings: ctx.timings(),
  };
  // An OK event of the old primary that arrived before this commit marked it found nothing to do.
  await rejoinIfBack(ctx, decision, {
    ...ctx.state,
    lease: undefined,
    primary: decision.to,
    epoch,
    lastChangeAt: at,
    needsRejoin,
  });
  return outcome;
}

/**
 * The commit was fenced out: this attempt stalled past its lease and another operation took it.
 * Say what the record holds now. When another attempt already completed this very change (a
 * duplicate event after the lease expired), everything agrees and it announced: stay quiet.
 */
async function leaseLost(
  ctx: ChangeContext,
  decision: FailoverDecision,
  err: LeaseLostError,
): Promise<FailoverOutcome> {
  const { deps, service } = ctx;
  let now: ClusterState | undefined;
  let readError: unknown;
  try {
    now = currentState(await deps.state.get(service.id), service);
  } catch (e) {
    readError = e;
  }
  if (now && now.primary === decision.to && now.epoch > decision.expectedEpoch) {
    const by = now.lastChange?.actor ?? 'another operation';
    deps.logger.warn('lease lost, but the same change was completed by another attempt', {
      serviceId: service.id,
      to: decision.to,
      epoch: now.epoch,
      by,
    });
    deps.metrics.add('FailoverLeaseConflict', 1, 'Count', { serviceId: service.id });
    return {
      outcome: 'conflict',
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      reason: 'superseded',
      detail: `this attempt outlived its lease; ${by} completed the failover to ${decision.to} meanwhile (epoch ${now.epoch})`,
      epoch: now.epoch,
      timings: ctx.timings(),
    };
  }
  const record =
    now === undefined
      ? `the record could not be read (${describe(readError)})`
      : `the record names ${now.primary} at epoch ${now.epoch}${now.lease ? `, leased by ${now.lease.operation} ${now.lease.holder}` : ''}`;
  return needsAttention(
    ctx,
    decision,
    'lease-lost',
    `traffic points at ${decision.to} after this attempt's shift, but its lease was taken over before it could record epoch ${decision.expectedEpoch + 1} (${describe(err)}): ${record}`,
  );
}

/** The record still at the decision's epoch, paused, and the lease still this invocation's. */
async function pausedUnderOurLease(ctx: ChangeContext, decision: FailoverDecision): Promise<boolean> {
  try {
    const now = await ctx.deps.state.get(ctx.service.id);
    return (
      now?.paused === true &&
      now.epoch === decision.expectedEpoch &&
      now.lease?.holder === ctx.deps.holderId &&
      now.lease.attempt === undefined
    );
  } catch {
    return false;
  }
}

async function committedAnyway(ctx: ChangeContext, decision: FailoverDecision): Promise<boolean> {
  try {
    const now = await ctx.deps.state.get(ctx.service.id);
    return now?.primary === decision.to && now.epoch === decision.expectedEpoch + 1;
  } catch {
    return false;
  }
}
