/**
 * The node-action function checks its payload against the state table before it acts: the
 * payload is not trusted, as anyone allowed to invoke the function could send one.
 */
import { describe, expect, it } from 'vitest';
import { nodeActionRefusal } from '../../lambdas/app/node-action-guard.ts';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import { makeHandler } from '../../lambdas/handlers/node-action.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../lambdas/testing/node-actions.ts';
import { promotePayload } from '../support/node-action-payloads.ts';

const config = testConfig([route53Service({ id: 'db', nodes: ['a', 'b'] })]);
const EXEC = 'switchover-db-b-e0-0123456789abcdef';

function world() {
  const env = createMemoryEnvironment(config);
  const actions = new MemoryNodeActions(config, { clock: env.clock });
  const handler = makeHandler({ actions, logger: env.logger, state: env.state });
  const payload = (over: Record<string, unknown> = {}) => promotePayload('db', EXEC, over);
  const lease = async (holder = EXEC, operation: 'switchover' | 'failover' = 'switchover') => {
    const now = env.clock.now();
    await env.state.acquireLease({
      serviceId: 'db',
      expectedEpoch: 0,
      seedPrimary: 'a',
      lease: { holder, operation, acquiredAt: now, expiresAt: now + 600_000 },
      now,
    });
  };
  return { env, actions, handler, payload, lease };
}

describe('node-action function: the payload is checked against the state table', () => {
  it('case S3: a direct invocation promoting a node while no workflow holds the lease runs nothing', async () => {
    const w = world();
    await expect(w.handler(w.payload())).rejects.toMatchObject({ name: 'LeaseLostError' });
    expect(w.actions.calls).toEqual([]);
    expect(w.env.logger.entries.some((e) => e.message === 'node action refused')).toBe(true);
  });

  it('case S3: a token far above the epoch (which would make a token-keeping node refuse every later call) runs nothing', async () => {
    const w = world();
    await w.lease();
    await expect(w.handler(w.payload({ token: fencingToken(9, 'promote', 1) }))).rejects.toMatchObject({
      name: 'LeaseLostError',
    });
    expect(w.actions.calls).toEqual([]);
  });

  it('case S3: a call naming another execution than the lease holder, or another mode, runs nothing', async () => {
    const w = world();
    await w.lease('someone-else');
    await expect(w.handler(w.payload())).rejects.toMatchObject({ name: 'LeaseLostError' });
    await expect(w.handler(w.payload({ execution: undefined }))).rejects.toMatchObject({
      name: 'LeaseLostError',
    });
    expect(w.actions.calls).toEqual([]);
    const other = world();
    await other.lease(EXEC, 'failover');
    await expect(other.handler(other.payload())).rejects.toMatchObject({ name: 'LeaseLostError' });
    expect(other.actions.calls).toEqual([]);
  });

  it('runs the calls of the execution holding the lease at the epoch before, and its demote after its commit', async () => {
    const w = world();
    await w.lease();
    await expect(w.handler(w.payload())).resolves.toMatchObject({ status: 'succeeded' });
    const now = w.env.clock.now();
    await w.env.state.commit({
      serviceId: 'db',
      expectedEpoch: 0,
      holder: EXEC,
      newPrimary: 'b',
      at: now,
      history: {
        serviceId: 'db',
        epoch: 1,
        at: now,
        operation: 'switchover',
        from: 'a',
        to: 'b',
        reason: 'r',
        actor: EXEC,
      },
    });
    await expect(
      w.handler(w.payload({ node: 'a', action: 'demote', token: fencingToken(1, 'demote', 1) })),
    ).resolves.toMatchObject({ status: 'succeeded' });
    expect(w.actions.calls.map((c) => `${c.request.role} ${c.request.nodeId}`)).toEqual([
      'promote b',
      'demote a',
    ]);
    // After the change, the execution's forward calls are over.
    expect(
      await nodeActionRefusal(w.env.state, {
        serviceId: 'db',
        epoch: 2,
        token: fencingToken(2, 'fence', 1),
        mode: 'switchover',
        execution: EXEC,
      }),
    ).toMatch(/is not making the change to epoch 2/);
  });
});
