/**
 * The role-change engine with node actions, through the in-memory ports: the sequence, the
 * tokens, what a failed or late promotion leaves behind (invariant 8), and the old primary marked
 * needs-rejoin (invariant 9).
 */
import { describe, expect, it } from 'vitest';
import { runAutoFailover } from '../../../lambdas/app/auto-failover.ts';
import { MemoryShiftQueue } from '../../../lambdas/testing/shift-queue.ts';
import {
  actionCalls,
  alarmFires,
  ordersWithNodeActions,
  throttledFirstAttempt,
} from '../../support/orders-world.ts';

function setup(options: { roles?: ('fence' | 'unfence' | 'promote' | 'demote')[] } = {}) {
  return ordersWithNodeActions({ durationMs: 3_000, ...options });
}

describe('role-change engine with node actions', () => {
  it('fences, promotes, then shifts and commits: tokens of epoch 1, history with the actions, old primary needs-rejoin', async () => {
    const { env, actions, deps } = setup();
    const out = await runAutoFailover(deps, alarmFires(env));

    expect(out).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', epoch: 1 });
    expect(actionCalls(actions)).toEqual(['fence a 1/1/1 succeeded', 'promote b 1/1/2 succeeded']);
    expect(actions.writers('orders')).toEqual(['b']);
    expect(env.traffic.pointsAt('orders')).toBe('b');
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'b', epoch: 1, needsRejoin: ['a'] });
    const [entry] = await env.state.history('orders', 1);
    expect(entry).toMatchObject({ fenced: 'yes', needsRejoin: ['a'] });
    expect(entry?.actions?.map((a) => `${a.role} ${a.nodeId} ${a.status}`)).toEqual([
      'fence a succeeded',
      'promote b succeeded',
    ]);
    expect(env.notifier.ofKind('failover')[0]?.detail).toMatchObject({ fenced: 'yes', needsRejoin: ['a'] });
    // The actions' 6 s are not the automation's overhead.
    expect(out.timings).toMatchObject({ actionsMs: 6_000, overheadMs: 0 });
  });

  it('invariant 8: a failed promotion moves nothing; the next candidate is promoted and gets the traffic', async () => {
    const { env, actions, deps } = setup();
    actions.script('orders', 'b', 'promote', { status: 'failed', detail: 'pg_promote() returned false' });
    const out = await runAutoFailover(deps, alarmFires(env));

    expect(out).toMatchObject({ outcome: 'failed-over', to: 'c', epoch: 1 });
    expect(env.traffic.appliedChanges).toEqual([{ serviceId: 'orders', from: 'a', to: 'c' }]);
    expect(actions.writers('orders')).toEqual(['c']);
    expect(env.notifier.published.map((n) => n.kind)).toEqual(['promote-failed', 'failover']);
    expect(env.notifier.ofKind('promote-failed')[0]).toMatchObject({
      subject: 'orders: promoting b failed (failed), traffic stays on a; trying c next',
      detail: { reason: 'pg_promote() returned false', next: 'c', fenced: 'yes' },
    });
  });

  it('invariant 8: when no candidate can be promoted, traffic stays, the old primary is unfenced and the lease released', async () => {
    const { env, actions, deps } = setup();
    actions.script('orders', 'b', 'promote', { status: 'failed' });
    actions.script('orders', 'c', 'promote', { status: 'failed' });
    const out = await runAutoFailover(deps, alarmFires(env));

    expect(out).toMatchObject({ outcome: 'promote-failed', from: 'a', epoch: 0 });
    expect(env.traffic.appliedChanges).toEqual([]);
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'a', epoch: 0 });
    expect(env.state.snapshot('orders')?.lease).toBeUndefined();
    expect(actionCalls(actions)).toEqual([
      'fence a 1/1/1 succeeded',
      'promote b 1/1/2 failed',
      // The second target is promoted under a renewed lease: the next attempt's tokens.
      'promote c 1/2/2 failed',
      'unfence a 1/2/11 succeeded',
    ]);
    expect(actions.writers('orders')).toEqual(['a']);
    expect(env.notifier.ofKind('promote-failed').map((n) => n.subject)).toEqual([
      'orders: promoting b failed (failed), traffic stays on a; trying c next',
      'orders: promoting c failed (failed), traffic stays on a; no other candidate: automatic failover held',
    ]);
  });

  it('a promotion that times out is demoted with a higher token, so its late answer is refused', async () => {
    const { env, actions, deps } = setup();
    actions.script('orders', 'b', 'promote', { status: 'timed-out', landsLater: true });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(actionCalls(actions)).toEqual([
      'fence a 1/1/1 succeeded',
      'promote b 1/1/2 timed-out',
      'demote b 1/1/12 succeeded',
      'promote c 1/2/2 succeeded',
    ]);
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'c' });
    const late = actions.deliverLate();
    expect(late.map((c) => c.outcome)).toEqual(['refused-token']);
    expect(actions.writers('orders')).toEqual(['c']);
  });

  it('a timed-out promotion that cannot be demoted stops needs-attention, paused, traffic unmoved', async () => {
    const { env, actions, deps } = setup();
    actions.script('orders', 'b', 'promote', { status: 'timed-out' });
    actions.script('orders', 'b', 'demote', { status: 'failed' });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'promote-not-undone', to: 'b' });
    expect(env.traffic.appliedChanges).toEqual([]);
    expect(env.state.snapshot('orders')).toMatchObject({ paused: true, epoch: 0 });
    expect(env.notifier.ofKind('failover-failed')[0]?.subject).toMatch(/service paused/);
  });

  it('an old primary that does not answer the fence: fenced unknown, the failover goes on within the bound', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    const started = env.clock.now();
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'b' });
    expect(env.clock.now() - started).toBeLessThanOrEqual(2_000 + 15_000 + 3_000);
    const [entry] = await env.state.history('orders', 1);
    expect(entry?.fenced).toBe('unknown');
    expect(env.state.snapshot('orders')?.needsRejoin).toEqual(['a']);
  });

  it('a shift conflict after the promotion demotes the target and unfences the old primary', async () => {
    const { env, actions, deps } = setup();
    env.traffic.set('orders', 'c');
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'conflict', reason: 'traffic-conflict' });
    expect(actionCalls(actions)).toEqual([
      'fence a 1/1/1 succeeded',
      'promote b 1/1/2 succeeded',
      'demote b 1/1/12 succeeded',
      'unfence a 1/1/11 succeeded',
    ]);
    expect(actions.node('orders', 'b').writable).toBe(false);
  });

  it('a throttled shift after the promotion is queued, and the queued change says the target is promoted', async () => {
    const { env, actions, deps } = setup();
    const shiftQueue = new MemoryShiftQueue();
    env.traffic.failNext('orders', { errorName: 'Throttling', apply: false });
    const out = await runAutoFailover({ ...deps, shiftQueue }, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'queued', to: 'b' });
    expect(out.detail).toMatch(/b already promoted/);
    expect(shiftQueue.enqueued[0]).toMatchObject({ to: 'b', promoted: { fenced: 'yes' } });
    expect(shiftQueue.enqueued[0]?.promoted?.actions.map((a) => a.role)).toEqual(['fence', 'promote']);
    expect(actions.writers('orders')).toEqual(['b']);
  });

  it('a retry after a failed shift continues with the leased target, even when another replica now looks better', async () => {
    const { env, actions, deps } = setup();
    const transition = await throttledFirstAttempt(env, deps);
    expect(env.state.snapshot('orders')?.lease).toMatchObject({ holder: 'req-1', target: 'b' });

    env.clock.advance(60_000);
    env.lag.put('orders', 'b', 8);
    env.lag.put('orders', 'c', 0);
    const out = await runAutoFailover(deps, transition);
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'b', epoch: 1 });
    expect(actions.callsFor('orders', 'promote').map((c) => c.request.nodeId)).toEqual(['b', 'b']);
    expect(actions.writers('orders')).toEqual(['b']);
  });

  it('a retry that now holds undoes the promotion its earlier attempt made without moving traffic', async () => {
    const { env, actions, deps } = setup();
    const transition = await throttledFirstAttempt(env, deps);
    env.clock.advance(60_000);
    env.alarms.setNode('orders', 'b', 'ALARM');
    env.alarms.setNode('orders', 'c', 'ALARM');
    const out = await runAutoFailover(deps, transition);
    expect(out).toMatchObject({ outcome: 'held', reason: 'no-healthy-candidate' });
    expect(actionCalls(actions).slice(-2)).toEqual([
      'demote b 1/2/12 succeeded',
      'unfence a 1/2/11 succeeded',
    ]);
    expect(actions.writers('orders')).toEqual(['a']);
    expect(env.state.snapshot('orders')?.lease).toBeUndefined();
  });

  it('a service with a promote action only: no fence, fenced no, promote before the shift', async () => {
    const { env, actions, deps } = setup({ roles: ['promote'] });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'b' });
    expect(actionCalls(actions)).toEqual(['promote b 1/1/2 succeeded']);
    expect((await env.state.history('orders', 1))[0]?.fenced).toBe('no');
  });

  it('a service without actions keeps the traffic-only path and still marks the old primary needs-rejoin', async () => {
    const { env, actions, deps } = setup({ roles: [] });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'b' });
    expect(actions.calls).toEqual([]);
    expect(env.state.snapshot('orders')?.needsRejoin).toEqual(['a']);
    expect((await env.state.history('orders', 1))[0]?.fenced).toBeUndefined();
  });
});
