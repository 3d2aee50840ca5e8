/**
 * The zone shifter: many services failing at once (an AZ or Region event) each lease and decide in
 * their own failover invocation, but Route 53 takes 5 requests/s per account and one change at a
 * time per hosted zone, so their changes are refused (Throttling, PriorRequestNotComplete). Those
 * changes arrive here, through the zone-shift queue, and go out as ONE change batch per hosted
 * zone (the router chunks at 1,000 records), each still a DELETE-exact + CREATE compare-and-swap.
 *
 *   read facts (states, alarms, lag: one parallel round) -> re-decide each service (the primary may
 *   have recovered, the replica may have fallen behind) -> renew each lease under its original
 *   holder (the fencing token) -> one shift for all (retried with backoff while Route 53 refuses)
 *   -> commit each (epoch + 1, history) -> announce each
 *
 * Every invariant of the single-service path holds per service: the decision is the same pure
 * function, the lease and epoch compare-and-swap are the same writes, and a conflict on one
 * record is isolated by the router without blocking the others. Idempotent under SQS's
 * at-least-once delivery: a change already committed by its holder is recognised and not redone.
 */
import { type FailoverConfig, findService, healthAlarmName, type ServiceConfig } from '../domain/config.ts';
import { decideAutoFailover, initialState } from '../domain/decide.ts';
import { LeaseConflictError, LeaseLostError } from '../domain/errors.ts';
import type {
  AlarmPort,
  Clock,
  LagPort,
  Logger,
  MetricsPort,
  Notification,
  NotifierPort,
  StatePort,
  TrafficPort,
} from '../domain/ports.ts';
import type {
  AlarmStateValue,
  ClusterState,
  Decision,
  HistoryEntry,
  LagSample,
  QueuedShift,
  TrafficShiftResult,
} from '../domain/types.ts';
import {
  addFailoverMetrics,
  DEFAULT_LEASE_SECONDS,
  failedOverNotification,
  isRetryableShiftError,
  lagLookbackSeconds,
  NOTIFIED_HOLDS,
} from './auto-failover.ts';

export interface ZoneShiftRetry {
  /**
   * How long one invocation keeps retrying refused shifts (and fact reads) before it gives the
   * rest back to the queue. Well inside the function timeout, leaving time to commit.
   * @default 20000
   */
  readonly budgetMs?: number;
  /** First backoff ceiling; doubles per round (full jitter). @default 200 */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
}

export interface ZoneShiftDeps {
  readonly config: FailoverConfig;
  readonly alarms: AlarmPort;
  readonly lag: LagPort;
  readonly state: StatePort;
  readonly traffic: TrafficPort;
  readonly notifier: NotifierPort;
  readonly logger: Logger;
  readonly metrics: MetricsPort;
  readonly clock: Clock;
  /** This shifter invocation (its request id), for logs and announcements. @default 'zone-shifter' */
  readonly invocationId?: string;
  /** The renewed lease's length, as the failover Lambda's. @default 120 */
  readonly leaseSeconds?: number;
  readonly retry?: ZoneShiftRetry;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source. @default Math.random */
  readonly random?: () => number;
}

/** One queued change, with the queue's id for it (the SQS message id). */
export interface ZoneShiftItem {
  readonly id: string;
  readonly shift: QueuedShift;
}

export type ZoneShiftOutcomeKind =
  /** Traffic moved and the epoch committed by this invocation. */
  | 'failed-over'
  /** A redelivered message whose change its holder had already committed. */
  | 'already-done'
  /** The decision, made again, says no (the primary recovered, the replica fell behind, ...). */
  | 'held'
  /** Another operation moved the epoch or holds the lease; nothing to do here. */
  | 'superseded'
  /** The record was not where expected: nothing changed, a human was told. */
  | 'conflict'
  /** Something went wrong after or around the change: a human was told what state it is in. */
  | 'needs-attention'
  /** Still refused when the retry budget ran out: give the message back to the queue. */
  | 'deferred'
  /** The message names a service the configuration does not have. */
  | 'invalid';

