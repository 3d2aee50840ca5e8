import { describe, expect, it } from 'vitest';
import {
  type AutoFailoverDeps,
  alarmIndex,
  isRetryableShiftError,
  lagLookbackSeconds,
  runAutoFailover,
} from '../../lambdas/app/auto-failover.ts';
import { LeaseLostError, TransientAwsError } from '../../lambdas/domain/errors.ts';
import type { TrafficPort } from '../../lambdas/domain/ports.ts';
import type { AlarmTransition } from '../../lambdas/domain/types.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import { awsError, CallLog, faultOnce, instrument } from '../../lambdas/testing/instrument.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import {
  alarmFires,
  instrumentedFailoverPorts,
  type OrdersWorldOptions,
  ordersWorld,
  seedLeased,
  throttledFirstAttempt,
} from '../support/orders-world.ts';

type Policy = OrdersWorldOptions['policy'];

function setup(policy: Policy = {}) {
  const env = ordersWorld({ policy });
  const deps: AutoFailoverDeps = { ...env, holderId: 'req-1' };
  return { env, deps };
}

/** `port`, whose first `method` call lands and then throws `error` (a timeout after the write). */
function landsThenThrows<T extends object>(port: T, name: string, method: string, error: Error): T {
  return instrument(port, name, {
    fault: faultOnce((c) => c.method === method, { mode: 'apply-then-throw', error }),
  });
}

/** The primary's alarm fires while the record, at epoch 3, carries `lease`. */
const firesUnderLease =
  (lease: Parameters<typeof seedLeased>[1]) =>
  (env: MemoryEnvironment): AlarmTransition => {
    seedLeased(env, lease, { epoch: 3 });
    return alarmFires(env);
  };

function expectNothingChanged(env: MemoryEnvironment, primary = 'a') {
  expect(env.traffic.pointsAt('orders')).toBe(primary);
  expect(env.traffic.appliedChanges).toEqual([]);
  expect(env.state.stats.commits).toBe(0);
  expect(env.state.snapshot('orders')?.lease).toBeUndefined();
}

