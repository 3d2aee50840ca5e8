/**
 * Step Task timeouts. A Task without TimeoutSeconds waits for Lambda's answer forever (Step
 * Functions has no default), so an execution whose invocation never answers is stuck with the old
 * primary fenced while its lease runs out under it. And a step Lambda that ran out of time
 * (`Sandbox.Timedout`; `States.Timeout` when the Task gave up first) has ended: every step is
 * idempotent, so it is run again, instead of failing Prepare with the lease held or rolling back a
 * Commit that landed.
 *
 * Run on the real state machine from the synthesized template.
 */
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import { LAMBDA_STEP_TIMEOUT_ERRORS } from '../../lib/switchover-workflow.ts';
import { answerLost, named, type RunnerOptions } from './harness.ts';
import { hookedService, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const config = testConfig([hookedService({ id: SVC, hookTimeoutSeconds: 30 })]);
const workflow = workflowUnderTest(config);

function world(intercept: RunnerOptions['intercept']) {
  return workflow.writerReplicaWorld(SVC, { intercept });
}

/** The first invocation of `step` runs, then its answer is replaced by `error` (the Lambda ran out of time). */
function timesOutOnceAfterRunning(step: string, error: string): RunnerOptions['intercept'] {
  return answerLost(step, { error: () => named(error, 'Task timed out after 60.00 seconds') });
}

describe('step Task timeouts', () => {
  it('case W1 (template): every Task gives up, and a step Task only after its Lambda has ended', () => {
    const fn = Object.values(
      workflow.synthesized().template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: { Description?: string; Timeout?: number } }
      >,
    ).find(
      (r) => r.Type === 'AWS::Lambda::Function' && /workflow steps/.test(r.Properties.Description ?? ''),
    );
    const lambdaTimeout = fn?.Properties.Timeout ?? 0;
    expect(lambdaTimeout).toBeGreaterThan(0);
    const tasks = Object.entries(
      workflow.synthesized().definition.States as Record<string, Record<string, unknown>>,
    ).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(10);
    for (const [name, state] of tasks) {
      const bounded = state.TimeoutSeconds !== undefined || state.TimeoutSecondsPath !== undefined;
      expect({ name, bounded }).toEqual({ name, bounded: true });
      if (state.Resource === workflow.synthesized().stepFunctionArn) {
        // Longer than the function may run: a Task that timed out means the invocation is over,
        // and running the step again cannot race the first one.
        expect({ name, timeout: state.TimeoutSeconds }).toEqual({ name, timeout: expect.any(Number) });
        expect(state.TimeoutSeconds as number).toBeGreaterThan(lambdaTimeout);
        const retried = ((state.Retry ?? []) as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
        expect({ name, retried }).toEqual({
          name,
          retried: expect.arrayContaining([...LAMBDA_STEP_TIMEOUT_ERRORS]),
        });
      }
    }
  });

  it('case W1: a Prepare that ran out of time after its lease write runs again and switches over, instead of failing with the lease held', async () => {
    const w = world(timesOutOnceAfterRunning('prepare', 'Sandbox.Timedout'));
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'step timeout'));

    expect(out.status).toBe('SUCCEEDED');
    expect(w.runner.steps.filter((s) => s === 'prepare')).toHaveLength(2);
    const state = w.env.state.snapshot(SVC);
    expect({ primary: state?.primary, epoch: state?.epoch, lease: state?.lease }).toEqual({
      primary: 'b',
      epoch: 1,
      lease: undefined,
    });
    expect(w.nodes.writers()).toEqual(['b']);
  });

  it('case W1: a Commit that landed and whose Task timed out runs again, finds its own change and succeeds, instead of pausing the service as a failed rollback', async () => {
    const w = world(timesOutOnceAfterRunning('commit', 'States.Timeout'));
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'step timeout'));

    expect(out.status).toBe('SUCCEEDED');
    const state = w.env.state.snapshot(SVC);
    expect({ primary: state?.primary, epoch: state?.epoch, paused: state?.paused ?? false }).toEqual({
      primary: 'b',
      epoch: 1,
      paused: false,
    });
    expect(w.env.traffic.pointsAt(SVC)).toBe('b');
    // The old primary is demoted once the change is durable: one writer, where traffic points.
    expect(w.nodes.writers()).toEqual(['b']);
    expect(w.nodes.role('a')).toBe('replica');
  });

  it('case W1: a ShiftTraffic that moved traffic and ran out of time runs again and counts the move as done', async () => {
    const w = world(timesOutOnceAfterRunning('shiftTraffic', 'Sandbox.Timedout'));
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'step timeout'));

    expect(out.status).toBe('SUCCEEDED');
    expect(w.env.traffic.pointsAt(SVC)).toBe('b');
    expect(w.env.state.snapshot(SVC)?.primary).toBe('b');
    expect(w.nodes.writers()).toEqual(['b']);
  });
});
