import { describe, expect, it } from 'vitest';
import { LeaseConflictError, LeaseLostError, PauseChangedError } from '../../lambdas/domain/errors.ts';
import type { HistoryEntry, Lease } from '../../lambdas/domain/types.ts';
import { ManualClock } from '../../lambdas/testing/clock.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { awsError, CallLog, faultOnce, faultTimes, instrument } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment, MemoryState } from '../../lambdas/testing/memory.ts';

const lease = (holder: string, expiresAt: number): Lease => ({
  holder,
  operation: 'auto-failover',
  acquiredAt: expiresAt - 60_000,
  expiresAt,
});
const entry = (epoch: number, to = 'b'): HistoryEntry => ({
  serviceId: 's',
  epoch,
  at: epoch,
  operation: 'auto-failover',
  from: 'a',
  to,
  reason: 'test',
  actor: 'x',
});

describe('ManualClock', () => {
  it('fires concurrent sleeps in due order at their virtual times, without waiting', async () => {
    const clock = new ManualClock({ start: 1000 });
    const seen: [string, number][] = [];
    const started = performance.now();
    await Promise.all([
      clock.sleep(200).then(() => seen.push(['200', clock.now()])),
      clock.sleep(100).then(() => seen.push(['100', clock.now()])),
      clock.sleep(100).then(async () => {
        seen.push(['100b', clock.now()]);
        await clock.sleep(50);
        seen.push(['100b+50', clock.now()]);
      }),
    ]);
    expect(seen).toEqual([
      ['100', 1100],
      ['100b', 1100],
      ['100b+50', 1150],
      ['200', 1200],
    ]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('without autoAdvance only advance() moves time, and never backwards', async () => {
    const clock = new ManualClock({ start: 0, autoAdvance: false });
    let done = false;
    const p = clock.sleep(10).then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    clock.advance(10);
    await p;
    expect(done).toBe(true);
    expect(() => clock.set(5)).toThrow(/backwards/);
  });
});

describe('instrument', () => {
  const port = {
    value: 1,
    async read(x: number) {
      return x + this.value;
    },
    async write(_x: number) {
      this.value++;
    },
  };

  it('records calls and counts sequential round trips (a parallel round counts once)', async () => {
    const clock = new ManualClock({ start: 0 });
    const log = new CallLog(clock);
    const p = instrument({ ...port }, 'p', { log, sleep: clock.sleep, latencyMs: 10 });
    await Promise.all([p.read(1), p.read(2), p.read(3)]);
    await p.write(1);
    await Promise.all([p.read(1), p.write(1)]);
    const last = log.calls.at(-1)!;
    expect(log.sequentialRoundTripsBefore(log.calls[0]!)).toBe(0);
    expect(log.sequentialRoundTripsBefore(log.find({ method: 'write' })[0]!)).toBe(1);
    expect(log.sequentialRoundTripsBefore(last)).toBe(2);
    expect(log.calls.map((c) => [c.method, c.start, c.end, c.outcome])).toEqual([
      ['read', 0, 10, 'ok'],
      ['read', 0, 10, 'ok'],
      ['read', 0, 10, 'ok'],
      ['write', 10, 20, 'ok'],
      ['read', 20, 30, 'ok'],
      ['write', 20, 30, 'ok'],
    ]);
    expect(p.callLog).toBe(log);
  });

  it('keeps `this` and passes non-function properties through', async () => {
    const target = { ...port };
    const p = instrument(target, 'p');
    await p.write(0);
    expect(target.value).toBe(2);
    expect(p.value).toBe(2);
    expect(await p.read(1)).toBe(3);
  });

  it('throw: the call never reaches the port', async () => {
    const target = { ...port };
    const p = instrument(target, 'p', {
      fault: faultOnce((c) => c.method === 'write', {
        mode: 'throw',
        error: awsError('ThrottlingException'),
      }),
    });
    await expect(p.write(0)).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(target.value).toBe(1);
    await p.write(0); // the fault was used once
    expect(target.value).toBe(2);
    expect(p.callLog.calls.map((c) => [c.outcome, c.fault])).toEqual([
      ['error', 'throw'],
      ['ok', undefined],
    ]);
  });

  it('apply-then-throw: the port applied the call but the caller sees an error', async () => {
    const target = { ...port };
    const p = instrument(target, 'p', {
      fault: faultTimes(2, (c) => c.method === 'write', {
        mode: 'apply-then-throw',
        error: new Error('timeout'),
      }),
    });
    await expect(p.write(0)).rejects.toThrow('timeout');
    await expect(p.write(0)).rejects.toThrow('timeout');
    await p.write(0);
    expect(target.value).toBe(4);
  });

  it('return: the call never reaches the port and the caller gets the given value', async () => {
    const target = { ...port };
    const p = instrument(target, 'p', {
      fault: faultOnce((c) => c.method === 'write', { mode: 'return', value: 'refused' }),
    });
    expect(await p.write(0)).toBe('refused');
    expect(target.value).toBe(1);
    await p.write(0);
    expect(target.value).toBe(2);
    expect(p.callLog.calls.map((c) => [c.outcome, c.fault])).toEqual([
      ['ok', 'return'],
      ['ok', undefined],
    ]);
  });

  it('apply-then-return replaces the result; methods limits what is wrapped', async () => {
    const p = instrument({ ...port }, 'p', {
      methods: ['read'],
      fault: () => ({ mode: 'apply-then-return', value: 99 }),
    });
    expect(await p.read(1)).toBe(99);
    await p.write(0);
    expect(p.callLog.calls.map((c) => c.method)).toEqual(['read']);
  });
});

describe('MemoryState (the StatePort contract, as the DynamoDB adapter implements it)', () => {
  const acquire = (
    s: MemoryState,
    holder: string,
    expectedEpoch: number,
    now: number,
    expiresAt = now + 60_000,
  ) =>
    s.acquireLease({ serviceId: 's', expectedEpoch, seedPrimary: 'a', lease: lease(holder, expiresAt), now });

  it('seeds the item on the first lease at epoch 0 only', async () => {
    const s = new MemoryState();
    await expect(acquire(s, 'h', 1, 0)).rejects.toBeInstanceOf(LeaseConflictError);
    expect(await s.get('s')).toBeUndefined();
    await acquire(s, 'h', 0, 0);
    expect(await s.get('s')).toMatchObject({ primary: 'a', epoch: 0, paused: false, lease: { holder: 'h' } });
  });

  it('lets a live lease be renewed by its holder only, and taken over only after it expired', async () => {
    const s = new MemoryState();
    await acquire(s, 'h1', 0, 0, 1000);
    await expect(acquire(s, 'h2', 0, 500)).rejects.toBeInstanceOf(LeaseConflictError);
    await expect(acquire(s, 'h2', 0, 1000)).rejects.toBeInstanceOf(LeaseConflictError); // expiresAt < now is free
    await acquire(s, 'h1', 0, 500, 2000); // renewal
    await acquire(s, 'h2', 0, 2001);
    expect((await s.get('s'))!.lease!.holder).toBe('h2');
    expect(s.stats).toMatchObject({ leasesAcquired: 3, leaseConflicts: 2 });
  });

  it('commits only for the holder at the expected epoch; epoch + 1, lease gone, history newest first', async () => {
    const s = new MemoryState();
    await acquire(s, 'h1', 0, 0);
    const commit = (holder: string, expectedEpoch: number, to: string) =>
      s.commit({
        serviceId: 's',
        expectedEpoch,
        holder,
        newPrimary: to,
        at: 7,
        history: entry(expectedEpoch + 1, to),
      });
    await expect(commit('h2', 0, 'b')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(commit('h1', 1, 'b')).rejects.toBeInstanceOf(LeaseLostError);
    await commit('h1', 0, 'b');
    expect(await s.get('s')).toEqual({
      serviceId: 's',
      primary: 'b',
      epoch: 1,
      paused: false,
      lastChangeAt: 7,
      lastChange: entry(1, 'b'),
    });
    await expect(commit('h1', 1, 'c')).rejects.toBeInstanceOf(LeaseLostError); // no lease any more
    await expect(acquire(s, 'h3', 0, 10)).rejects.toBeInstanceOf(LeaseConflictError); // stale epoch
    await acquire(s, 'h3', 1, 10);
    await commit('h3', 1, 'a');
    expect((await s.history('s', 10)).map((h) => [h.epoch, h.to])).toEqual([
      [2, 'a'],
      [1, 'b'],
    ]);
    expect(await s.history('s', 1)).toHaveLength(1);
  });

  it('releases only its own lease; pause seeds the item', async () => {
    const s = new MemoryState();
    await acquire(s, 'h1', 0, 0);
    await s.releaseLease('s', 'h2');
    expect((await s.get('s'))!.lease).toBeDefined();
    await s.releaseLease('s', 'h1');
    expect((await s.get('s'))!.lease).toBeUndefined();
    // A pause never records a primary: the first lease seeds it from the deployed configuration.
    await s.setPaused('other', true, { by: 'alice', at: 5, reason: 'maintenance' });
    expect(await s.get('other')).toEqual({
      serviceId: 'other',
      epoch: 0,
      paused: true,
      pause: { by: 'alice', at: 5, reason: 'maintenance' },
    });
    await s.acquireLease({
      serviceId: 'other',
      expectedEpoch: 0,
      seedPrimary: 'x',
      lease: lease('h9', 60_000),
      now: 0,
    });
    expect(await s.get('other')).toMatchObject({ primary: 'x', epoch: 0, paused: true });
    await s.setPaused('other', false);
    expect((await s.get('other'))?.pause).toBeUndefined();
  });

  it('a resume conditioned on the pause it read clears only that pause', async () => {
    const s = new MemoryState();
    const read = { by: 'alice', at: 5, reason: 'maintenance' };
    await s.setPaused('svc', true, read);
    // A rollback pauses again between the operator's read and the resume's write.
    const newer = { by: 'failover-workflow', at: 9, reason: 'rollback failed: needs attention' };
    await s.setPaused('svc', true, newer);
    await expect(s.setPaused('svc', false, undefined, { pause: read })).rejects.toBeInstanceOf(
      PauseChangedError,
    );
    expect(await s.get('svc')).toMatchObject({ paused: true, pause: newer });
    // Read without a record, now with one; and a service resumed meanwhile: both refused.
    await expect(s.setPaused('svc', false, undefined, { pause: undefined })).rejects.toBeInstanceOf(
      PauseChangedError,
    );
    await s.setPaused('svc', false);
    await expect(s.setPaused('svc', false, undefined, { pause: newer })).rejects.toBeInstanceOf(
      PauseChangedError,
    );
    await expect(s.setPaused('none', false, undefined, { pause: undefined })).rejects.toBeInstanceOf(
      PauseChangedError,
    );
    expect(await s.get('none')).toBeUndefined();
    // The pause it read, unchanged: cleared.
    await s.setPaused('svc', true, newer);
    await s.setPaused('svc', false, undefined, { pause: { ...newer } });
    expect(await s.get('svc')).toMatchObject({ paused: false });
    expect((await s.get('svc'))?.pause).toBeUndefined();
    await s.setPaused('svc', true);
    await s.setPaused('svc', false, undefined, { pause: undefined });
    expect((await s.get('svc'))?.paused).toBe(false);
  });

  it('returns copies: callers cannot mutate the stored item', async () => {
    const s = new MemoryState();
    await acquire(s, 'h1', 0, 0);
    const got = (await s.get('s')) as { epoch: number };
    got.epoch = 99;
    expect((await s.get('s'))!.epoch).toBe(0);
  });
});

describe('MemoryTraffic (Route 53 compare-and-swap, atomic batches per hosted zone)', () => {
  const config = testConfig([
    route53Service({ id: 's1', index: 1, hostedZoneId: 'ZONEA' }),
    route53Service({ id: 's2', index: 2, hostedZoneId: 'ZONEA' }),
    route53Service({ id: 's3', index: 3, hostedZoneId: 'ZONEB' }),
  ]);

  it('starts on the initial primaries and swaps only from the expected node', async () => {
    const { traffic } = createMemoryEnvironment(config);
    expect(await traffic.current('s1')).toBe('a');
    traffic.set('s1', undefined);
    expect(await traffic.shift([{ serviceId: 's1', from: 'a', to: 'b' }])).toEqual([
      {
        serviceId: 's1',
        status: 'conflict',
        observed: undefined,
        message: expect.stringMatching(/on no node, not a/),
      },
    ]);
    expect(traffic.pointsAt('s1')).toBeUndefined();
    traffic.set('s1', 'a');
    expect(await traffic.shift([{ serviceId: 's1', from: 'a', to: 'b' }])).toMatchObject([
      { status: 'shifted' },
    ]);
    expect(traffic.pointsAt('s1')).toBe('b');
  });

  it('applies one zone batch atomically: a conflict refuses it, then each change goes alone', async () => {
    const { traffic } = createMemoryEnvironment(config);
    traffic.set('s2', undefined); // e.g. a record edited to an address of no node
    const results = await traffic.shift([
      { serviceId: 's1', from: 'a', to: 'b' },
      { serviceId: 's2', from: 'a', to: 'b' },
      { serviceId: 's3', from: 'a', to: 'b' },
    ]);
    expect(results.map((r) => [r.serviceId, r.status])).toEqual([
      ['s1', 'shifted'],
      ['s2', 'conflict'],
      ['s3', 'shifted'],
    ]);
    expect(results[1]).toMatchObject({ observed: undefined, message: expect.stringMatching(/no node/) });
    expect([traffic.pointsAt('s1'), traffic.pointsAt('s2'), traffic.pointsAt('s3')]).toEqual([
      'b',
      undefined,
      'b',
    ]);
    expect(
      traffic.calls.map((c) => [c.group, c.changes.map((ch) => ch.serviceId).join(','), c.applied]),
    ).toEqual([
      ['ZONEA', 's1,s2', false],
      ['ZONEA', 's1', true],
      ['ZONEA', 's2', false],
      ['ZONEB', 's3', true],
    ]);
  });

  it('a swap that finds the record already on the target is a success (an earlier attempt applied)', async () => {
    const { traffic } = createMemoryEnvironment(config);
    traffic.set('s1', 'b');
    expect(await traffic.shift([{ serviceId: 's1', from: 'a', to: 'b' }])).toMatchObject([
      { status: 'shifted' },
    ]);
    expect(traffic.appliedChanges).toEqual([]);
    await expect(traffic.current('nope')).rejects.toThrow(/unknown service/);
  });

  it('injected faults: applied-but-failed is uncertain, not-applied is certain', async () => {
    const { traffic } = createMemoryEnvironment(config);
    traffic.failNext('s1', { errorName: 'TimeoutError', apply: true });
    traffic.failNext('s1', { errorName: 'Throttling', apply: false });
    expect(await traffic.shift([{ serviceId: 's1', from: 'a', to: 'b' }])).toMatchObject([
      { status: 'failed', errorName: 'TimeoutError', uncertain: true },
    ]);
    expect(traffic.pointsAt('s1')).toBe('b');
    expect(await traffic.shift([{ serviceId: 's1', from: 'b', to: 'a' }])).toMatchObject([
      { status: 'failed', errorName: 'Throttling', uncertain: false },
    ]);
    expect(traffic.pointsAt('s1')).toBe('b');
    expect(await traffic.shift([{ serviceId: 'nope', from: 'a', to: 'b' }])).toMatchObject([
      { status: 'failed', errorName: 'InvalidInput' },
    ]);
  });
});

describe('MemoryAlarms and MemoryLag', () => {
  it('DescribeAlarms omits alarms that do not exist', async () => {
    const env = createMemoryEnvironment(testConfig([route53Service({ id: 's' })]));
    env.alarms.set('s-b-health', undefined);
    const states = await env.alarms.getStates(['s-a-health', 's-b-health', 'unknown']);
    expect([...states]).toEqual([['s-a-health', 'OK']]);
  });

  it('returns the newest datapoint inside the lookback window, per query key', async () => {
    const env = createMemoryEnvironment(testConfig([route53Service({ id: 's' })]), {
      clock: { start: 1_000_000 },
    });
    const metric = env.config.services[0]!.nodes[1]!.lag;
    env.lag.put('s', 'b', 5, 1_000_000 - 90_000);
    env.lag.put('s', 'b', 3, 1_000_000 - 20_000);
    env.lag.put('s', 'b', 1, 1_000_000 + 5_000); // after EndTime: not returned
    const got = await env.lag.getLatest(
      [
        { key: 'b', metric },
        { key: 'a', metric: env.config.services[0]!.nodes[0]!.lag },
      ],
      1_000_000,
      60,
    );
    expect(got.get('b')).toEqual({ lagSeconds: 3, timestamp: 1_000_000 - 20_000 });
    expect(got.has('a')).toBe(true);
    expect(got.get('a')).toBeUndefined();
    // Dimension order does not change the metric's identity.
    const reordered = { ...metric, dimensions: { Node: 'b', Service: 's' } };
    expect(
      (await env.lag.getLatest([{ key: 'x', metric: reordered }], 1_000_000, 60)).get('x')?.lagSeconds,
    ).toBe(3);
  });
});