export interface ZoneShiftOutcome {
  readonly id: string;
  readonly serviceId: string;
  readonly outcome: ZoneShiftOutcomeKind;
  readonly from?: string;
  readonly to?: string;
  readonly epoch?: number;
  readonly reason?: string;
  readonly detail?: string;
}

type FailoverDecision = Extract<Decision, { action: 'failover' }>;

interface Work {
  readonly item: ZoneShiftItem;
  readonly service: ServiceConfig;
}

interface Plan extends Work {
  readonly decision: FailoverDecision;
}

interface Facts {
  readonly alarms: ReadonlyMap<string, AlarmStateValue>;
  readonly lag: ReadonlyMap<string, LagSample | undefined>;
  readonly states: ReadonlyMap<string, ClusterState | undefined>;
}

const DEFAULT_RETRY: Required<ZoneShiftRetry> = { budgetMs: 20_000, baseDelayMs: 200, maxDelayMs: 2_000 };
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Outcomes in the order of `items`. Throws only for a bug; expected failures are outcomes. */
export async function runZoneShift(
  deps: ZoneShiftDeps,
  items: readonly ZoneShiftItem[],
): Promise<ZoneShiftOutcome[]> {
  return new ZoneShift(deps).run(items);
}

class ZoneShift {
  private readonly outcomes = new Map<string, ZoneShiftOutcome>();
  private readonly retry: Required<ZoneShiftRetry>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly leaseMs: number;
  private readonly actor: string;
  private readonly startedAt: number;
  private batchSize = 0;

