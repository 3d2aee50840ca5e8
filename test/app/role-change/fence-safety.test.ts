/**
 * The fence gate and the finishing of an unrecorded shift: the two ways the property run (with
 * node actions) found two writers, each as a named case (both failed on the engine before the
 * fence gate, the attempt-aware tokens and the finishing retry), and the rules around them.
 */
import { describe, expect, it } from 'vitest';
import { runAutoFailover } from '../../../lambdas/app/auto-failover.ts';
import { TransientAwsError } from '../../../lambdas/domain/errors.ts';
import type { TrafficPort } from '../../../lambdas/domain/ports.ts';
import type { MemoryEnvironment } from '../../../lambdas/testing/memory.ts';
import type { MemoryNodeActions } from '../../../lambdas/testing/node-actions.ts';
import {
  actionCalls,
  alarmFires,
  ordersWithNodeActions,
  publishReplicaLag,
} from '../../support/orders-world.ts';

function setup() {
  return ordersWithNodeActions({ durationMs: 1_000, lag: { b: 4, c: 2 } });
}

const fire = (env: MemoryEnvironment, eventId = 'evt-1') => alarmFires(env, 'a', 'ALARM', eventId);

/** A router whose shift applies and then never answers: the invocation dies after the shift. */
function dyingAfterShift(traffic: TrafficPort): TrafficPort {
  return {
    shift: async (changes) => {
      await traffic.shift(changes);
      return new Promise(() => {});
    },
    current: (id) => traffic.current(id),
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

describe('fence gate (automatic failover)', () => {
  it('seed 1517565446: a live primary whose fence fails is never left writable next to a promoted node: held, fenced no, nothing promoted or moved', async () => {
    const { env, actions, deps } = setup();
    actions.script('orders', 'a', 'fence', {
      status: 'failed',
      detail: 'maintenance mode did not start (exit 1)',
    });
    const out = await runAutoFailover(deps, fire(env));

    expect(out).toMatchObject({ outcome: 'held', reason: 'fence-failed', from: 'a', epoch: 0 });
    expect(actionCalls(actions)).toEqual(['fence a 1/1/1 failed']);
    expect(actions.writers('orders')).toEqual(['a']);
    expect(env.traffic.appliedChanges).toEqual([]);
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'a', epoch: 0 });
    expect(env.state.snapshot('orders')?.lease).toBeUndefined();
    const [page] = env.notifier.ofKind('failover-failed');
    expect(page?.subject).toBe(
      'orders: primary a is down but could not be fenced (fence-failed): automatic failover held, fenced: no',
    );
    expect(page?.detail).toMatchObject({ fenced: 'no', reason: 'fence-failed', candidate: 'c' });
  });

  it('a fence that reached the node and hung: held, and the unfence outranks the fence if it lands late', async () => {
    const { env, actions, deps } = setup();
    actions.script('orders', 'a', 'fence', { status: 'timed-out', landsLater: true });
    const out = await runAutoFailover(deps, fire(env));

    expect(out).toMatchObject({ outcome: 'held', reason: 'fence-hung' });
    expect(actionCalls(actions)).toEqual(['fence a 1/1/1 timed-out', 'unfence a 1/1/11 succeeded']);
    expect(actions.deliverLate().map((c) => c.outcome)).toEqual(['refused-token']);
    expect(actions.writers('orders')).toEqual(['a']);
    expect(env.notifier.ofKind('failover-failed')[0]?.detail).toMatchObject({ fenced: 'unknown' });
  });

  it('a primary that is down (the fence cannot reach it) is failed over: fenced unknown, the old primary needs-rejoin', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    const out = await runAutoFailover(deps, fire(env));

    expect(out).toMatchObject({ outcome: 'failed-over', to: 'c', epoch: 1 });
    expect((await env.state.history('orders', 1))[0]).toMatchObject({
      fenced: 'unknown',
      needsRejoin: ['a'],
    });
  });

  it('a fence that failed retryably (throttled) retries the invocation under the lease; the retry fences with a higher token and fails over', async () => {
    const { env, actions, deps } = setup();
    let fences = 0;
    const throttled = {
      run: async (req: Parameters<MemoryNodeActions['run']>[0]) =>
        req.role === 'fence' && fences++ === 0
          ? {
              status: 'failed' as const,
              kind: 'ssm-command',
              detail: 'ThrottlingException: Rate exceeded',
              durationMs: 5,
              error: {
                name: 'ThrottlingException',
                message: 'Rate exceeded',
                retryable: true,
                uncertain: false,
              },
            }
          : actions.run(req),
      has: actions.has.bind(actions),
    };
    const transition = fire(env);
    await expect(runAutoFailover({ ...deps, actions: throttled }, transition)).rejects.toBeInstanceOf(
      TransientAwsError,
    );
    expect(env.state.snapshot('orders')?.lease).toMatchObject({ holder: 'req-1', target: 'c' });
    const out = await runAutoFailover({ ...deps, actions: throttled }, transition);
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'c', epoch: 1 });
    expect(actionCalls(actions)).toEqual(['fence a 1/2/1 succeeded', 'promote c 1/2/2 succeeded']);
  });
});

