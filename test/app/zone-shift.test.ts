import { describe, expect, it } from 'vitest';
import { runZoneShift, type ZoneShiftItem } from '../../lambdas/app/zone-shift.ts';
import { healthAlarmName } from '../../lambdas/domain/config.ts';
import { LeaseLostError, TransientAwsError } from '../../lambdas/domain/errors.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { faultOnce, faultTimes, instrument } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { FAILOVER_LEASE_MS, leaseAndQueue, zoneShifterDeps } from '../support/queued-shifts.ts';

/** `count` services in one hosted zone whose primary `a` is down, each leased by its failover invocation. */
function setup(count = 3) {
  const config = testConfig(
    Array.from({ length: count }, (_, i) =>
      route53Service({ id: `s${i}`, index: i, policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 } }),
    ),
  );
  const env = createMemoryEnvironment(config);
  const items: ZoneShiftItem[] = [];
  for (const service of config.services) {
    env.lag.put(service.id, 'b', 1, env.clock.now() - 5_000);
    items.push({ id: `m-${service.id}`, shift: leaseAndQueue(env, service.id) });
  }
  env.clock.advance(1_500);
  const deps = zoneShifterDeps(env);
  return { env, deps, items };
}

/** s0's next shift lands but times out, and no zone read-back answers: the outcome is unknown. */
function landedButUnreadable(env: MemoryEnvironment) {
  env.traffic.failNext('s0', { errorName: 'TimeoutError', apply: true });
  return instrument(env.traffic, 'traffic', {
    methods: ['currentAll'],
    fault: () => ({ mode: 'throw', error: new TransientAwsError('ListResourceRecordSets') }),
  });
}

function expectUnchanged(env: MemoryEnvironment, serviceId: string) {
  expect(env.traffic.pointsAt(serviceId)).toBe('a');
  expect(env.state.snapshot(serviceId)).toMatchObject({ primary: 'a', epoch: 0 });
}

