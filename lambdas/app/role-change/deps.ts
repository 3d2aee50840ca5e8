/**
 * What the role-change engine needs, what it returns, and its bounds. The failover Lambda wires
 * the AWS adapters (lambdas/runtime/aws-ports.ts); tests, the drill and the benchmark wire the
 * in-memory environment (lambdas/testing/).
 */
import type { ServiceConfig } from '../../domain/config.ts';
import type { NodeActionPort, NodeActionRole } from '../../domain/node-actions.ts';
import type { ShiftQueuePort } from '../../domain/ports.ts';
import { AUTO_FENCE_BOUND_SECONDS, configuredTimeouts } from '../../domain/role-change-budget.ts';
import type { AutomationPorts } from '../ports.ts';

export interface RoleChangeDeps extends AutomationPorts {
  /** Unique per attempt (the Lambda request id): the lease holder and the history's actor. */
  readonly holderId: string;
  /**
   * Where a traffic change goes when the router throttles it (Route 53 allows 5 requests/s per
   * account and one change at a time per hosted zone): the zone shifter sends it, coalesced with
   * the other changes for the same zone, under this invocation's lease. Without it a throttled
   * change releases the lease and throws, and the whole invocation is retried (after a minute).
   * @default - none
   */
  readonly shiftQueue?: ShiftQueuePort;
  /**
   * Fence, promote and demote actions on the nodes themselves. A service whose nodes have none
   * takes the traffic-only path.
   * @default - no node actions for any service
   */
  readonly actions?: NodeActionPort;
  /**
   * How long one action may run before the engine stops waiting (ms).
   * @default - the configured action's timeoutSeconds
   */
  readonly actionTimeoutMs?: (service: ServiceConfig, nodeId: string, role: NodeActionRole) => number;
  /**
   * How long the lease fences other operations. Longer than one invocation can run, so it never
   * expires under a live attempt; short enough that a crashed attempt frees the service soon.
   * @default 120
   */
  readonly leaseSeconds?: number;
}

export type OutcomeKind =
  | 'failed-over'
  | 'held'
  | 'dry-run'
  | 'conflict'
  | 'ignored'
  | 'needs-attention'
  /** Leased and decided; the throttled change went to the zone shifter, which commits and announces it. */
  | 'queued'
  /** No candidate could be promoted: nothing moved, the lease is released, the on-call is told. */
  | 'promote-failed'
  /** A former primary came back and was demoted (or fenced) with the current epoch. */
  | 'rejoined';

export interface FailoverTimings {
  /** Alarm state change (event timestamp) to the start of this invocation; 0 when the clocks disagree. */
  readonly detectionMs: number;
  /** Start of the invocation to the decision (the parallel fact-gathering round trip dominates). */
  readonly decisionMs: number;
  /** Time spent inside node actions (fence, promote, rollback), measured around each run. */
  readonly actionsMs?: number;
  /**
   * The automation's own time from the decision to the traffic-shift request, without the node
   * actions' run time: what the engine adds to a failover.
   */
  readonly overheadMs?: number;
  /** The traffic shift call(s), including a read-back after an uncertain answer. */
  readonly shiftMs?: number;
  /** Alarm state change to the end of this invocation (traffic moved and recorded, when it did). */
  readonly totalMs: number;
}

/** Plain JSON, returned by the Lambda and logged. */
export interface FailoverOutcome {
  readonly outcome: OutcomeKind;
  readonly serviceId?: string;
  readonly from?: string;
  readonly to?: string;
  /** A HoldReason, 'unknown-alarm', 'invalid-event', or what went wrong. */
  readonly reason?: string;
  readonly detail?: string;
  /** The epoch the service is at after this invocation, as far as this invocation knows. */
  readonly epoch?: number;
  readonly timings?: FailoverTimings;
}

export const DEFAULT_LEASE_SECONDS = 120;

export { MAX_PROMOTION_ATTEMPTS } from '../../domain/role-change-budget.ts';

/**
 * The automatic path fences a failing primary best effort: it may not answer at all. The fence
 * action's own timeout is capped at this so a dead node delays the promotion by at most this.
 */
export const AUTO_FENCE_BOUND_MS = AUTO_FENCE_BOUND_SECONDS * 1000;

/** One invocation plus Lambda's two retries of an asynchronous invocation (configureAsyncInvoke). */
export const FAILOVER_INVOCATION_ATTEMPTS = 3;

/** The configured action's own timeout; 60 s for a port that knows actions the configuration does not. */
export function defaultActionTimeoutMs(service: ServiceConfig, nodeId: string, role: NodeActionRole): number {
  return (configuredTimeouts(service, nodeId, role) ?? 60) * 1000;
}
