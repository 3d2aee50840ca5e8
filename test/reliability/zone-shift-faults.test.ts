/**
 * Fault injection along the production path of a throttled failover: the failover Lambda's Route
 * 53 change is throttled (the case the zone-shift queue exists for), the change is queued under
 * its lease, and the zone-shift Lambda (SQS event source: redelivery of reported failures, three
 * receives, then the dead-letter queue) re-decides, renews the lease, shifts, commits and announces.
 * Every call site of all three (failover Lambda, queue, shifter) gets every fault kind, once and as
 * an outage, chained into the recovery paths. The invariants of support/invariants.ts hold after
 * each run, and every outcome is told to someone.
 */
import { describe, expect, it } from 'vitest';
import { makeHandler } from '../../lambdas/handlers/failover.ts';
import { makeZoneShiftHandler } from '../../lambdas/handlers/zone-shift.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryShiftQueue } from '../../lambdas/testing/shift-queue.ts';
import {
  apiOf,
  describePlans,
  ERROR_KINDS,
  exploreFaults,
  FAILOVER_FACT_SITES,
  type FaultKind,
  type FaultPlan,
  faultyPorts,
  kindsFor,
} from './support/faults.ts';
import { AUTO_LEASE_MS, baseline, settledViolations } from './support/invariants.ts';
import { deliverPrimaryAlarm, MATRIX_CONFIG, MATRIX_SERVICE, publishMatrixLag } from './support/lambda.ts';
import { recordFigures } from './support/results.ts';

const SVC = MATRIX_SERVICE;
const config = MATRIX_CONFIG;
/** Route 53 throttles the failover Lambda's own change in every run: that is what sends it to the queue. */
const THROTTLED: FaultPlan = { target: 'traffic.shift#1', kind: 'throttle', persistence: 'once' };
const MAX_RECEIVES = 3;
/** The zone-shift queue's visibility timeout (6x the function timeout). */
const VISIBILITY_MS = 360_000;

const variantFigures: { variant: Variant; runs: number; outcome: string }[] = [];

const KNOWN_SITES = [
  // the failover Lambda, throttled, hands the change over
  ...FAILOVER_FACT_SITES,
  'state.acquireLease#1',
  'traffic.shift#1',
  'shiftQueue.enqueue#1',
  // ...or, the queue refusing, gives the lease back; Lambda's retry then shifts, commits, announces
  // (a retry under its own lease first reads where traffic is: a shift its attempt made is finished)
  'traffic.current#1',
  'state.releaseLease#1',
  'state.commit#1',
  'state.get#2',
  'notifier.publish#1',
  // the zone shifter: facts, lease renewal, one batch, commit, announce
  'shifter/state.get#1',
  'shifter/alarms.getStates#1',
  'shifter/lag.getLatest#1',
  'shifter/state.acquireLease#1',
  'shifter/traffic.shift#1',
  'shifter/state.commit#1',
  'shifter/notifier.publish#1',
  // its recovery paths: facts read again inside its retry budget, the state read again before
  // each round (a pause or another operation since the decision), batches retried, batched
  // read-backs of a batch whose outcome is unknown (retried once), the state read to explain a
  // refused commit
  'shifter/state.get#2',
  'shifter/state.get#3',
  'shifter/state.get#4',
  'shifter/alarms.getStates#2',
  'shifter/alarms.getStates#3',
  'shifter/lag.getLatest#2',
  'shifter/lag.getLatest#3',
  'shifter/traffic.shift#2',
  'shifter/traffic.shift#3',
  'shifter/traffic.currentAll#1',
  'shifter/traffic.currentAll#2',
];

/**
 * The classes of trouble the shifter meets besides API faults: copies of one queued change (an
 * SDK-retried SendMessage) handled by two concurrent shifter invocations, and an operator's pause
 * written after the shifter's decision (before its change is sent) or after the send (before the
 * commit).
 */
type Variant = 'plain' | 'duplicate-concurrent' | 'pause-after-decision' | 'pause-after-send';

