/**
 * The automatic-failover use case: one CloudWatch alarm transition in, one outcome out.
 *
 *   gather facts (alarms, lag, state: one parallel round trip) -> pure decision -> lease
 *   (epoch compare-and-swap) -> traffic compare-and-swap -> commit (epoch + 1, history) -> announce
 *
 * Idempotent under EventBridge's at-least-once, retried delivery: a duplicate either loses the
 * lease race, or arrives after the commit and sees that the alarm no longer watches the primary.
 * Expected "no"s return an outcome; errors worth retrying (gathering facts, a throttled shift)
 * throw, so EventBridge retries the invocation and the retry re-reads everything. With a shift
 * queue, a throttled shift is instead handed, still leased, to the zone shifter (zone-shift.ts),
 * which batches it with the other changes for its hosted zone: many services failing at once
 * otherwise queue up behind Route 53's 5 requests/s and one change at a time per zone.
 */
import {
  type FailoverConfig,
  healthAlarmName,
  type NodeConfig,
  type ServiceConfig,
} from '../domain/config.ts';
import { decideAutoFailover, initialState } from '../domain/decide.ts';
import {
  LeaseConflictError,
  LeaseLostError,
  TrafficShiftError,
  TransientAwsError,
} from '../domain/errors.ts';
import type { NodeActionPort } from '../domain/node-actions.ts';
import type {
  AlarmPort,
  Clock,
  LagPort,
  Logger,
  MetricsPort,
  Notification,
  NotifierPort,
  ShiftQueuePort,
  StatePort,
  TrafficPort,
} from '../domain/ports.ts';
import type {
  AlarmTransition,
  ClusterState,
  Decision,
  HistoryEntry,
  HoldReason,
  TrafficShiftResult,
} from '../domain/types.ts';

