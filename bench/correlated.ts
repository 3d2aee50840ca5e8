/**
 * Correlated failures: N services whose primaries fail at the same instant (an AZ or Region
 * event), their records in one hosted zone or spread over several, on a simulated Route 53 with
 * its real limits (lambdas/testing/route53-sim.ts). Everything above Route 53 is the project's
 * real code: the failover handler for every alarm event, the Route 53 router, and, in the
 * zone-shift design, the SQS hand-off and the zone-shift handler.
 *
 * - 'per-event': the design before issue 6: one change per event; a throttled change fails the
 *   invocation, which Lambda retries (1 min, then 2 min later) and then dead-letters.
 * - 'zone-shift': a throttled change is queued under its lease and the zone shifter sends one
 *   batch per zone.
 *
 * Time is virtual: the figures do not depend on this machine. The model's parameters are printed
 * with the results; the defaults are documented in BENCHMARKS.md.
 */
import type { Route53Client } from '@aws-sdk/client-route-53';
import { TrafficRouter } from '../lambdas/aws/traffic-router.ts';
import { type FailoverConfig, healthAlarmName, type ServiceConfig } from '../lambdas/domain/config.ts';
import type { ShiftQueuePort } from '../lambdas/domain/ports.ts';
import { encodeQueuedShift } from '../lambdas/domain/queued-shift.ts';
import type { QueuedShift } from '../lambdas/domain/types.ts';
import { makeHandler } from '../lambdas/handlers/failover.ts';
import { makeZoneShiftHandler } from '../lambdas/handlers/zone-shift.ts';
import { ManualClock } from '../lambdas/testing/clock.ts';
import { route53Service, testConfig } from '../lambdas/testing/fixtures.ts';
import { CallLog, instrument } from '../lambdas/testing/instrument.ts';
import { createMemoryEnvironment } from '../lambdas/testing/memory.ts';
import {
  SimulatedRoute53,
  type SimulatedRoute53Options,
  seededRandom,
  withSdkRetries,
} from '../lambdas/testing/route53-sim.ts';
import { alarmStateChangeEvent } from '../test/support/alarm-events.ts';
import type { Figure } from './report.ts';

export type Design = 'per-event' | 'zone-shift';

export interface ShifterModel {
  /** The event source mapping's MaximumBatchingWindowInSeconds, in ms. @default 1000 */
  readonly batchWindowMs?: number;
  /** ScalingConfig.MaximumConcurrency. @default 2 */
  readonly maxConcurrency?: number;
  /** The event source mapping's BatchSize. @default 1000 */
  readonly batchSize?: number;
  /** A new shifter execution environment's init. @default 500 */
  readonly coldStartMs?: number;
  /** SendMessage round trip. @default 20 */
  readonly sendLatencyMs?: number;
  /** The queue's visibility timeout: when a reported-back message is delivered again. @default 360000 */
  readonly visibilityTimeoutMs?: number;
  /** The redrive policy's maxReceiveCount. @default 3 */
  readonly maxReceiveCount?: number;
  /** The zone-shift function's timeout (its context's getRemainingTimeInMillis counts down from it). @default 60000 */
  readonly timeoutMs?: number;
}

export interface CorrelatedOptions {
  readonly design: Design;
  /** @default 200 */
  readonly services?: number;
  /** Hosted zones the records are spread over, round robin. @default 1 */
  readonly zones?: number;
  /** @default 42 */
  readonly seed?: number;
  /** Services whose record an operator pointed elsewhere before the event: they must end as conflicts. @default 0 */
  readonly conflicts?: number;
  /** Other records in the zone per service (TXT, the size of a real zone): list pages to walk. @default 0 */
  readonly otherRecordsPerService?: number;
  readonly route53?: Omit<SimulatedRoute53Options, 'clock'>;
  /** Alarm state change to the failover handler's start (EventBridge delivery, Lambda cold start). @default [200, 1000] */
  readonly eventDelayMs?: readonly [number, number];
  /** Round trip of each CloudWatch, DynamoDB and SNS call. @default 20 */
  readonly portLatencyMs?: number;
  readonly shifter?: ShifterModel;
  /** Lambda's asynchronous retries of a failed invocation. @default [60000, 120000] */
  readonly asyncRetryDelaysMs?: readonly number[];
}