async function run(explored: readonly FaultPlan[], variant: Variant = 'plain') {
  const env = createMemoryEnvironment(config, { clock: { autoAdvance: false } });
  const publishLag = () => publishMatrixLag(env);
  const { injector, port, ports } = faultyPorts(env, [THROTTLED, ...explored]);
  const queue = new MemoryShiftQueue();
  const failover = makeHandler({ ...ports, shiftQueue: port(queue, 'shiftQueue', ['enqueue']) });
  let pausedAt: number | undefined;
  const pause = async () => {
    if (pausedAt !== undefined) return;
    pausedAt = env.clock.now();
    await env.state.setPaused(SVC, true);
  };
  const shifterState =
    variant === 'pause-after-decision'
      ? Object.assign(Object.create(ports.state), {
          acquireLease: async (req: Parameters<typeof ports.state.acquireLease>[0]) => {
            await ports.state.acquireLease(req);
            await pause();
          },
        })
      : ports.state;
  const shifterTraffic =
    variant === 'pause-after-send'
      ? Object.assign(Object.create(ports.traffic), {
          shift: async (changes: Parameters<typeof ports.traffic.shift>[0]) => {
            const out = await ports.traffic.shift(changes);
            await pause();
            return out;
          },
        })
      : ports.traffic;
  const shifter = makeZoneShiftHandler({
    ...ports,
    state: shifterState,
    traffic: shifterTraffic,
    sleep: async (ms) => env.clock.advance(ms),
    random: () => 0.5,
  });

  const before = await baseline(env, SVC);
  const delivery = await deliverPrimaryAlarm(env, SVC, failover, () => {
    publishLag();
    injector.scope('');
  });

  // The event source mapping: reported failures come back after the visibility timeout, three
  // receives at most, then the dead-letter queue (whose alarm pages).
  const receives = new Map<string, number>();
  let deadLettered = 0;
  let shifts = 0;
  if (variant === 'duplicate-concurrent') for (const r of queue.take()) queue.putBack([r, r]);
  while (queue.depth > 0 && shifts < 10) {
    shifts++;
    publishLag();
    let records = queue.take();
    if (variant === 'duplicate-concurrent') {
      // The SDK's retried SendMessage: a second message (new id) with the same body.
      records = records.map((r, i) => (i % 2 === 1 ? { ...r, messageId: `${r.messageId}-copy` } : r));
    }
    for (const r of records) receives.set(r.messageId, (receives.get(r.messageId) ?? 0) + 1);
    injector.scope('shifter');
    const invoke = async (part: typeof records, id: string) => {
      try {
        const out = await shifter(MemoryShiftQueue.event(part), { awsRequestId: id });
        return out.batchItemFailures.map((f) => f.itemIdentifier);
      } catch {
        return part.map((r) => r.messageId);
      }
    };
    // Copies go to two invocations running at the same time (the event source's concurrency 2).
    const parts =
      variant === 'duplicate-concurrent' && records.length > 1
        ? [records.filter((_, i) => i % 2 === 0), records.filter((_, i) => i % 2 === 1)]
        : [records];
    const failed = (
      await Promise.all(parts.map((part, k) => invoke(part, `shifter-${shifts}${k ? `-${k}` : ''}`)))
    ).flat();
    const again = records.filter((r) => failed.includes(r.messageId));
    const parked = again.filter((r) => (receives.get(r.messageId) ?? 0) >= MAX_RECEIVES);
    deadLettered += parked.length;
    queue.putBack(again.filter((r) => !parked.includes(r)));
    if (queue.depth > 0) env.clock.advance(VISIBILITY_MS);
  }

  const published = env.notifier.published.slice(before.notifications);
  // The dead-letter queue's alarm pages too.
  const flaggedForHuman = published.some((n) => n.kind === 'failover-failed') || deadLettered > 0;
  const violations = await settledViolations(env, SVC, before, {
    flaggedForHuman,
    maxLeaseMs: AUTO_LEASE_MS,
  });
  const state = env.state.snapshot(SVC);
  const failedOver = (state?.epoch ?? 0) > before.epoch;
  if (pausedAt !== undefined) {
    const late = (await env.state.history(SVC, 10)).filter(
      (h) => h.operation === 'auto-failover' && h.at >= pausedAt!,
    );
    if (late.length > 0)
      violations.push(`an automatic failover committed after the pause (epoch ${late[0]?.epoch})`);
  }
  if (
    variant === 'duplicate-concurrent' &&
    env.traffic.appliedChanges.filter((c) => c.serviceId === SVC).length > 1
  )
    violations.push('two shifter invocations both moved traffic for one change');
  if (failedOver) {
    if (
      !published.some((n) => n.kind === 'failover') &&
      env.metrics.named('NotificationFailed').length === 0
    ) {
      violations.push('failed over without an announcement or a NotificationFailed metric');
    }
  } else {
    const told =
      published.some((n) => n.kind === 'failover-held' || n.kind === 'failover-failed') ||
      // Paused by an operator, who is the human: holding is what they asked for.
      (pausedAt !== undefined && env.traffic.pointsAt(SVC) === 'a') ||
      deadLettered > 0 ||
      (delivery.outcome === undefined && delivery.thrown.length === delivery.attempts);
    if (!told)
      violations.push(
        `primary down, not failed over, and nobody told (failover: ${delivery.outcome?.outcome})`,
      );
  }
  const outcome = failedOver
    ? 'failed-over'
    : deadLettered > 0
      ? 'dead-lettered'
      : (delivery.outcome?.outcome ?? 'thrown');
  return { sites: injector.sites, result: { outcome, violations, queued: queue.enqueued.length } };
}