export interface AutoFailoverDeps {
  readonly config: FailoverConfig;
  readonly alarms: AlarmPort;
  readonly lag: LagPort;
  readonly state: StatePort;
  readonly traffic: TrafficPort;
  readonly notifier: NotifierPort;
  readonly logger: Logger;
  readonly metrics: MetricsPort;
  readonly clock: Clock;
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
  | 'queued';

export interface FailoverTimings {
  /** Alarm state change (event timestamp) to the start of this invocation; 0 when the clocks disagree. */
  readonly detectionMs: number;
  /** Start of the invocation to the decision (the parallel fact-gathering round trip dominates). */
  readonly decisionMs: number;
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

/**
 * An auto-failover normally finishes in about a second; EventBridge duplicates arrive within
 * seconds of each other. A lease younger than this is a duplicate's attempt in flight (held
 * quietly); an older one is stuck or crashed, and the hold is announced.
 */
export const IN_FLIGHT_QUIET_MS = 30_000;

/** Holds the on-call must hear about: the primary is down and nothing was done. */
export const NOTIFIED_HOLDS: ReadonlySet<HoldReason> = new Set<HoldReason>([
  'paused',
  'auto-failover-disabled',
  'cooldown',
  'operation-in-progress',
  'no-healthy-candidate',
  'lag-unknown',
  'lag-stale',
  'lag-over-budget',
]);

/**
 * SDK error names (and our own) that mean "try again later": the SDK's throttling, timeout and
 * server-fault classes. A shift that failed this way changed nothing, so a retry is safe.
 */
const RETRYABLE_ERROR =
  /^(TransientAwsError|Throttl\w*|\w*ThrottledException|TooManyRequestsException|RequestLimitExceeded|PriorRequestNotComplete\w*|SlowDown|TimeoutError|RequestTimeout\w*|ServiceUnavailable\w*|InternalFailure|InternalError|InternalServerError|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE)$/;

export function isRetryableShiftError(errorName: string): boolean {
  return RETRYABLE_ERROR.test(errorName);
}

interface AlarmTarget {
  readonly service: ServiceConfig;
  readonly node: NodeConfig;
}

const alarmIndexes = new WeakMap<FailoverConfig, ReadonlyMap<string, AlarmTarget>>();

/** Health alarm name -> the node it watches; built once per configuration object. */
export function alarmIndex(config: FailoverConfig): ReadonlyMap<string, AlarmTarget> {
  let index = alarmIndexes.get(config);
  if (!index) {
    const built = new Map<string, AlarmTarget>();
    for (const service of config.services) {
      for (const node of service.nodes) built.set(healthAlarmName(service, node), { service, node });
    }
    index = built;
    alarmIndexes.set(config, index);
  }
  return index;
}

/** The window in which the newest lag datapoint is looked for: older ones are stale anyway. */
export function lagLookbackSeconds(service: ServiceConfig): number {
  const period = Math.max(...service.nodes.map((n) => n.lag.periodSeconds));
  return service.policy.maxLagAgeSeconds + period + 60;
}

export async function runAutoFailover(
  deps: AutoFailoverDeps,
  transition: AlarmTransition,
): Promise<FailoverOutcome> {
  const { clock, logger, metrics } = deps;
  const startedAt = clock.now();
  const target = alarmIndex(deps.config).get(transition.alarmName);
  if (!target) {
    // Retrying cannot help: the rule matched an alarm this configuration does not know.
    logger.warn('alarm is not a health alarm of any configured node', {
      alarmName: transition.alarmName,
      eventId: transition.eventId,
    });
    metrics.add('FailoverIgnored', 1, 'Count', { reason: 'unknown-alarm' });
    return {
      outcome: 'ignored',
      reason: 'unknown-alarm',
      detail: `no node is watched by ${transition.alarmName}`,
    };
  }
  const service = target.service;

  // One sequential round trip: the three reads do not depend on each other.
  const [alarms, lag, stored] = await Promise.all([
    deps.alarms.getStates(service.nodes.map((n) => healthAlarmName(service, n))),
    deps.lag.getLatest(
      service.nodes.map((n) => ({ key: n.id, metric: n.lag })),
      startedAt,
      lagLookbackSeconds(service),
    ),
    deps.state.get(service.id),
  ]);
  const state = stored ?? initialState(service);
  const now = clock.now();
  // Our own lease (Lambda keeps the request id when it retries an invocation) does not fence us:
  // the retry of a crashed attempt resumes instead of waiting for its own lease to expire.
  const ownLease = state.lease?.holder === deps.holderId;
  const view: ClusterState = ownLease ? { ...state, lease: undefined } : state;
  if (ownLease) logger.info('resuming under our own lease', { serviceId: service.id, lease: state.lease });
  const decision = decideAutoFailover({ service, transition, alarms, lag, state: view, now });
  const run = new Run(deps, service, transition, state, startedAt, clock.now());

  logger.info('failover decision', {
    serviceId: service.id,
    eventId: transition.eventId,
    alarmName: transition.alarmName,
    transition: `${transition.previousState}->${transition.state}`,
    primary: state.primary,
    epoch: state.epoch,
    action: decision.action,
    ...(decision.action === 'hold'
      ? { reason: decision.reason, detail: decision.detail }
      : { to: decision.to, lagSeconds: decision.lagSeconds }),
    candidates: decision.candidates,
    dryRun: service.policy.dryRun,
  });
  metrics.add('FailoverDecision', 1, 'Count', {
    serviceId: service.id,
    action: decision.action,
    reason: decision.action === 'hold' ? decision.reason : 'eligible-replica',
  });

  if (ownLease && decision.action === 'hold') {
    // An earlier attempt under this request id (Lambda retries a timed-out invocation with the
    // same id) may have moved traffic and died before recording it. A failover decision finds
    // that out by itself (the swap is already done, or conflicts); a hold would leave it unsaid.
    const live = await deps.traffic.current(service.id);
    if (live !== state.primary) return run.unrecordedShift(live, decision);
  }
  if (decision.action === 'hold') return run.hold(decision.reason, decision.detail, decision);
  if (service.policy.dryRun) return run.dryRun(decision);
  return run.failover(decision);
}

type FailoverDecision = Extract<Decision, { action: 'failover' }>;

/** One invocation's context, so each step reads as what it does. */
class Run {
  private readonly leaseSeconds: number;
  private shiftMs: number | undefined;