describe('runZoneShift', () => {
  it('sends every queued change of a zone in one batch, then commits and announces each under its own holder', async () => {
    const { env, deps, items } = setup(3);
    const out = await runZoneShift(deps, items);

    expect(out).toEqual(
      items.map((i) => ({
        id: i.id,
        serviceId: i.shift.serviceId,
        outcome: 'failed-over',
        from: 'a',
        to: 'b',
        epoch: 1,
      })),
    );
    expect(env.traffic.calls).toHaveLength(1);
    expect(env.traffic.calls[0]?.changes).toHaveLength(3);
    for (const { shift } of items) {
      const state = env.state.snapshot(shift.serviceId)!;
      expect(state).toMatchObject({ primary: 'b', epoch: 1 });
      expect(state.lease).toBeUndefined();
      const [entry, ...older] = await env.state.history(shift.serviceId, 10);
      expect(older).toEqual([]);
      expect(entry).toMatchObject({
        epoch: 1,
        operation: 'auto-failover',
        from: 'a',
        to: 'b',
        lagSeconds: 1,
        actor: shift.holder,
        reason: expect.stringMatching(/sent in a zone batch of 3 after PriorRequestNotComplete/),
      });
      expect(env.traffic.pointsAt(shift.serviceId)).toBe('b');
    }
    expect(env.notifier.ofKind('failover').map((n) => n.serviceId)).toEqual(['s0', 's1', 's2']);
    expect(env.notifier.ofKind('failover')[0]?.detail).toMatchObject({
      zoneBatch: { size: 3, shifter: 'shifter-1' },
      actor: 'req-s0',
    });
    expect(env.logger.find('zone shift decision')).toHaveLength(3);
  });

  it('re-decides on fresh facts: a recovered primary is held quietly, a replica now over its lag budget is held and announced', async () => {
    const { env, deps, items } = setup(3);
    env.alarms.setNode('s0', 'a', 'OK');
    env.lag.put('s1', 'b', 45);
    const out = await runZoneShift(deps, items);

    expect(out.map((o) => [o.serviceId, o.outcome, o.reason])).toEqual([
      ['s0', 'held', 'primary-healthy'],
      ['s1', 'held', 'lag-over-budget'],
      ['s2', 'failed-over', undefined],
    ]);
    expectUnchanged(env, 's0');
    expectUnchanged(env, 's1');
    // The held services' leases are given back at once.
    expect(env.state.snapshot('s0')?.lease).toBeUndefined();
    expect(env.state.snapshot('s1')?.lease).toBeUndefined();
    expect(env.notifier.ofKind('failover-held').map((n) => [n.serviceId, n.detail.reason])).toEqual([
      ['s1', 'lag-over-budget'],
    ]);
    expect(env.traffic.calls[0]?.changes.map((c) => c.serviceId)).toEqual(['s2']);
  });

  it('leaves a service alone when another operation moved its epoch or holds its lease', async () => {
    const { env, deps, items } = setup(3);
    // s0: an operator switchover committed epoch 1 meanwhile; s1: a workflow holds a live lease.
    env.state.seed({ serviceId: 's0', primary: 'b', epoch: 1, paused: false });
    const now = env.clock.now();
    env.state.seed({
      serviceId: 's1',
      primary: 'a',
      epoch: 0,
      paused: false,
      lease: { holder: 'exec-9', operation: 'switchover', acquiredAt: now, expiresAt: now + 60_000 },
    });
    const out = await runZoneShift(deps, items);
    expect(out.map((o) => [o.serviceId, o.outcome, o.reason])).toEqual([
      ['s0', 'superseded', 'epoch-moved'],
      ['s1', 'superseded', 'lease-taken'],
      ['s2', 'failed-over', undefined],
    ]);
    expect(env.state.snapshot('s1')?.lease?.holder).toBe('exec-9');
    expect(env.traffic.appliedChanges.map((c) => c.serviceId)).toEqual(['s2']);
  });

  it('takes its own expired lease back when nobody else took it, and commits under the same holder', async () => {
    const { env, deps, items } = setup(1);
    env.clock.advance(FAILOVER_LEASE_MS + 1_000);
    env.lag.put('s0', 'b', 1); // fresh datapoint: the old one is now stale
    const out = await runZoneShift(deps, items);
    expect(out[0]).toMatchObject({ outcome: 'failed-over', epoch: 1 });
    expect((await env.state.history('s0', 1))[0]?.actor).toBe('req-s0');
  });

  it('is idempotent: a redelivered message after the commit changes nothing, a duplicate in the same batch shifts once', async () => {
    const { env, deps, items } = setup(2);
    const first = await runZoneShift(deps, [...items, { ...items[0]!, id: 'm-dup' }]);
    expect(first.map((o) => o.outcome)).toEqual(['failed-over', 'failed-over', 'failed-over']);
    expect(env.traffic.calls[0]?.changes).toHaveLength(2);

    const again = await runZoneShift(deps, items);
    expect(again.map((o) => [o.outcome, o.epoch])).toEqual([
      ['already-done', 1],
      ['already-done', 1],
    ]);
    expect(env.state.stats.commits).toBe(2);
    expect(env.traffic.appliedChanges).toHaveLength(2);
    expect(env.notifier.ofKind('failover')).toHaveLength(2);
  });

  it('keeps the newest of two requests for one service from different holders', async () => {
    const { env, deps, items } = setup(1);
    const older = { id: 'm-old', shift: { ...items[0]!.shift, holder: 'req-old', queuedAt: 1 } };
    const out = await runZoneShift(deps, [older, items[0]!]);
    expect(out.map((o) => [o.id, o.outcome, o.reason])).toEqual([
      ['m-old', 'superseded', 'newer-request'],
      ['m-s0', 'failed-over', undefined],
    ]);
    expect(env.state.stats.commits).toBe(1);
  });

  it('isolates a record someone moved: that service is a conflict, announced, and the others shift', async () => {
    const { env, deps, items } = setup(3);
    env.traffic.set('s1', undefined); // an operator pointed the record at something else
    const out = await runZoneShift(deps, items);
    expect(out.map((o) => [o.serviceId, o.outcome])).toEqual([
      ['s0', 'failed-over'],
      ['s1', 'conflict'],
      ['s2', 'failed-over'],
    ]);
    expect(env.traffic.pointsAt('s1')).toBeUndefined();
    expect(env.state.snapshot('s1')).toMatchObject({ primary: 'a', epoch: 0 });
    expect(env.state.snapshot('s1')?.lease).toBeUndefined();
    expect(env.notifier.ofKind('failover-failed').map((n) => n.serviceId)).toEqual(['s1']);
  });

  it('retries a batch Route 53 refuses (PriorRequestNotComplete) with backoff, then shifts it', async () => {
    const { env, deps, items } = setup(3);
    env.traffic.failNext('s0', { errorName: 'PriorRequestNotComplete', apply: false });
    env.traffic.failNext('s0', { errorName: 'Throttling', apply: false });
    const out = await runZoneShift(deps, items);
    expect(out.every((o) => o.outcome === 'failed-over')).toBe(true);
    expect(env.traffic.calls.map((c) => c.applied)).toEqual([false, false, true]);
    expect(env.metrics.named('ZoneShiftRequests')).toHaveLength(3);
    // Full-jitter backoff with random() = 0.5: 100 ms, then 200 ms.
    expect(env.logger.find('zone shift refused, retrying').map((e) => e.data?.delayMs)).toEqual([100, 200]);
  });

  it('gives still-refused changes back to the queue when its retry budget runs out, keeping their leases', async () => {
    const { env, deps, items } = setup(2);
    for (let i = 0; i < 50; i++) env.traffic.failNext('s0', { errorName: 'Throttling', apply: false });
    const out = await runZoneShift({ ...deps, retry: { budgetMs: 3_000 } }, items);
    expect(out.map((o) => [o.outcome, o.reason])).toEqual([
      ['deferred', 'still-throttled'],
      ['deferred', 'still-throttled'],
    ]);
    expect(env.state.snapshot('s0')?.lease?.holder).toBe('req-s0');
    expectUnchanged(env, 's0');
    expect(env.notifier.published).toEqual([]);
  });

  it('defers the whole batch when its facts cannot be read within the budget', async () => {
    const { env, deps, items } = setup(2);
    const alarms = instrument(env.alarms, 'alarms', {
      fault: () => ({ mode: 'throw', error: new TransientAwsError('DescribeAlarms') }),
    });
    const out = await runZoneShift({ ...deps, alarms, retry: { budgetMs: 2_000 } }, items);
    expect(out.map((o) => [o.outcome, o.reason])).toEqual([
      ['deferred', 'facts-unavailable'],
      ['deferred', 'facts-unavailable'],
    ]);
    expect(env.traffic.calls).toEqual([]);
  });

  it('retries a throttled fact read and goes on', async () => {
    const { env, deps, items } = setup(2);
    const lag = instrument(env.lag, 'lag', {
      fault: faultTimes(2, () => true, { mode: 'throw', error: new TransientAwsError('GetMetricData') }),
    });
    const out = await runZoneShift({ ...deps, lag }, items);
    expect(out.every((o) => o.outcome === 'failed-over')).toBe(true);
  });

  it('commits a shift that timed out after it was applied, once read back on the new primary', async () => {
    const { env, deps, items } = setup(2);
    env.traffic.failNext('s0', { errorName: 'TimeoutError', apply: true });
    const out = await runZoneShift(deps, items);
    expect(out.map((o) => o.outcome)).toEqual(['failed-over', 'failed-over']);
  });

  it('calls a human when the commit finds the lease lost after traffic moved', async () => {
    const { env, deps, items } = setup(2);
    const state = instrument(env.state, 'state', {
      fault: faultOnce((c) => c.method === 'commit', {
        mode: 'throw',
        error: new LeaseLostError('s0', 'req-s0'),
      }),
    });
    const out = await runZoneShift({ ...deps, state }, items);
    expect(out.map((o) => [o.serviceId, o.outcome, o.reason])).toEqual([
      ['s0', 'needs-attention', 'lease-lost'],
      ['s1', 'failed-over', undefined],
    ]);
    expect(env.notifier.ofKind('failover-failed')[0]).toMatchObject({
      serviceId: 's0',
      detail: { reason: 'lease-lost' },
    });
  });

  it('reports a change it cannot fix (AccessDenied) and gives the lease back', async () => {
    const { env, deps, items } = setup(1);
    env.traffic.failNext('s0', { errorName: 'AccessDenied', apply: false });
    const out = await runZoneShift(deps, items);
    expect(out[0]).toMatchObject({ outcome: 'needs-attention', reason: 'shift-failed' });
    expect(env.state.snapshot('s0')?.lease).toBeUndefined();
    expectUnchanged(env, 's0');
  });

  it('marks a message for a service the configuration does not have as invalid', async () => {
    const { deps, items } = setup(1);
    const stray = { id: 'm-x', shift: { ...items[0]!.shift, serviceId: 'gone' } };
    const out = await runZoneShift(deps, [stray, ...items]);
    expect(out.map((o) => [o.id, o.outcome])).toEqual([
      ['m-x', 'invalid'],
      ['m-s0', 'failed-over'],
    ]);
  });

  it('does not shift a service whose configuration turned dry-run while its change was queued', async () => {
    const { env, items } = setup(1);
    const config = testConfig([route53Service({ id: 's0', index: 0, policy: { dryRun: true } })]);
    const out = await runZoneShift({ ...env, config, sleep: env.clock.sleep }, items);
    expect(out[0]).toMatchObject({ outcome: 'held', reason: 'dry-run' });
    expectUnchanged(env, 's0');
  });

  it('reads the facts of the whole batch in one round: one alarm read, one lag read, one state read per service', async () => {
    const { env, deps, items } = setup(4);
    const alarms = instrument(env.alarms, 'alarms');
    const lag = instrument(env.lag, 'lag', { log: alarms.callLog });
    await runZoneShift({ ...deps, alarms, lag }, items);
    expect(alarms.callLog.find({ port: 'alarms' })).toHaveLength(1);
    expect(alarms.callLog.find({ port: 'lag' })).toHaveLength(1);
    const names = alarms.callLog.find({ port: 'alarms' })[0]?.args[0] as string[];
    expect(names).toHaveLength(8);
    expect(names).toContain(healthAlarmName(env.config.services[3]!, env.config.services[3]!.nodes[1]!));
  });
});

