/**
 * An adversarial review of the automatic failover path under real AWS semantics: each case is a
 * fault class (an invocation that dies with its retries spent, a pause written mid-flight, the
 * old primary returning while a failover is in flight) that once ended with two writers, a record
 * that disagrees with the router, or a node left out of its rejoin; each is named after its case.
 */
import { describe, expect, it } from 'vitest';
import { type AutoFailoverDeps, runAutoFailover } from '../../../lambdas/app/auto-failover.ts';
import { TransientAwsError } from '../../../lambdas/domain/errors.ts';
import { tokenParts } from '../../../lambdas/domain/node-actions.ts';
import type { TrafficPort } from '../../../lambdas/domain/ports.ts';
import type { AlarmTransition } from '../../../lambdas/domain/types.ts';
import { makeHandler } from '../../../lambdas/handlers/failover.ts';
import { makeZoneShiftHandler } from '../../../lambdas/handlers/zone-shift.ts';
import { route53Service, testConfig } from '../../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../../lambdas/testing/node-actions.ts';
import { MemoryShiftQueue } from '../../../lambdas/testing/shift-queue.ts';
import { faultyPorts } from '../../reliability/support/faults.ts';
import {
  deliverPrimaryAlarm,
  MATRIX_CONFIG,
  MATRIX_SERVICE,
  publishMatrixLag,
} from '../../reliability/support/lambda.ts';

function setup() {
  const config = testConfig([
    route53Service({
      id: 'orders',
      nodes: ['a', 'b', 'c'],
      policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600 },
    }),
  ]);
  const env = createMemoryEnvironment(config);
  env.lag.put('orders', 'b', 4, env.clock.now() - 5_000);
  env.lag.put('orders', 'c', 2, env.clock.now() - 5_000);
  const actions = new MemoryNodeActions(config, {
    clock: env.clock,
    sleep: env.clock.sleep,
    durationMs: 1_000,
  });
  const deps = (holderId: string, extra: Partial<AutoFailoverDeps> = {}): AutoFailoverDeps => ({
    ...env,
    actions,
    holderId,
    ...extra,
  });
  return { env, actions, deps };
}

function alarm(
  env: MemoryEnvironment,
  eventId: string,
  previousState: AlarmTransition['previousState'] = 'OK',
) {
  const alarmName = env.alarms.setNode('orders', 'a', 'ALARM');
  const timestamp = env.clock.now();
  env.clock.advance(2_000);
  return { alarmName, state: 'ALARM', previousState, timestamp, eventId } as AlarmTransition;
}

const calls = (actions: MemoryNodeActions) =>
  actions.calls.map((c) => {
    const t = tokenParts(c.request.token);
    return `${c.request.role} ${c.request.nodeId} ${t.epoch}/${t.attempt}/${t.sequence} ${c.outcome}`;
  });

