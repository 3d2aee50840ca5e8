/**
 * Late hook answers. A Task's TimeoutSecondsPath stops Step Functions *waiting* for a hook; the
 * hook's Lambda runs on and may still act on its node after the Catch has started compensating.
 * Two guards, each enough for one kind of node:
 *
 * - tokens: every compensating call outranks the call it undoes, so a node that keeps the token
 *   contract refuses the late call (late-action.test.ts);
 * - waiting out the abandoned call: after a fence or promote that did not answer, the rollback
 *   waits the call's settle time (HookCall.settleSeconds) before it compensates, so even a node
 *   that ignores tokens (a script that never reads `{token}`) ends as the rollback reports.
 *
 * Run on the real state machine from the synthesized template, with real time for the hook
 * timeout (1 s), the late answers (1.5 s) and the wait for abandoned calls.
 */
import { describe, expect, it } from 'vitest';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import type { HookPayload } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import { NodeRoles } from './node-roles.ts';
import { hookedService, hooksFor, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const TIMEOUT_SECONDS = 1;
/** The late call lands this long after it was made: after its Task timed out, before the settle wait ends. */
const LATE_MS = 1_500;

const config = testConfig([hookedService({ id: SVC, hookTimeoutSeconds: TIMEOUT_SECONDS })]);
const workflow = workflowUnderTest(config);

function world(options: {
  honoursTokens: boolean;
  late?: 'fence' | 'promote';
  /** The first call of this action fails by the hook's own hand (it ended). */
  failsOnce?: 'promote';
}) {
  const env = workflow.environment();
  const nodes = new NodeRoles({ a: 'writer', b: 'replica' }, { honoursTokens: options.honoursTokens });
  const late: Promise<unknown>[] = [];
  let failures = options.failsOnce ? 1 : 0;
  const hook = (p: HookPayload) => {
    if (p.action === options.failsOnce && failures-- > 0) {
      throw Object.assign(new Error('pg_promote() returned false'), { name: 'PromoteFailed' });
    }
    if (p.action !== options.late) {
      nodes.apply(p);
      return { ok: true };
    }
    // Slow: it reaches the node after its Task timed out, while the rollback runs.
    const landing = new Promise((resolve) => setTimeout(resolve, LATE_MS)).then(() => {
      try {
        nodes.apply(p);
        return { ok: true };
      } catch (err) {
        return { refused: (err as Error).message };
      }
    });
    late.push(landing);
    return landing;
  };
  const hooks = hooksFor(SVC, hook);
  const runner = workflow.caughtUpRunner(env, hooks, SVC, 'b', {
    // The wait for an abandoned call lasts its settle time, in real time here.
    waitMs: (state) => (state.startsWith('WaitOutAbandoned') ? TIMEOUT_SECONDS * 1000 : undefined),
  });
  return { env, nodes, hooks, runner, late };
}

/** A switchover whose first `late` call answers after its Task timed out: rolled back, judged once the late call landed. */
async function rolledBackAfterLateAnswer(late: 'fence' | 'promote', honoursTokens: boolean) {
  const w = world({ honoursTokens, late });
  const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', `late ${late}`));
  await Promise.all(w.late);

  expect(out.status).toBe('FAILED');
  if (out.status !== 'FAILED') throw new Error(`expected a failed execution, got ${JSON.stringify(out)}`);
  expect(out.error).toBe('SwitchoverRolledBack');
  return { w, out };
}

describe('late hook answers: compensation waits out an abandoned call before it declares the state', () => {
  it.each([false, true])(
    'case 2: a promote that answers after its timeout never leaves two writers (node honours tokens: %s)',
    async (honoursTokens) => {
      const { w, out } = await rolledBackAfterLateAnswer('promote', honoursTokens);
      expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
      // The rollback's demote came after the late promote (waited out), or the node refused the
      // late promote by its token: either way b is a replica, and a the one writer with the traffic.
      expect(w.nodes.writers()).toEqual(['a']);
      expect(w.nodes.role('b')).toBe('replica');
      expect(w.env.traffic.pointsAt(SVC)).toBe('a');
      expect(out.cause).toMatch(/b demoted back to a replica/);
      expect(out.cause).toMatch(/waited \d+ s for the abandoned promote of b/);
    },
  );

  it.each([false, true])(
    'case 2: a fence that answers after its timeout never leaves the old primary fenced while reported unfenced (node honours tokens: %s)',
    async (honoursTokens) => {
      const { w, out } = await rolledBackAfterLateAnswer('fence', honoursTokens);
      expect(w.hooks.trace).toEqual(['fence a', 'unfence a']);
      expect(out.cause).toMatch(/a unfenced/);
      // Reported unfenced, and it is: the one writer, with the traffic.
      expect(w.nodes.writers()).toEqual(['a']);
      expect(w.env.traffic.pointsAt(SVC)).toBe('a');
    },
  );

  it("tokens order attempts: a switchover after a rolled-back one is obeyed by a node that saw the first one's unfence", async () => {
    const w = world({ honoursTokens: true, failsOnce: 'promote' });
    const first = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'first try'));
    expect(first.status === 'FAILED' && first.error).toBe('SwitchoverRolledBack');
    // The promote failed by its own hand (its invocation ended): nothing to wait out.
    expect(first.states).not.toContain('WaitOutAbandonedPromote');

    const second = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'second try'));
    expect(second.status).toBe('SUCCEEDED');
    // Same epoch, a later lease: every call of the second attempt outranks the first's unfence.
    const tokens = w.hooks.calls.map((c) => `${c.payload.action} ${c.payload.node} ${c.payload.token}`);
    expect(tokens).toEqual([
      `fence a ${fencingToken(1, 'fence', 1)}`,
      `promote b ${fencingToken(1, 'promote', 1)}`,
      `demote b ${fencingToken(1, 'demoteTarget', 1)}`,
      `unfence a ${fencingToken(1, 'unfence', 1)}`,
      `fence a ${fencingToken(1, 'fence', 2)}`,
      `promote b ${fencingToken(1, 'promote', 2)}`,
      `demote a ${fencingToken(1, 'demote', 2)}`,
    ]);
    expect(w.nodes.refused).toEqual([]);
    expect(w.nodes.writers()).toEqual(['b']);
    expect(w.env.traffic.pointsAt(SVC)).toBe('b');
  });
});