export interface ServiceOutcome {
  readonly serviceId: string;
  readonly zone: string;
  /** The last outcome the automation reported for it. */
  readonly outcome: string;
  /** ms after the failure when Route 53 accepted the change moving it, if it did. */
  readonly trafficMovedAtMs?: number;
  /** ms after the failure when the new epoch was committed, if it was. */
  readonly committedAtMs?: number;
  readonly deadLettered: boolean;
}

export interface CorrelatedResult {
  readonly options: Required<Omit<CorrelatedOptions, 'route53' | 'shifter'>> & {
    readonly route53: Required<Omit<SimulatedRoute53Options, 'clock'>>;
    readonly shifter: Required<ShifterModel>;
  };
  readonly services: readonly ServiceOutcome[];
  /** Services that should fail over (not the pre-moved conflicts). */
  readonly expected: number;
  readonly failedOver: number;
  readonly failedOverWithin5s: number;
  /** Expected to fail over and did not, by the end of the simulation. */
  readonly lost: number;
  readonly deadLettered: number;
  readonly conflictsReported: number;
  /** How many services ended with each outcome the automation reported. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly lastTrafficMoveMs?: number;
  readonly lastCommitMs?: number;
  readonly medianCommitMs?: number;
  /** When the last activity ended (retries included). */
  readonly endMs: number;
  /** The longest zone-shift invocation (virtual ms): must stay under the function timeout. */
  readonly longestShifterInvocationMs: number;
  readonly calls: {
    readonly route53: SimulatedRoute53['stats']['requests'] & {
      readonly throttled: number;
      readonly priorRequestNotComplete: number;
      readonly invalidChangeBatch: number;
      readonly acceptedChanges: number;
      readonly sdkRetries: number;
    };
    readonly failoverInvocations: number;
    readonly lambdaRetries: number;
    readonly queueMessages: number;
    readonly shifterInvocations: number;
    readonly dynamodb: number;
    readonly cloudwatch: number;
    readonly sns: number;
  };
  /** Broken invariants: must be empty. */
  readonly violations: readonly string[];
}

/** Lag datapoints are published this far ahead; longer than the last Lambda retry. */
const HORIZON_MS = 10 * 60_000;

const ZONE_IDS = (zones: number) =>
  Array.from({ length: zones }, (_, k) => `Z${String(k + 1).padStart(3, '0')}BENCHZONE`);

export function correlatedConfig(services: number, zones: number): FailoverConfig {
  const ids = ZONE_IDS(zones);
  return testConfig(
    Array.from({ length: services }, (_, i) =>
      route53Service({
        id: `svc-${String(i).padStart(3, '0')}`,
        index: i,
        hostedZoneId: ids[i % zones],
        policy: { maxLagSeconds: 30, maxLagAgeSeconds: 120 },
      }),
    ),
  );
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
  inFlight: boolean;
}

/** A standard SQS queue with a redrive policy, in virtual time. */
class SimulatedQueue implements ShiftQueuePort {
  readonly messages: Message[] = [];
  readonly deadLetters: Message[] = [];
  sent = 0;
  onMessage: () => void = () => {};

  constructor(
    private readonly clock: ManualClock,
    private readonly latencyMs: number,
  ) {}

  async enqueue(shift: QueuedShift): Promise<void> {
    await this.clock.sleep(this.latencyMs);
    this.sent++;
    this.messages.push({
      messageId: `msg-${this.sent}`,
      body: encodeQueuedShift(shift),
      receiveCount: 0,
      visibleAt: this.clock.now(),
      inFlight: false,
    });
    this.onMessage();
  }

  takeVisible(max: number): Message[] {
    const now = this.clock.now();
    const out = this.messages.filter((m) => !m.inFlight && m.visibleAt <= now).slice(0, max);
    for (const m of out) {
      m.inFlight = true;
      m.receiveCount++;
    }
    return out;
  }

  settle(
    batch: readonly Message[],
    failed: ReadonlySet<string>,
    visibilityTimeoutMs: number,
    maxReceive: number,
  ) {
    const again: Message[] = [];
    for (const m of batch) {
      const i = this.messages.indexOf(m);
      if (!failed.has(m.messageId)) {
        this.messages.splice(i, 1);
        continue;
      }
      m.inFlight = false;
      if (m.receiveCount >= maxReceive) {
        this.messages.splice(i, 1);
        this.deadLetters.push(m);
      } else {
        m.visibleAt = this.clock.now() + visibilityTimeoutMs;
        again.push(m);
      }
    }
    return again;
  }
}

