/**
 * Node actions: what the automation does to a node itself (fence, promote, demote), as opposed to
 * where traffic points. One port, many kinds (a user's Lambda, SSM Run Command, EC2 stop or
 * isolate, RDS read-replica promotion, SQL on PostgreSQL or MySQL); every caller (automatic
 * failover, switchover, operator failover, rejoin of a returning old primary) goes through it.
 *
 * Fencing tokens. Every call carries a token that orders calls, so a call that answers late can be
 * refused by the node:
 *
 *   token = epoch * TOKEN_EPOCH_STRIDE + attempt * TOKEN_ATTEMPT_STRIDE + sequence
 *
 * `epoch` is the epoch the change produces; `attempt` counts the leases taken at that epoch (the
 * state table's lease sequence, +1 on every lease write, reset by the commit), so a later attempt
 * of the same epoch outranks everything an earlier one sent, its rollback included; `sequence`
 * orders the steps within one attempt (TOKEN_SEQUENCE). The closing steps (a returning old
 * primary's rejoin, the split-brain fence) ignore the attempt: they sit above every attempt of
 * their epoch and below everything of the next one.
 *
 * The contract for whoever implements an action on a node: remember the highest token seen and
 * refuse any call with a lower one. Rollback calls always outrank the forward calls they undo
 * (their sequence numbers are higher), so a promote that lands after its own rollback's demote is
 * refused instead of promoting the node again.
 *
 * Pure: no AWS SDK, no environment, no clock.
 */

export type NodeActionRole = 'fence' | 'unfence' | 'promote' | 'demote';

/** Why the action runs, passed to the action (and templated into SSM commands as `{mode}`). */
export type NodeActionMode =
  | 'auto-failover'
  | 'failover'
  | 'switchover'
  | 'rollback'
  | 'rejoin'
  | 'split-brain';

/** One epoch spans this many tokens. */
export const TOKEN_EPOCH_STRIDE = 1_000_000_000;

/** One attempt (lease) within an epoch spans this many sequence numbers. */
export const TOKEN_ATTEMPT_STRIDE = 100;

/**
 * The highest attempt number a token can carry: the band above it belongs to the closing steps
 * (rejoin, split-brain fence). Ten million leases at one epoch are never reached in practice; a
 * caller past it must hold instead of sending a token that no longer orders (tokenAttemptFits).
 */
export const MAX_TOKEN_ATTEMPT = TOKEN_EPOCH_STRIDE / TOKEN_ATTEMPT_STRIDE - 2;

/**
 * Sequence numbers within one attempt. Forward steps first, their undoing after: the rollback of a
 * step always carries a higher token than the step itself.
 */
export const TOKEN_SEQUENCE = {
  fence: 1,
  promote: 2,
  demote: 3,
  /** Rollback: undo the fence of the old primary. */
  unfence: 11,
  /** Rollback: demote a target that our promote may have promoted. */
  demoteTarget: 12,
  /** Closing: a returning old primary rejoins as a replica (demote, or fence when it has no demote). */
  rejoin: 21,
  /** Closing: a second writer found by the split-brain detector is fenced. */
  splitBrainFence: 31,
} as const;

export type TokenStep = keyof typeof TOKEN_SEQUENCE;

/** Steps that close an epoch: above every attempt of it, whatever the attempt. */
const CLOSING_STEPS: ReadonlySet<TokenStep> = new Set<TokenStep>(['rejoin', 'splitBrainFence']);

/** Whether `attempt` (a lease sequence) still yields tokens that order; past it, hold. */
export function tokenAttemptFits(attempt: number): boolean {
  return Number.isInteger(attempt) && attempt >= 0 && attempt <= MAX_TOKEN_ATTEMPT;
}