describe('runAutoFailover', () => {
  it('fails over to the freshest healthy replica: traffic moved, epoch + 1, history, announcement, one change', async () => {
    const { env, deps } = setup();
    const out = await runAutoFailover(deps, alarmFires(env));

    expect(out).toMatchObject({ outcome: 'failed-over', serviceId: 'orders', from: 'a', to: 'b', epoch: 1 });
    expect(out.timings).toMatchObject({ detectionMs: 2_000, decisionMs: 0, shiftMs: 0, totalMs: 2_000 });
    expect(env.traffic.pointsAt('orders')).toBe('b');
    expect(env.traffic.appliedChanges).toEqual([{ serviceId: 'orders', from: 'a', to: 'b' }]);
    expect(env.traffic.calls).toHaveLength(1);

    const state = env.state.snapshot('orders')!;
    expect(state).toMatchObject({ primary: 'b', epoch: 1, paused: false, lastChangeAt: env.clock.now() });
    expect(state.lease).toBeUndefined();
    const history = await env.state.history('orders', 10);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      serviceId: 'orders',
      epoch: 1,
      operation: 'auto-failover',
      from: 'a',
      to: 'b',
      lagSeconds: 2,
      actor: 'req-1',
    });
    expect(history[0]!.reason).toMatch(/orders-a-health .* ALARM; b OK with 2 s lag/);

    expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover']);
    expect(env.notifier.published[0]).toMatchObject({
      subject: 'orders: failed over from a to b (lag 2 s)',
      detail: { from: 'a', to: 'b', epoch: 1, lagSecondsAtPromotion: 2, eventId: 'evt-1' },
    });
    expect(env.metrics.named('FailoverCompleted')).toHaveLength(1);
    expect(env.metrics.named('FailoverDecision')[0]!.dimensions).toEqual({
      serviceId: 'orders',
      action: 'failover',
      reason: 'eligible-replica',
    });
    const decisionLog = env.logger.find('failover decision')[0]!;
    expect(decisionLog.data).toMatchObject({ action: 'failover', to: 'b', candidates: expect.any(Array) });
  });

  it('issues the shift after at most 3 sequential round trips (facts are read in one parallel round)', async () => {
    const { env } = setup();
    const log = new CallLog(env.clock);
    const hooks = { log, sleep: env.clock.sleep, latencyMs: 40 };
    const deps: AutoFailoverDeps = { ...env, ...instrumentedFailoverPorts(env, hooks), holderId: 'req-1' };
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out.outcome).toBe('failed-over');

    const shift = log.find({ port: 'traffic', method: 'shift' });
    expect(shift).toHaveLength(1);
    const before = log.sequentialRoundTripsBefore(shift[0]!);
    expect(before).toBeLessThanOrEqual(3);
    expect(before).toBe(2); // [getStates | getLatest | get] -> acquireLease -> shift
    expect(log.calls.map((c) => `${c.port}.${c.method}`)).toEqual([
      'alarms.getStates',
      'lag.getLatest',
      'state.get',
      'state.acquireLease',
      'traffic.shift',
      'state.commit',
      'notifier.publish',
    ]);
    // Virtual latency shows in the timings: 2 round trips before the shift, 40 ms each.
    expect(out.timings).toMatchObject({ decisionMs: 40, shiftMs: 40, totalMs: 2_000 + 5 * 40 });
  });

  describe('holds', () => {
    const cases: {
      name: string;
      arrange: (env: MemoryEnvironment) => AlarmTransition;
      policy?: Policy;
      reason: string;
      notified: boolean;
    }[] = [
      {
        name: 'an OK transition',
        arrange: (env) => alarmFires(env, 'a', 'OK'),
        reason: 'not-an-alarm-transition',
        notified: false,
      },
      {
        name: "a replica's alarm",
        arrange: (env) => alarmFires(env, 'b', 'ALARM'),
        reason: 'not-primary-alarm',
        notified: false,
      },
      {
        name: 'a stale event (the primary is OK again)',
        arrange: (env) => {
          const t = alarmFires(env);
          env.alarms.setNode('orders', 'a', 'OK');
          return t;
        },
        reason: 'primary-healthy',
        notified: false,
      },
      {
        name: 'a paused service',
        arrange: (env) => {
          env.state.seed({ serviceId: 'orders', primary: 'a', epoch: 3, paused: true });
          return alarmFires(env);
        },
        reason: 'paused',
        notified: true,
      },
      {
        name: 'autoFailover off',
        policy: { autoFailover: false },
        arrange: (env) => alarmFires(env),
        reason: 'auto-failover-disabled',
        notified: true,
      },
      {
        name: 'a switchover holding the lease',
        arrange: firesUnderLease({ holder: 'exec-7', operation: 'switchover', leaseMs: 60_000 }),
        reason: 'operation-in-progress',
        notified: true,
      },
      {
        name: 'a duplicate whose attempt is in flight (young auto-failover lease)',
        arrange: firesUnderLease({
          holder: 'req-0',
          operation: 'auto-failover',
          heldForMs: 5_000,
          leaseMs: 120_000,
        }),
        reason: 'operation-in-progress',
        notified: false,
      },
      {
        name: 'an auto-failover lease held for 90 s (stuck or crashed: a human should know)',
        arrange: firesUnderLease({
          holder: 'req-0',
          operation: 'auto-failover',
          heldForMs: 90_000,
          leaseMs: 120_000,
        }),
        reason: 'operation-in-progress',
        notified: true,
      },
      {
        name: 'the cooldown after a role change',
        arrange: (env) => {
          env.state.seed({
            serviceId: 'orders',
            primary: 'a',
            epoch: 1,
            paused: false,
            lastChangeAt: env.clock.now() - 60_000,
          });
          return alarmFires(env);
        },
        reason: 'cooldown',
        notified: true,
      },
      {
        name: 'no replica positively OK',
        arrange: (env) => {
          env.alarms.setNode('orders', 'b', 'ALARM');
          env.alarms.set(env.alarms.alarmName('orders', 'c'), undefined);
          return alarmFires(env);
        },
        reason: 'no-healthy-candidate',
        notified: true,
      },
      {
        name: 'no lag datapoint',
        arrange: (env) => {
          env.lag.clear('orders', 'b');
          env.lag.clear('orders', 'c');
          return alarmFires(env);
        },
        reason: 'lag-unknown',
        notified: true,
      },
      {
        name: 'stale lag datapoints',
        arrange: (env) => {
          env.clock.advance(70_000);
          return alarmFires(env);
        },
        reason: 'lag-stale',
        notified: true,
      },
      {
        name: 'lag over the budget',
        arrange: (env) => {
          env.lag.put('orders', 'b', 11);
          env.lag.put('orders', 'c', 30);
          return alarmFires(env);
        },
        reason: 'lag-over-budget',
        notified: true,
      },
    ];
    it.each(cases)(
      '$name -> held ($reason), nothing changed',
      async ({ arrange, policy, reason, notified }) => {
        const { env, deps } = setup(policy);
        const event = arrange(env);
        const before = env.state.snapshot('orders');
        const out = await runAutoFailover(deps, event);
        expect(out).toMatchObject({ outcome: 'held', serviceId: 'orders', reason, from: 'a' });
        expect(out.detail).toEqual(expect.any(String));
        expect(env.traffic.pointsAt('orders')).toBe('a');
        expect(env.traffic.calls).toEqual([]);
        expect(env.state.snapshot('orders')).toEqual(before);
        expect(env.notifier.published.map((n) => n.kind)).toEqual(notified ? ['failover-held'] : []);
        if (notified) expect(env.notifier.published[0]!.subject).toContain(`(${reason})`);
        expect(env.logger.find('failover decision')[0]!.data).toMatchObject({ action: 'hold', reason });
        expect(env.metrics.named('FailoverDecision')[0]!.dimensions).toEqual({
          serviceId: 'orders',
          action: 'hold',
          reason,
        });
      },
    );
  });

  it('dry run: reports what it would do and changes nothing', async () => {
    const { env, deps } = setup({ dryRun: true });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'dry-run', from: 'a', to: 'b', epoch: 0 });
    expectNothingChanged(env);
    expect(env.traffic.calls).toEqual([]);
    expect(env.state.snapshot('orders')).toBeUndefined();
    expect(env.notifier.published).toHaveLength(1);
    expect(env.notifier.published[0]).toMatchObject({
      kind: 'failover-held',
      subject: 'orders: dry run, would fail over from a to b',
      detail: { dryRun: true, to: 'b', lagSeconds: 2 },
    });
  });

  it('ignores an alarm that watches no configured node, without touching any port', async () => {
    const { env } = setup();
    const log = new CallLog(env.clock);
    const deps: AutoFailoverDeps = { ...env, ...instrumentedFailoverPorts(env, { log }), holderId: 'req-1' };
    const out = await runAutoFailover(deps, {
      alarmName: 'someone-elses-alarm',
      state: 'ALARM',
      previousState: 'OK',
      timestamp: env.clock.now(),
      eventId: 'e',
    });
    expect(out).toMatchObject({ outcome: 'ignored', reason: 'unknown-alarm' });
    expect(log.calls).toEqual([]);
    expect(env.logger.find(/not a health alarm/)[0]!.data).toMatchObject({
      alarmName: 'someone-elses-alarm',
    });
  });

  it('traffic conflict: never overwrites, releases the lease, tells a human what is live', async () => {
    const { env, deps } = setup();
    env.traffic.set('orders', 'c'); // an operator moved it by hand; the state still says a
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'conflict', reason: 'traffic-conflict', epoch: 0 });
    expect(out).toMatchObject({ from: 'a', to: 'b' });
    expect(env.traffic.pointsAt('orders')).toBe('c');
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'a', epoch: 0 });
    expect(env.state.snapshot('orders')!.lease).toBeUndefined();
    expect(env.state.stats.commits).toBe(0);
    expect(env.notifier.published).toHaveLength(1);
    expect(env.notifier.published[0]).toMatchObject({ kind: 'failover-failed', detail: { observed: 'c' } });
  });

  it('retryable shift failure: keeps its lease and throws TransientAwsError; the retry (same request id) resumes under it and fails over', async () => {
    const { env, deps } = setup();
    const event = await throttledFirstAttempt(env, deps);
    expect(env.traffic.appliedChanges).toEqual([]);
    expect(env.state.stats.commits).toBe(0);
    // Kept, counting the invocation: Lambda's retry resumes under it and the last one knows it is last.
    expect(env.state.snapshot('orders')?.lease).toMatchObject({
      holder: 'req-1',
      invocation: 1,
      target: 'b',
    });
    expect(env.notifier.published).toEqual([]);

    env.clock.advance(60_000); // Lambda retries the invocation under the same request id
    env.lag.put('orders', 'b', 2); // the probe keeps publishing
    const retry = await runAutoFailover(deps, event);
    expect(retry).toMatchObject({ outcome: 'failed-over', to: 'b', epoch: 1 });
    expect(env.traffic.appliedChanges).toHaveLength(1);
  });

  it('non-retryable shift failure: releases the lease, stays on the old primary and says so', async () => {
    const { env, deps } = setup();
    env.traffic.failNext('orders', { errorName: 'AccessDenied', apply: false });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'shift-failed' });
    expectNothingChanged(env);
    expect(env.notifier.published[0]).toMatchObject({
      kind: 'failover-failed',
      detail: { reason: 'shift-failed' },
    });
  });

  describe('uncertain shift (timeout after send): reads back where traffic is', () => {
    it('on the new primary: commits', async () => {
      const { env, deps } = setup();
      env.traffic.failNext('orders', { errorName: 'TimeoutError', apply: true });
      const out = await runAutoFailover(deps, alarmFires(env));
      expect(out).toMatchObject({ outcome: 'failed-over', to: 'b', epoch: 1 });
      expect(env.state.snapshot('orders')).toMatchObject({ primary: 'b', epoch: 1 });
      expect(env.notifier.ofKind('failover')).toHaveLength(1);
    });

    it('still on the old primary: keeps the lease and throws so the invocation is retried', async () => {
      const { env, deps } = setup();
      env.traffic.failNext('orders', { errorName: 'TimeoutError', apply: false, uncertain: true });
      await expect(runAutoFailover(deps, alarmFires(env))).rejects.toBeInstanceOf(TransientAwsError);
      expect(env.traffic.appliedChanges).toEqual([]);
      expect(env.state.snapshot('orders')).toMatchObject({
        primary: 'a',
        epoch: 0,
        lease: { holder: 'req-1' },
      });
    });

    it('somewhere else: leaves the lease to expire and calls a human', async () => {
      const { env, deps } = setup();
      const traffic: TrafficPort = {
        shift: async (changes) => {
          env.traffic.set('orders', undefined); // e.g. a record that now matches no node
          return changes.map((c) => ({
            serviceId: c.serviceId,
            status: 'failed' as const,
            errorName: 'TimeoutError',
            message: 'socket hang up',
            uncertain: true,
          }));
        },
        current: (id) => env.traffic.current(id),
      };
      const out = await runAutoFailover({ ...deps, traffic }, alarmFires(env));
      expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'shift-uncertain' });
      expect(out.detail).toMatch(/points at no single node/);
      expect(env.state.snapshot('orders')!.lease).toMatchObject({
        holder: 'req-1',
        operation: 'auto-failover',
      });
      expect(env.state.stats.commits).toBe(0);
      expect(env.notifier.published[0]).toMatchObject({ kind: 'failover-failed' });
    });

    it('a shift that throws is treated as uncertain, not as nothing-happened', async () => {
      const { env, deps } = setup();
      const traffic = landsThenThrows(env.traffic, 'traffic', 'shift', new Error('socket hang up'));
      const out = await runAutoFailover({ ...deps, traffic }, alarmFires(env));
      expect(out).toMatchObject({ outcome: 'failed-over', to: 'b' });
    });
  });

  it('lease lost before the commit (fenced): no commit, a human is told traffic moved', async () => {
    const { env, deps } = setup();
    // The shift takes longer than the lease; a switchover takes the expired lease meanwhile.
    const traffic: TrafficPort = {
      shift: async (changes) => {
        env.clock.advance(121_000);
        await env.state.acquireLease({
          serviceId: 'orders',
          expectedEpoch: 0,
          seedPrimary: 'a',
          lease: {
            holder: 'exec-9',
            operation: 'switchover',
            acquiredAt: env.clock.now(),
            expiresAt: env.clock.now() + 60_000,
          },
          now: env.clock.now(),
        });
        return env.traffic.shift(changes);
      },
      current: (id) => env.traffic.current(id),
    };
    const out = await runAutoFailover({ ...deps, traffic }, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'lease-lost' });
    expect(env.state.snapshot('orders')).toMatchObject({
      primary: 'a',
      epoch: 0,
      lease: { holder: 'exec-9' },
    });
    expect(env.state.stats.commitsRefused).toBe(1);
    expect(env.notifier.published[0]).toMatchObject({ kind: 'failover-failed' });
    expect(env.notifier.published[0]!.detail.detail).toMatch(
      /traffic points at b after this attempt's shift, but its lease was taken over before it could record epoch 1 .*: the record names a at epoch 0, leased by switchover exec-9$/,
    );
  });

  it('a stalled attempt whose failover another attempt completed meanwhile stays quiet (superseded)', async () => {
    // Regression (reliability races): the stale holder used to page "needs attention: the state
    // still names a as primary" while the record already named b.
    const { env, deps } = setup();
    let other: unknown;
    const traffic: TrafficPort = {
      shift: async (changes) => {
        // Stalled past the lease; a duplicate event's invocation takes over and fails over.
        env.clock.advance(121_000);
        env.lag.put('orders', 'b', 2, env.clock.now() - 5_000);
        other = await runAutoFailover({ ...deps, holderId: 'req-2' }, alarmFires(env, 'a', 'ALARM', 'evt-2'));
        return env.traffic.shift(changes);
      },
      current: (id) => env.traffic.current(id),
    };
    const out = await runAutoFailover({ ...deps, traffic }, alarmFires(env));
    expect(other).toMatchObject({ outcome: 'failed-over', to: 'b', epoch: 1 });
    expect(out).toMatchObject({ outcome: 'conflict', reason: 'superseded', to: 'b', epoch: 1 });
    expect(out.detail).toMatch(/req-2 completed the failover to b meanwhile \(epoch 1\)/);
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'b', epoch: 1 });
    expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover']);
  });

  it('a commit that errors but landed (timeout after write) is read back and counts as done', async () => {
    const { env, deps } = setup();
    const state = landsThenThrows(env.state, 'state', 'commit', awsError('TimeoutError'));
    const out = await runAutoFailover({ ...deps, state }, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'failed-over', epoch: 1 });
    expect(env.notifier.ofKind('failover')).toHaveLength(1);
  });

  it('a lease write that may have landed is given back before the error propagates', async () => {
    const { env, deps } = setup();
    const state = landsThenThrows(env.state, 'state', 'acquireLease', new TransientAwsError('acquireLease'));
    await expect(runAutoFailover({ ...deps, state }, alarmFires(env))).rejects.toBeInstanceOf(
      TransientAwsError,
    );
    expect(env.state.snapshot('orders')!.lease).toBeUndefined();
    expect(env.traffic.calls).toEqual([]);
  });

  it('errors while gathering facts propagate (EventBridge retries) and change nothing', async () => {
    const { env, deps } = setup();
    const lag = instrument(env.lag, 'lag', {
      fault: faultOnce(() => true, { mode: 'throw', error: new TransientAwsError('GetMetricData') }),
    });
    await expect(runAutoFailover({ ...deps, lag }, alarmFires(env))).rejects.toBeInstanceOf(
      TransientAwsError,
    );
    expectNothingChanged(env);
    expect(env.notifier.published).toEqual([]);
  });

  it('a failed announcement after the commit is logged and counted, and the outcome stays failed-over', async () => {
    const { env, deps } = setup();
    const notifier = instrument(env.notifier, 'notifier', {
      fault: faultOnce(() => true, {
        mode: 'throw',
        error: awsError('InternalError', 'SNS down', { status: 500 }),
      }),
    });
    const out = await runAutoFailover({ ...deps, notifier }, alarmFires(env));
    expect(out.outcome).toBe('failed-over');
    expect(env.logger.find('role change committed but the announcement failed')).toHaveLength(1);
    expect(env.metrics.named('NotificationFailed')).toHaveLength(1);
  });

  it('50 concurrent duplicate events: exactly one role change, one announcement, no held notices', async () => {
    const { env } = setup();
    const log = new CallLog(env.clock);
    // Jittered latency so the duplicates interleave at every step.
    const latencyMs = (c: { nth: number }) => 5 + ((c.nth * 37) % 23);
    const hooks = { log, sleep: env.clock.sleep, latencyMs };
    const ports = instrumentedFailoverPorts(env, hooks);
    const event = alarmFires(env);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        runAutoFailover({ ...env, ...ports, holderId: `req-${i}` }, event),
      ),
    );
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => {
      acc[o.outcome] = (acc[o.outcome] ?? 0) + 1;
      return acc;
    }, {});
    expect(counts['failed-over']).toBe(1);
    expect(counts.held).toBe(49);
    expect(env.traffic.appliedChanges).toEqual([{ serviceId: 'orders', from: 'a', to: 'b' }]);
    expect(log.find({ port: 'traffic', method: 'shift' })).toHaveLength(1);
    expect(env.state.stats.commits).toBe(1);
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'b', epoch: 1 });
    expect(await env.state.history('orders', 10)).toHaveLength(1);
    // Losers of the lease race, and those that read the winner's young lease, stay quiet.
    expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover']);
    const announced = env.notifier.published.length;

    // A late duplicate after the commit sees the alarm no longer watches the primary.
    const late = await runAutoFailover({ ...env, holderId: 'req-late' }, event);
    expect(late).toMatchObject({ outcome: 'held', reason: 'not-primary-alarm', from: 'b' });
    expect(env.notifier.published).toHaveLength(announced);
  });

  it('a retried invocation (same request id) resumes under its own live lease', async () => {
    const { env, deps } = setup();
    seedLeased(env, { holder: 'req-1', operation: 'auto-failover', leaseMs: 100_000 });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'failed-over', to: 'b', epoch: 1 });
    expect(env.logger.find('resuming under our own lease')).toHaveLength(1);
  });

  describe('a retry under its own lease, after its first attempt moved traffic and died unrecorded', () => {
    // Regression (reliability property run): the retry decided to hold on new facts and left the
    // traffic on c with the record naming a, quietly.
    function crashedAttempt(env: MemoryEnvironment) {
      seedLeased(env, { holder: 'req-1', operation: 'auto-failover', heldForMs: 70_000, leaseMs: 120_000 });
      env.traffic.set('orders', 'c');
      env.alarms.setNode('orders', 'b', 'INSUFFICIENT_DATA');
    }

    it('a hold is not the end of it: traffic off the record is reported, the lease left to expire', async () => {
      const { env, deps } = setup();
      crashedAttempt(env);
      env.alarms.setNode('orders', 'c', 'ALARM');
      const out = await runAutoFailover(deps, alarmFires(env));
      expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'unrecorded-shift' });
      expect(out).toMatchObject({ from: 'a', to: 'c' });
      expect(out.detail).toMatch(/traffic points at c but the record names a .*hold \(no-healthy-candidate/);
      expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover-failed']);
      expect(env.state.snapshot('orders')?.lease?.holder).toBe('req-1');
      expect(env.metrics.named('FailoverNeedsAttention')).toHaveLength(1);
    });

    it('the same failover decided again completes what the first attempt started', async () => {
      const { env, deps } = setup();
      crashedAttempt(env);
      const out = await runAutoFailover(deps, alarmFires(env));
      expect(out).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'c', epoch: 1 });
      expect(env.traffic.pointsAt('orders')).toBe('c');
      expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover']);
    });
  });

  it('no automatic failback: the new primary failing inside the cooldown holds and notifies', async () => {
    const { env, deps } = setup();
    await runAutoFailover(deps, alarmFires(env));
    env.alarms.setNode('orders', 'a', 'OK');
    env.lag.put('orders', 'a', 0);
    env.lag.put('orders', 'c', 0);
    const out = await runAutoFailover({ ...deps, holderId: 'req-2' }, alarmFires(env, 'b', 'ALARM', 'evt-2'));
    expect(out).toMatchObject({ outcome: 'held', reason: 'cooldown', from: 'b', epoch: 1 });
    expect(env.traffic.pointsAt('orders')).toBe('b');
    expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover', 'failover-held']);

    // After the cooldown the next failure of b moves on, to the freshest node (a or c), not blindly back.
    env.clock.advance(600_000);
    env.lag.put('orders', 'a', 3);
    env.lag.put('orders', 'c', 1);
    const later = await runAutoFailover(
      { ...deps, holderId: 'req-3' },
      alarmFires(env, 'b', 'ALARM', 'evt-3'),
    );
    expect(later).toMatchObject({ outcome: 'failed-over', from: 'b', to: 'c', epoch: 2 });
    expect((await env.state.history('orders', 10)).map((h) => h.epoch)).toEqual([2, 1]);
  });

  it('builds the alarm index once per configuration object', () => {
    const { env } = setup();
    const first = alarmIndex(env.config);
    expect(alarmIndex(env.config)).toBe(first);
    expect(first.get('orders-b-health')).toMatchObject({ node: { id: 'b' } });
    expect(alarmIndex(testConfig())).not.toBe(first);
  });

  it('looks back over the maximum lag age plus one period and a minute of CloudWatch delay', () => {
    const { env } = setup();
    expect(lagLookbackSeconds(env.config.services[0]!)).toBe(60 + 10 + 60);
  });

  it.each([
    'Throttling',
    'ThrottlingException',
    'PriorRequestNotComplete',
    'TimeoutError',
    'ServiceUnavailable',
    'TransientAwsError',
  ])('classifies %s as retryable', (name) => {
    expect(isRetryableShiftError(name)).toBe(true);
  });

  it.each(['AccessDenied', 'InvalidChangeBatch', 'InvalidInput', 'ValidationError'])(
    'classifies %s as not retryable',
    (name) => {
      expect(isRetryableShiftError(name)).toBe(false);
    },
  );

  it('refuses a commit by a holder that never took the lease (memory state fencing)', async () => {
    const { env } = setup();
    await expect(
      env.state.commit({
        serviceId: 'orders',
        expectedEpoch: 0,
        holder: 'nobody',
        newPrimary: 'b',
        at: 0,
        history: {
          serviceId: 'orders',
          epoch: 1,
          at: 0,
          operation: 'auto-failover',
          from: 'a',
          to: 'b',
          reason: 'x',
          actor: 'nobody',
        },
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });
});
