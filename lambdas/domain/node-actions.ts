/**
 * Node actions: what the automation does to a node itself (fence, promote, demote), as opposed to
 * where traffic points. One port, many kinds (a user's Lambda, SSM Run Command, EC2 stop or
 * isolate, RDS read-replica promotion, SQL on PostgreSQL or MySQL); every caller (automatic
 * failover, switchover, operator failover, rejoin of a returning old primary) goes through it.
 *
 * Fencing tokens. Every call carries a token that orders calls within an epoch, so a call that
 * answers late can be refused by the node: `token = epoch * TOKEN_EPOCH_STRIDE + sequence`.
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

/** One token per epoch spans this many sequence numbers. */
export const TOKEN_EPOCH_STRIDE = 1000;

/**
 * Sequence numbers within one epoch. Forward steps first, their undoing after: the rollback of a
 * step always carries a higher token than the step itself, and a rejoin comes last of all.
 */
export const TOKEN_SEQUENCE = {
  fence: 1,
  promote: 2,
  demote: 3,
  /** Rollback: undo the fence of the old primary. */
  unfence: 11,
  /** Rollback: demote a target that our promote may have promoted. */
  demoteTarget: 12,
  /** A returning old primary rejoins as a replica (demote, or fence when it has no demote). */
  rejoin: 21,
  /** A second writer found by the split-brain detector is fenced. */
  splitBrainFence: 31,
} as const;

export type TokenStep = keyof typeof TOKEN_SEQUENCE;

/** The fencing token for one step of the role change that produces `epoch`. */
export function fencingToken(epoch: number, step: TokenStep): number {
  return epoch * TOKEN_EPOCH_STRIDE + TOKEN_SEQUENCE[step];
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
