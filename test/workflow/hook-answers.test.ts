/**
 * Hook answers over Step Functions' payload quota. A Task whose result is over 256 KiB fails with
 * States.DataLimitExceeded, which no Catch catches (not even States.ALL): the execution would die
 * wherever it is, after the fence with the primary fenced, the lease held and automation not
 * paused. A user's hook may answer up to Lambda's 6 MB (a script's whole log, a dump of its
 * state), so no hook answer may reach the execution state: every hook call goes through the
 * node-action function, which invokes the user's function and answers a bounded summary.
 *
 * Run on the real state machine from the synthesized template. The local runner enforces the
 * quota as Step Functions does (drill/sim/state-machine.ts: every Task result and every state
 * output, the failure terminal), which aws-local-stepfunctions itself does not.
 */
import { describe, expect, it } from 'vitest';
import { PAYLOAD_QUOTA_BYTES } from '../../drill/sim/state-machine.ts';
import type { HookAction, HookPayload } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import { named } from './harness.ts';
import { NodeRoles } from './node-roles.ts';
import { hookedService, hooksFor, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const config = testConfig([hookedService({ id: SVC, hookTimeoutSeconds: 30 })]);
const workflow = workflowUnderTest(config);

/** A hook answer of about `bytes`: what a script that returns its whole log sends back. */
function bigAnswer(bytes: number) {
  return { ok: true, log: 'pg_ctl: server promoting\n'.repeat(Math.ceil(bytes / 25)) };
}

function world(options: { big?: readonly HookAction[]; failing?: HookAction; bytes?: number }) {
  const bytes = options.bytes ?? 300 * 1024;
  const env = workflow.environment();
  const nodes = new NodeRoles({ a: 'writer', b: 'replica' });
  const hook = (p: HookPayload) => {
    if (p.action === options.failing) {
      throw named('PromoteFailedError', `pg_promote() returned false: ${'x'.repeat(bytes)}`);
    }
    nodes.apply(p);
    return options.big?.includes(p.action) ? bigAnswer(bytes) : { ok: true };
  };
  const hooks = hooksFor(SVC, hook);
  const runner = workflow.caughtUpRunner(env, hooks, SVC, 'b');
  return { env, nodes, hooks, runner };
}

describe('hook answers over the 256 KiB payload quota never reach the execution state', () => {
  it.each<HookAction>(['fence', 'promote', 'demote'])(
    'a %s hook answering 300 KiB: the switchover completes, one writer where traffic points',
    async (action) => {
      const w = world({ big: [action] });
      const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'big answer'));

      expect(out.status === 'FAILED' ? `${out.error}: ${out.cause}` : out.status).toBe('SUCCEEDED');
      expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote a']);
      expect(w.nodes.writers()).toEqual(['b']);
      expect(w.env.traffic.pointsAt(SVC)).toBe('b');
      expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'b', epoch: 1 });
      if (out.status === 'SUCCEEDED') expect(out.output.demoteFailed).toBeUndefined();
    },
  );

  it('a 5 MiB answer (Lambda allows 6 MB) is no different', async () => {
    const w = world({ big: ['promote'], bytes: 5 * 1024 * 1024 });
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', '5 MiB'));
    expect(out.status === 'FAILED' ? `${out.error}: ${out.cause}` : out.status).toBe('SUCCEEDED');
  });

  it("the rollback's calls answering 300 KiB, after a promote that failed with a 300 KiB error: rolled back, reported, one writer", async () => {
    const w = world({ big: ['demote', 'unfence'], failing: 'promote' });
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'big rollback'));

    expect(out.status === 'FAILED' && out.error).toBe('SwitchoverRolledBack');
    if (out.status !== 'FAILED') return;
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    expect(w.nodes.writers()).toEqual(['a']);
    expect(w.env.traffic.pointsAt(SVC)).toBe('a');
    // The hook's own error reaches the report, cut to a readable excerpt.
    expect(out.cause).toMatch(/PromoteFailedError: pg_promote\(\) returned false/);
    expect(out.rawCause.length).toBeLessThan(PAYLOAD_QUOTA_BYTES / 8);
    // It failed by its own hand (its invocation ended): nothing to wait out.
    expect(out.states).not.toContain('WaitOutAbandonedPromote');
  });

  it('the local runner enforces the quota as Step Functions does: a Task result over it fails the execution, no Catch runs', async () => {
    // What the tests above would meet without the bound: a step answering 300 KiB after the fence.
    const env = workflow.environment();
    const nodes = new NodeRoles({ a: 'writer', b: 'replica' });
    const runner = workflow.runner(env, {
      hooks: hooksFor(SVC, (p) => nodes.answer(p)),
      intercept: (step, _event, real) =>
        step === 'checkCatchUp'
          ? real().then((r) => ({ ...(r as object), log: bigAnswer(300 * 1024) }))
          : undefined,
    });
    const out = await runner.start(moveRequest(SVC, 'switchover', 'b', 'quota'));

    expect(out.status === 'FAILED' && out.error).toBe('States.DataLimitExceeded');
    // Uncatchable: the execution died after the fence, and nothing undid it.
    expect(out.states.at(-1)).toBe('CheckCatchUp');
    expect(out.states).not.toContain('UnfencePrimary');
    expect(nodes.role('a')).toBe('fenced');
  });
});