describe('runZoneShift under unknown outcomes, time limits, pauses and duplicate deliveries', () => {
  it('a timed-out zone-shift batch drops every failover in it: batches that timed out unapplied are read back once and sent again until they land', async () => {
    const { env, deps, items } = setup(50);
    for (let k = 0; k < 3; k++)
      env.traffic.failNext('s0', { errorName: 'TimeoutError', apply: false, uncertain: true });
    const traffic = instrument(env.traffic, 'traffic');
    const out = await runZoneShift({ ...deps, traffic }, items);

    expect(out.filter((o) => o.outcome === 'failed-over')).toHaveLength(50);
    for (const { shift } of items) expect(env.traffic.pointsAt(shift.serviceId)).toBe('b');
    expect(env.notifier.ofKind('failover-failed')).toEqual([]);
    // One batched read-back per unknown round (a zone walk in AWS), never one read per service.
    expect(traffic.callLog.find({ port: 'traffic', method: 'currentAll' })).toHaveLength(3);
    expect(traffic.callLog.find({ port: 'traffic', method: 'current' })).toHaveLength(0);
  });

  it('gives a batch whose outcome cannot be read back to the queue with its lease, and the redelivery records the traffic that moved', async () => {
    const { env, deps, items } = setup(3);
    const blind = landedButUnreadable(env);
    const first = await runZoneShift({ ...deps, traffic: blind }, items);
    expect(first.map((o) => [o.outcome, o.reason])).toEqual(items.map(() => ['deferred', 'outcome-unknown']));
    expect(env.notifier.published).toEqual([]);
    for (const { shift } of items)
      expect(env.state.snapshot(shift.serviceId)?.lease?.holder).toBe(shift.holder);

    // SQS makes the messages visible again after the visibility timeout; traffic had moved.
    env.clock.advance(360_000);
    for (const { shift } of items) env.lag.put(shift.serviceId, 'b', 1);
    const again = await runZoneShift({ ...deps, invocationId: 'shifter-2' }, items);
    expect(again.map((o) => o.outcome)).toEqual(['failed-over', 'failed-over', 'failed-over']);
    for (const { shift } of items)
      expect(env.state.snapshot(shift.serviceId)).toMatchObject({ primary: 'b', epoch: 1 });
  });

  it('records a move an earlier attempt made even when the redelivery would now hold (the primary recovered)', async () => {
    const { env, deps, items } = setup(1);
    const blind = landedButUnreadable(env);
    expect((await runZoneShift({ ...deps, traffic: blind }, items))[0]).toMatchObject({
      outcome: 'deferred',
    });
    env.clock.advance(360_000);
    env.alarms.setNode('s0', 'a', 'OK');
    const [again] = await runZoneShift({ ...deps, invocationId: 'shifter-2' }, items);
    expect(again).toMatchObject({ outcome: 'failed-over', to: 'b', epoch: 1 });
    expect(env.traffic.pointsAt('s0')).toBe('b');
    expect(env.state.snapshot('s0')).toMatchObject({ primary: 'b', epoch: 1 });
  });

  it('one conflicting record makes the shifter outlive its Lambda timeout: it starts no round with less than the reserve left, commits what settled, hands the rest back', async () => {
    const { env, deps, items } = setup(2);
    for (let i = 0; i < 200; i++) env.traffic.failNext('s0', { errorName: 'Throttling', apply: false });
    const start = env.clock.now();
    const remainingMs = () => 60_000 - (env.clock.now() - start);
    // A retry budget longer than the function timeout: only the invocation's clock stops it.
    const out = await runZoneShift(
      { ...deps, remainingMs, retry: { budgetMs: 600_000, maxDelayMs: 5_000 } },
      [items[0]!, { ...items[1]!, shift: { ...items[1]!.shift } }],
    );
    expect(out.map((o) => [o.serviceId, o.outcome])).toEqual([
      ['s0', 'deferred'],
      ['s1', 'deferred'],
    ]);
    expect(env.clock.now() - start).toBeLessThanOrEqual(60_000 - 15_000);
  });

  it('commits each change as it settles, not after every round: a service in another zone is recorded while its neighbour is still refused', async () => {
    const config = testConfig([
      route53Service({
        id: 's0',
        index: 0,
        hostedZoneId: 'ZONEA',
        policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
      }),
      route53Service({
        id: 's1',
        index: 1,
        hostedZoneId: 'ZONEB',
        policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
      }),
    ]);
    const env = createMemoryEnvironment(config);
    const items = config.services.map((s) => {
      env.lag.put(s.id, 'b', 1, env.clock.now() - 5_000);
      return { id: `m-${s.id}`, shift: leaseAndQueue(env, s.id) };
    });
    env.clock.advance(1_500);
    for (let i = 0; i < 200; i++) env.traffic.failNext('s0', { errorName: 'Throttling', apply: false });
    const state = instrument(env.state, 'state', { methods: ['commit'] });
    const t0 = env.clock.now();
    const out = await runZoneShift({ ...zoneShifterDeps(env), state, retry: { budgetMs: 20_000 } }, items);
    expect(out.map((o) => [o.serviceId, o.outcome])).toEqual([
      ['s0', 'deferred'],
      ['s1', 'failed-over'],
    ]);
    const [commit] = state.callLog.find({ method: 'commit' });
    // Committed before the first backoff of the refused neighbour, not after its 20 s budget.
    expect(commit!.start - t0).toBeLessThan(1_000);
  });

  it('pause does not stop an in-flight zone shift: a pause written between rounds stops the change not yet sent', async () => {
    const { env, deps, items } = setup(3);
    env.traffic.failNext('s0', { errorName: 'Throttling', apply: false });
    let paused = false;
    const sleep = async (ms: number) => {
      if (!paused) {
        paused = true;
        await env.state.setPaused('s0', true);
        await env.state.setPaused('s1', true);
      }
      env.clock.advance(ms);
    };
    const out = await runZoneShift({ ...deps, sleep }, items);
    expect(out.map((o) => [o.serviceId, o.outcome, o.reason])).toEqual([
      ['s0', 'held', 'paused'],
      ['s1', 'held', 'paused'],
      ['s2', 'failed-over', undefined],
    ]);
    for (const id of ['s0', 's1']) {
      expectUnchanged(env, id);
      expect(env.state.snapshot(id)?.lease).toBeUndefined();
    }
  });

  it('pause does not stop an in-flight zone shift: a pause written after the change was sent refuses the commit and calls a human', async () => {
    const { env, deps, items } = setup(1);
    // The pause lands between the send and the commit.
    const commitWithPause = {
      ...env.state,
      get: env.state.get.bind(env.state),
      acquireLease: env.state.acquireLease.bind(env.state),
      releaseLease: env.state.releaseLease.bind(env.state),
      setPaused: env.state.setPaused.bind(env.state),
      history: env.state.history.bind(env.state),
      markRejoined: env.state.markRejoined.bind(env.state),
      noteOnce: env.state.noteOnce.bind(env.state),
      commit: async (req: Parameters<typeof env.state.commit>[0]) => {
        await env.state.setPaused('s0', true);
        return env.state.commit(req);
      },
    };
    const [o] = await runZoneShift({ ...deps, state: commitWithPause }, items);
    expect(o).toMatchObject({ outcome: 'needs-attention', reason: 'paused-after-shift' });
    expect(env.state.snapshot('s0')).toMatchObject({ primary: 'a', epoch: 0, paused: true });
    expect(env.notifier.ofKind('failover-failed')[0]?.detail).toMatchObject({ reason: 'paused-after-shift' });
  });

  it('two shifter invocations under one holder: copies of one queued change shift once, and the second stays quiet', async () => {
    const { env, deps, items } = setup(3);
    const copies = items.map((i) => ({
      id: `${i.id}-copy`,
      shift: { ...i.shift, token: `tok-${i.shift.serviceId}` },
    }));
    const originals = items.map((i) => ({ ...i, shift: { ...i.shift, token: `tok-${i.shift.serviceId}` } }));
    const [a, b] = await Promise.all([
      runZoneShift({ ...deps, invocationId: 'shifter-A' }, originals),
      runZoneShift({ ...deps, invocationId: 'shifter-B' }, copies),
    ]);
    const outcomes = [...a!, ...b!].map((o) => o.outcome);
    expect(outcomes.filter((o) => o === 'failed-over')).toHaveLength(3);
    expect(
      outcomes.filter((o) => o !== 'failed-over').every((o) => o === 'deferred' || o === 'already-done'),
    ).toBe(true);
    expect(env.traffic.appliedChanges).toHaveLength(3);
    expect(env.state.stats.commits).toBe(3);
    expect(env.notifier.ofKind('failover-failed')).toEqual([]);
    expect(env.notifier.ofKind('failover')).toHaveLength(3);
  });

  it('a commit that finds its change already committed by another attempt of the same holder stays quiet', async () => {
    const { env, deps, items } = setup(1);
    // Another invocation committed the same change (same holder) while this one was sending.
    const racing = {
      ...deps,
      state: Object.assign(Object.create(Object.getPrototypeOf(env.state)), env.state, {
        commit: async () => {
          throw new LeaseLostError('s0', 'req-s0');
        },
      }),
    };
    const traffic = {
      ...env.traffic,
      current: env.traffic.current.bind(env.traffic),
      currentAll: env.traffic.currentAll.bind(env.traffic),
      shift: async (changes: Parameters<typeof env.traffic.shift>[0]) => {
        const out = await env.traffic.shift(changes);
        env.state.seed({
          serviceId: 's0',
          primary: 'b',
          epoch: 1,
          paused: false,
          lastChangeAt: env.clock.now(),
          lastChange: {
            serviceId: 's0',
            epoch: 1,
            at: env.clock.now() - 1,
            operation: 'auto-failover',
            from: 'a',
            to: 'b',
            reason: 'the other copy',
            actor: 'req-s0',
          },
        });
        return out;
      },
    };
    const [o] = await runZoneShift({ ...racing, traffic }, items);
    expect(o).toMatchObject({ outcome: 'already-done', epoch: 1 });
    expect(env.notifier.ofKind('failover-failed')).toEqual([]);
  });
});