function siteKinds(site: string): readonly FaultKind[] {
  // The failover Lambda's own shift is throttled in every run (THROTTLED); its other faults are
  // covered by auto-failover-faults.test.ts.
  if (site === 'traffic.shift#1') return [];
  return site === 'shiftQueue.enqueue#1' ? ERROR_KINDS : kindsFor(apiOf(site));
}

describe('a throttled failover through the zone-shift queue and shifter, under injected faults', () => {
  it.each<Variant>(['duplicate-concurrent', 'pause-after-decision', 'pause-after-send'])(
    'keeps every invariant with %s, under every fault at every call site',
    async (variant) => {
      // The notifier's own faults are covered by the plain run; here the paths they would hide.
      const { clean, runs } = await exploreFaults((plans) => run(plans, variant), {
        kindsFor: (site) => (apiOf(site) === 'notifier.publish' ? [] : siteKinds(site)),
        everyPath: true,
      });
      expect(clean.violations).toEqual([]);
      const violations = runs.flatMap((r) =>
        r.result.violations.map((v) => `${describePlans(r.plans)}: ${v}`),
      );
      expect(violations).toEqual([]);
      variantFigures.push({ variant, runs: runs.length + 1, outcome: clean.outcome });
    },
  );

  it('keeps every invariant, tells someone every time, and lists every call site', async () => {
    const { sites, clean, runs } = await exploreFaults(run, { kindsFor: siteKinds, everyPath: true });
    expect(clean).toMatchObject({ outcome: 'failed-over', queued: 1, violations: [] });
    expect([...sites].sort()).toEqual([...KNOWN_SITES].sort());
    const violations = runs.flatMap((r) => r.result.violations.map((v) => `${describePlans(r.plans)}: ${v}`));
    expect(violations).toEqual([]);

    const outcomes = new Map<string, number>();
    for (const r of runs) outcomes.set(r.result.outcome, (outcomes.get(r.result.outcome) ?? 0) + 1);
    recordFigures('faults-zone-shift', {
      label: 'fault points x kinds: throttled failover via the zone shifter',
      tried: runs.length + variantFigures.reduce((n, v) => n + v.runs, 0),
      violations: violations.length,
      detail: `${sites.length} call sites (failover Lambda, queue, shifter; SQS redelivery x3 then DLQ), also with ${variantFigures
        .map((v) => `${v.variant} (${v.runs} runs)`)
        .join(', ')}; plain-run outcomes: ${[...outcomes]
        .sort()
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
      order: 16,
    });
  });
});
