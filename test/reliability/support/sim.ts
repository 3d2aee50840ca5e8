/**
 * A small world for the long property run: one service (three nodes) over the in-memory ports,
 * the real failover Lambda entry point, and operator workflows on the synthesized state machine
 * (step by step, support/asl.ts). Actions change the facts (health, lag, the clock), deliver
 * EventBridge events (late, out of order, duplicated), start and advance operator workflows,
 * pause automation, and crash invocations mid-flight (Lambda then retries them with the same
 * request id). With node actions (MemoryNodeActions) it also scripts promote/fence failures and
 * timeouts, delivers late answers, crashes nodes and brings them back. After every action
 * `check()` returns the DESIGN.md invariants 1-9 (and one writer) it violated.
 */
import type { FailoverOutcome } from '../../../lambdas/app/auto-failover.ts';
import { type FailoverConfig, healthAlarmName, type ServiceConfig } from '../../../lambdas/domain/config.ts';
import { currentState } from '../../../lambdas/domain/decide.ts';
import type { StatePort, TrafficPort } from '../../../lambdas/domain/ports.ts';
import type { AlarmStateValue, ClusterState, HistoryEntry } from '../../../lambdas/domain/types.ts';
import { makeHandler as makeFailoverHandler } from '../../../lambdas/handlers/failover.ts';
import { makeHandler as makeWorkflowHandler } from '../../../lambdas/handlers/workflow.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../../lambdas/testing/node-actions.ts';
import { alarmEvent, type AlarmEventJson as Json } from '../../support/alarm-events.ts';
import type { SynthesizedWorkflow } from '../../workflow/harness.ts';
import { AslExecution } from './asl.ts';

export type Action =
  | {
      readonly t: 'health';
      readonly node: string;
      readonly state: AlarmStateValue;
      readonly deliverNow: boolean;
    }
  | { readonly t: 'lag'; readonly node: string; readonly seconds: number | null }
  | { readonly t: 'deliver'; readonly pick: number }
  | { readonly t: 'duplicate'; readonly pick: number }
  | {
      readonly t: 'operator';
      readonly mode: 'switchover' | 'failover';
      readonly to: string | null;
      readonly force: boolean;
      readonly expectEpoch: boolean;
      readonly dryRun: boolean;
    }
  | { readonly t: 'step'; readonly pick: number }
  | { readonly t: 'pause'; readonly paused: boolean }
  | { readonly t: 'clock'; readonly ms: number }
  /**
   * The primary's alarm event delivered to an invocation that dies mid-flight (Lambda's timeout):
   * right after its lease write, at its shift before traffic moved (after any fence and promote),
   * or right after its shift. `retriesSpent`: Lambda's retries die too (the event is dead-lettered)
   * and the lease is left to expire, for a later event's invocation to take over.
   */
  | {
      readonly t: 'crash';
      readonly at: 'after-lease' | 'before-shift' | 'after-shift';
      readonly retriesSpent?: boolean;
    }
  /** Node actions only: the next promote or fence of a node fails, times out, or lands late. */
  | {
      readonly t: 'script';
      readonly node: string;
      readonly role: 'promote' | 'fence';
      readonly answer: 'failed' | 'timed-out' | 'lands-late';
    }
  /**
   * The primary's alarm event delivered to an invocation during which an operator pauses
   * automatic failover: while the promote runs (node actions only), or right after the traffic
   * shift answered.
   */
  | { readonly t: 'pause-in-flight'; readonly at: 'decision' | 'promote' | 'shift' }
  /**
   * Node actions only: the primary goes down and its alarm event is delivered to an invocation
   * during whose promote the old primary comes back as it went down (writable, its alarm OK), its
   * OK event delivered to another invocation at once, or later.
   */
  | { readonly t: 'returns-in-flight'; readonly deliverNow: boolean }
  /** Node actions only: actions that timed out but kept running land now (token-checked). */
  | { readonly t: 'late' }
  /** Node actions only: a node crashes (alarm ALARM) or comes back as it was (alarm OK). */
  | { readonly t: 'node'; readonly node: string; readonly up: boolean; readonly deliverNow: boolean };

export interface SimOptions {
  /** The service has fence/unfence/promote/demote node actions (MemoryNodeActions). */
  readonly actions?: boolean;
}

interface Delivery {
  readonly event: Json;
  readonly requestId: string;
  /** Lambda's attempt number for this request id (1-3). */
  readonly attempt: number;
  readonly notBefore: number;
}