  constructor(
    private readonly deps: AutoFailoverDeps,
    private readonly service: ServiceConfig,
    private readonly transition: AlarmTransition,
    private readonly state: ClusterState,
    private readonly startedAt: number,
    private readonly decidedAt: number,
  ) {
    this.leaseSeconds = deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  }

  timings(): FailoverTimings {
    const detectionMs = Math.max(0, this.startedAt - this.transition.timestamp);
    const elapsed = this.deps.clock.now() - this.startedAt;
    return {
      detectionMs,
      decisionMs: this.decidedAt - this.startedAt,
      ...(this.shiftMs !== undefined ? { shiftMs: this.shiftMs } : {}),
      totalMs: detectionMs + elapsed,
    };
  }

  /** `quiet`: a concurrent attempt won the lease race; it announces, so this one does not. */
  async hold(
    reason: HoldReason,
    detail: string,
    decision?: Decision,
    quiet = false,
  ): Promise<FailoverOutcome> {
    const { service, state } = this;
    const lease = state.lease;
    // A young auto-failover lease is a duplicate event's attempt in flight: it will announce. An
    // old one may belong to a crashed attempt, and then nothing else would tell anyone.
    const inFlightDuplicate =
      reason === 'operation-in-progress' &&
      lease?.operation === 'auto-failover' &&
      this.decidedAt - lease.acquiredAt < IN_FLIGHT_QUIET_MS;
    if (NOTIFIED_HOLDS.has(reason) && !quiet && !inFlightDuplicate) {
      await this.deps.notifier.publish({
        kind: 'failover-held',
        serviceId: service.id,
        subject: `${service.id}: primary ${state.primary} is down, automatic failover held (${reason})`,
        detail: {
          serviceId: service.id,
          primary: state.primary,
          epoch: state.epoch,
          reason,
          detail,
          alarmName: this.transition.alarmName,
          eventId: this.transition.eventId,
          candidates: decision?.candidates ?? [],
        },
      });
    }
    return {
      outcome: 'held',
      serviceId: service.id,
      from: state.primary,
      reason,
      detail,
      epoch: state.epoch,
      timings: this.timings(),
    };
  }

  async dryRun(decision: FailoverDecision): Promise<FailoverOutcome> {
    const { service } = this;
    await this.deps.notifier.publish({
      kind: 'failover-held',
      serviceId: service.id,
      subject: `${service.id}: dry run, would fail over from ${decision.from} to ${decision.to}`,
      detail: {
        serviceId: service.id,
        dryRun: true,
        from: decision.from,
        to: decision.to,
        lagSeconds: decision.lagSeconds,
        epoch: decision.expectedEpoch,
        alarmName: this.transition.alarmName,
        eventId: this.transition.eventId,
        candidates: decision.candidates,
      },
    });
    return {
      outcome: 'dry-run',
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      reason: 'dry-run',
      epoch: decision.expectedEpoch,
      timings: this.timings(),
    };
  }

  async failover(decision: FailoverDecision): Promise<FailoverOutcome> {
    const { deps, service } = this;
    const now = deps.clock.now();
    try {
      await deps.state.acquireLease({
        serviceId: service.id,
        expectedEpoch: decision.expectedEpoch,
        seedPrimary: service.initialPrimary,
        lease: {
          holder: deps.holderId,
          operation: 'auto-failover',
          acquiredAt: now,
          expiresAt: now + this.leaseSeconds * 1000,
        },
        now,
      });
    } catch (err) {
      if (err instanceof LeaseConflictError) {
        // Another attempt (most often a duplicate of this event) won the race; it will announce.
        deps.logger.info('lease not acquired: another operation won', {
          serviceId: service.id,
          expectedEpoch: decision.expectedEpoch,
          error: err.message,
        });
        deps.metrics.add('FailoverLeaseConflict', 1, 'Count', { serviceId: service.id });
        return {
          ...(await this.hold('operation-in-progress', err.message, decision, true)),
          to: decision.to,
        };
      }
      // The write may have landed (a timeout): give the lease back so the retry is not fenced out.
      await this.releaseQuietly('acquire failed');
      throw err;
    }

    const shiftStart = deps.clock.now();
    const result = await this.shift(decision);
    this.shiftMs = deps.clock.now() - shiftStart;
    deps.metrics.add('FailoverShiftMs', this.shiftMs, 'Milliseconds', { serviceId: service.id });
    deps.logger.info('traffic shift answered', { serviceId: service.id, result });

    switch (result.status) {
      case 'shifted':
        return this.commit(decision, result.changeId);
      case 'conflict':
        return this.conflict(decision, result);
      case 'failed':
        return this.shiftFailed(decision, result);
    }
  }