/** A router that never answers the shift and never applies it: the invocation dies before traffic moves. */
function dyingAtShift(traffic: TrafficPort): TrafficPort {
  return { shift: () => new Promise(() => {}), current: (id) => traffic.current(id) };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

describe('automatic failover: attacks on the in-flight window', () => {
  it('an invocation that died after promoting, its retries spent: the next failover over the expired lease demotes that target before promoting another', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    // req-1 fences a (unreachable), promotes c, and dies at the shift; Lambda's retries die too.
    void runAutoFailover(deps('req-1', { traffic: dyingAtShift(env.traffic) }), alarm(env, 'evt-1'));
    await settle();
    expect(actions.writers('orders')).toEqual(['c']);
    expect(env.state.snapshot('orders')?.lease).toMatchObject({ holder: 'req-1', target: 'c' });

    // The lease expires. c is a primary now and no longer publishes replica lag; b is fresh.
    env.clock.advance(10 * 60_000);
    env.lag.clear('orders', 'c');
    env.lag.put('orders', 'b', 3, env.clock.now() - 5_000);
    const out = await runAutoFailover(deps('req-2'), alarm(env, 'evt-2', 'INSUFFICIENT_DATA'));

    expect(out).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', epoch: 1 });
    expect(env.traffic.pointsAt('orders')).toBe('b');
    // c, promoted by the dead attempt, is demoted with a token that outranks its promote.
    expect(actions.writers('orders')).toEqual(['b']);
    expect(calls(actions)).toContain('demote c 1/2/12 succeeded');
  });

  it('a pause written while the promotion runs: traffic is not moved, the promotion is undone, the lease released, and the hold announced', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    // The operator pauses automatic failover while the promote of c is running.
    const pausing = {
      has: actions.has.bind(actions),
      run: async (req: Parameters<MemoryNodeActions['run']>[0]) => {
        if (req.role === 'promote')
          await env.state.setPaused('orders', true, { by: 'alice', at: env.clock.now(), reason: 'db work' });
        return actions.run(req);
      },
    };
    const out = await runAutoFailover(deps('req-1', { actions: pausing }), alarm(env, 'evt-1'));

    expect(out).toMatchObject({ outcome: 'held', reason: 'paused', from: 'a', to: 'c', epoch: 0 });
    expect(env.traffic.appliedChanges).toEqual([]);
    expect(env.traffic.pointsAt('orders')).toBe('a');
    expect(actions.writers('orders')).toEqual([]);
    expect(calls(actions)).toEqual([
      'fence a 1/1/1 timed-out',
      'promote c 1/1/2 succeeded',
      'demote c 1/1/12 succeeded',
      'unfence a 1/1/11 timed-out',
    ]);
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'a', epoch: 0, paused: true });
    expect(env.state.snapshot('orders')?.lease).toBeUndefined();
    const [held] = env.notifier.ofKind('failover-held');
    expect(held?.subject).toBe(
      'orders: primary a is down, automatic failover held (paused): paused while c was being promoted; c demoted again, traffic stays on a; unfence of a timed-out: a is unreachable: unfence got no connection within 60000 ms',
    );
  });

  it('a pause written right after the decision read the state: the lease is refused, nothing is fenced or promoted, and the failover holds (paused)', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    // The decision reads an unpaused state; the operator's pause lands before the lease write.
    let pausedAfterRead = false;
    const state = Object.assign(Object.create(env.state) as typeof env.state, {
      get: async (id: string) => {
        const read = await env.state.get(id);
        if (!pausedAfterRead) {
          pausedAfterRead = true;
          await env.state.setPaused('orders', true, { by: 'alice', at: env.clock.now(), reason: 'db work' });
        }
        return read;
      },
    });
    const out = await runAutoFailover(deps('req-1', { state }), alarm(env, 'evt-1'));

    expect(pausedAfterRead).toBe(true);
    expect(out).toMatchObject({ outcome: 'held', reason: 'paused', from: 'a', epoch: 0 });
    expect(calls(actions)).toEqual([]);
    expect(env.traffic.appliedChanges).toEqual([]);
    // The pause wrote the item (no primary: see setPaused); the refused lease seeded nothing.
    expect(env.state.snapshot('orders')).toMatchObject({ epoch: 0, paused: true });
    expect(env.state.snapshot('orders')?.lease).toBeUndefined();
    expect(env.notifier.ofKind('failover-held')).toEqual([]);
  });

  it('a pause written between the shift and the commit: the move that went out is recorded (the old primary marked needs-rejoin), not left apart from the record as a lost lease', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    const pausingAfterShift: TrafficPort = {
      shift: async (changes) => {
        const out = await env.traffic.shift(changes);
        await env.state.setPaused('orders', true, { by: 'alice', at: env.clock.now(), reason: 'db work' });
        return out;
      },
      current: (id) => env.traffic.current(id),
    };
    const out = await runAutoFailover(deps('req-1', { traffic: pausingAfterShift }), alarm(env, 'evt-1'));

    expect(out).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'c', epoch: 1 });
    expect(env.state.snapshot('orders')).toMatchObject({
      primary: 'c',
      epoch: 1,
      paused: true,
      needsRejoin: ['a'],
    });
    expect(env.traffic.pointsAt('orders')).toBe('c');
    expect(env.notifier.ofKind('failover-failed')).toEqual([]);
  });

  it('the old primary returns while its failover is in flight: its OK event finds no mark yet, so the committing invocation rejoins it (demoted with the new epoch)', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    const seen: string[] = [];
    // While c is being promoted, a comes back (writable, as it went down) and its alarm goes OK;
    // EventBridge delivers that event to another invocation at once.
    const returning = {
      has: actions.has.bind(actions),
      run: async (req: Parameters<MemoryNodeActions['run']>[0]) => {
        const result = await actions.run(req);
        if (req.role === 'promote') {
          actions.setUp('orders', 'a', true);
          const alarmName = env.alarms.setNode('orders', 'a', 'OK');
          const ok = {
            alarmName,
            state: 'OK',
            previousState: 'ALARM',
            timestamp: env.clock.now(),
            eventId: 'evt-ok',
          };
          const back = await runAutoFailover(deps('req-ok'), ok as AlarmTransition);
          seen.push(`${back.outcome} ${back.reason}`);
        }
        return result;
      },
    };
    const out = await runAutoFailover(deps('req-1', { actions: returning }), alarm(env, 'evt-1'));

    expect(seen).toEqual(['held not-an-alarm-transition']);
    expect(out).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'c', epoch: 1 });
    expect(actions.writers('orders')).toEqual(['c']);
    expect(calls(actions)).toContain('demote a 1/9999999/21 succeeded');
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'c', epoch: 1 });
    expect(env.state.snapshot('orders')?.needsRejoin).toBeUndefined();
    expect((await env.state.history('orders', 1))[0]).toMatchObject({
      operation: 'rejoin',
      from: 'a',
      epoch: 1,
    });
    expect(env.notifier.ofKind('rejoin').map((n) => n.subject)).toEqual([
      'orders: former primary a rejoined (demoted with epoch 1)',
    ]);
  });

  it('a pause written while a promoted change waits in the zone-shift queue: the shifter still sends and records it (it cannot undo the promotion, and holding would leave traffic on the fenced old primary next to a writer)', async () => {
    const { env, actions, deps } = setup();
    const queue = new MemoryShiftQueue();
    // Route 53 throttles the shift after the promote of c: the change is queued, still leased.
    env.traffic.failNext('orders', { errorName: 'Throttling', apply: false });
    const out = await runAutoFailover(deps('req-1', { shiftQueue: queue }), alarm(env, 'evt-1'));
    expect(out).toMatchObject({ outcome: 'queued', to: 'c' });
    expect(actions.writers('orders')).toEqual(['c']);

    await env.state.setPaused('orders', true, { by: 'alice', at: env.clock.now(), reason: 'db work' });
    env.clock.advance(1_500);
    const shifter = makeZoneShiftHandler({ ...env, sleep: env.clock.sleep, retry: { budgetMs: 2_000 } });
    const answer = await shifter(MemoryShiftQueue.event(queue.take()), { awsRequestId: 'shifter-1' });

    expect(answer).toEqual({ batchItemFailures: [] });
    expect(env.traffic.pointsAt('orders')).toBe('c');
    expect(env.state.snapshot('orders')).toMatchObject({
      primary: 'c',
      epoch: 1,
      paused: true,
      needsRejoin: ['a'],
    });
    expect(actions.writers('orders')).toEqual(['c']);
  });

  it('a promoted change crosses the zone-shift queue (SQS wire format) still marked promoted: the shifter sends traffic to the promoted node, never to a re-decided one', async () => {
    const { env, actions, deps } = setup();
    actions.setUp('orders', 'a', false);
    const queue = new MemoryShiftQueue();
    env.traffic.failNext('orders', { errorName: 'Throttling', apply: false });
    const out = await runAutoFailover(deps('req-1', { shiftQueue: queue }), alarm(env, 'evt-1'));
    expect(out).toMatchObject({ outcome: 'queued', to: 'c' });

    // c is a primary now and publishes no replica lag; b is fresh: a re-decision would pick b,
    // a replica nobody promoted, and leave c writable without traffic.
    env.lag.clear('orders', 'c');
    env.lag.put('orders', 'b', 3, env.clock.now() - 5_000);
    env.clock.advance(1_500);
    const shifter = makeZoneShiftHandler({ ...env, sleep: env.clock.sleep, retry: { budgetMs: 2_000 } });
    await shifter(MemoryShiftQueue.event(queue.take()), { awsRequestId: 'shifter-1' });

    expect(env.traffic.pointsAt('orders')).toBe('c');
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'c', epoch: 1, needsRejoin: ['a'] });
    expect(actions.writers('orders')).toEqual(['c']);
    const [entry] = await env.state.history('orders', 1);
    expect(entry).toMatchObject({ to: 'c', fenced: 'unknown' });
    expect(entry?.actions?.map((a) => `${a.role} ${a.nodeId} ${a.status}`)).toEqual([
      'fence a timed-out',
      'promote c succeeded',
    ]);
  });

  it('a commit that landed but whose answer timed out, and whose read-back failed too: the retry (same request id) announces the change its earlier attempt recorded, instead of holding quietly', async () => {
    const env = createMemoryEnvironment(MATRIX_CONFIG, { clock: { autoAdvance: false } });
    const { injector, ports } = faultyPorts(env, [
      { target: 'state.commit#1', kind: 'timeout', persistence: 'once' },
      { target: 'state.get#2', kind: 'timeout', persistence: 'once' },
    ]);
    const delivery = await deliverPrimaryAlarm(env, MATRIX_SERVICE, makeHandler(ports), () => {
      publishMatrixLag(env);
      injector.scope('');
    });

    expect(delivery).toMatchObject({ attempts: 2, thrown: ['TransientAwsError'] });
    expect(delivery.outcome).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', epoch: 1 });
    expect(env.state.snapshot(MATRIX_SERVICE)).toMatchObject({ primary: 'b', epoch: 1 });
    expect(env.notifier.ofKind('failover').map((n) => n.detail.epoch)).toEqual([1]);
  });

  it('the zone shifter: a commit that landed but whose answer timed out, and whose first read-back failed: announced as failed over, not paged as commit-failed', async () => {
    const { env, deps } = setup();
    const queue = new MemoryShiftQueue();
    env.traffic.failNext('orders', { errorName: 'Throttling', apply: false });
    await runAutoFailover(deps('req-1', { shiftQueue: queue, actions: undefined }), alarm(env, 'evt-1'));
    let reads = 0;
    let committed = false;
    const state = {
      get: async (id: string) => {
        if (committed && reads++ === 0)
          throw new TransientAwsError('state.get', { cause: new Error('throttled') });
        return env.state.get(id);
      },
      acquireLease: env.state.acquireLease.bind(env.state),
      commit: async (req: Parameters<typeof env.state.commit>[0]) => {
        await env.state.commit(req);
        committed = true;
        throw new TransientAwsError('state.commit', { cause: new Error('TimeoutError') });
      },
      releaseLease: env.state.releaseLease.bind(env.state),
      setPaused: env.state.setPaused.bind(env.state),
      history: env.state.history.bind(env.state),
      markRejoined: env.state.markRejoined.bind(env.state),
      noteOnce: env.state.noteOnce.bind(env.state),
    };
    env.clock.advance(1_500);
    const shifter = makeZoneShiftHandler({
      ...env,
      state,
      sleep: env.clock.sleep,
      random: () => 0.5,
      retry: { budgetMs: 20_000 },
    });
    await shifter(MemoryShiftQueue.event(queue.take()), { awsRequestId: 'shifter-1' });

    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'c', epoch: 1 });
    expect(env.notifier.ofKind('failover').map((n) => n.detail.epoch)).toEqual([1]);
    expect(env.notifier.ofKind('failover-failed')).toEqual([]);
  });
});