/**
 * The fencing token for one step of the role change that produces `epoch`, sent under the
 * `attempt`-th lease taken at that epoch (LeaseGrant.sequence; 0 for callers without one, which
 * orders below every leased attempt). Strictly increasing in (epoch, attempt, step): a later
 * attempt's fence outranks an earlier attempt's unfence, and a rejoin outranks every attempt of
 * its epoch. Throws RangeError for an attempt that does not fit (tokenAttemptFits): a programming
 * error, the caller checks first.
 */
export function fencingToken(epoch: number, step: TokenStep, attempt = 0): number {
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new RangeError(`epoch must be a whole number >= 0, got: ${epoch}`);
  if (!tokenAttemptFits(attempt))
    throw new RangeError(`attempt must be a whole number from 0 to ${MAX_TOKEN_ATTEMPT}, got: ${attempt}`);
  const slot = CLOSING_STEPS.has(step) ? MAX_TOKEN_ATTEMPT + 1 : attempt;
  return epoch * TOKEN_EPOCH_STRIDE + slot * TOKEN_ATTEMPT_STRIDE + TOKEN_SEQUENCE[step];
}

export interface NodeActionRequest {
  readonly serviceId: string;
  /** The node the action is about. */
  readonly nodeId: string;
  readonly role: NodeActionRole;
  readonly mode: NodeActionMode;
  /** The epoch the change produces (the state's epoch + 1 during a change). */
  readonly epoch: number;
  /** Orders calls within an epoch; see the module comment. */
  readonly token: number;
  /** The run gives up waiting after this long (ms); the action may still be running. */
  readonly timeoutMs: number;
  /** The operation's id (execution name, request id), for the action's own logs. */
  readonly execution?: string;
}

export type NodeActionStatus = 'succeeded' | 'failed' | 'timed-out';

export interface NodeActionResult {
  readonly status: NodeActionStatus;
  /** Which kind ran (`ssm-command`, `ec2-stop`, ...). */
  readonly kind: string;
  /** One line a human can read: what happened. */
  readonly detail: string;
  /** The tail of the command output, where there is one (SSM, SQL); bounded in size. */
  readonly outputTail?: string;
  /** Provider ids for the audit trail (SSM command id, instance ids, ...). */
  readonly ids?: Readonly<Record<string, string>>;
  readonly durationMs: number;
  /**
   * Why a failed or timed-out action failed, classified: `retryable` (throttling, 5xx, a network
   * error: the same call may succeed later) and `uncertain` (the action may have been applied
   * although no answer said so: a timeout after the request was sent).
   */
  readonly error?: {
    readonly name: string;
    readonly message: string;
    readonly retryable: boolean;
    readonly uncertain: boolean;
    /**
     * The action never reached the node: no route to it, connection refused, its agent offline,
     * the node down. Nothing was done to it, and nothing we run can reach it either. An automatic
     * failover may promote after an unreachable fence of a primary whose health alarm is in ALARM,
     * never after a fence the node answered and refused or failed (fence-gate.ts).
     */
    readonly unreachable?: boolean;
  };
}

export interface NodeActionPort {
  /** The roles this service's node has an action for (no action: the step is skipped). */
  has(serviceId: string, nodeId: string, role: NodeActionRole): boolean;
  /**
   * Runs the action and waits for its final status, at most `timeoutMs`. Never throws for the
   * action's own failure (that is a result); throws only for a programming error.
   */
  run(request: NodeActionRequest): Promise<NodeActionResult>;
}

/** A token taken apart (for logs, reports and tests): `epoch/attempt/sequence`. */
export function tokenParts(token: number): {
  readonly epoch: number;
  readonly attempt: number;
  readonly sequence: number;
} {
  const epoch = Math.floor(token / TOKEN_EPOCH_STRIDE);
  const within = token - epoch * TOKEN_EPOCH_STRIDE;
  return {
    epoch,
    attempt: Math.floor(within / TOKEN_ATTEMPT_STRIDE),
    sequence: within % TOKEN_ATTEMPT_STRIDE,
  };
}
