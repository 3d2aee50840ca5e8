/**
 * An operator workflow over the expired lease of an automatic failover that died after promoting:
 * the lease names its target, and that node may be writable (the attempt's retries ran out before
 * it moved traffic or committed). Prepare takes an expired lease over; promoting another node next
 * to the leased target would leave two writers. Only the leased target may be promoted (promoting
 * it again finishes that change; with no node named it is the one chosen); any other target is
 * refused, naming the lease and its target.
 *
 * Run on the real state machine from the synthesized template, with nodes that honour tokens.
 */
import { describe, expect, it } from 'vitest';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import type { WorkflowMode } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { NodeRoles } from './node-roles.ts';
import { hookedService, hooksFor, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const workflow = workflowUnderTest(
  testConfig([hookedService({ id: SVC, nodes: ['a', 'b', 'c'], hookTimeoutSeconds: 30 })]),
);

/**
 * At epoch 0: automatic failover `auto-1` leased the service for target c, fenced a and promoted c,
 * then died (traffic still on a, nothing committed); its lease has expired since.
 */
async function deadAutoFailoverPromotedC(env: MemoryEnvironment): Promise<NodeRoles> {
  const nodes = new NodeRoles({ a: 'writer', b: 'replica', c: 'replica' });
  const now = env.clock.now();
  const { sequence } = await env.state.acquireLease({
    serviceId: SVC,
    expectedEpoch: 0,
    seedPrimary: 'a',
    lease: {
      holder: 'auto-1',
      operation: 'auto-failover',
      acquiredAt: now,
      expiresAt: now + 120_000,
      target: 'c',
    },
    now,
  });
  nodes.apply({ action: 'fence', node: 'a', token: fencingToken(1, 'fence', sequence) });
  nodes.apply({ action: 'promote', node: 'c', token: fencingToken(1, 'promote', sequence) });
  env.clock.set(now + 180_000);
  return nodes;
}

function worldOver(env: MemoryEnvironment, nodes: NodeRoles, target: string) {
  const hooks = hooksFor(SVC, (p) => {
    nodes.apply(p);
    return { ok: true };
  });
  return { hooks, runner: workflow.caughtUpRunner(env, hooks, SVC, target) };
}

describe('an operator workflow over an expired automatic-failover lease whose target may be promoted', () => {
  it.each<WorkflowMode>(['switchover', 'failover'])(
    'case I1 (%s to b, the dead lease named c): refused before any node changes, naming the lease and its target; c stays the one writer',
    async (mode) => {
      const env = workflow.environment();
      const nodes = await deadAutoFailoverPromotedC(env);
      const { hooks, runner } = worldOver(env, nodes, 'b');

      const out = await runner.start(moveRequest(SVC, mode, 'b', 'move to b'));

      expect(nodes.writers()).toEqual(['c']);
      expect(hooks.trace).toEqual([]);
      expect(out.status === 'FAILED' && out.error).toBe('PreconditionFailedError');
      const cause = out.status === 'FAILED' ? out.cause : '';
      expect(cause).toContain('expired auto-failover lease of auto-1');
      expect(cause).toContain('target c may have been promoted');
      expect(cause).toContain('ask again with --to c');
      // Nothing written: the dead lease stays for the next taker (the automatic path demotes c).
      expect(env.state.snapshot(SVC)?.lease).toMatchObject({ holder: 'auto-1', target: 'c' });
      expect(env.state.snapshot(SVC)?.epoch).toBe(0);
    },
  );

  it('case I2 (switchover to c, the dead lease named c): finishes that change: c primary at epoch 1, a demoted, one writer', async () => {
    const env = workflow.environment();
    const nodes = await deadAutoFailoverPromotedC(env);
    const { runner } = worldOver(env, nodes, 'c');

    const out = await runner.start(moveRequest(SVC, 'switchover', 'c', 'finish the automatic failover'));

    expect(out.status).toBe('SUCCEEDED');
    expect(nodes.writers()).toEqual(['c']);
    expect(nodes.role('a')).toBe('replica');
    expect(nodes.refused).toEqual([]);
    expect(env.traffic.pointsAt(SVC)).toBe('c');
    expect({ primary: env.state.snapshot(SVC)?.primary, epoch: env.state.snapshot(SVC)?.epoch }).toEqual({
      primary: 'c',
      epoch: 1,
    });
  });

  it('case I3 (failover to no node named, the dead lease named c): chooses c, not the replica it would choose otherwise (b)', async () => {
    const env = workflow.environment();
    env.alarms.setNode(SVC, 'a', 'ALARM');
    const nodes = await deadAutoFailoverPromotedC(env);
    const { runner } = worldOver(env, nodes, 'c');
    // b is the better replica by every measure but the lease.
    env.lag.put(SVC, 'b', 0, env.clock.now() - 1);

    const out = await runner.start({ serviceId: SVC, mode: 'failover', reason: 'primary down' });

    expect(out.status).toBe('SUCCEEDED');
    expect(nodes.writers()).toEqual(['c']);
    expect(env.state.snapshot(SVC)?.primary).toBe('c');
  });
});