const RETRY_AFTER_TIMEOUT_MS = 120_000;

/** What a run counts for the report, all zero. */
export function simCounts() {
  return {
    actions: 0,
    deliveries: 0,
    executions: 0,
    crashes: 0,
    /** Crashed events whose retries died too (dead-lettered). */
    deadLettered: 0,
    roleChanges: 0,
  };
}

export class Sim {
  readonly env: MemoryEnvironment;
  readonly service: ServiceConfig;
  readonly violations: string[] = [];
  /** Counts for the report. */
  readonly counts = simCounts();
  private readonly failover;
  private readonly step;
  private pending: Delivery[] = [];
  private readonly delivered: Json[] = [];
  private readonly executions = new Map<AslExecution, { waited: boolean }>();
  private seq = 0;
  /** Published notifications up to the last moment the record and traffic agreed. */
  private consistentAt = 0;
  private historySeen = 0;
  private readonly outstandingRetries = new Set<string>();
  /** The old primary's alarm, and the pause, when traffic last moved `from->to` (invariant 5 judges the move). */
  private readonly shiftFromAlarm = new Map<
    string,
    { readonly alarm: AlarmStateValue | undefined; readonly paused: boolean }
  >();
  /** The nodes' own model, when the service has node actions. */
  readonly actions?: MemoryNodeActions;
  /** Per node: the number of node-action calls when an operator workflow last moved traffic to it. */
  private readonly operatorShiftAt = new Map<string, number>();
  /** Old primaries that came back while their failover's promotions ran (returns-in-flight), this action. */
  private readonly returnedDuringPromote = new Set<string>();
  /** needsRejoin as of the last check (invariant 9: who left it, and how). */
  private readonly rejoinSeen = new Map<string, { epoch: number; calls: number }>();

  constructor(
    readonly config: FailoverConfig,
    private readonly synthesized: SynthesizedWorkflow,
    options: SimOptions = {},
  ) {
    this.env = createMemoryEnvironment(config, { clock: { autoAdvance: false } });
    this.service = config.services[0] as ServiceConfig;
    for (const n of this.service.nodes)
      this.env.lag.put(this.service.id, n.id, 1, this.env.clock.now() - 1_000);
    if (options.actions) {
      // A timed-out action waits its timeout in virtual time; everything else answers at once.
      this.actions = new MemoryNodeActions(config, {
        clock: this.env.clock,
        sleep: async (ms) => {
          this.env.clock.advance(ms);
        },
      });
    }
    const traffic = this.watchedTraffic(this.env.traffic);
    this.failover = makeFailoverHandler({
      ...this.env,
      traffic: this.automaticTraffic(traffic),
      ...(this.actions ? { actions: this.actions } : {}),
    });
    this.step = makeWorkflowHandler({
      ...this.env,
      // The workflow runs no node actions here: an operator's move is not a failed promotion.
      traffic: this.operatorTraffic(traffic),
    });
  }

  private get id(): string {
    return this.service.id;
  }

  state(): ClusterState {
    return currentState(this.env.state.snapshot(this.id), this.service);
  }

  private alarm(node: string): AlarmStateValue | undefined {
    const n = this.service.nodes.find((x) => x.id === node);
    return n ? this.env.alarms.get(healthAlarmName(this.service, n)) : undefined;
  }

  private operatorTraffic(inner: TrafficPort): TrafficPort {
    return {
      shift: async (changes) => {
        for (const c of changes) this.operatorShiftAt.set(c.to, this.actions?.calls.length ?? 0);
        return inner.shift(changes);
      },
      current: (id) => inner.current(id),
    };
  }

  /**
   * Invariant 8: the node's last promotion (since an operator last moved traffic to it) did not
   * succeed. Returns the failed call's outcome, or undefined.
   */
  private failedPromotion(node: string): string | undefined {
    if (!this.actions) return undefined;
    const since = this.operatorShiftAt.get(node) ?? 0;
    const last = this.actions.calls
      .slice(since)
      .filter((c) => c.request.role === 'promote' && c.request.nodeId === node)
      .at(-1);
    return last && last.outcome !== 'succeeded' ? `${last.outcome} (token ${last.request.token})` : undefined;
  }