export async function runCorrelated(options: CorrelatedOptions): Promise<CorrelatedResult> {
  const opts = {
    design: options.design,
    services: options.services ?? 200,
    zones: options.zones ?? 1,
    seed: options.seed ?? 42,
    conflicts: options.conflicts ?? 0,
    otherRecordsPerService: options.otherRecordsPerService ?? 0,
    eventDelayMs: options.eventDelayMs ?? ([200, 1_000] as const),
    portLatencyMs: options.portLatencyMs ?? 20,
    asyncRetryDelaysMs: options.asyncRetryDelaysMs ?? [60_000, 120_000],
    route53: {
      requestsPerSecond: 5,
      burst: 5,
      latencyMs: 100,
      zoneBusyMs: 500,
      propagationMs: 30_000,
      ...options.route53,
    },
    shifter: {
      batchWindowMs: 1_000,
      maxConcurrency: 2,
      batchSize: 1_000,
      coldStartMs: 500,
      sendLatencyMs: 20,
      visibilityTimeoutMs: 360_000,
      maxReceiveCount: 3,
      timeoutMs: 60_000,
      ...options.shifter,
    },
  };
  const config = correlatedConfig(opts.services, opts.zones);
  const clock = new ManualClock({ start: Date.UTC(2025, 0, 1) });
  const t0 = clock.now();
  const rng = seededRandom(opts.seed);
  const env = createMemoryEnvironment(config, { clock });
  const sim = SimulatedRoute53.fromConfig(config, { clock, ...opts.route53 });
  const violations: string[] = [];

  for (const service of config.services) {
    const r = service.router;
    if (r.type !== 'route53') continue;
    for (let k = 0; k < opts.otherRecordsPerService; k++)
      sim.put(r.hostedZoneId, {
        Name: `x${k}.${service.id}.example.com`,
        Type: 'TXT',
        TTL: 300,
        ResourceRecords: [{ Value: '"filler"' }],
      });
  }
  // Conflicts: records an operator moved before the event, spread over the services.
  const conflictIds = new Set<string>();
  for (let k = 0; k < opts.conflicts; k++) {
    const service = config.services[Math.floor(((k + 0.5) * opts.services) / opts.conflicts)]!;
    conflictIds.add(service.id);
    const r = service.router;
    if (r.type === 'route53')
      sim.put(r.hostedZoneId, {
        Name: r.recordName,
        Type: r.recordType,
        TTL: r.ttlSeconds,
        ResourceRecords: [{ Value: `192.0.2.${(k % 250) + 1}` }],
      });
  }
  // Every primary fails at t0; every replica stays healthy, 1 s behind, its lag published every
  // 10 s (so a retry minutes later still finds a fresh datapoint, as in AWS).
  for (const service of config.services) {
    for (let t = t0 - 5_000; t < t0 + HORIZON_MS; t += 10_000) env.lag.put(service.id, 'b', 1, t);
    env.alarms.setNode(service.id, 'a', 'ALARM');
  }

  const log = new CallLog(clock);
  const hooks = { log, sleep: clock.sleep, latencyMs: opts.portLatencyMs };
  const ports = {
    alarms: instrument(env.alarms, 'cloudwatch', hooks),
    lag: instrument(env.lag, 'cloudwatch', hooks),
    state: instrument(env.state, 'dynamodb', hooks),
    notifier: instrument(env.notifier, 'sns', hooks),
  };
  const retryingClients: ReturnType<typeof withSdkRetries>[] = [];
  const traffic = (maxAttempts: number) => {
    const client = withSdkRetries(sim, { maxAttempts, sleep: clock.sleep, random: rng });
    retryingClients.push(client);
    return new TrafficRouter({ config, route53: client as unknown as Route53Client, sleep: clock.sleep });
  };
  const queue =
    opts.design === 'zone-shift' ? new SimulatedQueue(clock, opts.shifter.sendLatencyMs) : undefined;
  const common = { config, ...ports, logger: env.logger, metrics: env.metrics, clock };
  const failover = makeHandler({
    ...common,
    // As buildAwsPorts wires it: without a queue the SDK's 3 attempts, with one a single attempt.
    traffic: traffic(queue ? 1 : 3),
    ...(queue ? { shiftQueue: queue } : {}),
  });
  const shifter = makeZoneShiftHandler({
    ...common,
    traffic: traffic(3),
    sleep: clock.sleep,
    random: rng,
  });

  const tasks = new Set<Promise<void>>();
  const spawn = (fn: () => Promise<void>) => {
    const p: Promise<void> = fn()
      .catch((err: unknown) => {
        violations.push(`simulation task failed: ${err instanceof Error ? err.stack : String(err)}`);
      })
      .finally(() => tasks.delete(p));
    tasks.add(p);
  };

  const outcomes = new Map<string, string>();
  const deadLettered = new Set<string>();
  let failoverInvocations = 0;
  let lambdaRetries = 0;
  let shifterInvocations = 0;
  let longestShifterInvocationMs = 0;

  const invokeFailover = async (service: ServiceConfig, attempt: number): Promise<void> => {
    failoverInvocations++;
    try {
      const out = await failover(alarmEvent(service, t0), { awsRequestId: `inv-${service.id}` });
      outcomes.set(service.id, out.outcome);
    } catch {
      const delay = opts.asyncRetryDelaysMs[attempt];
      if (delay === undefined) {
        deadLettered.add(service.id);
        outcomes.set(service.id, 'dead-lettered');
        return;
      }
      lambdaRetries++;
      outcomes.set(service.id, 'retrying');
      await clock.sleep(delay);
      await invokeFailover(service, attempt + 1);
    }
  };

  // The event source mapping: a batching window from the first visible message, then up to
  // maxConcurrency invocations sharing what is visible (split evenly: the worst case for
  // contention on one zone), redelivery after the visibility timeout, dead-letter after maxReceiveCount.
  if (queue) {
    let windowOpen = false;
    let running = 0;
    let environments = 0;
    const dispatch = () => {
      const free = opts.shifter.maxConcurrency - running;
      if (free <= 0) return;
      const visible = queue.takeVisible(opts.shifter.batchSize * free);
      if (visible.length === 0) return;
      const parts = Math.min(free, visible.length);
      const batches = Array.from({ length: parts }, (_, k) => visible.filter((_, i) => i % parts === k));
      for (const batch of batches) {
        running++;
        spawn(async () => {
          if (running > environments) {
            environments++;
            await clock.sleep(opts.shifter.coldStartMs);
          }
          shifterInvocations++;
          const event = { Records: batch.map((m) => ({ messageId: m.messageId, body: m.body })) };
          const startedAt = clock.now();
          const out = await shifter(event, {
            awsRequestId: `shifter-${shifterInvocations}`,
            getRemainingTimeInMillis: () => opts.shifter.timeoutMs - (clock.now() - startedAt),
          });
          longestShifterInvocationMs = Math.max(longestShifterInvocationMs, clock.now() - startedAt);
          const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
          for (const m of queue.settle(
            batch,
            failed,
            opts.shifter.visibilityTimeoutMs,
            opts.shifter.maxReceiveCount,
          )) {
            spawn(async () => {
              await clock.sleep(m.visibleAt - clock.now());
              notify();
            });
          }
          running--;
          notify();
        });
      }
    };
    const notify = () => {
      if (windowOpen) return;
      windowOpen = true;
      spawn(async () => {
        await clock.sleep(opts.shifter.batchWindowMs);
        windowOpen = false;
        dispatch();
      });
    };
    queue.onMessage = notify;
  }

  for (const service of config.services) {
    const [lo, hi] = opts.eventDelayMs;
    const delay = Math.round(lo + rng() * (hi - lo));
    spawn(async () => {
      await clock.sleep(delay);
      await invokeFailover(service, 0);
    });
  }
  while (tasks.size > 0) await Promise.all([...tasks]);
  const endMs = clock.now() - t0;

  // Messages a shifter gave back for good: their services were never shifted by the queue.
  for (const m of queue?.deadLetters ?? []) {
    const serviceId = (JSON.parse(m.body) as { serviceId: string }).serviceId;
    deadLettered.add(serviceId);
  }

  const services: ServiceOutcome[] = [];
  for (const service of config.services) {
    const r = service.router;
    if (r.type !== 'route53') continue;
    const record = sim.get(r.hostedZoneId, r.recordName, r.recordType);
    const values = (record?.ResourceRecords ?? []).map((v) => v.Value);
    const state = env.state.snapshot(service.id);
    const history = await env.state.history(service.id, 10);
    const onNode = service.nodes.find((n) => values.length === 1 && n.address === values[0])?.id;
    const name = `${r.recordName.toLowerCase()}.`;
    const moved = sim.stats.accepted.find((c) => c.names.includes(name));
    const entry = history[0];
    const failedOver = state?.primary === 'b' && state.epoch === 1;
    services.push({
      serviceId: service.id,
      zone: r.hostedZoneId,
      outcome: outcomes.get(service.id) ?? 'never-ran',
      ...(moved ? { trafficMovedAtMs: moved.at - t0 } : {}),
      ...(failedOver && entry ? { committedAtMs: entry.at - t0 } : {}),
      deadLettered: deadLettered.has(service.id),
    });
    // Invariants, per service.
    if (values.length !== 1) violations.push(`${service.id}: record holds ${values.length} values`);
    if ((state?.epoch ?? 0) > 1 || history.length > 1)
      violations.push(`${service.id}: ${history.length} role changes, epoch ${state?.epoch}`);
    const announced = env.notifier.published.filter(
      (n) => n.serviceId === service.id && n.kind === 'failover',
    );
    if (conflictIds.has(service.id)) {
      if (onNode !== undefined)
        violations.push(`${service.id}: an operator's record was overwritten (${onNode})`);
      if (failedOver)
        violations.push(`${service.id}: failed over although its record was moved by an operator`);
      if (!env.notifier.published.some((n) => n.serviceId === service.id && n.kind === 'failover-failed'))
        violations.push(`${service.id}: conflict not reported`);
      continue;
    }
    if (onNode !== (state?.primary ?? 'a'))
      violations.push(
        `${service.id}: traffic on ${onNode ?? values.join(',')}, state says ${state?.primary ?? 'a'}`,
      );
    if (failedOver && announced.length !== 1)
      violations.push(`${service.id}: ${announced.length} failover announcements`);
    if (state?.lease && state.lease.expiresAt > clock.now() && failedOver)
      violations.push(`${service.id}: lease left behind after the commit`);
  }

  const expected = services.filter((s) => !conflictIds.has(s.serviceId));
  const done = expected.filter((s) => s.committedAtMs !== undefined);
  const commits = done.map((s) => s.committedAtMs!).sort((a, b) => a - b);
  const moves = expected.flatMap((s) => (s.trafficMovedAtMs !== undefined ? [s.trafficMovedAtMs] : []));
  const byPort = (port: string) => log.calls.filter((c) => c.port === port).length;
  return {
    options: opts,
    services,
    expected: expected.length,
    failedOver: done.length,
    failedOverWithin5s: commits.filter((ms) => ms <= 5_000).length,
    lost: expected.length - done.length,
    deadLettered: deadLettered.size,
    longestShifterInvocationMs,
    outcomes: services.reduce<Record<string, number>>((acc, s) => {
      acc[s.outcome] = (acc[s.outcome] ?? 0) + 1;
      return acc;
    }, {}),
    conflictsReported: [...conflictIds].filter((id) =>
      env.notifier.published.some((n) => n.serviceId === id && n.kind === 'failover-failed'),
    ).length,
    ...(moves.length ? { lastTrafficMoveMs: Math.max(...moves) } : {}),
    ...(commits.length
      ? { lastCommitMs: commits[commits.length - 1], medianCommitMs: commits[Math.floor(commits.length / 2)] }
      : {}),
    endMs,
    calls: {
      route53: {
        ...sim.stats.requests,
        throttled: sim.stats.throttled,
        priorRequestNotComplete: sim.stats.priorRequestNotComplete,
        invalidChangeBatch: sim.stats.invalidChangeBatch,
        acceptedChanges: sim.stats.accepted.length,
        sdkRetries: retryingClients.reduce((n, c) => n + c.attempts.retries, 0),
      },
      failoverInvocations,
      lambdaRetries,
      queueMessages: queue?.sent ?? 0,
      shifterInvocations,
      dynamodb: byPort('dynamodb'),
      cloudwatch: byPort('cloudwatch'),
      sns: byPort('sns'),
    },
    violations,
  };
}

