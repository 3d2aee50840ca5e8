/**
 * Fence the old primary, best effort: it is failing and may not answer. The bound is short
 * (AUTO_FENCE_BOUND_MS) and the outcome is recorded, never fatal: `yes` (the fence succeeded),
 * `no` (it failed, or the node has no fence action), `unknown` (no answer in time; it may still
 * land, and a later unfence outranks it). The promotion goes ahead either way: the old primary is
 * marked needs-rejoin and takes no traffic or role until it is demoted or fenced again.
 */
import type { FencedVerdict } from '../../domain/types.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverDecision } from './plan.ts';

export async function fenceOldPrimary(
  ctx: ChangeContext,
  decision: FailoverDecision,
): Promise<FencedVerdict> {
  if (!ctx.has(decision.from, 'fence')) return 'no';
  const result = await ctx.runAction(
    decision.from,
    'fence',
    'fence',
    decision.expectedEpoch + 1,
    'auto-failover',
  );
  switch (result.status) {
    case 'succeeded':
      return 'yes';
    case 'failed':
      return 'no';
    case 'timed-out':
      return 'unknown';
  }
}
