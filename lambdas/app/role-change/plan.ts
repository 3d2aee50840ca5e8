/**
 * Plan: which node(s) to promote, in which order, from the decision. The decision picks the best
 * eligible replica; the plan adds the next ones, tried in turn when a promotion fails. A retry
 * under our own lease that had already chosen a target continues with that target only: another
 * choice could promote a second node. So does an invocation that takes over another one's expired
 * automatic-failover lease: that lease's target is continued, or demoted before another is tried.
 */
import { rankEligible } from '../../domain/decide.ts';
import { MAX_PROMOTION_ATTEMPTS } from '../../domain/role-change-budget.ts';
import type { ClusterState, Decision } from '../../domain/types.ts';

export type FailoverDecision = Extract<Decision, { action: 'failover' }>;

export interface RoleChangePlan {
  /** The decision, for the first target; `attemptFor` gives the decision for each. */
  readonly decision: FailoverDecision;
  /** Nodes to try, best first, with their lag at decision time. */
  readonly targets: readonly { readonly nodeId: string; readonly lagSeconds: number }[];
  /** The target comes from our own lease: an earlier attempt chose it (and may have promoted it). */
  readonly resumed: boolean;
  /**
   * A target an earlier attempt leased (and may have promoted) that is no longer eligible: it is
   * demoted again before anything else, and never tried in this plan.
   */
  readonly abandoned?: string;
}

export function planAutoFailover(
  decision: FailoverDecision,
  state: ClusterState,
  holderId: string,
  /**
   * Another invocation's expired automatic-failover lease taken over by this one: its target may
   * have been promoted by an attempt whose retries are spent. It counts as ours: continued when
   * still eligible, demoted first otherwise (never left writable next to another promotion).
   */
  inherited?: { readonly target?: string },
): RoleChangePlan {
  const leased = state.lease?.holder === holderId ? state.lease.target : inherited?.target;
  const ranked = rankEligible(decision.candidates).map((c) => ({
    nodeId: c.nodeId,
    lagSeconds: c.lagSeconds as number,
  }));
  if (leased !== undefined && leased !== state.primary) {
    const still = ranked.find((t) => t.nodeId === leased);
    // Still eligible: continue with it (a second choice could promote a second node).
    if (still)
      return {
        decision: { ...decision, to: still.nodeId, lagSeconds: still.lagSeconds },
        targets: [still],
        resumed: true,
      };
    const others = ranked.slice(0, MAX_PROMOTION_ATTEMPTS);
    const [best] = others.filter((t) => t.nodeId !== leased);
    if (best) {
      return {
        decision: { ...decision, to: best.nodeId, lagSeconds: best.lagSeconds },
        targets: others.filter((t) => t.nodeId !== leased),
        resumed: false,
        abandoned: leased,
      };
    }
  }
  // The decision's choice first (it is also the first of the ranking).
  const targets = [
    { nodeId: decision.to, lagSeconds: decision.lagSeconds },
    ...ranked.filter((t) => t.nodeId !== decision.to),
  ].slice(0, MAX_PROMOTION_ATTEMPTS);
  return { decision, targets, resumed: false };
}

/** The decision as it stands for one target of the plan. */
export function decisionFor(
  plan: RoleChangePlan,
  target: RoleChangePlan['targets'][number],
): FailoverDecision {
  return { ...plan.decision, to: target.nodeId, lagSeconds: target.lagSeconds };
}