  /** Invariant 5 at the moment the automatic path moves traffic: never while paused. */
  private automaticTraffic(inner: TrafficPort): TrafficPort {
    return {
      shift: async (changes) => {
        if (this.state().paused)
          this.violations.push(
            `inv5: automatic failover moved traffic ${changes.map((c) => `${c.from}->${c.to}`).join(', ')} while paused`,
          );
        return inner.shift(changes);
      },
      current: (id) => inner.current(id),
    };
  }

  /** Invariant 1 at the moment traffic moves: a node taking traffic as a promotion is healthy. */
  private watchedTraffic(inner: TrafficPort): TrafficPort {
    return {
      shift: async (changes) => {
        const primary = this.state().primary;
        for (const c of changes) {
          this.shiftFromAlarm.set(`${c.from}->${c.to}`, {
            alarm: this.alarm(c.from),
            paused: this.state().paused,
          });
          const restore = c.to === primary;
          if (!restore && this.alarm(c.to) !== 'OK') {
            this.violations.push(`inv1: traffic shifted to ${c.to} whose alarm is ${this.alarm(c.to)}`);
          }
          const failed = this.failedPromotion(c.to);
          if (failed && !restore)
            this.violations.push(`inv8: traffic shifted to ${c.to} whose promotion ${failed}`);
        }
        return inner.shift(changes);
      },
      current: (id) => inner.current(id),
    };
  }

  async apply(action: Action): Promise<void> {
    this.counts.actions++;
    const now = this.env.clock.now();
    switch (action.t) {
      case 'health': {
        const node = this.service.nodes.find((n) => n.id === action.node);
        if (!node || this.alarm(action.node) === action.state) return;
        const previous = this.alarm(action.node) ?? 'INSUFFICIENT_DATA';
        const name = this.env.alarms.setNode(this.id, action.node, action.state);
        const event = alarmEvent(name, action.state, previous, now, `evt-${++this.seq}`);
        const delivery = { event, requestId: `req-${this.seq}`, attempt: 1, notBefore: now };
        if (action.deliverNow) await this.deliver(delivery);
        else this.pending.push(delivery);
        return;
      }
      case 'lag':
        if (action.seconds === null) this.env.lag.clear(this.id, action.node);
        else this.env.lag.put(this.id, action.node, action.seconds, now - 1_000);
        return;
      case 'deliver': {
        const due = this.pending.filter((d) => d.notBefore <= now);
        if (due.length === 0) return;
        const d = due[action.pick % due.length] as Delivery;
        this.pending = this.pending.filter((x) => x !== d);
        await this.deliver(d);
        return;
      }
      case 'duplicate': {
        if (this.delivered.length === 0) return;
        const event = this.delivered[action.pick % this.delivered.length];
        await this.deliver({ event, requestId: `dup-${++this.seq}`, attempt: 1, notBefore: now });
        return;
      }
      case 'operator': {
        const input: Record<string, unknown> = {
          serviceId: this.id,
          mode: action.mode,
          reason: 'property run',
          ...(action.to ? { to: action.to } : {}),
          ...(action.force && action.mode === 'failover' ? { force: true } : {}),
          ...(action.expectEpoch ? { expectedEpoch: this.state().epoch } : {}),
          ...(action.dryRun ? { dryRun: true } : {}),
        };
        const slot = { waited: false };
        const execution = new AslExecution(
          this.synthesized.definition,
          {
            stepArn: this.synthesized.stepFunctionArn,
            step: (event) => this.step(event),
            onWait: (seconds) => {
              this.env.clock.advance(seconds * 1000);
              slot.waited = true;
            },
          },
          input,
          `exec-${++this.seq}`,
        );
        this.executions.set(execution, slot);
        this.counts.executions++;
        await this.burst(execution);
        return;
      }
      case 'step': {
        const running = [...this.executions.keys()].filter((e) => e.status === 'RUNNING');
        if (running.length === 0) return;
        await this.burst(running[action.pick % running.length] as AslExecution);
        return;
      }
      case 'pause':
        await this.env.state.setPaused(this.id, action.paused);
        return;
      case 'clock':
        this.env.clock.advance(action.ms);
        return;
      case 'crash': {
        // The primary's alarm event, delivered to an invocation that dies mid-flight.
        const primary = this.state().primary;
        if (this.alarm(primary) !== 'ALARM') return;
        const node = this.service.nodes.find((n) => n.id === primary);
        if (!node) return;
        await this.crash(this.alarmDelivery(node, now), action.at, action.retriesSpent === true);
        return;
      }
      case 'pause-in-flight': {
        // 'decision': the pause lands between the decision's read and the lease write (the lease
        // refuses it). Without node actions the lease and the shift follow each other within
        // milliseconds: no pause at the promote is modelled there.
        if (action.at === 'promote' && !this.actions) return;
        const primary = this.state().primary;
        const node = this.service.nodes.find((n) => n.id === primary);
        if (!node || this.alarm(primary) !== 'ALARM') return;
        await this.deliver(
          this.alarmDelivery(node, now),
          this.midFlightHandler(action.at, () => this.env.state.setPaused(this.id, true)),
        );
        return;
      }
      case 'returns-in-flight': {
        // The primary goes down (a blip: crash, partition) and its alarm's event is delivered.
        const primary = this.state().primary;
        const node = this.service.nodes.find((n) => n.id === primary);
        if (!this.actions || !node) return;
        this.actions.setUp(this.id, primary, false);
        const previous = this.alarm(primary) ?? 'INSUFFICIENT_DATA';
        const alarmName = this.env.alarms.setNode(this.id, primary, 'ALARM');
        const event = alarmEvent(
          alarmName,
          'ALARM',
          previous === 'ALARM' ? 'OK' : previous,
          now,
          `evt-${++this.seq}`,
        );
        const returns = async (promoting?: string) => {
          if (this.alarm(primary) !== 'ALARM') return;
          // The promotions are the failover: traffic follows them although the old primary is
          // back (as the zone shifter sends a queued change whose target is promoted); the
          // returned primary then rejoins. Invariant 5 judges this move at the first promote.
          if (promoting !== undefined) this.returnedDuringPromote.add(primary);
          await this.apply({ t: 'node', node: primary, up: true, deliverNow: action.deliverNow });
          this.counts.actions--;
        };
        await this.deliver(
          { event, requestId: `req-${this.seq}`, attempt: 1, notBefore: now },
          this.midFlightHandler('promote', returns),
        );
        return;
      }
      case 'script': {
        if (!this.actions) return;
        const answer =
          action.answer === 'failed'
            ? ({ status: 'failed', detail: 'scripted by the property run' } as const)
            : ({ status: 'timed-out', landsLater: action.answer === 'lands-late' } as const);
        this.actions.script(this.id, action.node, action.role, answer);
        return;
      }
      case 'late':
        this.actions?.deliverLate();
        return;
      case 'node': {
        if (!this.actions) return;
        this.actions.setUp(this.id, action.node, action.up);
        await this.apply({
          t: 'health',
          node: action.node,
          state: action.up ? 'OK' : 'ALARM',
          deliverNow: action.deliverNow,
        });
        this.counts.actions--;
        return;
      }
    }
  }