describe('runZoneShift with a change whose target was already promoted', () => {
  const promoted = {
    actions: [],
    fenced: 'yes' as const,
  };

  it('sends the queued change as given even when a fresh decision would hold: the promotion is the failover, traffic must follow it', async () => {
    const { env, deps, items } = setup(1);
    const item = items[0]!;
    const promotedItem = { ...item, shift: { ...item.shift, promoted } };
    // The old primary answers again, and the promoted replica now reports a lag over budget: a
    // re-decision would hold, leaving traffic on a fenced node while another node was promoted.
    env.alarms.setNode('s0', 'a', 'OK');
    env.lag.put('s0', 'b', 45);
    const [out] = await runZoneShift(deps, [promotedItem]);

    expect(out).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', epoch: 1 });
    expect(env.traffic.pointsAt('s0')).toBe('b');
    const [entry] = await env.state.history('s0', 1);
    expect(entry).toMatchObject({ to: 'b', fenced: 'yes' });
  });

  it('never sends traffic to another node than the promoted one', async () => {
    const config = testConfig([
      route53Service({
        id: 's0',
        index: 0,
        nodes: ['a', 'b', 'c'],
        policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
      }),
    ]);
    const env = createMemoryEnvironment(config);
    env.lag.put('s0', 'b', 1, env.clock.now() - 5_000);
    env.lag.put('s0', 'c', 1, env.clock.now() - 5_000);
    const shift = { ...leaseAndQueue(env, 's0'), promoted };
    // Since the promotion, b fell far behind and c is the freshest replica.
    env.lag.put('s0', 'b', 40, env.clock.now());
    env.lag.put('s0', 'c', 0, env.clock.now());
    env.clock.advance(1_500);
    const deps = zoneShifterDeps(env);
    const [out] = await runZoneShift(deps, [{ id: 'm-s0', shift }]);

    expect(out).toMatchObject({ outcome: 'failed-over', to: 'b' });
    expect(env.traffic.pointsAt('s0')).toBe('b');
  });

  it('marks the old primary needs-rejoin when it commits, as the single-service path does', async () => {
    const { env, deps, items } = setup(1);
    await runZoneShift(deps, items);
    expect(env.state.snapshot('s0')).toMatchObject({ primary: 'b', epoch: 1, needsRejoin: ['a'] });
  });
});
