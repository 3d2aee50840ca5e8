/**
 * Roll back to the last safe state: traffic where it was, one writer. Each undoing call carries a
 * token that outranks the call it undoes (TOKEN_SEQUENCE), so a forward call that answers late is
 * refused by the node instead of redoing what was undone.
 *
 * - A target whose promotion may have happened (it succeeded, or timed out) is demoted.
 * - An old primary whose fence may have happened (`yes` or `unknown`) is unfenced, when no
 *   promotion stands: it still holds the traffic and is the only node that can take writes.
 *
 * Returns what could not be undone; empty when the rollback is complete.
 */
import type { FencedVerdict } from '../../domain/types.ts';
import { needsAttention } from './announce.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverOutcome } from './deps.ts';
import type { FailoverDecision } from './plan.ts';

export async function demoteTarget(ctx: ChangeContext, decision: FailoverDecision): Promise<string[]> {
  if (!ctx.has(decision.to, 'demote')) {
    return ctx.has(decision.to, 'promote')
      ? [`${decision.to} may be promoted and has no demote action to undo it`]
      : [];
  }
  const result = await ctx.runAction(
    decision.to,
    'demote',
    'demoteTarget',
    decision.expectedEpoch + 1,
    'rollback',
  );
  return result.status === 'succeeded' ? [] : [`demote of ${decision.to} ${result.status}: ${result.detail}`];
}

export async function unfenceOldPrimary(
  ctx: ChangeContext,
  decision: FailoverDecision,
  fenced: FencedVerdict,
): Promise<string[]> {
  if (fenced === 'no' || !ctx.has(decision.from, 'unfence')) return [];
  const result = await ctx.runAction(
    decision.from,
    'unfence',
    'unfence',
    decision.expectedEpoch + 1,
    'rollback',
  );
  // The old primary is failing: an unfence that does not answer is expected and harmless (it
  // takes no traffic away from anyone), so it is reported, not fatal.
  return result.status === 'succeeded'
    ? []
    : [`unfence of ${decision.from} ${result.status}: ${result.detail}`];
}

/**
 * Gives the change up with traffic still on the old primary: it is unfenced (best effort: it is
 * failing, and no other node takes writes) and the lease released. Returns what the unfence could
 * not do as a `; ...` tail for the detail ('' when nothing is left).
 */
export async function keepOldPrimary(
  ctx: ChangeContext,
  decision: FailoverDecision,
  fenced: FencedVerdict,
  why: string,
): Promise<string> {
  const undone = await unfenceOldPrimary(ctx, decision, fenced);
  await ctx.releaseQuietly(why);
  return undone.length > 0 ? `; ${undone.join('; ')}` : '';
}

/**
 * Demotes a target whose promotion may stand. Undefined when that worked; when it did not, the
 * service is paused and a human paged (promotionNotUndone) with `detail` of what failed.
 */
export async function demoteOrPage(
  ctx: ChangeContext,
  decision: FailoverDecision,
  pauseReason: string,
  detail: (undone: readonly string[]) => string,
  fenced?: FencedVerdict,
): Promise<FailoverOutcome | undefined> {
  const undone = await demoteTarget(ctx, decision);
  if (undone.length === 0) return undefined;
  return promotionNotUndone(ctx, decision, pauseReason, detail(undone), fenced);
}

/**
 * A promotion (or an attempt at one) that could not be undone: two writers are possible, so
 * automatic changes of the service stop and a human is paged with `detail`.
 */
export async function promotionNotUndone(
  ctx: ChangeContext,
  decision: FailoverDecision,
  pauseReason: string,
  detail: string,
  fenced?: FencedVerdict,
): Promise<FailoverOutcome> {
  const paused = await ctx.pauseQuietly(pauseReason);
  return needsAttention(ctx, decision, 'promote-not-undone', detail, {
    paused,
    ...(fenced !== undefined ? { fenced } : {}),
  });
}
