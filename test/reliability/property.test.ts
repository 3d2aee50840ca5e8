/**
 * The long property run: random interleavings of health flips, lag changes, late, out-of-order and
 * duplicate events, operator switchovers and failovers (the synthesized state machine, advanced
 * between waits), pauses, clock jumps and invocations that die mid-flight, with DESIGN.md's
 * invariants 1-7 checked after every step (support/sim.ts); half of the runs give the service node
 * actions (promote failures, timeouts, late answers, nodes that crash and come back) and check
 * invariants 8, 9 and one writer too. 300 runs in `npm test`, 10,000 in
 * `npm run test:reliability` (RELIABILITY_PROPERTY_RUNS).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { type SynthesizedWorkflow, synthesizeWorkflow } from '../workflow/harness.ts';
import { propertyRuns, recordFigures } from './support/results.ts';
import { type Action, Sim, simCounts } from './support/sim.ts';

const config = testConfig([
  {
    ...route53Service({
      id: 'orders',
      nodes: ['a', 'b', 'c'],
      policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 300 },
    }),
    switchover: { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 60 },
  },
]);

const node = fc.constantFrom('a', 'b', 'c');
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('health' as const),
      node,
      state: fc.constantFrom('OK' as const, 'ALARM' as const, 'ALARM' as const, 'INSUFFICIENT_DATA' as const),
      deliverNow: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('lag' as const),
      node,
      // Mostly caught up or within the budget; sometimes lagging; sometimes silent (no datapoint).
      seconds: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 10 }) },
        { weight: 1, arbitrary: fc.integer({ min: 11, max: 600 }) },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
    }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('duplicate' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('operator' as const),
      mode: fc.constantFrom('switchover' as const, 'failover' as const),
      to: fc.option(node, { nil: null }),
      force: fc.boolean(),
      expectEpoch: fc.boolean(),
      dryRun: fc.boolean().map((b) => b && Math.random() < 0.3),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('step' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pause' as const), paused: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('clock' as const),
      ms: fc.oneof(fc.integer({ min: 1_000, max: 30_000 }), fc.integer({ min: 60_000, max: 900_000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('crash' as const),
      at: fc.constantFrom('after-lease' as const, 'before-shift' as const, 'after-shift' as const),
      // Sometimes Lambda's retries die too (before traffic moved): the event is dead-lettered,
      // the lease left to expire, and a later event's invocation takes it over.
      retriesSpent: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('pause-in-flight' as const),
      at: fc.constantFrom('decision' as const, 'promote' as const, 'shift' as const),
    }),
  },
  // Node actions (no-ops for a run whose service has none): small weights keep the rest's coverage.
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('returns-in-flight' as const), deliverNow: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('script' as const),
      node,
      role: fc.constantFrom('promote' as const, 'fence' as const),
      answer: fc.constantFrom('failed' as const, 'timed-out' as const, 'lands-late' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('late' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('node' as const),
      node,
      up: fc.boolean(),
      deliverNow: fc.boolean(),
    }),
  },
);

const fmt = (n: number) => n.toLocaleString('en-US');

let synthesized: SynthesizedWorkflow;
beforeAll(() => {
  synthesized = synthesizeWorkflow(config);
});

describe('invariants 1-9 under random interleavings', () => {
  it('hold after every step', async () => {
    const runs = propertyRuns(300);
    const totals = {
      runs: 0,
      withActions: 0,
      failedActions: 0,
      lateLandings: 0,
      ...simCounts(),
    };
    const changes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(action, { minLength: 10, maxLength: 60, size: 'large' }),
        async (withActions, actions) => {
          const sim = new Sim(config, synthesized, { actions: withActions });
          if (withActions) totals.withActions++;
          for (const a of actions) {
            await sim.around(a);
            if (sim.violations.length) break;
          }
          if (!sim.violations.length) await sim.drain();
          totals.runs++;
          for (const k of [
            'actions',
            'deliveries',
            'executions',
            'crashes',
            'deadLettered',
            'roleChanges',
          ] as const)
            totals[k] += sim.counts[k];
          const ac = sim.actionCounts();
          totals.failedActions += ac.failedActions;
          totals.lateLandings += ac.lateLandings;
          for (const [op, n] of Object.entries(await sim.changesByOperation()))
            changes[op] = (changes[op] ?? 0) + n;
          expect(sim.violations).toEqual([]);
        },
      ),
      {
        numRuns: runs,
        ...(process.env.RELIABILITY_SEED ? { seed: Number(process.env.RELIABILITY_SEED) } : {}),
      },
    );
    recordFigures('property', {
      label: 'property runs (invariants 1-9)',
      tried: totals.runs,
      violations: 0,
      detail: `${fmt(totals.withActions)} with node actions (${fmt(totals.failedActions)} failed, timed-out or refused fence/promote calls, ${fmt(totals.lateLandings)} late landings), ${fmt(totals.actions)} actions, ${fmt(totals.deliveries)} event deliveries, ${fmt(totals.executions)} workflow executions, ${fmt(totals.crashes)} crashed invocations (${fmt(totals.deadLettered)} with every retry dead), ${fmt(Object.values(changes).reduce((a, b) => a + b, 0))} role changes (${Object.entries(
        changes,
      )
        .sort()
        .map(([op, n]) => `${op} ${fmt(n)}`)
        .join(', ')}); invariants checked after every action`,
      order: 40,
    });
  });
});