  constructor(private readonly deps: ZoneShiftDeps) {
    this.retry = { ...DEFAULT_RETRY, ...deps.retry };
    this.sleep = deps.sleep ?? realSleep;
    this.random = deps.random ?? Math.random;
    this.leaseMs = (deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000;
    this.actor = deps.invocationId ?? 'zone-shifter';
    this.startedAt = deps.clock.now();
  }

  async run(items: readonly ZoneShiftItem[]): Promise<ZoneShiftOutcome[]> {
    const { work, duplicates } = this.oneRequestPerService(items);
    this.batchSize = work.length;
    if (work.length > 0) await this.process(work);
    for (const [dup, kept] of duplicates) {
      const o = this.outcomes.get(kept.id);
      // SQS delivered the same request twice: one answer for both (a redelivery is then a no-op).
      if (o) this.outcomes.set(dup.id, { ...o, id: dup.id });
    }
    const out = items.map(
      (i) =>
        this.outcomes.get(i.id) ?? {
          id: i.id,
          serviceId: i.shift.serviceId,
          outcome: 'deferred' as const,
          reason: 'not-processed',
        },
    );
    this.summarize(out);
    return out;
  }

  private set(item: ZoneShiftItem, o: Omit<ZoneShiftOutcome, 'id' | 'serviceId'>): void {
    this.outcomes.set(item.id, { id: item.id, serviceId: item.shift.serviceId, ...o });
  }

  /** One request per service: the same request delivered twice is one; of different holders, the newest counts. */
  private oneRequestPerService(items: readonly ZoneShiftItem[]): {
    work: Work[];
    duplicates: [ZoneShiftItem, ZoneShiftItem][];
  } {
    const chosen = new Map<string, Work>();
    const duplicates: [ZoneShiftItem, ZoneShiftItem][] = [];
    for (const item of items) {
      const service = findService(this.deps.config, item.shift.serviceId);
      if (!service) {
        this.deps.logger.error('queued shift for a service the configuration does not have', {
          serviceId: item.shift.serviceId,
          messageId: item.id,
        });
        this.set(item, {
          outcome: 'invalid',
          reason: 'unknown-service',
          detail: `no service ${JSON.stringify(item.shift.serviceId)} in the configuration`,
        });
        continue;
      }
      const prev = chosen.get(service.id);
      if (!prev) {
        chosen.set(service.id, { item, service });
        continue;
      }
      const a = prev.item.shift;
      const b = item.shift;
      if (a.holder === b.holder && a.expectedEpoch === b.expectedEpoch) {
        duplicates.push([item, prev.item]);
        continue;
      }
      const newer =
        b.expectedEpoch > a.expectedEpoch || (b.expectedEpoch === a.expectedEpoch && b.queuedAt > a.queuedAt);
      const [keep, drop] = newer ? [item, prev.item] : [prev.item, item];
      chosen.set(service.id, { item: keep, service });
      this.set(drop, {
        outcome: 'superseded',
        reason: 'newer-request',
        detail: `a newer request for ${service.id} (holder ${keep.shift.holder}) is in the same batch`,
      });
    }
    return { work: [...chosen.values()], duplicates };
  }

  private async process(work: readonly Work[]): Promise<void> {
    let facts: Facts;
    try {
      facts = await this.withRetry('facts', () => this.gatherFacts(work));
    } catch (err) {
      this.deps.logger.warn('zone shift could not read its facts; giving the batch back to the queue', {
        error: describe(err),
        services: work.length,
      });
      for (const w of work)
        this.set(w.item, { outcome: 'deferred', reason: 'facts-unavailable', detail: describe(err) });
      return;
    }
    const planned = (await Promise.all(work.map((w) => this.decide(w, facts)))).filter(
      (p): p is Plan => p !== undefined,
    );
    const leased = (await Promise.all(planned.map((p) => this.renewLease(p)))).filter(
      (p): p is Plan => p !== undefined,
    );
    if (leased.length === 0) return;
    await this.shiftAll(leased);
  }

  private async gatherFacts(work: readonly Work[]): Promise<Facts> {
    const { deps } = this;
    const now = deps.clock.now();
    const alarmNames = work.flatMap((w) => w.service.nodes.map((n) => healthAlarmName(w.service, n)));
    const queries = work.flatMap((w) =>
      w.service.nodes.map((n) => ({ key: `${w.service.id}/${n.id}`, metric: n.lag })),
    );
    const lookback = Math.max(...work.map((w) => lagLookbackSeconds(w.service)));
    // One round trip: the adapters split into as few calls as the APIs allow (100 alarm names per
    // DescribeAlarms, 500 queries per GetMetricData), and the item reads run side by side.
    const [alarms, lag, states] = await Promise.all([
      deps.alarms.getStates(alarmNames),
      deps.lag.getLatest(queries, now, lookback),
      Promise.all(work.map(async (w) => [w.service.id, await deps.state.get(w.service.id)] as const)),
    ]);
    return { alarms, lag, states: new Map(states) };
  }

  /** The failover Lambda's decision, made again on fresh facts; undefined when there is nothing to shift. */
  private async decide(w: Work, facts: Facts): Promise<Plan | undefined> {
    const { deps } = this;
    const { item, service } = w;
    const shift = item.shift;
    const state = facts.states.get(service.id) ?? initialState(service);
    const now = deps.clock.now();
    if (state.epoch !== shift.expectedEpoch) {
      if (state.epoch === shift.expectedEpoch + 1 && state.lastChange?.actor === shift.holder) {
        this.set(item, { outcome: 'already-done', from: shift.from, to: state.primary, epoch: state.epoch });
      } else {
        this.set(item, {
          outcome: 'superseded',
          reason: 'epoch-moved',
          detail: `epoch is ${state.epoch}, not ${shift.expectedEpoch}: another operation changed roles since`,
          epoch: state.epoch,
        });
      }
      return undefined;
    }
    const lease = state.lease;
    if (lease && lease.holder !== shift.holder && lease.expiresAt >= now) {
      this.set(item, {
        outcome: 'superseded',
        reason: 'lease-taken',
        detail: `${lease.operation} by ${lease.holder} holds the lease on ${service.id}`,
        epoch: state.epoch,
      });
      return undefined;
    }
    const view: ClusterState = lease?.holder === shift.holder ? { ...state, lease: undefined } : state;
    const lag = new Map(service.nodes.map((n) => [n.id, facts.lag.get(`${service.id}/${n.id}`)] as const));
    const decision = decideAutoFailover({
      service,
      transition: shift.transition,
      alarms: facts.alarms,
      lag,
      state: view,
      now,
    });
    deps.logger.info('zone shift decision', {
      serviceId: service.id,
      eventId: shift.transition.eventId,
      holder: shift.holder,
      primary: state.primary,
      epoch: state.epoch,
      queuedAs: `${shift.from}->${shift.to}`,
      action: decision.action,
      ...(decision.action === 'hold'
        ? { reason: decision.reason, detail: decision.detail }
        : { to: decision.to, lagSeconds: decision.lagSeconds }),
      candidates: decision.candidates,
    });
    if (decision.action === 'hold') {
      await this.releaseQuietly(service.id, shift.holder);
      if (NOTIFIED_HOLDS.has(decision.reason)) {
        await this.publishQuietly({
          kind: 'failover-held',
          serviceId: service.id,
          subject: `${service.id}: primary ${state.primary} is down, queued failover held (${decision.reason})`,
          detail: {
            serviceId: service.id,
            primary: state.primary,
            epoch: state.epoch,
            reason: decision.reason,
            detail: decision.detail,
            alarmName: shift.transition.alarmName,
            eventId: shift.transition.eventId,
            candidates: decision.candidates,
          },
        });
      }
      this.set(item, {
        outcome: 'held',
        from: state.primary,
        reason: decision.reason,
        detail: decision.detail,
        epoch: state.epoch,
      });
      return undefined;
    }
    if (service.policy.dryRun) {
      await this.releaseQuietly(service.id, shift.holder);
      this.set(item, {
        outcome: 'held',
        from: decision.from,
        to: decision.to,
        reason: 'dry-run',
        epoch: state.epoch,
      });
      return undefined;
    }
    return { ...w, decision };
  }

  /** The same conditional write as the lease, by the same holder: it fences like the original and renews it. */
  private async renewLease(p: Plan): Promise<Plan | undefined> {
    const { deps } = this;
    const now = deps.clock.now();
    try {
      await deps.state.acquireLease({
        serviceId: p.service.id,
        expectedEpoch: p.decision.expectedEpoch,
        seedPrimary: p.service.initialPrimary,
        lease: {
          holder: p.item.shift.holder,
          operation: 'auto-failover',
          acquiredAt: now,
          expiresAt: now + this.leaseMs,
        },
        now,
      });
      return p;
    } catch (err) {
      if (err instanceof LeaseConflictError) {
        this.set(p.item, {
          outcome: 'superseded',
          reason: 'lease-taken',
          detail: err.message,
          epoch: p.decision.expectedEpoch,
        });
      } else {
        this.set(p.item, { outcome: 'deferred', reason: 'lease-renewal-failed', detail: describe(err) });
      }
      return undefined;
    }
  }

  private async shiftAll(plans: readonly Plan[]): Promise<void> {
    const { deps } = this;
    let pending = [...plans];
    let round = 0;
    const settled: { plan: Plan; result: TrafficShiftResult }[] = [];
    while (pending.length > 0) {
      const results = await this.shiftOnce(pending);
      const again: Plan[] = [];
      pending.forEach((plan, i) => {
        const result = results[i]!;
        if (result.status === 'failed' && !result.uncertain && isRetryableShiftError(result.errorName))
          again.push(plan);
        else settled.push({ plan, result });
      });
      round++;
      deps.metrics.add('ZoneShiftRequests', 1, 'Count');
      if (again.length === 0) break;
      const delay = this.backoff(round);
      if (deps.clock.now() + delay - this.startedAt > this.retry.budgetMs) {
        for (const plan of again) {
          this.set(plan.item, {
            outcome: 'deferred',
            reason: 'still-throttled',
            detail: `Route 53 still refused after ${round} rounds; the queue redelivers it`,
            from: plan.decision.from,
            to: plan.decision.to,
            epoch: plan.decision.expectedEpoch,
          });
        }
        deps.logger.warn('zone shift still refused at the end of its retry budget', {
          deferred: again.map((p) => p.service.id),
          rounds: round,
        });
        break;
      }
      deps.logger.info('zone shift refused, retrying', { services: again.length, round, delayMs: delay });
      await this.sleep(delay);
      pending = again;
    }
    await Promise.all(settled.map(({ plan, result }) => this.settle(plan, result)));
  }

  /** The port promises not to throw for one service; if it throws anyway, every change is uncertain. */
  private async shiftOnce(plans: readonly Plan[]): Promise<readonly TrafficShiftResult[]> {
    const changes = plans.map((p) => ({ serviceId: p.service.id, from: p.decision.from, to: p.decision.to }));
    try {
      const results = await this.deps.traffic.shift(changes);
      return plans.map(
        (p, i) =>
          (results[i]?.serviceId === p.service.id ? results[i] : undefined) ??
          results.find((r) => r.serviceId === p.service.id) ?? {
            serviceId: p.service.id,
            status: 'failed',
            errorName: 'MissingResult',
            message: 'the traffic router returned no result for this service',
            uncertain: true,
          },
      );
    } catch (err) {
      return plans.map((p) => ({
        serviceId: p.service.id,
        status: 'failed' as const,
        errorName: err instanceof Error ? err.name : 'Error',
        message: describe(err),
        uncertain: true,
      }));
    }
  }

  private async settle(plan: Plan, result: TrafficShiftResult): Promise<void> {
    const { deps } = this;
    const { service, decision } = plan;
    if (result.status === 'shifted') return this.commit(plan);
    if (result.status === 'conflict') return this.conflict(plan, result);
    if (result.uncertain) {
      let observed: string | undefined;
      let readError: unknown;
      try {
        observed = await deps.traffic.current(service.id);
      } catch (err) {
        readError = err;
      }
      if (readError === undefined && observed === decision.to) return this.commit(plan);
      if (readError !== undefined || observed !== decision.from) {
        // Leave the lease to expire: nothing automatic should touch this service until a human looks.
        return this.needsAttention(
          plan,
          'shift-uncertain',
          `traffic shift to ${decision.to} failed with ${result.errorName} (${result.message}) and traffic now points at ${
            readError === undefined
              ? (observed ?? 'no single node')
              : `an unknown target (read-back failed: ${describe(readError)})`
          }`,
        );
      }
    }
    await this.releaseQuietly(service.id, plan.item.shift.holder);
    return this.needsAttention(
      plan,
      'shift-failed',
      `traffic shift to ${decision.to} failed with ${result.errorName} (${result.message}); traffic stays on ${decision.from}, which is down`,
    );
  }

  private async commit(plan: Plan): Promise<void> {
    const { deps } = this;
    const { service, decision, item } = plan;
    const shift = item.shift;
    const at = deps.clock.now();
    const epoch = decision.expectedEpoch + 1;
    const timings = {
      // The alarm's state change to the commit, and the part spent queued for the zone batch.
      totalMs: Math.max(0, at - shift.transition.timestamp),
      queuedMs: Math.max(0, at - shift.queuedAt),
    };
    const history: HistoryEntry = {
      serviceId: service.id,
      epoch,
      at,
      operation: 'auto-failover',
      from: decision.from,
      to: decision.to,
      reason: `health alarm ${shift.transition.alarmName} of primary ${decision.from} in ALARM; ${decision.to} OK with ${decision.lagSeconds} s lag; sent in a zone batch of ${this.batchSize} after ${shift.reason}`,
      lagSeconds: decision.lagSeconds,
      timings,
      actor: shift.holder,
    };
    try {
      await deps.state.commit({
        serviceId: service.id,
        expectedEpoch: decision.expectedEpoch,
        holder: shift.holder,
        newPrimary: decision.to,
        at,
        history,
      });
    } catch (err) {
      if (!(err instanceof LeaseLostError) && (await this.committedAnyway(plan))) {
        deps.logger.warn('commit answered with an error but is recorded', {
          serviceId: service.id,
          error: describe(err),
        });
      } else {
        return this.needsAttention(
          plan,
          err instanceof LeaseLostError ? 'lease-lost' : 'commit-failed',
          `traffic moved to ${decision.to}, but recording epoch ${epoch} failed (${describe(err)}): the state still names ${decision.from} as primary`,
        );
      }
    }
    deps.logger.info('failed over', {
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      epoch,
      lagSeconds: decision.lagSeconds,
      via: 'zone-shift',
      batchSize: this.batchSize,
      timings,
    });
    addFailoverMetrics(deps.metrics, decision, timings);
    await this.publishQuietly(
      failedOverNotification({
        decision,
        epoch,
        reason: history.reason,
        transition: shift.transition,
        timings,
        actor: shift.holder,
        extra: { zoneBatch: { size: this.batchSize, shifter: this.actor } },
      }),
    );
    this.set(item, { outcome: 'failed-over', from: decision.from, to: decision.to, epoch });
  }

  private async committedAnyway(plan: Plan): Promise<boolean> {
    try {
      const now = await this.deps.state.get(plan.service.id);
      return now?.primary === plan.decision.to && now.epoch === plan.decision.expectedEpoch + 1;
    } catch {
      return false;
    }
  }

  private async conflict(
    plan: Plan,
    result: Extract<TrafficShiftResult, { status: 'conflict' }>,
  ): Promise<void> {
    const { deps } = this;
    const { service, decision, item } = plan;
    // Someone moved traffic outside the lease. Never overwrite it: tell a human what is live now.
    await this.releaseQuietly(service.id, item.shift.holder);
    deps.metrics.add('FailoverConflict', 1, 'Count', { serviceId: service.id });
    deps.logger.warn('traffic was not where the state says: not moving it', {
      serviceId: service.id,
      expected: decision.from,
      observed: result.observed,
      message: result.message,
    });
    await this.publishQuietly({
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
        eventId: item.shift.transition.eventId,
        action: 'check which node serves traffic and takes writes, then record it with a manual failover',
      },
    });
    this.set(item, {
      outcome: 'conflict',
      from: decision.from,
      to: decision.to,
      reason: 'traffic-conflict',
      detail: result.message,
      epoch: decision.expectedEpoch,
    });
  }

