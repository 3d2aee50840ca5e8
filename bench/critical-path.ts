/**
 * Critical path: the real failover handler (makeHandler: event validation, runAutoFailover) over
 * in-memory ports wrapped by instrument() with a fixed latency per AWS call, against a naive
 * baseline that calls the same ports one after another. Two clocks:
 *
 * - virtual (ManualClock): latency costs no wall time, so the figures are exact round-trip counts
 *   times the latency, independent of this machine's load;
 * - wall: real timers, so the figures also hold the CPU time of validation, decision and logging.
 */

import { healthAlarmName } from '../lambdas/domain/config.ts';
import { currentState, decideAutoFailover } from '../lambdas/domain/decide.ts';
import type { Clock } from '../lambdas/domain/ports.ts';
import { makeHandler } from '../lambdas/handlers/failover.ts';
import { ManualClock } from '../lambdas/testing/clock.ts';
import { route53Service, testConfig } from '../lambdas/testing/fixtures.ts';
import { CallLog, type CallRecord, instrument } from '../lambdas/testing/instrument.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../lambdas/testing/node-actions.ts';
import { alarmStateChangeEvent } from '../test/support/alarm-events.ts';
import { type Figure, median } from './report.ts';

export interface PathRun {
  /** Round trips that completed one after another before the shift request was issued, plus the shift itself. */
  readonly roundTripsToShift: number;
  /** Sequential round trips of the whole invocation (to the last call). */
  readonly roundTripsTotal: number;
  readonly calls: number;
  /** Event received -> traffic-shift request issued. */
  readonly msToShiftRequest: number;
  /** Event received -> invocation finished (committed and announced). */
  readonly msTotal: number;
  readonly outcome: string;
}

const SERVICE = 'orders';

function alarmEvent(env: MemoryEnvironment, at: number) {
  const alarmName = env.alarms.setNode(SERVICE, 'a', 'ALARM');
  return alarmStateChangeEvent({ alarmName, at, id: `evt-${at}`, account: '111122223333' });
}

interface Harness {
  readonly env: MemoryEnvironment;
  readonly log: CallLog;
  readonly clock: Clock;
  readonly ports: {
    alarms: MemoryEnvironment['alarms'];
    lag: MemoryEnvironment['lag'];
    state: MemoryEnvironment['state'];
    traffic: MemoryEnvironment['traffic'];
    notifier: MemoryEnvironment['notifier'];
  };
}