  /** The port promises not to throw for one service's failure; if it does anyway, the change may have applied. */
  private async shift(decision: FailoverDecision): Promise<TrafficShiftResult> {
    const changes = [{ serviceId: this.service.id, from: decision.from, to: decision.to }];
    try {
      const results = await this.deps.traffic.shift(changes);
      const mine = results.find((r) => r.serviceId === this.service.id);
      if (mine) return mine;
      return {
        serviceId: this.service.id,
        status: 'failed',
        errorName: 'MissingResult',
        message: 'the traffic router returned no result for this service',
        uncertain: true,
      };
    } catch (err) {
      return {
        serviceId: this.service.id,
        status: 'failed',
        errorName: err instanceof Error ? err.name : 'Error',
        message: err instanceof Error ? err.message : String(err),
        uncertain: true,
      };
    }
  }

  private async commit(decision: FailoverDecision, changeId?: string): Promise<FailoverOutcome> {
    const { deps, service, transition } = this;
    const at = deps.clock.now();
    const epoch = decision.expectedEpoch + 1;
    const timings = this.timings();
    const history: HistoryEntry = {
      serviceId: service.id,
      epoch,
      at,
      operation: 'auto-failover',
      from: decision.from,
      to: decision.to,
      reason: `health alarm ${transition.alarmName} of primary ${decision.from} in ALARM; ${decision.to} OK with ${decision.lagSeconds} s lag`,
      lagSeconds: decision.lagSeconds,
      timings: { ...timings },
      actor: deps.holderId,
    };
    try {
      await deps.state.commit({
        serviceId: service.id,
        expectedEpoch: decision.expectedEpoch,
        holder: deps.holderId,
        newPrimary: decision.to,
        at,
        history,
      });
    } catch (err) {
      if (err instanceof LeaseLostError) return this.leaseLost(decision, err);
      if (await this.committedAnyway(decision)) {
        deps.logger.warn('commit answered with an error but is recorded', {
          serviceId: service.id,
          error: String(err),
        });
      } else {
        return this.needsAttention(
          decision,
          'commit-failed',
          `traffic moved to ${decision.to}, but recording epoch ${epoch} failed (${describe(err)}): the state still names ${decision.from} as primary`,
        );
      }
    }

    const final = this.timings();
    deps.logger.info('failed over', {
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      epoch,
      lagSeconds: decision.lagSeconds,
      changeId,
      timings: final,
    });
    addFailoverMetrics(deps.metrics, decision, final);
    await this.announceCommitted(
      failedOverNotification({
        decision,
        epoch,
        reason: history.reason,
        transition,
        timings: final,
        actor: deps.holderId,
      }),
    );
    return {
      outcome: 'failed-over',
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      reason: 'primary-alarm',
      epoch,
      timings: this.timings(),
    };
  }

