/**
 * Domain vocabulary shared by the decision code, the use cases, the adapters and the tests.
 * Times are epoch milliseconds passed in by the caller; nothing here reads a clock.
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** What the failover Lambda learned from a `CloudWatch Alarm State Change` event, after validation. */
export interface AlarmTransition {
  readonly alarmName: string;
  readonly state: AlarmStateValue;
  readonly previousState: AlarmStateValue;
  /** State-change time from the event (ms). */
  readonly timestamp: number;
  /** EventBridge event id, for logs and idempotency notes. */
  readonly eventId: string;
}

/** Newest replication-lag datapoint of one node, or undefined when CloudWatch had none. */
export interface LagSample {
  readonly lagSeconds: number;
  /** Timestamp of the datapoint (ms). */
  readonly timestamp: number;
}

export type OperationKind = 'auto-failover' | 'switchover' | 'failover';

/** What a history entry records: a role change, or a former primary rejoining as a replica. */
export type HistoryOperation = OperationKind | 'rejoin';

/** Whether the old primary was fenced during a role change (best effort when it is failing). */
export type FencedVerdict = 'yes' | 'no' | 'unknown';

/** One node action that ran during a role change or a rejoin, as kept in the history. */
export interface RecordedAction {
  readonly role: 'fence' | 'unfence' | 'promote' | 'demote';
  readonly nodeId: string;
  readonly token: number;
  readonly status: 'succeeded' | 'failed' | 'timed-out';
  readonly kind: string;
  readonly detail: string;
  readonly outputTail?: string;
  readonly durationMs: number;
}

/** Who holds a service and until when. A lease past `expiresAt` is free for anyone to take. */
export interface Lease {
  /** Unique per attempt (Lambda request id, execution name). */
  readonly holder: string;
  readonly operation: OperationKind;
  readonly acquiredAt: number;
  readonly expiresAt: number;
  /**
   * The one attempt allowed to act under this lease when several may run as the same holder
   * (zone-shifter invocations handling copies of one queued change). Claimed with the lease's
   * conditional write; the commit and the release must name it.
   */
  readonly attempt?: string;
  /**
   * The node this lease's change promotes. Written before the promote action runs, so a retry
   * under the same holder continues with that node instead of promoting a second one.
   */
  readonly target?: string;
  /** The target's replication lag when it was chosen (s): the record's RPO bound if a retry finishes the change. */
  readonly targetLagSeconds?: number;
  /** Which invocation under this holder wrote the lease: 1, then 2 and 3 for Lambda's retries. */
  readonly invocation?: number;
}

/** One item per service in the state table. */
export interface ClusterState {
  readonly serviceId: string;
  readonly primary: string;
  /** Fencing token: +1 on every role change, never goes backwards. */
  readonly epoch: number;
  readonly paused: boolean;
  /** Who paused automatic failover, when and why; absent when not paused or paused before this was kept. */
  readonly pause?: PauseRecord;
  readonly lease?: Lease;
  /** Time of the last role change (ms); starts the cooldown. */
  readonly lastChangeAt?: number;
  readonly lastChange?: HistoryEntry;
  /**
   * Former primaries that must rejoin (be demoted, or fenced, with the current epoch) before they
   * can be a candidate or take traffic again. Absent or empty: none.
   */
  readonly needsRejoin?: readonly string[];
  /** One-time announcements already made for this service (e.g. `primary-not-configured:<node>`). */
  readonly notes?: readonly string[];
}

/**
 * The state item as stored. `primary` is absent until a role change's lease seeds it from the
 * deployed configuration: a pause writes only its flag (an operator's local configuration must
 * never record a primary), so a missing primary means "no role change recorded".
 */
export type StoredClusterState = Omit<ClusterState, 'primary'> & { readonly primary?: string };

/** Who paused a service's automatic failover, when and why. */
export interface PauseRecord {
  /** An IAM principal ARN, `user@host`, or the automation's own holder id. */
  readonly by: string;
  readonly at: number;
  readonly reason: string;
}

