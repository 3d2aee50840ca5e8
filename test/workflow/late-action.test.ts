/**
 * Hook calls cannot fence a late hook: Step Functions' TimeoutSecondsPath stops *waiting* for a
 * hook, not the hook itself. A slow promote times out, the rollback demotes the target, and then
 * the original promote lands. Every call carries its own token ordered by TOKEN_SEQUENCE, so a
 * node that keeps the contract ("refuse a token lower than the highest you have seen") refuses
 * the late promote; the rollback's calls outrank the forward calls they undo.
 */
import { describe, expect, it } from 'vitest';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import type { HookPayload } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import { TestHooks } from './harness.ts';
import { hookArns, hookedService, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const { fence: FENCE, promote: PROMOTE, demote: DEMOTE } = hookArns(SVC);

// 1 s of real time: the promote below answers only after its Task has timed out.
const config = testConfig([hookedService({ id: SVC, hookTimeoutSeconds: 1 })]);
const workflow = workflowUnderTest(config);

/** A database node that keeps the token contract. */
class TokenNode {
  role: 'primary' | 'replica' | 'fenced';
  highest = 0;
  readonly refused: string[] = [];
  constructor(role: 'primary' | 'replica') {
    this.role = role;
  }
  apply(p: HookPayload): { ok: boolean } {
    // Before tokens, a hook had only the epoch to order calls by.
    const token = (p as HookPayload & { token?: number }).token ?? p.epoch;
    if (token < this.highest) {
      this.refused.push(`${p.action} ${token} < ${this.highest}`);
      throw Object.assign(new Error(`stale token ${token}`), { name: 'StaleTokenError' });
    }
    this.highest = token;
    if (p.action === 'promote') this.role = 'primary';
    if (p.action === 'demote') this.role = 'replica';
    if (p.action === 'fence') this.role = 'fenced';
    if (p.action === 'unfence') this.role = 'primary';
    return { ok: true };
  }
}

describe('hook calls cannot fence a late hook', () => {
  it('a promote that lands after its rollback demoted the target is refused by its token', async () => {
    const env = workflow.environment();
    const nodes = { a: new TokenNode('primary'), b: new TokenNode('replica') };
    let demotedBack!: () => void;
    const rollbackDemoted = new Promise<void>((resolve) => {
      demotedBack = resolve;
    });
    let latePromote: Promise<unknown> | undefined;
    const hooks = new TestHooks()
      .register(FENCE, (p) => nodes[p.node as 'a' | 'b'].apply(p))
      .register(DEMOTE, (p) => {
        const out = nodes[p.node as 'a' | 'b'].apply(p);
        if (p.node === 'b') demotedBack();
        return out;
      })
      .register(PROMOTE, (p) => {
        // Slow: it reaches the node only after the rollback's demote of the same node.
        latePromote = rollbackDemoted.then(() => {
          try {
            return nodes.b.apply(p);
          } catch (err) {
            return err;
          }
        });
        return latePromote;
      });
    const runner = workflow.caughtUpRunner(env, hooks, SVC, 'b');

    const out = await runner.start(moveRequest(SVC, 'switchover', 'b', 'late promote'));
    await latePromote;

    expect(out.status).toBe('FAILED');
    expect(hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    // Every call carries its own token; the rollback's outrank the forward calls they undo.
    expect(hooks.calls.map((c) => (c.payload as HookPayload & { token?: number }).token)).toEqual([
      fencingToken(1, 'fence', 1),
      fencingToken(1, 'promote', 1),
      fencingToken(1, 'demoteTarget', 1),
      fencingToken(1, 'unfence', 1),
    ]);
    // The late promote was refused: b stays a replica, a is the only writer, traffic on a.
    expect(nodes.b.refused).toEqual([
      `promote ${fencingToken(1, 'promote', 1)} < ${fencingToken(1, 'demoteTarget', 1)}`,
    ]);
    expect(nodes.b.role).toBe('replica');
    expect(nodes.a.role).toBe('primary');
    expect(env.traffic.pointsAt(SVC)).toBe('a');
  });
});