describe('attempts of one epoch (attempt-aware tokens)', () => {
  it("seed -245695645: after an attempt that could not promote anyone unfenced the old primary, the next attempt's fence is accepted, not refused", async () => {
    const { env, actions, deps } = setup();
    actions.script('orders', 'c', 'promote', { status: 'failed' });
    actions.script('orders', 'b', 'promote', { status: 'failed' });
    const first = await runAutoFailover(deps, fire(env, 'evt-1'));
    expect(first).toMatchObject({ outcome: 'promote-failed', epoch: 0 });

    // The next event of the same epoch (another invocation, another holder).
    env.clock.advance(60_000);
    publishReplicaLag(env, { b: 4, c: 2 });
    const out = await runAutoFailover({ ...deps, holderId: 'req-2' }, fire(env, 'evt-2'));
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'c', epoch: 1 });
    expect(actionCalls(actions)).toEqual([
      'fence a 1/1/1 succeeded',
      'promote c 1/1/2 failed',
      'promote b 1/2/2 failed',
      'unfence a 1/2/11 succeeded',
      // The third lease at epoch 0: its fence outranks the second lease's unfence.
      'fence a 1/3/1 succeeded',
      'promote c 1/3/2 succeeded',
    ]);
    expect(actions.writers('orders')).toEqual(['c']);
  });
});

describe('a retry that finds its shift unrecorded (the invocation died after the shift)', () => {
  it('seed 1517565446 (crash after the shift): the retry fences the old primary again and commits the leased target, though the decision is now to hold', async () => {
    const { env, actions, deps } = setup();
    const transition = fire(env);
    void runAutoFailover({ ...deps, traffic: dyingAfterShift(env.traffic) }, transition);
    await settle();
    expect(env.traffic.pointsAt('orders')).toBe('c');
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'a', epoch: 0, lease: { target: 'c' } });

    // Lambda retries a minute later; by then a's alarm is OK again (a stale event now).
    env.clock.advance(60_000);
    env.alarms.setNode('orders', 'a', 'OK');
    const out = await runAutoFailover(deps, transition);

    expect(out).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'c', epoch: 1 });
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'c', epoch: 1 });
    const [rejoin, change] = await env.state.history('orders', 2);
    expect(change).toMatchObject({ operation: 'auto-failover', epoch: 1, needsRejoin: ['a'] });
    // a's alarm is OK already (its OK event came before the mark): it rejoins at once.
    expect(rejoin).toMatchObject({ operation: 'rejoin', from: 'a', epoch: 1 });
    expect(env.state.snapshot('orders')?.needsRejoin).toBeUndefined();
    expect(actions.writers('orders')).toEqual(['c']);
    expect(actionCalls(actions)).toEqual([
      'fence a 1/1/1 succeeded',
      'promote c 1/1/2 succeeded',
      'fence a 1/2/1 succeeded',
      'demote a 1/9999999/21 succeeded',
    ]);
  });

  it('a pause written after the shift does not leave the record on the old primary: the move was sent before it', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    const transition = fire(env);
    void runAutoFailover({ ...deps, traffic: dyingAfterShift(env.traffic) }, transition);
    await settle();
    await env.state.setPaused('orders', true, { by: 'ops@host', at: env.clock.now(), reason: 'maintenance' });
    env.clock.advance(60_000);
    const out = await runAutoFailover(deps, transition);

    expect(out).toMatchObject({ outcome: 'failed-over', to: 'c', epoch: 1 });
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'c', paused: true, needsRejoin: ['a'] });
    // a was down for both fences and comes back writable: out of traffic and of every role.
    actions.setUp('orders', 'a', true);
    expect(env.traffic.pointsAt('orders')).toBe('c');
  });

  it('another event after the dead attempt lease expired finishes it too, instead of promoting a second node', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    void runAutoFailover({ ...deps, traffic: dyingAfterShift(env.traffic) }, fire(env, 'evt-1'));
    await settle();
    env.clock.advance(180_000);
    env.lag.put('orders', 'b', 0, env.clock.now() - 1_000);
    const out = await runAutoFailover({ ...deps, holderId: 'req-2' }, fire(env, 'evt-2'));

    expect(out).toMatchObject({ outcome: 'failed-over', to: 'c', epoch: 1 });
    expect(actions.callsFor('orders', 'promote').map((c) => c.request.nodeId)).toEqual(['c']);
    actions.setUp('orders', 'a', true);
    // a comes back writable (it was down for both fences), but it is needs-rejoin: no traffic, no role.
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'c', needsRejoin: ['a'] });
    expect(env.traffic.pointsAt('orders')).toBe('c');
  });
});
