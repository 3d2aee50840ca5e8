/**
 * Fence the old primary, best effort: it is failing and may not answer. The bound is short
 * (AUTO_FENCE_BOUND_MS) and the outcome is recorded: `yes` (the fence succeeded), `no` (it failed,
 * or the node has no fence action), `unknown` (no answer in time; it may still land, and a later
 * unfence outranks it). Whether the promotion may follow is the fence gate's call
 * (domain/fence-gate.ts): after a fence the node answered and refused or failed, or one that
 * reached it and hung, the old primary may still take writes, and nothing is promoted.
 */
import { type FenceGate, fenceGate } from '../../domain/fence-gate.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverDecision } from './plan.ts';

export async function fenceOldPrimary(ctx: ChangeContext, decision: FailoverDecision): Promise<FenceGate> {
  if (!ctx.has(decision.from, 'fence')) return fenceGate(undefined);
  const result = await ctx.runAction(
    decision.from,
    'fence',
    'fence',
    decision.expectedEpoch + 1,
    'auto-failover',
  );
  return fenceGate(result);
}