  private async needsAttention(plan: Plan, reason: string, detail: string): Promise<void> {
    const { deps } = this;
    const { service, decision, item } = plan;
    deps.logger.error('failover needs a human', {
      serviceId: service.id,
      reason,
      detail,
      from: decision.from,
      to: decision.to,
    });
    deps.metrics.add('FailoverNeedsAttention', 1, 'Count', { serviceId: service.id });
    await this.publishQuietly({
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
        eventId: item.shift.transition.eventId,
        holder: item.shift.holder,
      },
    });
    this.set(item, {
      outcome: 'needs-attention',
      from: decision.from,
      to: decision.to,
      reason,
      detail,
      epoch: decision.expectedEpoch,
    });
  }

  private backoff(round: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (round - 1));
    return Math.floor(this.random() * ceiling);
  }

  /** Retries a call that throws (a throttled read) with the same backoff, inside the budget. */
  private async withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const delay = this.backoff(attempt);
        if (this.deps.clock.now() + delay - this.startedAt > this.retry.budgetMs) throw err;
        this.deps.logger.warn('zone shift read failed, retrying', { what, attempt, error: describe(err) });
        await this.sleep(delay);
      }
    }
  }

  /** Releasing is an optimisation (the lease expires anyway); its failure must not mask the real outcome. */
  private async releaseQuietly(serviceId: string, holder: string): Promise<void> {
    try {
      await this.deps.state.releaseLease(serviceId, holder);
    } catch (err) {
      this.deps.logger.warn('lease release failed; it will expire', { serviceId, error: describe(err) });
    }
  }

  /** An announcement that fails must not undo or hide what was done: it is logged and counted. */
  private async publishQuietly(notification: Notification): Promise<void> {
    try {
      await this.deps.notifier.publish(notification);
    } catch (err) {
      this.deps.logger.error('announcement failed', {
        serviceId: notification.serviceId,
        kind: notification.kind,
        error: describe(err),
        notification,
      });
      this.deps.metrics.add('NotificationFailed', 1, 'Count', { serviceId: notification.serviceId });
    }
  }

  private summarize(outcomes: readonly ZoneShiftOutcome[]): void {
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
    this.deps.metrics.add('ZoneShiftBatchSize', outcomes.length, 'Count');
    for (const [outcome, n] of Object.entries(counts))
      this.deps.metrics.add('ZoneShiftOutcome', n, 'Count', { outcome });
    this.deps.logger.info('zone shift finished', {
      messages: outcomes.length,
      services: this.batchSize,
      outcomes: counts,
      elapsedMs: this.deps.clock.now() - this.startedAt,
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