  /** Runs an execution's Tasks until it passes a Wait or ends: facts change between bursts, not inside one. */
  private async burst(execution: AslExecution): Promise<void> {
    const slot = this.executions.get(execution) as { waited: boolean };
    slot.waited = false;
    const before = this.state().epoch;
    while (execution.status === 'RUNNING' && !slot.waited) await execution.next();
    if (this.state().epoch !== before) this.counts.roleChanges += this.state().epoch - before;
  }

  /** Writable nodes whose last applied node action is an automatic failover's promote for `epoch`. */
  private promotedFor(epoch: number): string[] {
    const actions = this.actions;
    if (!actions) return [];
    return actions.writers(this.id).filter((n) => {
      const last = actions
        .callsFor(this.id)
        .filter((c) => c.request.nodeId === n && c.applied)
        .at(-1);
      return (
        last?.request.role === 'promote' &&
        last.request.mode === 'auto-failover' &&
        last.request.epoch === epoch
      );
    });
  }

  /** What the node actions went through, for the report (zeros without actions). */
  actionCounts(): { failedActions: number; lateLandings: number } {
    const calls = this.actions?.calls ?? [];
    return {
      failedActions: calls.filter((c) => c.outcome !== 'succeeded' && c.request.role !== 'demote').length,
      lateLandings: calls.filter((c) => c.outcome === 'timed-out' && c.applied).length,
    };
  }

