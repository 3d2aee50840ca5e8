/**
 * Races over the in-memory ports (DynamoDB-like conditional writes, Route 53-like compare-and-swap),
 * with seeded random latency on every port call so that concurrent invocations interleave at every
 * step, differently per seed:
 *
 * - 50 concurrent duplicate alarm events (EventBridge at-least-once) -> exactly one role change;
 * - automatic failover racing an operator failover through the real state machine -> exactly one
 *   wins, the other says why;
 * - an invocation that stalls holding the lease (a dead or frozen Lambda) -> the lease expires, the
 *   next event proceeds, and the stale holder can neither commit nor move traffic back.
 * The same races run over moto_server in races.moto.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FailoverOutcome } from '../../lambdas/app/auto-failover.ts';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { makeHandler } from '../../lambdas/handlers/failover.ts';
import { CallLog } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { alarmEvent } from '../support/alarm-events.ts';
import { instrumentedFailoverPorts, ordersConfig, ORDERS as SVC } from '../support/orders-world.ts';
import { stalledTraffic } from '../support/stalled-traffic.ts';
import {
  type SynthesizedWorkflow,
  synthesizeWorkflow,
  TestHooks,
  WorkflowRunner,
} from '../workflow/harness.ts';
import { autoFailoverViolations, baseline, settledViolations } from './support/invariants.ts';
import { jitter } from './support/random.ts';
import { recordFigures } from './support/results.ts';

const config: FailoverConfig = ordersConfig();

const SEEDS = Array.from({ length: 20 }, (_, i) => 1_000 + i);
const figures = { duplicates: 0, raceRuns: 0, autoWon: 0, operatorWon: 0, staleHolder: 0, violations: 0 };

function world(seed: number) {
  const env = createMemoryEnvironment(config);
  env.lag.put(SVC, 'b', 2, env.clock.now() - 1_000);
  env.lag.put(SVC, 'c', 4, env.clock.now() - 1_000);
  const log = new CallLog(env.clock);
  const hooks = { log, sleep: env.clock.sleep, latencyMs: jitter(seed) };
  const ports = instrumentedFailoverPorts(env, hooks);
  return { env, log, ports, handler: makeHandler({ ...env, ...ports }) };
}

function primaryDown(env: MemoryEnvironment, id = 'evt-1') {
  const alarmName = env.alarms.setNode(SVC, 'a', 'ALARM');
  return alarmEvent(alarmName, 'ALARM', 'OK', env.clock.now(), id);
}

describe('races (in memory, seeded interleavings)', () => {
  it.each(SEEDS)(
    'seed %i: 50 concurrent duplicate alarm events make exactly one role change',
    async (seed) => {
      const { env, log, handler } = world(seed);
      const before = await baseline(env, SVC);
      const event = primaryDown(env);
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => handler(event, { awsRequestId: `req-${i}` })),
      );
      figures.duplicates += 50;

      const changed = outcomes.filter((o) => o.outcome === 'failed-over');
      expect(changed).toHaveLength(1);
      // Every other duplicate says why it did nothing.
      const others = outcomes.filter((o) => o.outcome !== 'failed-over');
      expect(others.every((o) => o.outcome === 'held' && o.reason && o.detail)).toBe(true);
      expect(new Set(others.map((o) => o.reason))).toSatisfy((reasons: Set<string>) =>
        [...reasons].every((r) => ['operation-in-progress', 'not-primary-alarm'].includes(r)),
      );
      expect(log.find({ port: 'traffic', method: 'shift' })).toHaveLength(1);
      expect(env.state.stats.commits).toBe(1);
      // One announcement; the losers stay quiet.
      expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover']);
      const violations = await settledViolations(env, SVC, before, {
        flaggedForHuman: false,
        maxLeaseMs: 120_000,
      });
      figures.violations += violations.length;
      expect(violations).toEqual([]);
    },
  );

  describe('automatic failover racing an operator failover (real state machine)', () => {
    let synthesized: SynthesizedWorkflow;
    beforeAll(() => {
      synthesized = synthesizeWorkflow(config);
    });

    // The operator asks for c; the automatic failover would pick b (less lag): the winner is visible.
    const requests = [
      ['with the epoch the operator saw', { expectedEpoch: 0 }],
      ['without an expected epoch, same target as the automation', { to: 'b' }],
    ] as const;

    it.each(SEEDS.flatMap((seed) => requests.map(([name, extra]) => [seed, name, extra] as const)))(
      'seed %i, request %s: exactly one role change, the loser says why',
      async (seed, _name, extra) => {
        const { env, ports, handler } = world(seed);
        const deps: WorkflowDeps = {
          ...env,
          ...ports,
          changes: env.changes,
        };
        const runner = new WorkflowRunner({
          synthesized,
          deps,
          hooks: new TestHooks(),
          clock: env.clock,
          beforeStep: () => {
            env.lag.put(SVC, 'b', 2, env.clock.now() - 1_000);
            env.lag.put(SVC, 'c', 3, env.clock.now() - 1_000);
          },
        });
        const before = await baseline(env, SVC);
        const event = primaryDown(env);
        // Start both within a few virtual ms of each other, in a seed-dependent order.
        const head = seed % 7;
        const [auto, execution] = await Promise.all([
          env.clock.sleep(head % 2 ? head : 0).then(() => handler(event, { awsRequestId: 'req-auto' })),
          env.clock.sleep(head % 2 ? 0 : head).then(() =>
            runner.start({
              serviceId: SVC,
              mode: 'failover',
              to: 'c',
              reason: 'operator failover',
              ...extra,
            }),
          ),
        ]);
        figures.raceRuns++;

        const state = env.state.snapshot(SVC)!;
        expect(state.epoch).toBe(1);
        const [winner] = await env.state.history(SVC, 10);
        if (winner?.operation === 'auto-failover') {
          figures.autoWon++;
          expect(auto).toMatchObject({ outcome: 'failed-over', to: 'b' });
          // The operator's execution was refused or found nothing to do, and says why.
          if (execution.status === 'FAILED') {
            expect(execution.error).toBe('LeaseConflictError');
            expect(execution.cause).toMatch(
              /changed since the request was made|locked by auto-failover|not acquired/,
            );
          } else {
            expect(execution.output).toMatchObject({ outcome: 'already-primary' });
          }
        } else {
          figures.operatorWon++;
          expect(winner?.operation).toBe('failover');
          expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { outcome: 'failed-over' } });
          expect(auto).toMatchObject({ outcome: 'held' });
          expect(['operation-in-progress', 'not-primary-alarm']).toContain(auto.reason);
          expect(auto.detail).toBeTruthy();
        }
        const violations = await settledViolations(env, SVC, before, {
          flaggedForHuman: false,
          maxLeaseMs: 3_600_000,
        });
        figures.violations += violations.length;
        expect(violations).toEqual([]);
      },
    );
  });

  it.each(SEEDS)(
    'seed %i: a stalled holder loses its lease when it expires; the next event fails over, the stale holder cannot commit',
    async (seed) => {
      const { env, ports } = world(seed);
      const before = await baseline(env, SVC);
      // Invocation A freezes inside its traffic shift (a Lambda that died or hung mid-call).
      const stall = stalledTraffic(ports.traffic);
      const stalled = makeHandler({ ...env, ...ports, traffic: stall.traffic });
      const healthy = makeHandler({ ...env, ...ports });
      const event = primaryDown(env);
      const a = stalled(event, { awsRequestId: 'req-a' });
      while (!stall.frozen()) await env.clock.sleep(1);
      expect(env.state.snapshot(SVC)?.lease?.holder).toBe('req-a');

      // A duplicate 40 s later finds the lease live: it holds (and, the lease being old enough to
      // be a stuck attempt, tells the on-call).
      env.clock.advance(40_000);
      const during = await healthy(primaryDown(env, 'evt-2'), { awsRequestId: 'req-b' });
      expect(during).toMatchObject({ outcome: 'held', reason: 'operation-in-progress' });

      // After the lease expired, the next event takes it over and fails over.
      env.clock.advance(90_000);
      env.lag.put(SVC, 'b', 2, env.clock.now() - 1_000);
      const next = await healthy(primaryDown(env, 'evt-3'), { awsRequestId: 'req-c' });
      expect(next).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', epoch: 1 });

      // A wakes up: its compare-and-swap finds traffic already on b, its commit is fenced out.
      stall.thaw();
      const late: FailoverOutcome = await a;
      figures.staleHolder++;
      expect(late).toMatchObject({ outcome: 'conflict', reason: 'superseded' });
      // The stuck attempt was reported while it held the lease; the failover was announced once.
      expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover-held', 'failover']);
      expect(env.state.stats.commitsRefused).toBeGreaterThanOrEqual(1);
      expect(env.state.snapshot(SVC)).toMatchObject({ primary: 'b', epoch: 1 });
      expect(await env.state.history(SVC, 10)).toHaveLength(1);
      expect(env.traffic.pointsAt(SVC)).toBe('b');
      const violations = await autoFailoverViolations(env, SVC, before, {
        outcome: next,
        attempts: 1,
        thrown: [],
      });
      figures.violations += violations.length;
      expect(violations).toEqual([]);
    },
  );

  it('records its figures (both sides of the race won in some interleaving)', () => {
    expect(figures.autoWon).toBeGreaterThan(0);
    expect(figures.operatorWon).toBeGreaterThan(0);
    recordFigures('races-memory', {
      label: 'races (in memory)',
      tried: SEEDS.length * 3,
      violations: figures.violations,
      detail: `${figures.duplicates} duplicate events in ${SEEDS.length} interleavings; ${figures.raceRuns} auto-vs-operator races (automation won ${figures.autoWon}, operator ${figures.operatorWon}); ${figures.staleHolder} stalled lease holders`,
      order: 20,
    });
  });
});