  /**
   * The commit was fenced out: this attempt stalled past its lease and another operation took it.
   * Say what the record holds now. When another attempt already completed this very change (a
   * duplicate event after the lease expired), everything agrees and it announced: stay quiet.
   */
  private async leaseLost(decision: FailoverDecision, err: LeaseLostError): Promise<FailoverOutcome> {
    const { deps, service } = this;
    let now: ClusterState | undefined;
    let readError: unknown;
    try {
      now = (await deps.state.get(service.id)) ?? initialState(service);
    } catch (e) {
      readError = e;
    }
    if (now && now.primary === decision.to && now.epoch > decision.expectedEpoch) {
      const by = now.lastChange?.actor ?? 'another operation';
      deps.logger.warn('lease lost, but the same change was completed by another attempt', {
        serviceId: service.id,
        to: decision.to,
        epoch: now.epoch,
        by,
      });
      deps.metrics.add('FailoverLeaseConflict', 1, 'Count', { serviceId: service.id });
      return {
        outcome: 'conflict',
        serviceId: service.id,
        from: decision.from,
        to: decision.to,
        reason: 'superseded',
        detail: `this attempt outlived its lease; ${by} completed the failover to ${decision.to} meanwhile (epoch ${now.epoch})`,
        epoch: now.epoch,
        timings: this.timings(),
      };
    }
    const record =
      now === undefined
        ? `the record could not be read (${describe(readError)})`
        : `the record names ${now.primary} at epoch ${now.epoch}${now.lease ? `, leased by ${now.lease.operation} ${now.lease.holder}` : ''}`;
    return this.needsAttention(
      decision,
      'lease-lost',
      `traffic points at ${decision.to} after this attempt's shift, but its lease was taken over before it could record epoch ${decision.expectedEpoch + 1} (${describe(err)}): ${record}`,
    );
  }

  private async committedAnyway(decision: FailoverDecision): Promise<boolean> {
    try {
      const now = await this.deps.state.get(this.service.id);
      return now?.primary === decision.to && now.epoch === decision.expectedEpoch + 1;
    } catch {
      return false;
    }
  }

  private async conflict(
    decision: FailoverDecision,
    result: Extract<TrafficShiftResult, { status: 'conflict' }>,
  ): Promise<FailoverOutcome> {
    const { deps, service } = this;
    // Someone moved traffic outside the lease. Never overwrite it: tell a human what is live now.
    await this.releaseQuietly('traffic conflict');
    deps.metrics.add('FailoverConflict', 1, 'Count', { serviceId: service.id });
    deps.logger.warn('traffic was not where the state says: not moving it', {
      serviceId: service.id,
      expected: decision.from,
      observed: result.observed,
      message: result.message,
    });
    await deps.notifier.publish({
      kind: 'failover-failed',
      serviceId: service.id,
      subject: `${service.id}: failover to ${decision.to} refused, traffic is on ${result.observed ?? 'an unknown target'}, not ${decision.from}`,
      detail: {
        serviceId: service.id,
        from: decision.from,
        to: decision.to,
        observed: result.observed ?? null,
        message: result.message,
        epoch: decision.expectedEpoch,
        eventId: this.transition.eventId,
        action: 'check which node serves traffic and takes writes, then record it with a manual failover',
      },
    });
    return {
      outcome: 'conflict',
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      reason: 'traffic-conflict',
      detail: result.message,
      epoch: decision.expectedEpoch,
      timings: this.timings(),
    };
  }

