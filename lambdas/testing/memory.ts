/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * In-memory implementations of every port, with the semantics of the AWS services behind the real
 * adapters, for unit tests, end-to-end scenarios, the drill and the benchmark:
 *
 * - alarms: DescribeAlarms returns only alarms that exist (absent = unknown, never healthy);
 * - lag: datapoints per metric; GetMetricData-like "newest datapoint inside the lookback window";
 * - state: DynamoDB-like conditional writes exactly as `StatePort` specifies (lease takeover only
 *   after expiry; commit only by the holder at the expected epoch; history newest first);
 * - traffic: each service's routing holds exactly one node. `shift` is a compare-and-swap on
 *   `from` (Route 53's exact-value DELETE + CREATE): a mismatch is a `conflict` with the node
 *   observed (or `shifted` when it already points at `to`: our own earlier attempt applied).
 *   Route 53 services that share a hosted zone are changed in one atomic batch: if one change
 *   fails, none applies; then, like the Route 53 adapter, each change is sent again on its own.
 *   ELB-routed services use the same model, one call each. `calls` records every batch.
 *
 * Every mutation happens synchronously inside an async method, so concurrent callers interleave
 * only between calls, as they would between requests. Wrap ports with `instrument()` to add
 * latency, faults and call records.
 */
import { type FailoverConfig, findService, healthAlarmName, type LagMetric } from '../domain/config.ts';
import {
  LeaseConflictError,
  LeaseLostError,
  LeasePausedError,
  PauseChangedError,
  RejoinConflictError,
  UnknownServiceError,
} from '../domain/errors.ts';
import type {
  AcquireLeaseRequest,
  AlarmPort,
  CommitRequest,
  LagPort,
  LagQuery,
  LeaseGrant,
  MetricsPort,
  Notification,
  NotifierPort,
  PauseArguments,
  RejoinedRequest,
  StatePort,
  TrafficPort,
} from '../domain/ports.ts';
import type {
  AlarmStateValue,
  ClusterState,
  HistoryEntry,
  LagSample,
  PauseRecord,
  StoredClusterState,
  TrafficChange,
  TrafficShiftResult,
} from '../domain/types.ts';
import { LevelLogger } from '../runtime/logger.ts';
import { ManualClock, type ManualClockOptions } from './clock.ts';
import { MemoryChanges } from './verify-signals.ts';

// ---------------------------------------------------------------------------------------------
// Alarms
// ---------------------------------------------------------------------------------------------

export class MemoryAlarms implements AlarmPort {
  private readonly states = new Map<string, AlarmStateValue>();

  constructor(private readonly config: FailoverConfig) {}

  async getStates(alarmNames: readonly string[]): Promise<ReadonlyMap<string, AlarmStateValue>> {
    const out = new Map<string, AlarmStateValue>();
    for (const name of alarmNames) {
      const value = this.states.get(name);
      if (value !== undefined) out.set(name, value);
    }
    return out;
  }

  /** Sets (or, with undefined, deletes) an alarm by name. */
  set(alarmName: string, value: AlarmStateValue | undefined): void {
    if (value === undefined) this.states.delete(alarmName);
    else this.states.set(alarmName, value);
  }

  /** Sets the health alarm of a configured node. Returns its name. */
  setNode(serviceId: string, nodeId: string, value: AlarmStateValue | undefined): string {
    const name = this.alarmName(serviceId, nodeId);
    this.set(name, value);
    return name;
  }

  get(alarmName: string): AlarmStateValue | undefined {
    return this.states.get(alarmName);
  }

  alarmName(serviceId: string, nodeId: string): string {
    const service = findService(this.config, serviceId);
    const node = service?.nodes.find((n) => n.id === nodeId);
    if (!service || !node) throw new Error(`no node ${serviceId}/${nodeId} in the configuration`);
    return healthAlarmName(service, node);
  }
}

// ---------------------------------------------------------------------------------------------
// Lag
// ---------------------------------------------------------------------------------------------

/** Identity of a CloudWatch metric stream (dimension order does not matter, as in CloudWatch). */
export function metricKey(metric: LagMetric): string {
  const dims = Object.entries(metric.dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([metric.namespace, metric.metricName, dims, metric.statistic]);
}

export class MemoryLag implements LagPort {
  /** Datapoints per metric, oldest first. */
  private readonly series = new Map<string, LagSample[]>();

  constructor(
    private readonly config: FailoverConfig,
    private readonly clock: { now(): number },
  ) {}

  async getLatest(
    queries: readonly LagQuery[],
    now: number,
    lookbackSeconds: number,
  ): Promise<ReadonlyMap<string, LagSample | undefined>> {
    const out = new Map<string, LagSample | undefined>();
    for (const q of queries) {
      const points = this.series.get(metricKey(q.metric)) ?? [];
      // GetMetricData answers only inside [StartTime, EndTime].
      let newest: LagSample | undefined;
      for (const p of points) {
        if (p.timestamp > now || p.timestamp < now - lookbackSeconds * 1000) continue;
        if (!newest || p.timestamp >= newest.timestamp) newest = p;
      }
      out.set(q.key, newest);
    }
    return out;
  }

  /** Records a datapoint for a configured node's lag metric. @default timestamp now */
  put(serviceId: string, nodeId: string, lagSeconds: number, timestamp = this.clock.now()): void {
    const service = findService(this.config, serviceId);
    const node = service?.nodes.find((n) => n.id === nodeId);
    if (!node) throw new Error(`no node ${serviceId}/${nodeId} in the configuration`);
    this.putMetric(node.lag, lagSeconds, timestamp);
  }

  putMetric(metric: LagMetric, lagSeconds: number, timestamp = this.clock.now()): void {
    const key = metricKey(metric);
    const points = this.series.get(key) ?? [];
    points.push({ lagSeconds, timestamp });
    this.series.set(key, points);
  }

  /** Forgets every datapoint of a node (the metric stopped being published). */
  clear(serviceId: string, nodeId: string): void {
    const node = findService(this.config, serviceId)?.nodes.find((n) => n.id === nodeId);
    if (node) this.series.delete(metricKey(node.lag));
  }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

interface Item {
  /** Absent until a lease seeds it (a pause never records a primary), as in DynamoDbState. */
  primary?: string;
  epoch: number;
  paused: boolean;
  pause?: PauseRecord;
  lease?: ClusterState['lease'];
  lastChangeAt?: number;
  lastChange?: HistoryEntry;
  needsRejoin?: string[];
  notes?: string[];
  /** Leases taken at this epoch (LeaseGrant.sequence); the commit removes it. */
  leaseSequence?: number;
}

/** Counts of conditional-write outcomes, for assertions like "exactly one commit". */
export interface StateWriteStats {
  leasesAcquired: number;
  leaseConflicts: number;
  commits: number;
  commitsRefused: number;
  releases: number;
  rejoins: number;
}

export class MemoryState implements StatePort {
  private readonly items = new Map<string, Item>();
  private readonly histories = new Map<string, HistoryEntry[]>();
  readonly stats: StateWriteStats = {
    leasesAcquired: 0,
    leaseConflicts: 0,
    commits: 0,
    commitsRefused: 0,
    releases: 0,
    rejoins: 0,
  };

  async get(serviceId: string): Promise<StoredClusterState | undefined> {
    return this.snapshot(serviceId);
  }

  async acquireLease(req: AcquireLeaseRequest): Promise<LeaseGrant> {
    const item = this.items.get(req.serviceId);
    if (req.unlessPaused && item?.paused) {
      this.stats.leaseConflicts++;
      throw new LeasePausedError(req.serviceId, req.expectedEpoch);
    }
    if (!item) {
      // attribute_not_exists(pk) when seeding: only an expected epoch of 0 may create the item.
      if (req.expectedEpoch !== 0) return this.conflict(req);
      this.items.set(req.serviceId, {
        primary: req.seedPrimary,
        epoch: 0,
        paused: false,
        lease: req.lease,
        leaseSequence: 1,
      });
      this.stats.leasesAcquired++;
      return { sequence: 1 };
    }
    if (item.epoch !== req.expectedEpoch) return this.conflict(req);
    const held = item.lease;
    // A lease is free once expiresAt < now; until then only its holder may renew it, and only
    // under the attempt it claimed (or none claimed yet).
    const ownAttempt = held?.attempt === undefined || held.attempt === req.lease.attempt;
    if (held && (held.holder !== req.lease.holder || !ownAttempt) && held.expiresAt >= req.now)
      return this.conflict(req);
    item.lease = req.lease;
    item.leaseSequence = (item.leaseSequence ?? 0) + 1;
    // if_not_exists(primary, :seedPrimary): an item a pause wrote gets its primary here.
    item.primary ??= req.seedPrimary;
    this.stats.leasesAcquired++;
    return { sequence: item.leaseSequence };
  }

  async commit(req: CommitRequest): Promise<void> {
    const item = this.items.get(req.serviceId);
    if (
      !item ||
      item.epoch !== req.expectedEpoch ||
      item.lease?.holder !== req.holder ||
      item.lease.attempt !== req.attempt ||
      // An automatic failover stops at a pause; an operator's own operation goes on.
      (item.paused && req.history.operation === 'auto-failover' && req.alreadySent !== true)
    ) {
      this.stats.commitsRefused++;
      throw new LeaseLostError(req.serviceId, req.holder);
    }
    if (req.history.epoch !== req.expectedEpoch + 1 || req.history.serviceId !== req.serviceId) {
      throw new Error(
        `history entry must be for ${req.serviceId} at epoch ${req.expectedEpoch + 1}, got ${req.history.serviceId} at ${req.history.epoch}`,
      );
    }
    const history = this.histories.get(req.serviceId) ?? [];
    // history#<epoch> is written with attribute_not_exists in the same transaction.
    if (history.some((h) => h.epoch === req.history.epoch && h.operation !== 'rejoin')) {
      this.stats.commitsRefused++;
      throw new LeaseLostError(req.serviceId, req.holder);
    }
    item.primary = req.newPrimary;
    item.epoch = req.expectedEpoch + 1;
    delete item.lease;
    delete item.leaseSequence;
    item.lastChangeAt = req.at;
    item.lastChange = req.history;
    if (req.needsRejoin !== undefined) {
      if (req.needsRejoin.length > 0) item.needsRejoin = [...req.needsRejoin];
      else delete item.needsRejoin;
    }
    history.unshift(req.history);
    this.histories.set(req.serviceId, history);
    this.stats.commits++;
  }

  async releaseLease(serviceId: string, holder: string, attempt?: string): Promise<void> {
    const item = this.items.get(serviceId);
    const lease = item?.lease;
    if (item && lease?.holder === holder && (lease.attempt === undefined || lease.attempt === attempt)) {
      delete item.lease;
      this.stats.releases++;
    }
  }

  async setPaused(serviceId: string, paused: boolean, ...[record, onlyIf]: PauseArguments): Promise<void> {
    let item = this.items.get(serviceId);
    if (onlyIf && !(item?.paused === true && samePause(item.pause, onlyIf.pause))) {
      throw new PauseChangedError(serviceId);
    }
    if (!item) {
      // No primary: only a lease (from the deployed configuration) seeds it.
      item = { epoch: 0, paused };
      this.items.set(serviceId, item);
    }
    item.paused = paused;
    if (paused && record) item.pause = { ...record };
    else delete item.pause;
  }

  async history(serviceId: string, limit: number): Promise<readonly HistoryEntry[]> {
    return (this.histories.get(serviceId) ?? []).slice(0, limit);
  }

  async markRejoined(req: RejoinedRequest): Promise<void> {
    const item = this.items.get(req.serviceId);
    if (!item || item.epoch !== req.expectedEpoch || !item.needsRejoin?.includes(req.nodeId)) {
      throw new RejoinConflictError(req.serviceId, req.nodeId, req.expectedEpoch, {
        detail: item
          ? `epoch is ${item.epoch}, ${req.nodeId} ${item.needsRejoin?.includes(req.nodeId) ? 'is' : 'is not'} marked needs-rejoin`
          : 'no state item',
      });
    }
    item.needsRejoin = item.needsRejoin.filter((n) => n !== req.nodeId);
    if (item.needsRejoin.length === 0) delete item.needsRejoin;
    const history = this.histories.get(req.serviceId) ?? [];
    history.unshift(req.history);
    this.histories.set(req.serviceId, history);
    this.stats.rejoins++;
  }

  async noteOnce(serviceId: string, note: string, seedPrimary: string): Promise<boolean> {
    let item = this.items.get(serviceId);
    if (!item) {
      item = { primary: seedPrimary, epoch: 0, paused: false };
      this.items.set(serviceId, item);
    }
    item.primary ??= seedPrimary;
    if (item.notes?.includes(note)) return false;
    item.notes = [...(item.notes ?? []), note];
    return true;
  }

  /** Test helper: writes an item as it would be after some earlier history. */
  seed(state: StoredClusterState): void {
    const { serviceId, needsRejoin, notes, ...rest } = state;
    this.items.set(serviceId, {
      ...rest,
      ...(needsRejoin ? { needsRejoin: [...needsRejoin] } : {}),
      ...(notes ? { notes: [...notes] } : {}),
    });
  }

  /** Synchronous read, for assertions. */
  snapshot(serviceId: string): StoredClusterState | undefined {
    const item = this.items.get(serviceId);
    if (!item) return undefined;
    // The lease sequence is the adapter's own counter, handed out by acquireLease: not state.
    const { leaseSequence: _, ...state } = item;
    return structuredClone({ serviceId, ...state });
  }

  private conflict(req: AcquireLeaseRequest): never {
    this.stats.leaseConflicts++;
    throw new LeaseConflictError(req.serviceId, req.expectedEpoch);
  }
}

// ---------------------------------------------------------------------------------------------
// Traffic
// ---------------------------------------------------------------------------------------------

/** One call the in-memory router received: the batch it applied (or refused) atomically. */
export interface TrafficCall {
  /** hosted zone id for Route 53, listener or target group ARN for ELB. */
  readonly group: string;
  readonly changes: readonly TrafficChange[];
  readonly applied: boolean;
}

/** A failure to inject into the next shift of a service. */
export interface TrafficFault {
  readonly errorName: string;
  readonly message?: string;
  /** Apply the change before reporting the failure (a timeout after the request was sent). */
  readonly apply: boolean;
  /** Reported in the result. @default apply */
  readonly uncertain?: boolean;
}

export class MemoryTraffic implements TrafficPort {
  private readonly routing = new Map<string, string | undefined>();
  private readonly faults = new Map<string, TrafficFault[]>();
  /** Every batch, in order: one entry is one API call. */
  readonly calls: TrafficCall[] = [];

  constructor(readonly config: FailoverConfig) {
    for (const s of config.services) this.routing.set(s.id, s.initialPrimary);
  }

  async shift(changes: readonly TrafficChange[]): Promise<readonly TrafficShiftResult[]> {
    const results = new Map<TrafficChange, TrafficShiftResult>();
    const groups = new Map<string, TrafficChange[]>();
    for (const change of changes) {
      const service = findService(this.config, change.serviceId);
      if (!service?.nodes.some((n) => n.id === change.to)) {
        results.set(change, {
          serviceId: change.serviceId,
          status: 'failed',
          errorName: 'InvalidInput',
          message: service
            ? `no node ${change.to} in ${change.serviceId}`
            : `unknown service ${change.serviceId}`,
          uncertain: false,
        });
        continue;
      }
      const r = service.router;
      const group =
        r.type === 'route53' ? r.hostedZoneId : r.type === 'elbv2-target' ? r.targetGroupArn : r.listenerArn;
      // One ChangeResourceRecordSets per hosted zone; ELB changes are one call per listener or target group.
      const key = r.type === 'route53' ? `route53:${group}` : `elb:${group}:${change.serviceId}`;
      const list = groups.get(key) ?? [];
      list.push(change);
      groups.set(key, list);
    }
    for (const [key, batch] of groups) this.applyBatch(key, batch, results);
    return changes.map((c) => results.get(c)!);
  }

  async current(serviceId: string): Promise<string | undefined> {
    if (!this.routing.has(serviceId)) throw new UnknownServiceError(serviceId);
    return this.routing.get(serviceId);
  }

  /** One read for many services (as a Route 53 zone walk). */
  async currentAll(serviceIds: readonly string[]): Promise<ReadonlyMap<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    for (const id of serviceIds) {
      if (!this.routing.has(id)) throw new UnknownServiceError(id);
      out.set(id, this.routing.get(id));
    }
    return out;
  }

  /** Where traffic points now (synchronous, for assertions). */
  pointsAt(serviceId: string): string | undefined {
    return this.routing.get(serviceId);
  }

  /** Moves traffic outside the automation (an operator in the console); undefined = matches no node. */
  set(serviceId: string, nodeId: string | undefined): void {
    this.routing.set(serviceId, nodeId);
  }

  /** The next shift that includes this service fails as described (faults queue up in order). */
  failNext(serviceId: string, fault: TrafficFault): void {
    const list = this.faults.get(serviceId) ?? [];
    list.push(fault);
    this.faults.set(serviceId, list);
  }

  /**
   * Route 53's no-op compare-and-swap (DELETE and CREATE of the record's exact value, one batch):
   * a change id when the record holds exactly `nodeId`, undefined when the DELETE would not match.
   * Recorded as a call whose change keeps `from` = `to`, so `appliedChanges` leaves it out.
   */
  confirm(serviceId: string, nodeId: string): string | undefined {
    if (!this.routing.has(serviceId)) throw new UnknownServiceError(serviceId);
    const service = findService(this.config, serviceId)!;
    const r = service.router;
    const group =
      r.type === 'route53' ? r.hostedZoneId : r.type === 'elbv2-target' ? r.targetGroupArn : r.listenerArn;
    const holds = this.routing.get(serviceId) === nodeId;
    this.calls.push({ group, changes: [{ serviceId, from: nodeId, to: nodeId }], applied: holds });
    return holds ? `C${this.calls.length}` : undefined;
  }

  /** Changes that actually moved traffic, in order. */
  get appliedChanges(): TrafficChange[] {
    return this.calls.filter((c) => c.applied).flatMap((c) => c.changes.filter((ch) => ch.from !== ch.to));
  }

  private applyBatch(
    key: string,
    batch: TrafficChange[],
    results: Map<TrafficChange, TrafficShiftResult>,
  ): void {
    const group = key.split(':')[1] ?? key;
    const mismatched = batch.filter((c) => this.routing.get(c.serviceId) !== c.from);
    if (mismatched.length > 0) {
      // The exact-value DELETE does not match: InvalidChangeBatch, the whole batch is refused.
      this.calls.push({ group, changes: batch, applied: false });
      if (batch.length > 1) {
        // As the Route 53 adapter does: the error does not say which DELETE failed, so each
        // change goes again on its own and one conflict does not block the others.
        for (const c of batch) this.applyBatch(key, [c], results);
        return;
      }
      const c = batch[0]!;
      const observed = this.routing.get(c.serviceId);
      // Read back: already on the target means an earlier attempt of ours applied; that is success.
      results.set(
        c,
        observed === c.to
          ? { serviceId: c.serviceId, status: 'shifted' }
          : {
              serviceId: c.serviceId,
              status: 'conflict',
              observed,
              message: `routing of ${c.serviceId} is on ${observed ?? 'no node'}, not ${c.from}`,
            },
      );
      return;
    }

    // Faults are consumed only by a batch that reaches the point of applying.
    const first = batch
      .map((c) => this.faults.get(c.serviceId)?.shift())
      .find((f): f is TrafficFault => f !== undefined);
    const apply = first === undefined || first.apply;
    if (apply) for (const c of batch) this.routing.set(c.serviceId, c.to);
    this.calls.push({ group, changes: batch, applied: apply });
    for (const c of batch) {
      if (first === undefined) {
        results.set(c, { serviceId: c.serviceId, status: 'shifted', changeId: `C${this.calls.length}` });
      } else {
        results.set(c, {
          serviceId: c.serviceId,
          status: 'failed',
          errorName: first.errorName,
          message: first.message ?? `injected ${first.errorName}`,
          uncertain: first.uncertain ?? first.apply,
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Notifier, logger, metrics
// ---------------------------------------------------------------------------------------------

export class MemoryNotifier implements NotifierPort {
  readonly published: Notification[] = [];

  async publish(notification: Notification): Promise<void> {
    this.published.push(structuredClone(notification));
  }

  ofKind(kind: Notification['kind']): Notification[] {
    return this.published.filter((n) => n.kind === kind);
  }
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly data?: Record<string, unknown>;
}

export class MemoryLogger extends LevelLogger {
  readonly entries: LogEntry[] = [];

  constructor(private readonly echo = false) {
    super();
  }

  find(message: string | RegExp): LogEntry[] {
    return this.entries.filter((e) =>
      typeof message === 'string' ? e.message === message : message.test(e.message),
    );
  }

  protected log(level: LogEntry['level'], message: string, data?: Record<string, unknown>): void {
    this.entries.push(data === undefined ? { level, message } : { level, message, data });
    if (this.echo) console.log(JSON.stringify({ level, message, ...data }));
  }
}

export interface MetricDatum {
  readonly name: string;
  readonly value: number;
  readonly unit: 'Count' | 'Milliseconds' | 'Seconds';
  readonly dimensions: Record<string, string>;
}

export class MemoryMetrics implements MetricsPort {
  /** Every datum added, flushed or not. */
  readonly data: MetricDatum[] = [];
  flushes = 0;

  add(name: string, value: number, unit: MetricDatum['unit'], dimensions: Record<string, string> = {}): void {
    this.data.push({ name, value, unit, dimensions: { ...dimensions } });
  }

  flush(): void {
    this.flushes++;
  }

  named(name: string): MetricDatum[] {
    return this.data.filter((d) => d.name === name);
  }
}

// ---------------------------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------------------------

export interface MemoryEnvironmentOptions {
  readonly clock?: ManualClock | ManualClockOptions;
  /** Initial state of every configured health alarm. @default 'OK' */
  readonly alarms?: AlarmStateValue;
  /** Write a lag datapoint of this many seconds for every node at the start time. @default none */
  readonly initialLagSeconds?: number;
  /** Echo log entries to the console as JSON. @default false */
  readonly echoLogs?: boolean;
}

export interface MemoryEnvironment {
  readonly config: FailoverConfig;
  readonly clock: ManualClock;
  readonly alarms: MemoryAlarms;
  readonly lag: MemoryLag;
  readonly state: MemoryState;
  readonly traffic: MemoryTraffic;
  readonly notifier: MemoryNotifier;
  readonly logger: MemoryLogger;
  readonly metrics: MemoryMetrics;
  /** Route 53 change status (INSYNC at the first poll) and ELB target health, over `traffic`. */
  readonly changes: MemoryChanges;
}

/**
 * Every port for `config`, in memory: alarms exist (OK unless told otherwise), traffic points at
 * each service's initial primary, no state item is written yet (as after a fresh deploy).
 */
export function createMemoryEnvironment(
  config: FailoverConfig,
  options: MemoryEnvironmentOptions = {},
): MemoryEnvironment {
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock(options.clock);
  const traffic = new MemoryTraffic(config);
  const env: MemoryEnvironment = {
    config,
    clock,
    alarms: new MemoryAlarms(config),
    lag: new MemoryLag(config, clock),
    state: new MemoryState(),
    traffic,
    notifier: new MemoryNotifier(),
    logger: new MemoryLogger(options.echoLogs ?? false),
    metrics: new MemoryMetrics(),
    changes: new MemoryChanges(traffic),
  };
  const initialAlarm = options.alarms ?? 'OK';
  for (const service of config.services) {
    for (const node of service.nodes) {
      env.alarms.set(healthAlarmName(service, node), initialAlarm);
      if (options.initialLagSeconds !== undefined)
        env.lag.put(service.id, node.id, options.initialLagSeconds);
    }
  }
  return env;
}

/** The same pause record (as DynamoDB compares the map: every field equal), or both absent. */
function samePause(a: PauseRecord | undefined, b: PauseRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.by === b.by && a.at === b.at && a.reason === b.reason;
}
