/**
 * A workflow that outlived its lease. Everything the step Lambda does checks the lease first, but
 * the hooks are invoked by Step Functions itself: an undo that runs after another operation took
 * the service over undoes that operation's work. The way there: an execution stopped during its
 * catch-up wait (StopExecution) and redriven later (RedriveExecution continues at the unfinished
 * state with the old plan), or one delayed past its lease; meanwhile the lease expired and an
 * automatic failover fenced the old primary and promoted another node.
 *
 * Run on the real state machine from the synthesized template, with nodes that ignore tokens (a
 * script that does not check `{token}`): only the workflow's own ordering keeps one writer there.
 */
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import type { MemoryRunnerOptions } from './harness.ts';
import { NodeRoles } from './node-roles.ts';
import { autoFailoverTakesOver } from './takeover.ts';
import { hookedService, hooksFor, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const config = testConfig([hookedService({ id: SVC, nodes: ['a', 'b', 'c'], hookTimeoutSeconds: 30 })]);
const workflow = workflowUnderTest(config);

/** Nodes that ignore tokens, hooks that change them, and the runner; `beforeStep` moves the world on. */
function world(beforeStep: NonNullable<MemoryRunnerOptions['beforeStep']>) {
  const env = workflow.environment();
  const nodes = new NodeRoles({ a: 'writer', b: 'replica', c: 'replica' }, { honoursTokens: false });
  const hooks = hooksFor(SVC, (p) => nodes.answer(p));
  return { env, nodes, hooks, runner: workflow.runner(env, { hooks, beforeStep }) };
}

describe('a workflow that outlived its lease', () => {
  it('case W2: after an automatic failover took over during its catch-up, the switchover does not unfence the old primary: one writer, where traffic points', async () => {
    let checks = 0;
    const { env, nodes, hooks, runner } = world(async (step) => {
      if (step !== 'checkCatchUp' || ++checks !== 2) return;
      // b never caught up; the execution sat stopped past its lease. The automatic failover
      // (a fenced by us, so its alarm is ALARM) takes the expired lease, fences a with its own
      // token, promotes c, moves traffic and commits epoch 1.
      env.clock.set((env.state.snapshot(SVC)?.lease?.expiresAt ?? 0) + 60_000);
      await autoFailoverTakesOver(env, nodes, {
        serviceId: SVC,
        holder: 'auto-failover',
        from: 'a',
        to: 'c',
        reason: 'primary alarm',
      });
    });
    // b publishes no lag after the fence: the switchover waits.
    const out = await runner.start(moveRequest(SVC, 'switchover', 'b', 'lease lost'));

    expect(out.status).toBe('FAILED');
    expect(env.traffic.pointsAt(SVC)).toBe('c');
    expect(env.state.snapshot(SVC)?.primary).toBe('c');
    // The fence of a was the automatic failover's too: undoing it made a second writer.
    expect({ writers: nodes.writers(), a: nodes.role('a') }).toEqual({ writers: ['c'], a: 'fenced' });
    expect(hooks.trace).not.toContain('unfence a');
    expect(out.status === 'FAILED' && out.error).toBe('RollbackFailedError');
  });

  it('case W2: a switchover whose lease merely expired during its catch-up touches no node, pauses automatic failover and says the old primary is still fenced', async () => {
    let checks = 0;
    const { env, hooks, runner } = world((step) => {
      if (step !== 'checkCatchUp' || ++checks !== 2) return;
      // Nobody else acted yet, but the lease is free for anyone: an unfence now could land after
      // the next holder's fence.
      env.clock.set((env.state.snapshot(SVC)?.lease?.expiresAt ?? 0) + 1_000);
    });
    const out = await runner.start(moveRequest(SVC, 'switchover', 'b', 'lease expired'));

    expect(out.status === 'FAILED' && out.error).toBe('RollbackFailedError');
    expect(hooks.trace).toEqual(['fence a']);
    const state = env.state.snapshot(SVC);
    expect({ paused: state?.paused, lease: state?.lease, epoch: state?.epoch }).toEqual({
      paused: true,
      lease: undefined,
      epoch: 0,
    });
    const cause = out.status === 'FAILED' ? out.cause : '';
    expect(cause).toContain('no longer holds it, so it undid nothing');
    expect(cause).toContain('a (old primary) is still fenced');
    expect(env.notifier.published.map((n) => n.kind)).toContain('rollback-failed');
  });
});