  private async shiftFailed(
    decision: FailoverDecision,
    result: Extract<TrafficShiftResult, { status: 'failed' }>,
  ): Promise<FailoverOutcome> {
    const { deps, service } = this;
    deps.metrics.add('FailoverShiftFailed', 1, 'Count', {
      serviceId: service.id,
      errorName: result.errorName,
    });
    if (result.uncertain) {
      // The change may have applied: ask the router which node it points at now.
      let observed: string | undefined;
      let readError: unknown;
      try {
        observed = await deps.traffic.current(service.id);
      } catch (err) {
        readError = err;
      }
      deps.logger.warn('uncertain traffic shift read back', {
        serviceId: service.id,
        errorName: result.errorName,
        observed,
        readError: readError === undefined ? undefined : describe(readError),
      });
      if (readError === undefined && observed === decision.to) return this.commit(decision);
      if (readError !== undefined || observed !== decision.from) {
        // Leave the lease to expire: nothing automatic should touch this service until a human looks.
        return this.needsAttention(
          decision,
          'shift-uncertain',
          `traffic shift to ${decision.to} failed with ${result.errorName} (${result.message}) and traffic now points at ${
            readError === undefined
              ? (observed ?? 'no single node')
              : `an unknown target (read-back failed: ${describe(readError)})`
          }`,
        );
      }
      // Traffic is still on `from`: the change did not apply, a certain failure after all.
    }
    if (deps.shiftQueue && isRetryableShiftError(result.errorName)) {
      // Nothing was applied and the lease is ours: hand the change over instead of retrying the
      // whole invocation a minute later (what loses failovers when a zone's changes pile up).
      const queued = await this.enqueue(deps.shiftQueue, decision, result);
      if (queued) return queued;
    }
    await this.releaseQuietly('shift failed');
    const error = new TrafficShiftError(service.id, `${result.errorName}: ${result.message}`, false);
    if (isRetryableShiftError(result.errorName)) {
      deps.logger.warn('traffic shift failed, nothing changed: retrying the whole invocation', {
        serviceId: service.id,
        errorName: result.errorName,
        message: result.message,
      });
      throw new TransientAwsError('traffic.shift', { cause: error });
    }
    return this.needsAttention(
      decision,
      'shift-failed',
      `traffic shift to ${decision.to} failed with ${result.errorName} (${result.message}); traffic stays on ${decision.from}, which is down`,
    );
  }

  /** Undefined when the queue refused it too: the caller falls back to release-and-retry. */
  private async enqueue(
    queue: ShiftQueuePort,
    decision: FailoverDecision,
    result: Extract<TrafficShiftResult, { status: 'failed' }>,
  ): Promise<FailoverOutcome | undefined> {
    const { deps, service, transition } = this;
    try {
      await queue.enqueue({
        serviceId: service.id,
        from: decision.from,
        to: decision.to,
        expectedEpoch: decision.expectedEpoch,
        holder: deps.holderId,
        transition,
        lagSeconds: decision.lagSeconds,
        queuedAt: deps.clock.now(),
        reason: result.errorName,
      });
    } catch (err) {
      deps.logger.warn('traffic shift could not be queued either', {
        serviceId: service.id,
        errorName: result.errorName,
        error: describe(err),
      });
      return undefined;
    }
    deps.logger.info('traffic shift throttled: queued for the zone shifter under this lease', {
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      epoch: decision.expectedEpoch,
      errorName: result.errorName,
    });
    deps.metrics.add('FailoverQueued', 1, 'Count', { serviceId: service.id, errorName: result.errorName });
    return {
      outcome: 'queued',
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      reason: 'shift-queued',
      detail: `${result.errorName}: ${result.message}`,
      epoch: decision.expectedEpoch,
      timings: this.timings(),
    };
  }

  /** Traffic left on a node the record does not name, by an earlier attempt of this invocation. */
  async unrecordedShift(
    live: string | undefined,
    decision: Extract<Decision, { action: 'hold' }>,
  ): Promise<FailoverOutcome> {
    const { deps, service, state } = this;
    const where = live ?? 'no single node';
    const detail = `traffic points at ${where} but the record names ${state.primary} (epoch ${state.epoch}): an earlier attempt of this invocation moved it and did not record it, and now the decision is to hold (${decision.reason}: ${decision.detail}); the lease is left to expire`;
    deps.logger.error('failover needs a human', {
      serviceId: service.id,
      reason: 'unrecorded-shift',
      detail,
    });
    deps.metrics.add('FailoverNeedsAttention', 1, 'Count', { serviceId: service.id });
    await deps.notifier.publish({
      kind: 'failover-failed',
      serviceId: service.id,
      subject: `${service.id}: traffic is on ${where}, the record names ${state.primary}: needs attention (unrecorded-shift)`,
      detail: {
        serviceId: service.id,
        primary: state.primary,
        traffic: live ?? null,
        epoch: state.epoch,
        reason: 'unrecorded-shift',
        detail,
        eventId: this.transition.eventId,
        holder: deps.holderId,
        action: 'check which node takes writes, then record it with a manual failover (or move traffic back)',
      },
    });
    return {
      outcome: 'needs-attention',
      serviceId: service.id,
      from: state.primary,
      ...(live !== undefined ? { to: live } : {}),
      reason: 'unrecorded-shift',
      detail,
      epoch: state.epoch,
      timings: this.timings(),
    };
  }

