/**
 * The execution history budget, against the synthesized state machine. Step Functions stops an
 * execution at 25,000 history events, uncaught; the catch-up and verify loops grow the history by
 * a fixed number of events per poll, so a configuration that could pass the budget is refused at
 * synth, and the per-poll figure the check uses is measured here from the real definition.
 */
import { describe, expect, it } from 'vitest';
import {
  EVENTS_OUTSIDE_LOOPS,
  EVENTS_PER_POLL,
  STEP_FUNCTIONS_HISTORY_LIMIT,
  WORKFLOW_HISTORY_BUDGET,
  workflowHistoryEvents,
} from '../../lambdas/domain/workflow-history.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { MemoryChanges } from '../../lambdas/testing/verify-signals.ts';
import { configValidationError } from '../support/config-errors.ts';
import { synthesizeWorkflow } from './harness.ts';
import { workflowUnderTest } from './world.ts';

const SVC = 'orders';
const POLL = 5;
const config = testConfig([
  {
    ...route53Service({ id: SVC, nodes: ['a', 'b'] }),
    switchover: { pollIntervalSeconds: POLL, catchUpTimeoutSeconds: 600, verifyTimeoutSeconds: 60 },
  },
]);

/**
 * History events Step Functions writes for one visit of a state: a Task entered, scheduled,
 * started, succeeded (or failed), exited; any other state entered and exited. A Fail or Succeed
 * state is entered and ends the execution (ExecutionSucceeded/Failed counted once, below).
 */
// biome-ignore lint/suspicious/noExplicitAny: ASL is walked structurally
function eventsOfVisit(state: any): number {
  return state.Type === 'Task' ? 5 : 2;
}

const workflow = workflowUnderTest(config);
// biome-ignore lint/suspicious/noExplicitAny: ASL is walked structurally
const stateNamed = (name: string): any => workflow.synthesized().definition.States[name];

/** The states one poll of the catch-up loop and of the verify loop enter. */
const CATCH_UP_LOOP = ['CheckCatchUp', 'CaughtUp', 'WaitForCatchUp'];
const VERIFY_LOOP = ['CheckVerify', 'Verified', 'WaitForVerify'];

/** The history events of one execution, from the states it entered (no retries happen here). */
function eventsOf(entered: readonly string[]): number {
  // ExecutionStarted + ExecutionSucceeded/Failed.
  return 2 + entered.reduce((sum, name) => sum + eventsOfVisit(stateNamed(name)), 0);
}

/** One poll of a loop: the states entered from one check to the next. */
function pollEvents(entered: readonly string[], check: string): number {
  const at = entered.flatMap((s, i) => (s === check ? [i] : []));
  expect(at.length).toBeGreaterThanOrEqual(3);
  return eventsOf(entered.slice(at[1], at[2])) - 2;
}

describe('switchover history budget', () => {
  it('case 6: a poll interval that lets the catch-up loop outgrow the 25,000-event history is refused at synth, every service at once, with the figure, field and value', () => {
    const bad = testConfig([
      {
        ...route53Service({ id: 'fast', nodes: ['a', 'b'] }),
        switchover: { pollIntervalSeconds: 1, catchUpTimeoutSeconds: 3600 },
      },
      {
        ...route53Service({ id: 'also', nodes: ['a', 'b'], index: 1 }),
        switchover: { pollIntervalSeconds: 2, catchUpTimeoutSeconds: 3600 },
      },
      route53Service({ id: 'fine', nodes: ['a', 'b'], index: 2 }),
    ]);
    const error = configValidationError(() => synthesizeWorkflow(bad));
    const problems = error.problems;
    expect(problems.map((p) => [p.path, p.value])).toEqual([
      ['services[0].switchover.pollIntervalSeconds', 1],
      ['services[1].switchover.pollIntervalSeconds', 2],
    ]);
    const fast = bad.services[0]!;
    expect(workflowHistoryEvents(fast)).toBeGreaterThan(STEP_FUNCTIONS_HISTORY_LIMIT);
    expect(problems[0]!.message).toContain(
      `could write about ${workflowHistoryEvents(fast).toLocaleString('en-US')} history events`,
    );
    expect(problems[0]!.message).toContain('over the budget of 10,000');
    expect(problems[0]!.message).toContain('poll every 4 s or more');
    expect(error.message).toContain('services[0].switchover.pollIntervalSeconds:');
  });

  it('accepts the same timeouts with a poll interval inside the budget', () => {
    const ok = testConfig([
      {
        ...route53Service({ id: 'fast', nodes: ['a', 'b'] }),
        switchover: { pollIntervalSeconds: 4, catchUpTimeoutSeconds: 3600 },
      },
    ]);
    expect(workflowHistoryEvents(ok.services[0]!)).toBeLessThanOrEqual(WORKFLOW_HISTORY_BUDGET);
    expect(() => synthesizeWorkflow(ok)).not.toThrow();
  });

  it('events per poll, measured from the synthesized definition, are what the synth check assumes', async () => {
    const env = workflow.environment();
    // Name servers sync after three GetChange polls; the replica catches up at the fourth check.
    const changes = new MemoryChanges(env.traffic, { pendingPolls: 3 });
    let checks = 0;
    const runner = workflow.runner(env, {
      ports: { changes },
      beforeStep: (step) => {
        if (step === 'checkCatchUp') env.lag.put(SVC, 'b', ++checks >= 4 ? 0 : 3, env.clock.now() - 1);
      },
    });
    const out = await runner.start({ serviceId: SVC, mode: 'switchover', to: 'b', reason: 'measure' });
    expect(out.status).toBe('SUCCEEDED');
    expect(pollEvents(out.states, 'CheckCatchUp')).toBe(EVENTS_PER_POLL);
    expect(pollEvents(out.states, 'CheckVerify')).toBe(EVENTS_PER_POLL);
  });

  it('the events outside the loops, every Retry exhausted, stay within the bound the synth check assumes', () => {
    const loop = new Set([...CATCH_UP_LOOP, ...VERIFY_LOOP]);
    for (const name of loop) expect(stateNamed(name), name).toBeDefined();
    let events = 2;
    // biome-ignore lint/suspicious/noExplicitAny: ASL is walked structurally
    for (const [name, state] of Object.entries<any>(workflow.synthesized().definition.States)) {
      if (loop.has(name)) continue;
      events += eventsOfVisit(state);
      // Each retry: the failure, then scheduled and started again.
      // biome-ignore lint/suspicious/noExplicitAny: ASL is walked structurally
      for (const retry of (state.Retry ?? []) as any[]) events += 3 * (retry.MaxAttempts ?? 3);
    }
    expect(events).toBeLessThanOrEqual(EVENTS_OUTSIDE_LOOPS);
  });

  it('a catch-up that times out after the longest wait stays within the estimate', async () => {
    const env = workflow.environment();
    const runner = workflow.runner(env, {
      // The replica never catches up: every poll of the catch-up window, then the rollback.
      beforeStep: () => env.lag.put(SVC, 'b', 3, env.clock.now() - 1),
    });
    const out = await runner.start({ serviceId: SVC, mode: 'switchover', to: 'b', reason: 'measure' });
    expect(out.status).toBe('FAILED');
    expect(out.states.filter((s) => s === 'CheckCatchUp')).toHaveLength(600 / POLL + 1);
    expect(eventsOf(out.states)).toBeLessThanOrEqual(workflowHistoryEvents(config.services[0]!));
  });
});
