/**
 * The ports the use cases need. AWS adapters (lambdas/aws/) implement them with SDK clients;
 * the in-memory environment (lambdas/testing/) implements them for tests and the drill.
 * Every method that talks to AWS counts as one round trip.
 */
import type { LagMetric } from './config.ts';
import type {
  AlarmStateValue,
  HistoryEntry,
  LagSample,
  Lease,
  PauseRecord,
  QueuedShift,
  StoredClusterState,
  TrafficChange,
  TrafficShiftResult,
} from './types.ts';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface AlarmPort {
  /** One `DescribeAlarms` call. Alarms that do not exist are absent from the map. */
  getStates(alarmNames: readonly string[]): Promise<ReadonlyMap<string, AlarmStateValue>>;
}

export interface LagQuery {
  /** Key in the answer, e.g. `${serviceId}/${nodeId}`. */
  readonly key: string;
  readonly metric: LagMetric;
}

export interface LagPort {
  /**
   * One `GetMetricData` call for all queries: the newest datapoint of each within `lookbackSeconds`
   * before `now`. A query with no datapoint maps to undefined.
   */
  getLatest(
    queries: readonly LagQuery[],
    now: number,
    lookbackSeconds: number,
  ): Promise<ReadonlyMap<string, LagSample | undefined>>;
}

export interface AcquireLeaseRequest {
  readonly serviceId: string;
  /** The epoch read with the state; the write fails if it moved. 0 with no item seeds the item. */
  readonly expectedEpoch: number;
  /** The primary to seed the item with when it does not exist yet (the configured initial primary). */
  readonly seedPrimary: string;
  readonly lease: Lease;
  /** A lease whose expiresAt is before this is free to take over. */
  readonly now: number;
  /**
   * Refused (LeasePausedError) while the service is paused: the automatic path's first lease, so a
   * pause written after its decision read the state stops it before any node action. Operator
   * operations (which run while automation is paused) and renewals that undo or finish an
   * earlier attempt's work leave it unset.
   */
  readonly unlessPaused?: boolean;
}

/**
 * What a lease write grants besides the lease: its place among the leases taken at this epoch
 * (1, 2, ...; the commit that moves the epoch resets the count). Node-action tokens carry it
 * (fencingToken(epoch, step, sequence)), so every call of a later attempt outranks every call
 * of an earlier one, whoever held the lease.
 */
export interface LeaseGrant {
  readonly sequence: number;
}

export interface CommitRequest {
  readonly serviceId: string;
  readonly expectedEpoch: number;
  /** Must still hold the lease: a stale holder cannot commit (fencing). */
  readonly holder: string;
  /** The lease's attempt claim, when it has one (see Lease.attempt); absent: the lease must have none. */
  readonly attempt?: string;
  readonly newPrimary: string;
  readonly at: number;
  /** Written in the same transaction; its epoch is expectedEpoch + 1. */
  readonly history: HistoryEntry;
  /**
   * The former primaries that must rejoin after this change (replaces the stored set). Absent:
   * the stored set is kept as it is.
   */
  readonly needsRejoin?: readonly string[];
  /**
   * The change's traffic already moved: a retry records a shift its dead attempt sent. A pause
   * stops every automatic change not yet sent, not the record of one that was, so a pause written
   * since does not refuse this commit. @default false
   */
  readonly alreadySent?: boolean;
}

export interface RejoinedRequest {
  readonly serviceId: string;
  readonly nodeId: string;
  /** The epoch the demote/fence ran with; the write fails if the epoch moved meanwhile. */
  readonly expectedEpoch: number;
  /** Kept in the history (operation `rejoin`, epoch = expectedEpoch), in the same transaction. */
  readonly history: HistoryEntry;
}

/** The pause a resume read and means to clear: `pause` undefined is a pause with no record. */
/** setPaused's optional tail: the record a pause keeps, and the pause a resume expects to clear. */
export type PauseArguments = [record?: PauseRecord, onlyIf?: PauseExpectation];

export interface PauseExpectation {
  readonly pause: PauseRecord | undefined;
}