  private async needsAttention(
    decision: FailoverDecision,
    reason: string,
    detail: string,
  ): Promise<FailoverOutcome> {
    const { deps, service } = this;
    deps.logger.error('failover needs a human', {
      serviceId: service.id,
      reason,
      detail,
      from: decision.from,
      to: decision.to,
    });
    deps.metrics.add('FailoverNeedsAttention', 1, 'Count', { serviceId: service.id });
    await deps.notifier.publish({
      kind: 'failover-failed',
      serviceId: service.id,
      subject: `${service.id}: automatic failover from ${decision.from} to ${decision.to} needs attention (${reason})`,
      detail: {
        serviceId: service.id,
        from: decision.from,
        to: decision.to,
        reason,
        detail,
        epoch: decision.expectedEpoch,
        eventId: this.transition.eventId,
        holder: deps.holderId,
      },
    });
    return {
      outcome: 'needs-attention',
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      reason,
      detail,
      epoch: decision.expectedEpoch,
      timings: this.timings(),
    };
  }

  /** After a committed change the record is durable; a lost announcement must not undo or hide it. */
  private async announceCommitted(notification: Notification): Promise<void> {
    try {
      await this.deps.notifier.publish(notification);
    } catch (err) {
      this.deps.logger.error('role change committed but the announcement failed', {
        serviceId: notification.serviceId,
        error: describe(err),
        notification,
      });
      this.deps.metrics.add('NotificationFailed', 1, 'Count', { serviceId: notification.serviceId });
    }
  }

  /** Releasing is an optimisation (the lease expires anyway); its failure must not mask the real error. */
  private async releaseQuietly(why: string): Promise<void> {
    try {
      await this.deps.state.releaseLease(this.service.id, this.deps.holderId);
    } catch (err) {
      this.deps.logger.warn('lease release failed; it will expire', {
        serviceId: this.service.id,
        why,
        error: describe(err),
      });
    }
  }
}

/** The metrics of a committed automatic failover, direct or through the zone shifter. */
export function addFailoverMetrics(
  metrics: MetricsPort,
  decision: FailoverDecision,
  timings: { readonly totalMs: number; readonly detectionMs?: number },
): void {
  const dims = { serviceId: decision.serviceId };
  metrics.add('FailoverCompleted', 1, 'Count', dims);
  metrics.add('FailoverLagAtPromotion', decision.lagSeconds, 'Seconds', dims);
  if (timings.detectionMs !== undefined) {
    metrics.add('FailoverDetectionMs', timings.detectionMs, 'Milliseconds', dims);
  }
  metrics.add('FailoverTotalMs', timings.totalMs, 'Milliseconds', dims);
}

/** The announcement of a committed automatic failover, direct or through the zone shifter. */
export function failedOverNotification(input: {
  readonly decision: FailoverDecision;
  readonly epoch: number;
  readonly reason: string;
  readonly transition: AlarmTransition;
  readonly timings: unknown;
  readonly actor: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}): Notification {
  const { decision, transition } = input;
  return {
    kind: 'failover',
    serviceId: decision.serviceId,
    subject: `${decision.serviceId}: failed over from ${decision.from} to ${decision.to} (lag ${decision.lagSeconds} s)`,
    detail: {
      serviceId: decision.serviceId,
      from: decision.from,
      to: decision.to,
      epoch: input.epoch,
      lagSecondsAtPromotion: decision.lagSeconds,
      reason: input.reason,
      alarmName: transition.alarmName,
      eventId: transition.eventId,
      timings: input.timings,
      candidates: decision.candidates,
      actor: input.actor,
      ...input.extra,
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
