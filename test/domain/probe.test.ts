import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatLsn,
  httpFigures,
  mysqlLagSeconds,
  type PgReading,
  parseLsn,
  pgLag,
  pgPrimaryPosition,
  resolvePointer,
  sampleTimes,
} from '../../lambdas/domain/probe.ts';
import { probeSchema } from '../../lambdas/domain/probe-config.ts';

const replica = (replayLsn: bigint, extra: Partial<PgReading> = {}): PgReading => ({
  inRecovery: true,
  readOnlyByDefault: false,
  replayLsn,
  ...extra,
});

describe('parseLsn', () => {
  it('reads PostgreSQL LSNs as byte positions and prints them back', () => {
    expect(parseLsn('0/3000060')).toBe(0x3000060n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(() => parseLsn('nope')).toThrow(/not a PostgreSQL LSN/);
  });
});

describe('pgLag', () => {
  it('is 0 s and 0 bytes when the replica replayed everything the primary has, however old its last commit', () => {
    expect(pgLag({ replica: replica(100n, { replayAgeSeconds: 3600 }), primaryNow: 100n, now: 0 })).toEqual({
      lagBytes: 0,
      lagSeconds: 0,
      caughtUp: true,
    });
  });

  it('behind: bytes from positions, seconds the smaller of the replay age and the time since last caught up', () => {
    const lag = pgLag({
      replica: replica(100n, { replayAgeSeconds: 3600 }),
      primaryNow: 1100n,
      lastCaughtUpAt: 10_000,
      now: 25_000,
    });
    expect(lag).toEqual({ lagBytes: 1000, lagSeconds: 15, caughtUp: false });
  });

  it('primary unreachable: bytes from the last known position (or what the replica received, if more)', () => {
    const lastKnown = { lsn: 500n, at: 0 };
    expect(pgLag({ replica: replica(100n, { replayAgeSeconds: 5 }), lastKnown, now: 1 }).lagBytes).toBe(400);
    expect(
      pgLag({ replica: replica(100n, { receiveLsn: 900n, replayAgeSeconds: 5 }), lastKnown, now: 1 })
        .lagBytes,
    ).toBe(800);
  });

  it('no primary position at all: bytes unknown, never 0', () => {
    const lag = pgLag({ replica: replica(100n), now: 1 });
    expect(lag).toEqual({ lagBytes: 'unknown', lagSeconds: 'unknown', caughtUp: false });
  });

  it('never reports a replica missing WAL as caught up, and never a negative lag (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 40n }),
        fc.bigInt({ min: 0n, max: 1n << 40n }),
        fc.option(fc.double({ min: -5, max: 1e6, noNaN: true })),
        (primary, replay, age) => {
          const lag = pgLag({
            replica: replica(replay, age === null ? {} : { replayAgeSeconds: age }),
            primaryNow: primary,
            now: 0,
          });
          if (primary > replay) {
            expect(lag.caughtUp).toBe(false);
            expect(lag.lagBytes).toBe(Number(primary - replay));
            expect(lag.lagSeconds === 'unknown' || (lag.lagSeconds as number) >= 0).toBe(true);
          } else expect(lag).toEqual({ lagBytes: 0, lagSeconds: 0, caughtUp: true });
        },
      ),
    );
  });

  it('the primary position is the largest writable node, read-only and recovering nodes ignored', () => {
    expect(
      pgPrimaryPosition([
        { inRecovery: false, readOnlyByDefault: false, currentLsn: 10n },
        { inRecovery: false, readOnlyByDefault: false, currentLsn: 30n },
        { inRecovery: false, readOnlyByDefault: true, currentLsn: 99n },
        replica(50n),
        undefined,
      ]),
    ).toBe(30n);
  });
});

describe('mysqlLagSeconds', () => {
  it.each([
    [{ ioRunning: true, sqlRunning: true, secondsBehind: 3 }, 3],
    [{ ioRunning: true, sqlRunning: true, secondsBehind: null }, 'unknown'],
    [{ ioRunning: true, sqlRunning: false, secondsBehind: 0 }, 'unknown'],
    [{ ioRunning: false, sqlRunning: true, secondsBehind: 0 }, 'unknown'],
  ])('%o -> %s', (replicaStatus, expected) => {
    expect(mysqlLagSeconds({ readOnly: true, replica: replicaStatus })).toBe(expected);
  });

  it('a node without replica status has no lag', () => {
    expect(mysqlLagSeconds({ readOnly: false })).toBeUndefined();
  });
});

describe('httpFigures', () => {
  const probe = probeSchema.parse({
    kind: 'http',
    host: 'git-1.internal',
    port: 8443,
    subnets: ['subnet-0123456789abcdef0'],
    securityGroups: ['sg-0123456789abcdef0'],
    lagPointer: '/replication/lag~1s',
    writablePointer: '/replication/primary',
  });
  if (probe.kind !== 'http') throw new Error('unreachable');

  it('reads lag and role through the JSON pointers', () => {
    expect(
      httpFigures(probe, { status: 200, body: { replication: { 'lag/s': 4, primary: false } } }),
    ).toEqual({
      healthy: 1,
      writable: 0,
      lagSeconds: 4,
    });
    expect(httpFigures(probe, { status: 200, body: { replication: { primary: true } } })).toEqual({
      healthy: 1,
      writable: 1,
    });
  });

  it('a null or missing lag is unknown, a bad status unhealthy', () => {
    expect(httpFigures(probe, { status: 200, body: { replication: { 'lag/s': null } } }).lagSeconds).toBe(
      'unknown',
    );
    expect(httpFigures(probe, { status: 200 }).lagSeconds).toBe('unknown');
    expect(httpFigures(probe, { status: 503, body: {} })).toEqual({ healthy: 0 });
  });

  it('resolves RFC 6901 pointers', () => {
    expect(resolvePointer({ a: [{ 'b~c': 1 }] }, '/a/0/b~0c')).toBe(1);
    expect(resolvePointer({ a: 1 }, '')).toEqual({ a: 1 });
    expect(resolvePointer({ a: 1 }, '/b')).toBeUndefined();
  });
});

describe('sampleTimes', () => {
  it('samples at the end of each interval (timeout before it), until the minute ends', () => {
    const minute = 1_700_000_040_000; // a whole minute
    expect(sampleTimes(minute + 1_500, 10, 2).map((t) => (t - minute) / 1000)).toEqual([
      8, 18, 28, 38, 48, 58,
    ]);
    expect(sampleTimes(minute + 20_000, 5, 1).map((t) => (t - minute) / 1000)).toEqual([
      24, 29, 34, 39, 44, 49, 54, 59,
    ]);
    expect(sampleTimes(minute + 58_500, 10, 2)).toEqual([]);
  });

  it('every sample finishes (start + timeout) within the minute it starts in (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.constantFrom(5, 10, 20, 30, 60),
        fc.double({ min: 0.5, max: 4.5, noNaN: true }),
        (start, interval, timeout) => {
          const times = sampleTimes(start, interval, timeout);
          const minuteEnd = (Math.floor(start / 60_000) + 1) * 60_000;
          for (const t of times) {
            expect(t).toBeGreaterThanOrEqual(start);
            expect(t + timeout * 1000).toBeLessThanOrEqual(minuteEnd);
          }
        },
      ),
    );
  });
});