export interface StatePort {
  /**
   * Undefined when the service has never been written (its state is the configured initial
   * primary at epoch 0); `primary` is absent when only a pause was written (currentState()).
   */
  get(serviceId: string): Promise<StoredClusterState | undefined>;
  /**
   * Conditional write. Throws LeaseConflictError when the epoch moved or a live lease is held by
   * someone else, or by the same holder under another attempt (Lease.attempt). Every successful
   * write (a renewal too) counts one more lease at the epoch: LeaseGrant.sequence.
   */
  acquireLease(req: AcquireLeaseRequest): Promise<LeaseGrant>;
  /**
   * primary := newPrimary, epoch := expectedEpoch + 1, lease removed, history item written;
   * atomically. Throws LeaseLostError when the lease (holder and attempt) is not ours or the epoch
   * moved, and for an automatic failover when the service is paused: a pause stops it until the
   * end (operator operations, switchover and failover, commit while paused).
   */
  commit(req: CommitRequest): Promise<void>;
  /** Removes the lease if `holder` (under `attempt`, or with no attempt claimed) still holds it; a no-op otherwise. */
  releaseLease(serviceId: string, holder: string, attempt?: string): Promise<void>;
  /**
   * Pause (keeping `record`) or resume (dropping the record) automatic failover. Never records a
   * primary: an item it creates holds the flag and epoch 0 only, and the first lease seeds the
   * primary from the deployed configuration. With `onlyIf`, writes only while the service is
   * still paused with exactly the pause it names, else throws PauseChangedError and writes nothing:
   * a resume clears only the pause its caller read, never one written meanwhile.
   */
  setPaused(serviceId: string, paused: boolean, ...pause: PauseArguments): Promise<void>;
  /** Newest first. */
  history(serviceId: string, limit: number): Promise<readonly HistoryEntry[]>;
  /**
   * Clears `nodeId`'s needs-rejoin mark and records it, atomically, if the epoch is still
   * `expectedEpoch` and the node is still marked. Throws RejoinConflictError otherwise.
   */
  markRejoined(req: RejoinedRequest): Promise<void>;
  /**
   * Records a one-time note (e.g. an announcement made) on the service's item. True when this
   * call added it, false when it was there already: the caller announces only on true.
   */
  noteOnce(serviceId: string, note: string, seedPrimary: string): Promise<boolean>;
}

export interface TrafficPort {
  /**
   * Moves traffic for many services in as few calls as the router allows. Each change is a
   * compare-and-swap where the router supports it (Route 53): a service whose routing is not on
   * `from` comes back as `conflict`, never as a blind overwrite. Never throws for one service's failure.
   */
  shift(changes: readonly TrafficChange[]): Promise<readonly TrafficShiftResult[]>;
  /** Which node traffic points at now, undefined when it matches no node (or several). */
  current(serviceId: string): Promise<string | undefined>;
  /**
   * `current` for many services in as few reads as the router allows (Route 53: one paginated
   * ListResourceRecordSets walk per hosted zone, within its 5 requests/s). A service that could
   * not be read is absent from the answer (unknown), not undefined.
   */
  currentAll?(serviceIds: readonly string[]): Promise<ReadonlyMap<string, string | undefined>>;
}

export interface Notification {
  readonly kind:
    | 'failover'
    | 'failover-held'
    | 'failover-failed'
    | 'switchover'
    | 'switchover-failed'
    | 'rollback'
    | 'rollback-failed'
    | 'paused'
    | 'resumed'
    | 'promote-failed'
    | 'rejoin'
    | 'rejoin-failed'
    | 'config-mismatch'
    | 'split-brain'
    | 'not-ready'
    | 'ready';
  readonly serviceId: string;
  /** One line for an email subject: short, specific. */
  readonly subject: string;
  /** Structured detail, delivered as the JSON message body. */
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface NotifierPort {
  publish(notification: Notification): Promise<void>;
}

export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export interface MetricsPort {
  /** Buffered; flushed once per invocation (CloudWatch embedded metric format, no API call). */
  add(
    name: string,
    value: number,
    unit: 'Count' | 'Milliseconds' | 'Seconds',
    dimensions?: Record<string, string>,
  ): void;
  flush(): void;
}

/**
 * Where the failover Lambda hands a throttled traffic change (SQS in AWS). The zone shifter
 * consumes it. One call per change; throws when the change could not be handed over.
 */
export interface ShiftQueuePort {
  enqueue(shift: QueuedShift): Promise<void>;
}