  /** Role changes by operation, for the report. */
  async changesByOperation(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const h of await this.env.state.history(this.id, 10_000))
      out[h.operation] = (out[h.operation] ?? 0) + 1;
    return out;
  }

  /** The failover Lambda, with `happen` (a pause, a node's return) in the middle of its invocation. */
  private midFlightHandler(
    at: 'decision' | 'promote' | 'shift',
    happen: (promoting?: string) => Promise<void>,
  ): typeof this.failover {
    let done = false;
    const once = async (promoting?: string) => {
      if (done) return;
      done = true;
      await happen(promoting);
    };
    const traffic = this.automaticTraffic(this.watchedTraffic(this.env.traffic));
    const actions = this.actions;
    const state = this.env.state;
    return makeFailoverHandler({
      ...this.env,
      // 'decision': right after the decision read the state, before the lease is written.
      ...(at === 'decision'
        ? {
            state: Object.assign(Object.create(state) as typeof state, {
              get: async (id: string) => {
                const read = await state.get(id);
                await once();
                return read;
              },
            }),
          }
        : {}),
      ...(actions
        ? {
            actions: {
              has: (svc, n, role) => actions.has(svc, n, role),
              run: async (req) => {
                if (at === 'promote' && req.role === 'promote') await once(req.nodeId);
                return actions.run(req);
              },
            },
          }
        : {}),
      traffic: {
        shift: async (changes) => {
          const out = await traffic.shift(changes);
          if (at === 'shift') await once();
          return out;
        },
        current: (id) => traffic.current(id),
      },
    });
  }

  /** The first delivery of `node`'s OK -> ALARM event, with a fresh event id and request id. */
  private alarmDelivery(node: ServiceConfig['nodes'][number], now: number): Delivery {
    const event = alarmEvent(healthAlarmName(this.service, node), 'ALARM', 'OK', now, `evt-${++this.seq}`);
    return { event, requestId: `req-${this.seq}`, attempt: 1, notBefore: now };
  }

  private async deliver(d: Delivery, handler = this.failover): Promise<void> {
    this.counts.deliveries++;
    const before = this.state();
    const live = this.env.traffic.pointsAt(this.id);
    const logsBefore = this.env.logger.find('failover decision').length;
    const t = d.event.detail;
    const cloudWatchNow = this.env.alarms.get(t.alarmName);
    const node = this.service.nodes.find((n) => healthAlarmName(this.service, n) === t.alarmName);
    const actionable = t.state.value === 'ALARM' && node?.id === before.primary && cloudWatchNow === 'ALARM';
    let outcome: FailoverOutcome | undefined;
    try {
      outcome = await handler(d.event, { awsRequestId: d.requestId });
    } catch {
      this.retryLater(d, 60_000);
    }
    this.delivered.push(d.event);
    if (d.attempt > 1) this.outstandingRetries.delete(d.requestId);
    const after = this.state();
    // Invariant 7: every decision is logged, with its reason.
    if (
      outcome &&
      outcome.outcome !== 'ignored' &&
      this.env.logger.find('failover decision').length === logsBefore
    ) {
      this.violations.push(`inv7: no decision logged for ${d.event.id}`);
    }
    // Invariant 6: an event that asks for nothing changes nothing, and says why.
    if (!actionable && d.attempt === 1) {
      if (after.epoch !== before.epoch || this.env.traffic.pointsAt(this.id) !== live) {
        this.violations.push(
          `inv6: ${t.alarmName} ${t.previousState.value}->${t.state.value} changed something`,
        );
      }
      if (
        outcome &&
        !(
          outcome.reason &&
          (outcome.detail || outcome.outcome === 'ignored' || outcome.outcome === 'rejoined')
        )
      ) {
        this.violations.push(`inv6: ${t.alarmName} held without saying why`);
      }
    }
  }

  private retryLater(d: Delivery, afterMs: number): void {
    if (d.attempt >= 3) return; // parked in the dead-letter queue (DeadLetterAlarm pages)
    this.outstandingRetries.add(d.requestId);
    this.pending.push({ ...d, attempt: d.attempt + 1, notBefore: this.env.clock.now() + afterMs });
  }

  /** An invocation that dies (Lambda timeout) right after its lease write, at its traffic shift, or after it. */
  private async crash(
    d: Delivery,
    at: 'after-lease' | 'before-shift' | 'after-shift',
    retriesSpent: boolean,
  ): Promise<void> {
    let died = false;
    const hang = <T>(): Promise<T> => {
      died = true;
      return new Promise<T>(() => {});
    };
    const state: StatePort = {
      get: (id) => this.env.state.get(id),
      acquireLease: async (req) => {
        const grant = await this.env.state.acquireLease(req);
        if (at === 'after-lease') return hang();
        return grant;
      },
      commit: (req) => this.env.state.commit(req),
      releaseLease: (id, holder) => this.env.state.releaseLease(id, holder),
      setPaused: (id, p, seed, onlyIf) => this.env.state.setPaused(id, p, seed, onlyIf),
      history: (id, limit) => this.env.state.history(id, limit),
      markRejoined: (req) => this.env.state.markRejoined(req),
      noteOnce: (id, note, seed) => this.env.state.noteOnce(id, note, seed),
    };
    const traffic = this.automaticTraffic(this.watchedTraffic(this.env.traffic));
    const dying = makeFailoverHandler({
      ...this.env,
      ...(this.actions ? { actions: this.actions } : {}),
      state,
      traffic: {
        shift: async (changes) => {
          if (at === 'before-shift') return hang();
          const out = await traffic.shift(changes);
          if (at === 'after-shift') return hang();
          return out;
        },
        current: (id) => traffic.current(id),
      },
    });
    let settled = false;
    void dying(d.event, { awsRequestId: d.requestId }).then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (let i = 0; i < 50 && !died && !settled; i++) await new Promise((r) => setImmediate(r));
    if (!died) return;
    this.counts.crashes++;
    // Lambda times the invocation out and retries it with the same request id; or its retries
    // died the same way and the event is parked in the dead-letter queue (which pages).
    // (A dead-lettered attempt that had moved traffic leaves the record behind the router until a
    // human acts: modelled only before traffic moved, where the automation must repair it itself.)
    if (retriesSpent && at !== 'after-shift') {
      this.counts.deadLettered++;
      // A node it promoted is a primary now: its probe publishes no replica lag any more.
      for (const n of this.promotedFor(this.state().epoch + 1)) this.env.lag.clear(this.id, n);
    } else this.retryLater(d, RETRY_AFTER_TIMEOUT_MS);
    // EventBridge may deliver the event again (at least once), as a new invocation: after the
    // dead-lettered attempt's lease expired, it takes that lease over.
    this.delivered.push(d.event);
    if (retriesSpent && at !== 'after-shift')
      this.pending.push({
        event: d.event,
        requestId: `dup-${++this.seq}`,
        attempt: 1,
        notBefore: this.env.clock.now() + RETRY_AFTER_TIMEOUT_MS + 60_000,
      });
  }

  /** True when nothing is in flight: no running workflow, no live lease, no retry owed. */
  private quiescent(): boolean {
    const lease = this.state().lease;
    return (
      [...this.executions.keys()].every((e) => e.status !== 'RUNNING') &&
      (!lease || lease.expiresAt < this.env.clock.now()) &&
      this.outstandingRetries.size === 0
    );
  }

  /** Invariants 1-7 that can be read off the world now. */
  async check(): Promise<void> {
    const v = this.violations;
    const state = this.state();
    const policy = this.service.policy;
    const nodes = this.service.nodes.map((n) => n.id);
    const live = this.env.traffic.pointsAt(this.id);
    const published = this.env.notifier.published;

    // Invariant 4: traffic on exactly one node, always.
    if (!live || !nodes.includes(live)) v.push(`inv4: traffic on ${String(live)}`);
    // ... and on the recorded primary whenever nothing is in flight, unless a human was told.
    if (live === state.primary) this.consistentAt = published.length;
    else if (this.quiescent()) {
      const told = published
        .slice(this.consistentAt)
        .some(
          (n) =>
            ['failover-failed', 'rollback-failed'].includes(n.kind) ||
            (n.kind === 'rollback' && ((n.detail.needsHuman as unknown[] | undefined)?.length ?? 0) > 0),
        );
      if (!told)
        v.push(`inv4: recorded primary ${state.primary}, traffic on ${live}, nothing in flight, nobody told`);
    }

    // Invariants 8 and 9 and one writer, for a service with node actions.
    if (this.actions) {
      const failed = live ? this.failedPromotion(live) : undefined;
      if (failed) v.push(`inv8: traffic on ${live} whose promotion ${failed}`);
      const marked = state.needsRejoin ?? [];
      for (const n of marked) {
        if (n === state.primary) v.push(`inv9: ${n} needs rejoin but is the recorded primary`);
        if (n === live) v.push(`inv9: ${n} needs rejoin but takes traffic`);
      }
      const calls = this.actions.callsFor(this.id);
      for (const [n, seen] of [...this.rejoinSeen].filter(([x]) => !marked.includes(x))) {
        // Demoted (or fenced) after it was marked, with a token of the epoch it was marked in or later.
        const rejoined = calls
          .slice(seen.calls)
          .some(
            (c) =>
              c.request.nodeId === n &&
              (c.request.role === 'demote' || c.request.role === 'fence') &&
              c.outcome === 'succeeded' &&
              c.request.epoch >= seen.epoch,
          );
        if (!rejoined)
          v.push(`inv9: ${n} left needs-rejoin (marked at epoch ${seen.epoch}) without a demote/fence since`);
        this.rejoinSeen.delete(n);
      }
      for (const n of marked)
        if (!this.rejoinSeen.has(n)) this.rejoinSeen.set(n, { epoch: state.epoch, calls: calls.length });
      // One writer among the node with the traffic and the recorded primary. While an attempt
      // that moved traffic to the target its lease names is owed a retry (it died between the
      // shift and the commit), the record lags the router: the lease's target is the primary
      // in flight, and a recorded primary that was down when it was fenced may come back
      // writable before the retry fences it and records the change (RELIABILITY.md). It takes
      // no traffic meanwhile; the window closes with the retry, checked strictly after it.
      const inFlight =
        this.outstandingRetries.size > 0 && state.lease?.target !== undefined && state.lease.target === live;
      const writers = this.actions
        .writers(this.id)
        .filter((n) => n === live || (n === state.primary && !inFlight));
      if (writers.length > 1)
        v.push(`split brain: writers ${writers.join(', ')} (traffic on ${live}, primary ${state.primary})`);
      await this.checkRejoined(marked);
    }

    // Invariant 3: one role change per epoch, a chain of changes, the state at its head.
    // A rejoin entry records a former primary's demotion within the epoch: not a role change.
    const history = [...(await this.env.state.history(this.id, 10_000))]
      .reverse()
      .filter((h) => h.operation !== 'rejoin');
    history.forEach((h, i) => {
      if (h.epoch !== i + 1) v.push(`inv3: history epoch ${h.epoch} at position ${i + 1}`);
      const prev = i === 0 ? this.service.initialPrimary : (history[i - 1] as HistoryEntry).to;
      if (h.from !== prev) v.push(`inv3: change ${h.epoch} from ${h.from}, but ${prev} was primary`);
    });
    if (state.epoch !== history.length) v.push(`inv3: epoch ${state.epoch} with ${history.length} changes`);
    if (history.length && state.primary !== history.at(-1)?.to)
      v.push(`inv3: primary ${state.primary} is not the last change's target`);

    for (const h of history.slice(this.historySeen)) {
      // Invariant 1 at promotion: the new primary is healthy when its change is recorded.
      // (The shift itself is checked in watchedTraffic.)
      // Invariant 2: automatic failover promotes only a replica with fresh lag within budget.
      if (h.operation === 'auto-failover') {
        if (h.lagSeconds === undefined || h.lagSeconds > policy.maxLagSeconds || h.forced) {
          v.push(`inv2: auto-failover to ${h.to} with lag ${h.lagSeconds}`);
        }
        // Invariant 5: not paused, outside the cooldown, and away from a failed primary only.
        const previous = history[h.epoch - 2];
        if (previous && h.at < previous.at + policy.cooldownSeconds * 1000) {
          v.push(`inv5: auto-failover ${h.epoch} ${(h.at - previous.at) / 1000} s after the last change`);
        }
      } else if (h.forced) {
        if (!/forced: data-loss bound/.test(h.reason))
          v.push(`inv2: forced change ${h.epoch} without its data-loss bound`);
      } else if (h.operation === 'switchover' && h.lagSeconds !== 0) {
        v.push(`inv2: switchover ${h.epoch} with lag ${h.lagSeconds}`);
      } else if (
        h.operation === 'failover' &&
        (h.lagSeconds === undefined || h.lagSeconds > policy.maxLagSeconds)
      ) {
        v.push(`inv2: unforced failover ${h.epoch} with lag ${h.lagSeconds}`);
      }
      // Invariant 7: every role change is announced (the workflow's Notify step runs in the same burst).
      const announced = published.some(
        (n) => ['failover', 'switchover'].includes(n.kind) && n.detail.epoch === h.epoch,
      );
      if (!announced) v.push(`inv7: change ${h.epoch} (${h.operation}) not announced`);
    }
    this.historySeen = history.length;
  }

  /**
   * Invariant 9, the rejoin itself: once nothing is in flight and no event about it is still to be
   * delivered, a former primary an automatic failover marked needs-rejoin is not back up, healthy
   * and writable without a rejoin, unless a human was told its rejoin failed. (Its OK event may have
   * reached an invocation before the commit marked it: then nothing else would rejoin it.)
   */
  private async checkRejoined(marked: readonly string[]): Promise<void> {
    const actions = this.actions;
    if (!actions || !this.quiescent()) return;
    const history = await this.env.state.history(this.id, 10_000);
    for (const n of marked) {
      if (!actions.writers(this.id).includes(n) || this.alarm(n) !== 'OK') continue;
      const markedBy = history.find((h) => h.operation !== 'rejoin' && h.from === n);
      if (markedBy?.operation !== 'auto-failover') continue;
      const node = this.service.nodes.find((x) => x.id === n);
      const alarmName = node ? healthAlarmName(this.service, node) : '';
      if (this.pending.some((d) => d.event.detail.alarmName === alarmName)) continue;
      const told = this.env.notifier.published.some(
        (p) => p.kind === 'rejoin-failed' && p.detail.from === n && Number(p.detail.epoch) >= markedBy.epoch,
      );
      if (!told)
        this.violations.push(
          `inv9: ${n}, marked needs-rejoin by auto-failover ${markedBy.epoch}, is back, healthy and writable, and nothing rejoins it`,
        );
    }
  }

  /**
   * Applies an action and checks everything after it. Invariant 5 is judged against the world just
   * before the action: an automatic failover may commit only if nothing then forbade it.
   */
  async around(action: Action): Promise<void> {
    const before = this.state();
    const now = this.env.clock.now();
    await this.apply(action);
    // Alarms change only in 'health' actions, before that action's own delivery: read them after.
    const alarms = new Map(this.service.nodes.map((n) => [n.id, this.alarm(n.id)]));
    const after = this.state();
    if (after.epoch > before.epoch) {
      const changes = (await this.env.state.history(this.id, 10_000)).filter(
        (h) => h.operation === 'auto-failover' && h.epoch > before.epoch,
      );
      for (const h of changes) {
        // A pause stops changes not yet sent: a move made before it may be recorded after it.
        const key = `${h.from}->${h.to}`;
        const moved = this.shiftFromAlarm.get(key);
        this.shiftFromAlarm.delete(key);
        if (moved ? moved.paused : before.paused)
          this.violations.push(`inv5: auto-failover ${h.epoch} while paused`);
        const lease = before.lease;
        if (lease && lease.expiresAt >= now && lease.holder !== h.actor) {
          this.violations.push(
            `inv5: auto-failover ${h.epoch} while ${lease.operation} ${lease.holder} held the lease`,
          );
        }
        // No automatic failback: automation moves only away from a primary whose alarm is ALARM,
        // when it moves the traffic. A retry that records a move an attempt made before it died
        // is judged by the alarm at that move.
        // One promotion per epoch: no other node an automatic attempt promoted for this epoch
        // (one that died, its retries spent) is left writable next to the change's target.
        for (const other of this.promotedFor(h.epoch).filter((n) => n !== h.to))
          this.violations.push(
            `split brain: auto-failover ${h.epoch} to ${h.to} left ${other}, promoted for epoch ${h.epoch} by another attempt, writable`,
          );
        const fromAlarm = moved ? moved.alarm : alarms.get(h.from);
        const returned = this.returnedDuringPromote.has(h.from);
        if (fromAlarm !== 'ALARM' && !returned) {
          this.violations.push(
            `inv5: auto-failover ${h.epoch} away from ${h.from}, whose alarm was ${fromAlarm}`,
          );
        }
      }
    }
    this.returnedDuringPromote.clear();
    await this.check();
  }

  /** Lets everything in flight finish: due retries, every workflow, then time past every lease. */
  async drain(): Promise<void> {
    for (let round = 0; round < 20; round++) {
      this.env.clock.advance(RETRY_AFTER_TIMEOUT_MS + 1_000);
      for (const n of this.service.nodes) this.env.lag.put(this.id, n.id, 0, this.env.clock.now() - 1_000);
      const due = this.pending;
      this.pending = [];
      for (const d of due) await this.deliver(d);
      for (const e of this.executions.keys()) while (e.status === 'RUNNING') await this.burst(e);
      await this.check();
      if (this.pending.length === 0 && [...this.executions.keys()].every((e) => e.status !== 'RUNNING'))
        break;
    }
    this.env.clock.advance(3_600_000);
    await this.check();
  }
}