/** One durable record of a role change (or a forced/refused operation worth keeping). */
export interface HistoryEntry {
  readonly serviceId: string;
  /** The epoch this change produced. */
  readonly epoch: number;
  readonly at: number;
  readonly operation: HistoryOperation;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  /** Replica lag at promotion: the RPO bound. Undefined when unknown (only possible with force). */
  readonly lagSeconds?: number;
  readonly forced?: boolean;
  /** Free-form timings (ms) such as detection, decision, shift. */
  readonly timings?: Readonly<Record<string, number>>;
  readonly actor: string;
  /** The node actions that ran (fence, promote, rollback, rejoin), in order. */
  readonly actions?: readonly RecordedAction[];
  /** Whether the old primary was fenced; absent for services without node actions. */
  readonly fenced?: FencedVerdict;
  /** Former primaries marked needs-rejoin by this entry. */
  readonly needsRejoin?: readonly string[];
}

export type HoldReason =
  | 'not-an-alarm-transition'
  | 'not-primary-alarm'
  | 'primary-not-configured'
  | 'primary-healthy'
  | 'auto-failover-disabled'
  | 'paused'
  | 'cooldown'
  | 'operation-in-progress'
  | 'no-healthy-candidate'
  | 'lag-unknown'
  | 'lag-stale'
  | 'lag-over-budget';

export type CandidateVerdict =
  | 'eligible'
  | 'unhealthy'
  | 'needs-rejoin'
  | 'lag-unknown'
  | 'lag-stale'
  | 'lag-over-budget';

/** How one replica looked at decision time; logged with every decision. */
export interface CandidateAssessment {
  readonly nodeId: string;
  readonly alarmState: AlarmStateValue | 'UNKNOWN';
  readonly lagSeconds?: number;
  readonly lagAgeSeconds?: number;
  readonly priority: number;
  readonly verdict: CandidateVerdict;
}

export type Decision =
  | {
      readonly action: 'failover';
      readonly serviceId: string;
      readonly from: string;
      readonly to: string;
      /** Epoch the lease/commit compare against. */
      readonly expectedEpoch: number;
      readonly lagSeconds: number;
      readonly candidates: readonly CandidateAssessment[];
    }
  | {
      readonly action: 'hold';
      readonly serviceId: string;
      readonly reason: HoldReason;
      readonly detail: string;
      readonly candidates: readonly CandidateAssessment[];
    };

/** A traffic move for one service: from the node traffic is on now to the new primary. */
export interface TrafficChange {
  readonly serviceId: string;
  readonly from: string;
  readonly to: string;
}

export type TrafficShiftResult =
  | { readonly serviceId: string; readonly status: 'shifted'; readonly changeId?: string }
  | {
      /** The live routing did not match what we expected (compare-and-swap lost): nothing was changed by us. */
      readonly serviceId: string;
      readonly status: 'conflict';
      /** What the router points at now, read back after the conflict (node id, raw value, or undefined). */
      readonly observed?: string;
      readonly message: string;
    }
  | {
      readonly serviceId: string;
      readonly status: 'failed';
      readonly errorName: string;
      readonly message: string;
      /** True when the change may have taken effect (timeout after send, partial ELB change). */
      readonly uncertain: boolean;
    };

/**
 * A traffic change the failover Lambda decided and leased but could not send because the router
 * throttled it (Route 53: Throttling, PriorRequestNotComplete): handed to the zone shifter, which
 * re-checks the decision, renews the lease under the same holder and sends it coalesced with the
 * other changes for the same hosted zone.
 */
export interface QueuedShift {
  readonly serviceId: string;
  readonly from: string;
  readonly to: string;
  /** The epoch the lease was taken at; the commit makes it expectedEpoch + 1. */
  readonly expectedEpoch: number;
  /** The failover invocation's lease holder (its request id): the fencing token the shifter commits with. */
  readonly holder: string;
  /** The alarm transition that started it: the shifter re-runs the decision on it. */
  readonly transition: AlarmTransition;
  /** Replica lag at decision time (s). */
  readonly lagSeconds: number;
  /** When the failover Lambda handed it over (ms). */
  readonly queuedAt: number;
  /** The error that sent it to the queue, e.g. Throttling or PriorRequestNotComplete. */
  readonly reason: string;
  /**
   * Unique per queued change, minted when it is handed to the queue: copies of one change (an SQS
   * redelivery, or a SendMessage the SDK retried after a lost answer) carry the same token.
   */
  readonly token?: string;
  /**
   * Set when the target was already promoted (and the old primary fenced) before the shift was
   * throttled: the shifter must not re-decide onto another node, and its history keeps these.
   */
  readonly promoted?: {
    readonly actions: readonly RecordedAction[];
    readonly fenced: FencedVerdict;
  };
}
