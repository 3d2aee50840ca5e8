import { describe, expect, it } from 'vitest';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import { ManualClock } from '../../lambdas/testing/clock.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { MemoryNodeActions } from '../../lambdas/testing/node-actions.ts';

function setup(options: { roles?: Record<string, ('fence' | 'unfence' | 'promote' | 'demote')[]> } = {}) {
  const config = testConfig([route53Service({ id: 'orders', nodes: ['a', 'b'] })]);
  const clock = new ManualClock();
  const actions = new MemoryNodeActions(config, { clock, sleep: clock.sleep, ...options });
  const req = (nodeId: string, role: 'fence' | 'unfence' | 'promote' | 'demote', token: number) => ({
    serviceId: 'orders',
    nodeId,
    role,
    mode: 'auto-failover' as const,
    epoch: 1,
    token,
    timeoutMs: 5_000,
  });
  return { actions, clock, req };
}

describe('MemoryNodeActions', () => {
  it('models the initial primary as the only writer, and each role as the node change it makes', async () => {
    const { actions, req } = setup();
    expect(actions.writers('orders')).toEqual(['a']);
    await actions.run(req('a', 'fence', fencingToken(1, 'fence')));
    expect(actions.writers('orders')).toEqual([]);
    await actions.run(req('b', 'promote', fencingToken(1, 'promote')));
    expect(actions.writers('orders')).toEqual(['b']);
    await actions.run(req('a', 'demote', fencingToken(1, 'rejoin')));
    expect(actions.node('orders', 'a')).toMatchObject({ primary: false, writable: false, fenced: false });
    expect(actions.calls.map((c) => [c.request.nodeId, c.request.role, c.request.token, c.outcome])).toEqual([
      ['a', 'fence', fencingToken(1, 'fence'), 'succeeded'],
      ['b', 'promote', fencingToken(1, 'promote'), 'succeeded'],
      ['a', 'demote', fencingToken(1, 'rejoin'), 'succeeded'],
    ]);
  });

  it('refuses a token lower than the highest the node has seen, and changes nothing', async () => {
    const { actions, req } = setup();
    await actions.run(req('b', 'demote', fencingToken(1, 'demoteTarget')));
    const late = await actions.run(req('b', 'promote', fencingToken(1, 'promote')));
    expect(late).toMatchObject({
      status: 'failed',
      detail: `b refused promote: token ${fencingToken(1, 'promote')} is lower than ${fencingToken(1, 'demoteTarget')}`,
    });
    expect(actions.node('orders', 'b').writable).toBe(false);
    expect(actions.calls[1]!.outcome).toBe('refused-token');
  });

  it('a late answer lands only if no higher token reached the node first', async () => {
    const { actions, req, clock } = setup();
    actions.script('orders', 'b', 'promote', { status: 'timed-out', landsLater: true });
    const t0 = clock.now();
    const out = await actions.run(req('b', 'promote', fencingToken(1, 'promote')));
    expect(out.status).toBe('timed-out');
    expect(clock.now() - t0).toBe(5_000);
    await actions.run(req('b', 'demote', fencingToken(1, 'demoteTarget')));
    const landed = actions.deliverLate();
    expect(landed).toHaveLength(1);
    expect(landed[0]!.outcome).toBe('refused-token');
    expect(actions.node('orders', 'b').writable).toBe(false);
  });

  it('a down node answers nothing (timeout, no change); it comes back as it was', async () => {
    const { actions, req } = setup();
    actions.setUp('orders', 'a', false);
    expect(actions.writers('orders')).toEqual([]);
    const out = await actions.run(req('a', 'fence', fencingToken(1, 'fence')));
    expect(out.status).toBe('timed-out');
    actions.setUp('orders', 'a', true);
    expect(actions.writers('orders')).toEqual(['a']);
  });

  it('scripted failures are consumed in order; a service without listed roles has no actions', async () => {
    const { actions, req } = setup({ roles: { orders: ['promote'] } });
    expect(actions.has('orders', 'a', 'fence')).toBe(false);
    expect(actions.has('orders', 'b', 'promote')).toBe(true);
    actions.script('orders', 'b', 'promote', { status: 'failed', detail: 'pg_promote() returned false' });
    expect((await actions.run(req('b', 'promote', 1002))).detail).toBe('pg_promote() returned false');
    expect((await actions.run(req('b', 'promote', 1002))).status).toBe('succeeded');
    await expect(actions.run(req('a', 'fence', 1001))).rejects.toThrow(/no fence action/);
  });
});
