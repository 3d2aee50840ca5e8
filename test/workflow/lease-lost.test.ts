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
import { beforeAll, describe, expect, it } from 'vitest';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import {
  memoryWorkflowDeps,
  type SynthesizedWorkflow,
  synthesizeWorkflow,
  TestHooks,
  WorkflowRunner,
} from './harness.ts';
import { NodeRoles } from './node-roles.ts';
import { autoFailoverTakesOver } from './takeover.ts';

const SVC = 'orders';
const arn = (name: string) => `arn:aws:lambda:us-east-1:111122223333:function:${SVC}-${name}`;
const FENCE = arn('fence');
const PROMOTE = arn('promote');
const DEMOTE = arn('demote');

const config: FailoverConfig = testConfig([
  {
    ...route53Service({ id: SVC, nodes: ['a', 'b', 'c'] }),
    hooks: { fence: FENCE, promote: PROMOTE, demote: DEMOTE, timeoutSeconds: 30 },
    switchover: { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 60 },
  },
]);

let synthesized: SynthesizedWorkflow;
beforeAll(() => {
  synthesized = synthesizeWorkflow(config);
});

describe('a workflow that outlived its lease', () => {
  it('case W2: after an automatic failover took over during its catch-up, the switchover does not unfence the old primary: one writer, where traffic points', async () => {
    const env = createMemoryEnvironment(config, { clock: { autoAdvance: false } });
    const nodes = new NodeRoles({ a: 'writer', b: 'replica', c: 'replica' }, { honoursTokens: false });
    const apply = (p: Parameters<NodeRoles['apply']>[0]) => {
      nodes.apply(p);
      return { ok: true };
    };
    const hooks = new TestHooks().register(FENCE, apply).register(PROMOTE, apply).register(DEMOTE, apply);
    let checks = 0;
    const runner = new WorkflowRunner({
      synthesized,
      deps: memoryWorkflowDeps(env),
      hooks,
      clock: env.clock,
      beforeStep: async (step) => {
        if (step !== 'checkCatchUp' || ++checks !== 2) return;
        // b never caught up; the execution sat stopped past its lease. The automatic failover
        // (a fenced by us, so its alarm is ALARM) takes the expired lease, fences a with its own
        // token, promotes c, moves traffic and commits epoch 1.
        const lease = env.state.snapshot(SVC)?.lease;
        env.clock.set((lease?.expiresAt ?? 0) + 60_000);
        await autoFailoverTakesOver(env, nodes, {
          serviceId: SVC,
          holder: 'auto-failover',
          from: 'a',
          to: 'c',
          reason: 'primary alarm',
        });
      },
    });
    // b publishes no lag after the fence: the switchover waits.
    const out = await runner.start({ serviceId: SVC, mode: 'switchover', to: 'b', reason: 'lease lost' });

    expect(out.status).toBe('FAILED');
    expect(env.traffic.pointsAt(SVC)).toBe('c');
    expect(env.state.snapshot(SVC)?.primary).toBe('c');
    // The fence of a was the automatic failover's too: undoing it made a second writer.
    expect({ writers: nodes.writers(), a: nodes.role('a') }).toEqual({ writers: ['c'], a: 'fenced' });
    expect(hooks.trace).not.toContain('unfence a');
    expect(out.status === 'FAILED' && out.error).toBe('RollbackFailedError');
  });

  it('case W2: a switchover whose lease merely expired during its catch-up touches no node, pauses automatic failover and says the old primary is still fenced', async () => {
    const env = createMemoryEnvironment(config, { clock: { autoAdvance: false } });
    const nodes = new NodeRoles({ a: 'writer', b: 'replica', c: 'replica' }, { honoursTokens: false });
    const apply = (p: Parameters<NodeRoles['apply']>[0]) => {
      nodes.apply(p);
      return { ok: true };
    };
    const hooks = new TestHooks().register(FENCE, apply).register(PROMOTE, apply).register(DEMOTE, apply);
    let checks = 0;
    const runner = new WorkflowRunner({
      synthesized,
      deps: memoryWorkflowDeps(env),
      hooks,
      clock: env.clock,
      beforeStep: (step) => {
        if (step !== 'checkCatchUp' || ++checks !== 2) return;
        // Nobody else acted yet, but the lease is free for anyone: an unfence now could land after
        // the next holder's fence.
        env.clock.set((env.state.snapshot(SVC)?.lease?.expiresAt ?? 0) + 1_000);
      },
    });
    const out = await runner.start({ serviceId: SVC, mode: 'switchover', to: 'b', reason: 'lease expired' });

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