function harness(mode: 'virtual' | 'wall', latencyMs: number): Harness {
  const config = testConfig([
    route53Service({
      id: SERVICE,
      nodes: ['a', 'b', 'c'],
      policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
    }),
  ]);
  const virtual = new ManualClock({ start: Date.now() });
  const env = createMemoryEnvironment(config, { clock: virtual });
  const clock: Clock = mode === 'virtual' ? virtual : { now: () => Date.now() };
  const sleep =
    mode === 'virtual'
      ? virtual.sleep
      : (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const log = new CallLog(mode === 'virtual' ? virtual : { now: () => performance.now() });
  const hooks = { log, sleep, latencyMs };
  env.lag.put(SERVICE, 'b', 2, clock.now() - 5_000);
  env.lag.put(SERVICE, 'c', 4, clock.now() - 5_000);
  return {
    env,
    log,
    clock,
    ports: {
      alarms: instrument(env.alarms, 'alarms', hooks),
      lag: instrument(env.lag, 'lag', hooks),
      state: instrument(env.state, 'state', hooks),
      traffic: instrument(env.traffic, 'traffic', hooks),
      notifier: instrument(env.notifier, 'notifier', hooks),
    },
  };
}

function summarize(h: Harness, startedAt: number, endedAt: number, outcome: string): PathRun {
  const shift = h.log.find({ port: 'traffic', method: 'shift' })[0];
  if (!shift) throw new Error(`no traffic shift was requested (outcome ${outcome})`);
  const last = h.log.calls.reduce<CallRecord | undefined>(
    (a, c) => (a === undefined || (c.endSeq ?? 0) > (a.endSeq ?? 0) ? c : a),
    undefined,
  );
  return {
    roundTripsToShift: h.log.sequentialRoundTripsBefore(shift) + 1,
    roundTripsTotal: last ? h.log.sequentialRoundTripsBefore(last) + 1 : 0,
    calls: h.log.calls.length,
    msToShiftRequest: shift.start - startedAt,
    msTotal: endedAt - startedAt,
    outcome,
  };
}

/** The real handler. */
export async function runHandler(mode: 'virtual' | 'wall', latencyMs: number): Promise<PathRun> {
  const h = harness(mode, latencyMs);
  const handler = makeHandler({
    ...h.env,
    ...h.ports,
    clock: h.clock,
    newHolderId: () => 'bench',
  });
  const now = () => (mode === 'virtual' ? h.clock.now() : performance.now());
  const event = alarmEvent(h.env, h.clock.now());
  const startedAt = now();
  const out = await handler(event, { awsRequestId: `bench-${startedAt}` });
  const endedAt = now();
  if (out.outcome !== 'failed-over') throw new Error(`expected a failover, got ${JSON.stringify(out)}`);
  return summarize(h, startedAt, endedAt, out.outcome);
}

/** How long each in-memory node action takes: the actions' own run time, not the automation's. */
export const ACTION_DURATION_MS = 2_000;

export interface ActionPathRun {
  /** Decision -> traffic-shift request, minus the time spent inside node actions (the engine's own cost). */
  readonly overheadMs: number;
  /** Time spent inside node actions (fence + promote). */
  readonly actionsMs: number;
  /** Sequential AWS round trips before the shift request (shift included); actions are not AWS calls here. */
  readonly roundTripsToShift: number;
}

/**
 * The real handler for a service with fence and promote actions (in memory, each taking
 * ACTION_DURATION_MS), or without actions: the automation's overhead from the decision to the
 * traffic-shift request, excluding the actions' own run time, as the engine reports it.
 */
export async function runHandlerOverhead(
  mode: 'virtual' | 'wall',
  latencyMs: number,
  withActions: boolean,
): Promise<ActionPathRun> {
  const h = harness(mode, latencyMs);
  const sleep =
    mode === 'virtual'
      ? (ms: number) => (h.clock as ManualClock).sleep(ms)
      : (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const actions = withActions
    ? new MemoryNodeActions(h.env.config, {
        clock: h.clock,
        sleep,
        durationMs: ACTION_DURATION_MS,
        roles: { [SERVICE]: ['fence', 'unfence', 'promote', 'demote'] },
      })
    : new MemoryNodeActions(h.env.config, { clock: h.clock, sleep, durationMs: 0, roles: { [SERVICE]: [] } });
  const handler = makeHandler({
    ...h.env,
    ...h.ports,
    actions,
    clock: h.clock,
    newHolderId: () => 'bench',
  });
  const event = alarmEvent(h.env, h.clock.now());
  const out = await handler(event, { awsRequestId: `bench-actions-${withActions}-${h.clock.now()}` });
  if (out.outcome !== 'failed-over') throw new Error(`expected a failover, got ${JSON.stringify(out)}`);
  const overheadMs = out.timings?.overheadMs;
  if (overheadMs === undefined) throw new Error('the engine reported no overhead timing');
  const shift = h.log.find({ port: 'traffic', method: 'shift' })[0];
  if (!shift) throw new Error('no traffic shift was requested');
  return {
    overheadMs,
    actionsMs: out.timings?.actionsMs ?? 0,
    roundTripsToShift: h.log.sequentialRoundTripsBefore(shift) + 1,
  };
}

/**
 * The naive baseline: the same ports, the same decision, each call awaited before the next
 * (alarms, lag, state, lease, shift, commit, announce), as a first implementation would write it.
 */
export async function runNaive(mode: 'virtual' | 'wall', latencyMs: number): Promise<PathRun> {
  const h = harness(mode, latencyMs);
  const { env, ports, clock } = h;
  const service = env.config.services[0]!;
  const now = () => (mode === 'virtual' ? clock.now() : performance.now());
  const event = alarmEvent(env, clock.now());
  const startedAt = now();
  const transition = {
    alarmName: event.detail.alarmName,
    state: 'ALARM' as const,
    previousState: 'OK' as const,
    timestamp: Date.parse(event.time),
    eventId: event.id,
  };
  const alarms = await ports.alarms.getStates(service.nodes.map((n) => healthAlarmName(service, n)));
  const lag = await ports.lag.getLatest(
    service.nodes.map((n) => ({ key: n.id, metric: n.lag })),
    clock.now(),
    300,
  );
  const stored = currentState(await ports.state.get(service.id), service);
  const decision = decideAutoFailover({ service, transition, alarms, lag, state: stored, now: clock.now() });
  if (decision.action !== 'failover') throw new Error(`naive baseline held: ${decision.reason}`);
  const t = clock.now();
  const lease = {
    holder: 'naive',
    operation: 'auto-failover' as const,
    acquiredAt: t,
    expiresAt: t + 120_000,
  };
  await ports.state.acquireLease({
    serviceId: service.id,
    expectedEpoch: decision.expectedEpoch,
    seedPrimary: service.initialPrimary,
    lease,
    now: t,
  });
  await ports.traffic.shift([{ serviceId: service.id, from: decision.from, to: decision.to }]);
  await ports.state.commit({
    serviceId: service.id,
    expectedEpoch: decision.expectedEpoch,
    holder: 'naive',
    newPrimary: decision.to,
    at: clock.now(),
    history: {
      serviceId: service.id,
      epoch: decision.expectedEpoch + 1,
      at: clock.now(),
      operation: 'auto-failover',
      from: decision.from,
      to: decision.to,
      reason: 'naive baseline',
      lagSeconds: decision.lagSeconds,
      actor: 'naive',
    },
  });
  await ports.notifier.publish({ kind: 'failover', serviceId: service.id, subject: 'naive', detail: {} });
  return summarize(h, startedAt, now(), 'failed-over');
}

export interface CriticalPathResult {
  readonly latencyMs: number;
  readonly virtual: { readonly ours: PathRun; readonly naive: PathRun };
  readonly wall: { readonly ours: readonly PathRun[]; readonly naive: readonly PathRun[] };
  /** Decision -> shift request, excluding the node actions' run time, with and without actions. */
  readonly overhead: {
    readonly virtual: { readonly withActions: ActionPathRun; readonly without: ActionPathRun };
    readonly wall: {
      readonly withActions: readonly ActionPathRun[];
      readonly without: readonly ActionPathRun[];
    };
  };
}

export async function measureCriticalPath(
  options: { latencyMs?: number; runs?: number } = {},
): Promise<CriticalPathResult> {
  const latencyMs = options.latencyMs ?? 25;
  const runs = options.runs ?? 20;
  const virtual = {
    ours: await runHandler('virtual', latencyMs),
    naive: await runNaive('virtual', latencyMs),
  };
  const ours: PathRun[] = [];
  const naive: PathRun[] = [];
  // Interleaved, after one warm-up each, so JIT and machine load hit both alike.
  await runHandler('wall', latencyMs);
  await runNaive('wall', latencyMs);
  for (let i = 0; i < runs; i++) {
    ours.push(await runHandler('wall', latencyMs));
    naive.push(await runNaive('wall', latencyMs));
  }
  const withActions: ActionPathRun[] = [];
  const without: ActionPathRun[] = [];
  const overheadRuns = Math.min(runs, 5);
  for (let i = 0; i < overheadRuns; i++) {
    withActions.push(await runHandlerOverhead('wall', latencyMs, true));
    without.push(await runHandlerOverhead('wall', latencyMs, false));
  }
  const overhead = {
    virtual: {
      withActions: await runHandlerOverhead('virtual', latencyMs, true),
      without: await runHandlerOverhead('virtual', latencyMs, false),
    },
    wall: { withActions, without },
  };
  return { latencyMs, virtual, wall: { ours, naive }, overhead };
}

export function criticalPathFigures(r: CriticalPathResult): Figure[] {
  const section = `critical path (${r.latencyMs} ms per AWS call)`;
  const naive = (value: number) => ({ baseline: { label: 'naive sequential', value } });
  /** A row of the virtual-time figure `pick` reads, ours against the naive sequential path's. */
  const versusNaive = (name: string, unit: string, pick: (path: typeof r.virtual.ours) => number) => ({
    section,
    name,
    value: pick(r.virtual.ours),
    unit,
    ...naive(pick(r.virtual.naive)),
  });
  const med = (runs: readonly PathRun[], pick: (p: PathRun) => number) => median(runs.map(pick));
  const overhead = (runs: readonly PathRun[]) =>
    median(runs.map((p) => p.msToShiftRequest - (p.roundTripsToShift - 1) * r.latencyMs));
  const o = r.overhead;
  const noActions = (value: number) => ({ baseline: { label: 'no node actions', value } });
  return [
    {
      section,
      name: 'decision -> shift request with fence + promote, actions excluded, virtual time',
      value: o.virtual.withActions.overheadMs,
      unit: 'ms',
      ...noActions(o.virtual.without.overheadMs),
      goal: { op: '<=', value: 2_000 },
      note: `the actions themselves took ${o.virtual.withActions.actionsMs} ms (2 x ${ACTION_DURATION_MS} ms)`,
    },
    {
      section,
      name: `decision -> shift request with fence + promote, actions excluded, wall clock, median of ${o.wall.withActions.length}`,
      value: median(o.wall.withActions.map((p) => p.overheadMs)),
      unit: 'ms',
      ...noActions(median(o.wall.without.map((p) => p.overheadMs))),
      goal: { op: '<=', value: 2_000 },
    },
    {
      ...versusNaive(
        'sequential round trips, event to traffic shift (shift included)',
        'RT',
        (v) => v.roundTripsToShift,
      ),
      goal: { op: '<=', value: 3 },
    },
    versusNaive(
      'sequential round trips, whole invocation (commit, announce)',
      'RT',
      (v) => v.roundTripsTotal,
    ),
    versusNaive('AWS calls per failover', '', (v) => v.calls),
    versusNaive('event -> shift request, virtual time (latency only)', 'ms', (v) => v.msToShiftRequest),
    {
      section,
      name: `event -> shift request, wall clock, median of ${r.wall.ours.length}`,
      value: med(r.wall.ours, (p) => p.msToShiftRequest),
      unit: 'ms',
      ...naive(med(r.wall.naive, (p) => p.msToShiftRequest)),
      goal: { op: '<=', value: 100 },
    },
    {
      section,
      name: 'CPU + timer overhead beyond the round trips before the shift, median',
      value: overhead(r.wall.ours),
      unit: 'ms',
      ...naive(overhead(r.wall.naive)),
    },
    {
      section,
      name: 'event -> committed and announced, wall clock, median',
      value: med(r.wall.ours, (p) => p.msTotal),
      unit: 'ms',
      ...naive(med(r.wall.naive, (p) => p.msTotal)),
    },
  ];
}
