/**
 * Promote the target with the change's fencing token. Promotion must succeed before any traffic
 * moves (invariant 8): for a service whose replicas are read-only until promoted, moving traffic
 * first is an outage with extra steps. A node without a promote action is promoted by the traffic
 * move alone (the traffic-only path).
 */
import type { NodeActionResult } from '../../domain/node-actions.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverDecision } from './plan.ts';

export type PromoteResult =
  | { readonly promoted: true; readonly ran: boolean }
  | { readonly promoted: false; readonly result: NodeActionResult };

export async function promoteTarget(ctx: ChangeContext, decision: FailoverDecision): Promise<PromoteResult> {
  if (!ctx.has(decision.to, 'promote')) return { promoted: true, ran: false };
  const result = await ctx.runAction(
    decision.to,
    'promote',
    'promote',
    decision.expectedEpoch + 1,
    'auto-failover',
  );
  if (result.status === 'succeeded') return { promoted: true, ran: true };
  return { promoted: false, result };
}
