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
import { findService, healthAlarmName, type ServiceConfig } from '../domain/config.ts';
import { currentState, decideAutoFailover, lagQueries } from '../domain/decide.ts';
import { LeaseConflictError, LeaseLostError } from '../domain/errors.ts';
import type { Notification } from '../domain/ports.ts';
import type {
  AlarmStateValue,
  ClusterState,
  Decision,
  LagSample,
  QueuedShift,
  StoredClusterState,
  TrafficShiftResult,
} from '../domain/types.ts';
import { DEFAULT_LEASE_SECONDS, isRetryableShiftError, lagLookbackSeconds } from './auto-failover.ts';
import type { AutomationPorts } from './ports.ts';
import {
  failedOverNotification,
  failoverHeldNotification,
  NOTIFIED_HOLDS,
  needsAttentionNotification,
  publishQuietly,
  reportFailedOver,
  reportNeedsAttention,
  reportTrafficConflict,
  trafficConflictNotification,
} from './role-change/announce.ts';
import { autoFailoverHistory, rejoinSetAfter } from './role-change/commit.ts';
import { describe } from './role-change/context.ts';

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
  /**
   * Time kept in hand at the end of the invocation: no new round (send, read-back) starts with
   * less than this left of the Lambda's remaining time, so what is not done is handed back to the
   * queue before the function times out.
   * @default 15000
   */
  readonly reserveMs?: number;
}

export interface ZoneShiftDeps extends AutomationPorts {
  /** This shifter invocation (its request id), for logs and announcements. @default 'zone-shifter' */
  readonly invocationId?: string;
  /** The renewed lease's length, as the failover Lambda's. @default 120 */
  readonly leaseSeconds?: number;
  readonly retry?: ZoneShiftRetry;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source. @default Math.random */
  readonly random?: () => number;
  /** Time left in this invocation (Lambda's context.getRemainingTimeInMillis). @default - only budgetMs limits it */
  readonly remainingMs?: () => number;
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
  /** Not settled in this invocation (still refused, outcome unknown, out of time, another attempt
   * holds it): the message goes back to the queue, the lease kept. */
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
  /** The state the decision was made on: the commit carries its needs-rejoin set forward. */
  readonly state: ClusterState;
}

/** The queued change itself, as a decision: what a shift of an already-promoted target sends. */
function queuedDecision(shift: QueuedShift): FailoverDecision {
  return {
    action: 'failover',
    serviceId: shift.serviceId,
    from: shift.from,
    to: shift.to,
    expectedEpoch: shift.expectedEpoch,
    lagSeconds: shift.lagSeconds,
    candidates: [],
  };
}

/** How one service's shift ended, once settled: what the commit/conflict/announce code acts on. */
type Settlement =
  /** Traffic is on the target (the change applied, or an earlier attempt's did): commit. */
  | { readonly kind: 'moved'; readonly plan: Plan; readonly note?: string }
  | {
      readonly kind: 'conflict';
      readonly plan: Plan;
      readonly result: Extract<TrafficShiftResult, { status: 'conflict' }>;
    }
  /** Refused for good, nothing applied: the lease is released and a human told. */
  | {
      readonly kind: 'failed';
      readonly plan: Plan;
      readonly result: Extract<TrafficShiftResult, { status: 'failed' }>;
    }
  /** The outcome was unknown and the read-back shows neither `from` nor `to`. */
  | {
      readonly kind: 'elsewhere';
      readonly plan: Plan;
      readonly result: Extract<TrafficShiftResult, { status: 'failed' }>;
      readonly observed: string | undefined;
    };

interface Facts {
  readonly alarms: ReadonlyMap<string, AlarmStateValue>;
  readonly lag: ReadonlyMap<string, LagSample | undefined>;
  readonly states: ReadonlyMap<string, StoredClusterState | undefined>;
}

