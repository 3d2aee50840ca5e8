/**
 * Invariant 9 end to end: a former primary that comes back is demoted with the current epoch
 * before it can be a candidate again; without actions it waits for an operator.
 */
import { describe, expect, it } from 'vitest';
import { type AutoFailoverDeps, runAutoFailover } from '../../../lambdas/app/auto-failover.ts';
import { fencingToken } from '../../../lambdas/domain/node-actions.ts';
import type { AlarmStateValue, AlarmTransition } from '../../../lambdas/domain/types.ts';
import { route53Service, testConfig } from '../../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../../lambdas/testing/node-actions.ts';

function setup(roles?: ('fence' | 'unfence' | 'promote' | 'demote')[]) {
  const config = testConfig([
    route53Service({
      id: 'orders',
      nodes: ['a', 'b', 'c'],
      policy: { maxLagSeconds: 10, cooldownSeconds: 0 },
    }),
  ]);
  const env = createMemoryEnvironment(config);
  env.lag.put('orders', 'b', 2);
  env.lag.put('orders', 'c', 4);
  const actions = new MemoryNodeActions(config, {
    clock: env.clock,
    ...(roles ? { roles: { orders: roles } } : {}),
  });
  const deps: AutoFailoverDeps = { ...env, actions, holderId: 'req-1' };
  return { env, actions, deps };
}

function fire(
  env: MemoryEnvironment,
  node: string,
  state: AlarmStateValue,
  eventId: string,
): AlarmTransition {
  const alarmName = env.alarms.setNode('orders', node, state);
  const timestamp = env.clock.now();
  env.clock.advance(1_000);
  return { alarmName, state, previousState: state === 'OK' ? 'ALARM' : 'OK', timestamp, eventId };
}

describe('rejoin of a former primary', () => {
  it('invariant 9: the crashed primary comes back writable and is demoted with the current epoch when its alarm is OK', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    await runAutoFailover(deps, fire(env, 'a', 'ALARM', 'e1'));
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'b', epoch: 1, needsRejoin: ['a'] });

    actions.setUp('orders', 'a', true);
    // Back as it crashed: it believes it is the primary. It takes no traffic and is no candidate.
    expect(actions.writers('orders')).toEqual(['a', 'b']);
    expect(env.traffic.pointsAt('orders')).toBe('b');
    const out = await runAutoFailover({ ...deps, holderId: 'req-2' }, fire(env, 'a', 'OK', 'e2'));

    expect(out).toMatchObject({ outcome: 'rejoined', from: 'a', reason: 'demote', epoch: 1 });
    expect(actions.writers('orders')).toEqual(['b']);
    // The closing band of epoch 1: above every attempt of the change that produced it.
    expect(actions.callsFor('orders', 'demote').map((c) => c.request.token)).toEqual([
      fencingToken(1, 'rejoin'),
    ]);
    expect(fencingToken(1, 'rejoin')).toBeGreaterThan(
      Math.max(...actions.calls.filter((c) => c.request.role !== 'demote').map((c) => c.request.token)),
    );
    expect(env.state.snapshot('orders')?.needsRejoin).toBeUndefined();
    const [entry] = await env.state.history('orders', 1);
    expect(entry).toMatchObject({ operation: 'rejoin', from: 'a', epoch: 1 });
    expect(env.notifier.ofKind('rejoin')[0]?.subject).toBe(
      'orders: former primary a rejoined (demoted with epoch 1)',
    );
  });

  it('invariant 9: until it rejoins, the former primary is never a candidate, however healthy and fresh', async () => {
    const { env, deps } = setup([]);
    await runAutoFailover(deps, fire(env, 'a', 'ALARM', 'e1'));
    env.alarms.setNode('orders', 'a', 'OK');
    env.alarms.setNode('orders', 'c', 'ALARM');
    env.lag.put('orders', 'a', 0);
    const out = await runAutoFailover({ ...deps, holderId: 'req-2' }, fire(env, 'b', 'ALARM', 'e2'));
    expect(out).toMatchObject({ outcome: 'held', reason: 'no-healthy-candidate' });
    expect(out.detail).toMatch(/a needs-rejoin/);
    expect(env.traffic.pointsAt('orders')).toBe('b');
  });

  it('without actions the node stays needs-rejoin and the on-call is told to run failover rejoin', async () => {
    const { env, deps } = setup([]);
    await runAutoFailover(deps, fire(env, 'a', 'ALARM', 'e1'));
    const out = await runAutoFailover({ ...deps, holderId: 'req-2' }, fire(env, 'a', 'OK', 'e2'));
    expect(out).toMatchObject({ outcome: 'held', reason: 'needs-rejoin' });
    expect(env.state.snapshot('orders')?.needsRejoin).toEqual(['a']);
    expect(env.notifier.ofKind('rejoin')[0]?.subject).toMatch(/failover rejoin orders a/);
  });

  it('a failed demote leaves the mark and says so', async () => {
    const { env, actions, deps } = setup();
    await runAutoFailover(deps, fire(env, 'a', 'ALARM', 'e1'));
    actions.script('orders', 'a', 'demote', { status: 'failed', detail: 'pg_rewind failed' });
    const out = await runAutoFailover({ ...deps, holderId: 'req-2' }, fire(env, 'a', 'OK', 'e2'));
    expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'rejoin-failed' });
    expect(env.state.snapshot('orders')?.needsRejoin).toEqual(['a']);
    expect(env.notifier.ofKind('rejoin-failed')).toHaveLength(1);
  });
});