/** The EventBridge event CloudWatch sends when a primary's health alarm goes into ALARM. */
function alarmEvent(service: ServiceConfig, at: number) {
  const primary = service.nodes.find((n) => n.id === service.initialPrimary)!;
  return alarmStateChangeEvent({
    alarmName: healthAlarmName(service, primary),
    at,
    id: `evt-${service.id}`,
    account: '111122223333',
    reason: 'AZ event',
  });
}

/** Figures for one scenario: the zone-shift design against the per-event baseline, same seed. */
export function correlatedFigures(label: string, ours: CorrelatedResult, base: CorrelatedResult): Figure[] {
  const section = `correlated failures: ${label}`;
  const vs = (value: number | undefined) =>
    value === undefined ? {} : { baseline: { label: 'one change per event', value } };
  const figures: Figure[] = [
    {
      section,
      name: `services failed over (of ${ours.expected})`,
      value: ours.failedOver,
      unit: '',
      ...vs(base.failedOver),
      goal: { op: '>=', value: ours.expected },
    },
    {
      section,
      name: 'lost (never failed over)',
      value: ours.lost,
      unit: '',
      ...vs(base.lost),
      goal: { op: '<=', value: 0 },
    },
    {
      section,
      name: 'failed over within 5 s of the failure',
      value: ours.failedOverWithin5s,
      unit: '',
      ...vs(base.failedOverWithin5s),
    },
    {
      section,
      name: 'last traffic shift, simulated time',
      value: (ours.lastTrafficMoveMs ?? Number.NaN) / 1000,
      unit: 's',
      ...vs(base.lastTrafficMoveMs === undefined ? undefined : base.lastTrafficMoveMs / 1000),
      goal: { op: '<=', value: 5 },
    },
    {
      section,
      name: 'last commit (epoch recorded), simulated time',
      value: (ours.lastCommitMs ?? Number.NaN) / 1000,
      unit: 's',
      ...vs(base.lastCommitMs === undefined ? undefined : base.lastCommitMs / 1000),
    },
    {
      section,
      name: 'Route 53 ChangeResourceRecordSets calls',
      value: ours.calls.route53.ChangeResourceRecordSets,
      unit: '',
      ...vs(base.calls.route53.ChangeResourceRecordSets),
    },
    {
      section,
      name: '  of which accepted (change batches applied)',
      value: ours.calls.route53.acceptedChanges,
      unit: '',
      ...vs(base.calls.route53.acceptedChanges),
    },
    {
      section,
      name: '  answered Throttling / PriorRequestNotComplete',
      value: ours.calls.route53.throttled + ours.calls.route53.priorRequestNotComplete,
      unit: '',
      ...vs(base.calls.route53.throttled + base.calls.route53.priorRequestNotComplete),
    },
    {
      section,
      name: 'Route 53 ListResourceRecordSets calls (read-backs)',
      value: ours.calls.route53.ListResourceRecordSets,
      unit: '',
      ...vs(base.calls.route53.ListResourceRecordSets),
    },
    {
      section,
      name: 'failover Lambda invocations (incl. async retries)',
      value: ours.calls.failoverInvocations,
      unit: '',
      ...vs(base.calls.failoverInvocations),
    },
    {
      section,
      name: `SQS messages sent (consumed by ${ours.calls.shifterInvocations} zone-shift invocations)`,
      value: ours.calls.queueMessages,
      unit: '',
      ...vs(base.calls.queueMessages),
    },
    {
      section,
      name: 'DynamoDB + CloudWatch + SNS calls',
      value: ours.calls.dynamodb + ours.calls.cloudwatch + ours.calls.sns,
      unit: '',
      ...vs(base.calls.dynamodb + base.calls.cloudwatch + base.calls.sns),
    },
    {
      section,
      name: 'invariant violations (two nodes, state vs traffic, double change)',
      value: ours.violations.length,
      unit: '',
      ...vs(base.violations.length),
      goal: { op: '<=', value: 0 },
    },
  ];
  if (ours.options.conflicts > 0) {
    figures.push({
      section,
      name: `records moved by an operator, reported as conflicts (of ${ours.options.conflicts})`,
      value: ours.conflictsReported,
      unit: '',
      ...vs(base.conflictsReported),
      goal: { op: '>=', value: ours.options.conflicts },
    });
  }
  return figures;
}