const DEFAULT_RETRY: Required<ZoneShiftRetry> = {
  budgetMs: 20_000,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  reserveMs: 15_000,
};
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
  /** Holds whose lease an earlier attempt claimed (see settleEarlier). */
  private readonly earlier: { work: Work; state: ClusterState; decision: Decision }[] = [];

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
    const moved = await this.settleEarlier();
    const renewed = await Promise.all([...planned, ...moved].map((p) => this.renewLease(p)));
    const leased = renewed.filter((p): p is Plan => p !== undefined);
    const alreadyMoved = new Set(moved);
    await Promise.all(leased.filter((p) => alreadyMoved.has(p)).map((p) => this.commit(p)));
    const toShift = leased.filter((p) => !alreadyMoved.has(p));
    if (toShift.length === 0) return;
    await this.shiftAll(toShift);
  }

  private async gatherFacts(work: readonly Work[]): Promise<Facts> {
    const { deps } = this;
    const now = deps.clock.now();
    const alarmNames = work.flatMap((w) => w.service.nodes.map((n) => healthAlarmName(w.service, n)));
    const queries = work.flatMap((w) =>
      lagQueries(w.service).map((q) => ({ key: `${w.service.id}/${q.key}`, metric: q.metric })),
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
    const state = currentState(facts.states.get(service.id), service);
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
    if (
      lease?.holder === shift.holder &&
      lease.attempt !== undefined &&
      lease.attempt !== this.attemptOf(item) &&
      lease.expiresAt >= now
    ) {
      // A copy of this change is being shifted by another invocation right now: only one attempt
      // per lease may shift. This copy comes back after the visibility timeout and finds it done.
      this.set(item, {
        outcome: 'deferred',
        reason: 'another-attempt',
        detail: `attempt ${lease.attempt} holds the lease of ${shift.holder}`,
        epoch: state.epoch,
      });
      return undefined;
    }
    if (shift.promoted) {
      // The failover Lambda already promoted the target (and fenced the old primary) before the
      // shift was throttled: the promotion is the failover and traffic must follow it. A fresh
      // decision could hold (the old primary answers again) or pick another replica, leaving
      // traffic on a fenced node or sending it to one that was never promoted (invariant 8).
      deps.logger.info('zone shift of a promoted target: sent as queued, not decided again', {
        serviceId: service.id,
        eventId: shift.transition.eventId,
        holder: shift.holder,
        epoch: state.epoch,
        queuedAs: `${shift.from}->${shift.to}`,
        fenced: shift.promoted.fenced,
      });
      if (service.policy.dryRun) {
        await this.hold(w, state, queuedDecision(shift));
        return undefined;
      }
      return { ...w, state, decision: queuedDecision(shift) };
    }
    const view: ClusterState = lease?.holder === shift.holder ? { ...state, lease: undefined } : state;
    const lag = new Map(
      lagQueries(service).map((q) => [q.key, facts.lag.get(`${service.id}/${q.key}`)] as const),
    );
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
    if (decision.action === 'hold' || service.policy.dryRun) {
      // An earlier invocation claimed this lease and may have sent the change before it ended
      // (timed out, or handed it back with its outcome unknown): before holding, find out whether
      // traffic moved, so a move that happened is recorded rather than left apart from the state.
      if (
        lease?.holder === shift.holder &&
        lease.attempt !== undefined &&
        lease.attempt !== this.attemptOf(item)
      ) {
        this.earlier.push({ work: w, state, decision });
        return undefined;
      }
      await this.hold(w, state, decision);
      return undefined;
    }
    return { ...w, state, decision };
  }

  /** Nothing to shift: give the lease back and say why (announced when a human should know). */
  private async hold(w: Work, state: ClusterState, decision: Decision): Promise<void> {
    const { item, service } = w;
    const shift = item.shift;
    if (decision.action === 'hold') {
      await this.releaseQuietly(service.id, shift.holder, this.attemptOf(item));
      if (NOTIFIED_HOLDS.has(decision.reason)) {
        await this.publishQuietly(
          failoverHeldNotification({
            failover: 'queued',
            serviceId: service.id,
            primary: state.primary,
            epoch: state.epoch,
            reason: decision.reason,
            detail: decision.detail,
            alarmName: shift.transition.alarmName,
            eventId: shift.transition.eventId,
            candidates: decision.candidates,
          }),
        );
      }
      this.set(item, {
        outcome: 'held',
        from: state.primary,
        reason: decision.reason,
        detail: decision.detail,
        epoch: state.epoch,
      });
      return;
    }
    await this.releaseQuietly(service.id, shift.holder, this.attemptOf(item));
    this.set(item, {
      outcome: 'held',
      from: decision.from,
      to: decision.to,
      reason: 'dry-run',
      epoch: state.epoch,
    });
  }

  /**
   * Holds whose lease an earlier attempt claimed: one batched read-back. Traffic still on the
   * primary: hold as decided. On the queued target: that attempt's change applied, so it is
   * renewed and committed (traffic that moved is recorded). Unknown: back to the queue. Anything
   * else: a human.
   */
  private async settleEarlier(): Promise<Plan[]> {
    if (this.earlier.length === 0) return [];
    const read = await this.readBack(this.earlier.map((e) => e.work.service.id));
    const toCommit: Plan[] = [];
    for (const { work, state, decision } of this.earlier) {
      const shift = work.item.shift;
      const observed = read.get(work.service.id);
      const plan: Plan = {
        ...work,
        state,
        decision: {
          action: 'failover',
          serviceId: work.service.id,
          from: state.primary,
          to: shift.to,
          expectedEpoch: state.epoch,
          lagSeconds: shift.lagSeconds,
          candidates: decision.candidates,
        },
      };
      if (!read.has(work.service.id)) {
        this.defer(
          plan,
          'outcome-unknown',
          'an earlier attempt may have sent this change and traffic could not be read back',
        );
      } else if (observed === state.primary) await this.hold(work, state, decision);
      else if (observed === shift.to && shift.to !== state.primary) toCommit.push(plan);
      else
        await this.needsAttention(
          plan,
          'shift-uncertain',
          `an earlier attempt may have sent this change; traffic now points at ${observed ?? 'no single node'}, the state names ${state.primary}`,
        );
    }
    return toCommit;
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
          attempt: this.attemptOf(p.item),
        },
        now,
      });
      return p;
    } catch (err) {
      if (err instanceof LeaseConflictError && (await this.anotherAttempt(p))) {
        this.set(p.item, {
          outcome: 'deferred',
          reason: 'another-attempt',
          detail: `another zone-shift invocation claimed the lease of ${p.item.shift.holder} first; this copy of the change comes back later`,
          epoch: p.decision.expectedEpoch,
        });
      } else if (err instanceof LeaseConflictError) {
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

  /**
   * Rounds of one batch per zone until every change is settled or the time runs out. Before each
   * round the state is read again (a pause or another operation written since the decision stops
   * the changes not yet sent); after each, what is settled is committed at once, changes Route 53
   * refused go round again with backoff, and changes whose outcome is unknown (a timeout, a lost
   * answer) are read back in one batched read before anything else is decided about them.
   */
  private async shiftAll(plans: readonly Plan[]): Promise<void> {
    const { deps } = this;
    let pending = [...plans];
    let round = 0;
    while (pending.length > 0) {
      pending = await this.stillOurs(pending);
      if (pending.length === 0) break;
      if (this.outOfTime()) {
        this.deferAll(pending, 'out-of-time', 'too little of the invocation left to send and settle it');
        break;
      }
      const results = await this.shiftOnce(pending);
      round++;
      deps.metrics.add('ZoneShiftRequests', 1, 'Count');
      const again: Plan[] = [];
      const settled: Settlement[] = [];
      const unknown: { plan: Plan; result: Extract<TrafficShiftResult, { status: 'failed' }> }[] = [];
      pending.forEach((plan, i) => {
        const result = results[i]!;
        if (result.status === 'shifted') settled.push({ kind: 'moved', plan });
        else if (result.status === 'conflict') settled.push({ kind: 'conflict', plan, result });
        else if (result.uncertain) unknown.push({ plan, result });
        else if (isRetryableShiftError(result.errorName)) again.push(plan);
        else settled.push({ kind: 'failed', plan, result });
      });
      if (unknown.length > 0) {
        const read = await this.readBack(unknown.map((u) => u.plan.service.id));
        for (const { plan, result } of unknown) {
          const id = plan.service.id;
          if (!read.has(id)) {
            this.defer(
              plan,
              'outcome-unknown',
              `${result.errorName} (${result.message}) and traffic could not be read back; the queue redelivers it`,
            );
          } else if (read.get(id) === plan.decision.to) settled.push({ kind: 'moved', plan });
          // Not applied: the same change is still right, send it again.
          else if (read.get(id) === plan.decision.from) again.push(plan);
          else settled.push({ kind: 'elsewhere', plan, result, observed: read.get(id) });
        }
      }
      // Committed as they settle: a later round or a timeout cannot lose what already moved.
      await Promise.all(settled.map((x) => this.settle(x)));
      if (again.length === 0) break;
      const delay = this.backoff(round);
      if (deps.clock.now() + delay - this.startedAt > this.retry.budgetMs || this.outOfTime(delay)) {
        this.deferAll(
          again,
          'still-throttled',
          `Route 53 still refused after ${round} rounds; the queue redelivers it`,
        );
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
  }

  /** Less than the reserve left of the invocation (after `afterMs` more)? */
  private outOfTime(afterMs = 0): boolean {
    const remaining = this.deps.remainingMs?.();
    return remaining !== undefined && remaining - afterMs < this.retry.reserveMs;
  }

  private defer(plan: Plan, reason: string, detail: string): void {
    this.set(plan.item, {
      outcome: 'deferred',
      reason,
      detail,
      from: plan.decision.from,
      to: plan.decision.to,
      epoch: plan.decision.expectedEpoch,
    });
  }

  private deferAll(plans: readonly Plan[], reason: string, detail: string): void {
    for (const plan of plans) this.defer(plan, reason, detail);
  }

  /**
   * The state read again before a round: a service paused since the decision is not sent (its
   * lease given back, announced as held); one whose epoch or lease moved is left to whoever moved
   * it. A failed read lets the round go on: the commit's own condition still refuses a pause.
   */
  private async stillOurs(plans: readonly Plan[]): Promise<Plan[]> {
    const { deps } = this;
    const now = deps.clock.now();
    const checked = await Promise.all(
      plans.map(async (plan) => {
        let state: StoredClusterState | undefined;
        try {
          state = await deps.state.get(plan.service.id);
        } catch {
          return plan;
        }
        const lease = state?.lease;
        const ours =
          state !== undefined &&
          state.epoch === plan.decision.expectedEpoch &&
          lease?.holder === plan.item.shift.holder &&
          lease.attempt === this.attemptOf(plan.item);
        // A promoted change is past its point of no return: the shifter cannot undo the
        // promotion, and holding would leave traffic on the fenced old primary next to a writer.
        // It is sent and recorded (the commit's alreadySent) whatever the pause says.
        if (state?.paused && ours && !plan.item.shift.promoted) {
          await this.releaseQuietly(plan.service.id, plan.item.shift.holder, this.attemptOf(plan.item));
          deps.logger.info('zone shift stopped: the service was paused after the decision', {
            serviceId: plan.service.id,
            from: plan.decision.from,
            to: plan.decision.to,
          });
          await this.publishQuietly(
            failoverHeldNotification({
              failover: 'queued',
              serviceId: plan.service.id,
              primary: plan.decision.from,
              epoch: plan.decision.expectedEpoch,
              reason: 'paused',
              detail: 'paused after the decision, before the change was sent',
              eventId: plan.item.shift.transition.eventId,
            }),
          );
          this.set(plan.item, {
            outcome: 'held',
            from: plan.decision.from,
            to: plan.decision.to,
            reason: 'paused',
            detail: 'paused after the decision, before the change was sent: nothing changed',
            epoch: plan.decision.expectedEpoch,
          });
          return undefined;
        }
        if (
          !ours &&
          state !== undefined &&
          !(lease && lease.expiresAt < now && state.epoch === plan.decision.expectedEpoch)
        ) {
          this.set(plan.item, {
            outcome: 'superseded',
            reason: state.epoch === plan.decision.expectedEpoch ? 'lease-taken' : 'epoch-moved',
            detail: `epoch ${state.epoch}, lease ${lease ? `${lease.operation} by ${lease.holder}` : 'none'}: another operation acted since the decision`,
            epoch: state.epoch,
          });
          return undefined;
        }
        return plan;
      }),
    );
    return checked.filter((p): p is Plan => p !== undefined);
  }

  /**
   * Where traffic points for changes whose outcome is unknown: one batched read (a zone walk for
   * Route 53), read again with backoff inside the budget for the services it could not answer.
   * Absent from the answer: still unknown.
   */
  private async readBack(serviceIds: readonly string[]): Promise<ReadonlyMap<string, string | undefined>> {
    const { deps } = this;
    const out = new Map<string, string | undefined>();
    let missing = [...serviceIds];
    for (let attempt = 1; missing.length > 0; attempt++) {
      try {
        const read = deps.traffic.currentAll
          ? await deps.traffic.currentAll(missing)
          : await this.readOneByOne(missing);
        for (const [id, node] of read) out.set(id, node);
      } catch (err) {
        deps.logger.warn('zone shift read-back failed', {
          services: missing.length,
          attempt,
          error: describe(err),
        });
      }
      missing = missing.filter((id) => !out.has(id));
      const delay = this.backoff(attempt);
      if (
        missing.length === 0 ||
        attempt >= 3 ||
        deps.clock.now() + delay - this.startedAt > this.retry.budgetMs ||
        this.outOfTime(delay)
      )
        break;
      await this.sleep(delay);
    }
    return out;
  }

  /** Without a batched read: one service after the other, so a big batch stays within rate limits. */
  private async readOneByOne(ids: readonly string[]): Promise<ReadonlyMap<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    for (const id of ids) {
      try {
        out.set(id, await this.deps.traffic.current(id));
      } catch {
        // unknown: absent
      }
    }
    return out;
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

  // -- settling one service: commit, conflict, or a human (the engine's commit/conflict/announce) --

  private async settle(x: Settlement): Promise<void> {
    const { plan } = x;
    const { service, decision } = plan;
    switch (x.kind) {
      case 'moved':
        return this.commit(plan);
      case 'conflict':
        return this.conflict(plan, x.result);
      case 'elsewhere':
        // Leave the lease to expire: nothing automatic should touch this service until a human looks.
        return this.needsAttention(
          plan,
          'shift-uncertain',
          `traffic shift to ${decision.to} failed with ${x.result.errorName} (${x.result.message}) and traffic now points at ${x.observed ?? 'no single node'}`,
        );
      case 'failed':
        await this.releaseQuietly(service.id, plan.item.shift.holder, this.attemptOf(plan.item));
        return this.needsAttention(
          plan,
          'shift-failed',
          `traffic shift to ${decision.to} failed with ${x.result.errorName} (${x.result.message}); traffic stays on ${decision.from}, which is down`,
        );
    }
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
    const history = autoFailoverHistory({
      decision,
      epoch,
      at,
      alarmName: shift.transition.alarmName,
      timings,
      actor: shift.holder,
      note: `sent in a zone batch of ${this.batchSize} after ${shift.reason}`,
      ...(shift.promoted ? { actions: shift.promoted.actions, fenced: shift.promoted.fenced } : {}),
    });
    try {
      await deps.state.commit({
        serviceId: service.id,
        expectedEpoch: decision.expectedEpoch,
        holder: shift.holder,
        attempt: this.attemptOf(item),
        newPrimary: decision.to,
        at,
        history,
        // Invariant 9 holds on the batched path too: the old primary is no candidate until it rejoins.
        needsRejoin: rejoinSetAfter(plan.state, decision),
        // A promoted change is recorded even when paused since (see stillOurs).
        ...(shift.promoted ? { alreadySent: true } : {}),
      });
    } catch (err) {
      // Read with retries: after a commit that may have landed, an unreadable state would page
      // commit-failed for a change that is recorded, and nothing would ever announce it.
      const now = await this.withRetry('state after a failed commit', () => deps.state.get(service.id)).catch(
        () => undefined,
      );
      if (now?.epoch === epoch && now.primary === decision.to && now.lastChange?.actor === shift.holder) {
        if (now.lastChange.at === at && !(err instanceof LeaseLostError)) {
          // Our own write landed; only its answer was lost.
          deps.logger.warn('commit answered with an error but is recorded', {
            serviceId: service.id,
            error: describe(err),
          });
        } else {
          // Another attempt of the same change (a copy of the message) committed it and announces it.
          deps.logger.info('change already committed by another attempt of the same holder', {
            serviceId: service.id,
            epoch,
          });
          this.set(item, { outcome: 'already-done', from: decision.from, to: decision.to, epoch });
          return;
        }
      } else if (now?.paused && now.epoch === decision.expectedEpoch) {
        return this.needsAttention(
          plan,
          'paused-after-shift',
          `traffic moved to ${decision.to} before a pause written meanwhile took effect; the automatic failover is not recorded while paused, so the state still names ${decision.from} as primary: record it with a manual failover to ${decision.to}, or move traffic back`,
        );
      } else {
        return this.needsAttention(
          plan,
          err instanceof LeaseLostError ? 'lease-lost' : 'commit-failed',
          `traffic moved to ${decision.to}, but recording epoch ${epoch} failed (${describe(err)}): the state names ${now ? `${now.primary} at epoch ${now.epoch}` : 'an unknown primary (read failed)'}`,
        );
      }
    }
    reportFailedOver(deps, decision, epoch, timings, { via: 'zone-shift', batchSize: this.batchSize });
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

  private async conflict(
    plan: Plan,
    result: Extract<TrafficShiftResult, { status: 'conflict' }>,
  ): Promise<void> {
    const { deps } = this;
    const { service, decision, item } = plan;
    // Someone moved traffic outside the lease. Never overwrite it: tell a human what is live now.
    await this.releaseQuietly(service.id, item.shift.holder, this.attemptOf(item));
    reportTrafficConflict(deps, decision, result);
    await this.publishQuietly(
      trafficConflictNotification({
        decision,
        observed: result.observed,
        message: result.message,
        eventId: item.shift.transition.eventId,
      }),
    );
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
    const { decision, item } = plan;
    reportNeedsAttention(deps, decision, reason, detail);
    await this.publishQuietly(
      needsAttentionNotification({
        decision,
        reason,
        detail,
        eventId: item.shift.transition.eventId,
        holder: item.shift.holder,
      }),
    );
    this.set(item, {
      outcome: 'needs-attention',
      from: decision.from,
      to: decision.to,
      reason,
      detail,
      epoch: decision.expectedEpoch,
    });
  }

  /**
   * This invocation's attempt at one queued change: the change's token (its message id for a
   * message without one) and the invocation. Claimed in the lease, so that of two invocations
   * holding copies of one change only one shifts.
   */
  private attemptOf(item: ZoneShiftItem): string {
    return `${item.shift.token ?? item.id}@${this.actor}`;
  }

  /** A lease refused because the same holder's lease is claimed by another live attempt? */
  private async anotherAttempt(p: Plan): Promise<boolean> {
    const lease = (await this.readStateQuietly(p.service.id))?.lease;
    return lease?.holder === p.item.shift.holder && lease.attempt !== this.attemptOf(p.item);
  }

  private async readStateQuietly(serviceId: string): Promise<StoredClusterState | undefined> {
    try {
      return await this.deps.state.get(serviceId);
    } catch {
      return undefined;
    }
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
  private async releaseQuietly(serviceId: string, holder: string, attempt: string): Promise<void> {
    try {
      await this.deps.state.releaseLease(serviceId, holder, attempt);
    } catch (err) {
      this.deps.logger.warn('lease release failed; it will expire', { serviceId, error: describe(err) });
    }
  }

  private publishQuietly(notification: Notification): Promise<void> {
    return publishQuietly(this.deps, notification);
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
