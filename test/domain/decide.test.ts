import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../lambdas/domain/config.ts';
import { type DecisionInput, decideAutoFailover, initialState } from '../../lambdas/domain/decide.ts';
import type { AlarmStateValue, ClusterState, LagSample } from '../../lambdas/domain/types.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

const service: ServiceConfig = testConfig([
  route53Service({
    id: 'orders',
    nodes: ['a', 'b', 'c'],
    policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600 },
  }),
]).services[0]!;

function input(overrides: {
  transition?: Partial<DecisionInput['transition']>;
  alarms?: Record<string, AlarmStateValue | undefined>;
  lag?: Record<string, LagSample | undefined>;
  state?: Partial<ClusterState>;
  service?: ServiceConfig;
  now?: number;
}): DecisionInput {
  const alarms: Record<string, AlarmStateValue | undefined> = {
    'orders-a-health': 'ALARM',
    'orders-b-health': 'OK',
    'orders-c-health': 'OK',
    ...overrides.alarms,
  };
  const lag: Record<string, LagSample | undefined> = {
    b: { lagSeconds: 2, timestamp: NOW - 10_000 },
    c: { lagSeconds: 3, timestamp: NOW - 10_000 },
    ...overrides.lag,
  };
  const svc = overrides.service ?? service;
  return {
    service: svc,
    transition: {
      alarmName: 'orders-a-health',
      state: 'ALARM',
      previousState: 'OK',
      timestamp: NOW - 5_000,
      eventId: 'evt-1',
      ...overrides.transition,
    },
    alarms: new Map(Object.entries(alarms).filter((e): e is [string, AlarmStateValue] => e[1] !== undefined)),
    lag: new Map(Object.entries(lag)),
    state: { ...initialState(svc), ...overrides.state },
    now: overrides.now ?? NOW,
  };
}

function holdOf(i: DecisionInput) {
  const d = decideAutoFailover(i);
  if (d.action !== 'hold') throw new Error(`expected hold, got failover to ${d.to}`);
  return d;
}

describe('decideAutoFailover', () => {
  it('fails over to the freshest healthy replica within budget, at the stored epoch', () => {
    const d = decideAutoFailover(input({ state: { epoch: 7 } }));
    expect(d).toMatchObject({
      action: 'failover',
      serviceId: 'orders',
      from: 'a',
      to: 'b',
      expectedEpoch: 7,
      lagSeconds: 2,
    });
    expect(d.candidates.map((c) => [c.nodeId, c.verdict])).toEqual([
      ['b', 'eligible'],
      ['c', 'eligible'],
    ]);
    expect(d.candidates[0]).toMatchObject({ alarmState: 'OK', lagAgeSeconds: 10, priority: 1 });
  });

  it('prefers lower lag over priority, and priority over node id when lag ties', () => {
    expect(decideAutoFailover(input({ lag: { b: { lagSeconds: 5, timestamp: NOW } } }))).toMatchObject({
      to: 'c',
    });
    const tied = input({
      lag: { b: { lagSeconds: 1, timestamp: NOW }, c: { lagSeconds: 1, timestamp: NOW } },
    });
    expect(decideAutoFailover(tied)).toMatchObject({ to: 'b' });
    const reversed = testConfig([
      route53Service({ id: 'orders', nodes: ['a', 'b', 'c'], priorities: [0, 9, 1] }),
    ]).services[0]!;
    expect(decideAutoFailover({ ...tied, service: reversed })).toMatchObject({ to: 'c' });
    const sameRank = testConfig([
      route53Service({ id: 'orders', nodes: ['a', 'c', 'b'], priorities: [0, 5, 5] }),
    ]).services[0]!;
    expect(decideAutoFailover({ ...tied, service: sameRank })).toMatchObject({ to: 'b' });
  });

  it('acts on the recorded primary, not the configured initial primary', () => {
    const afterFailover = input({ state: { primary: 'b', epoch: 1 }, alarms: { 'orders-a-health': 'OK' } });
    expect(holdOf(afterFailover).reason).toBe('not-primary-alarm');
    const d = decideAutoFailover(
      input({
        state: { primary: 'b', epoch: 1 },
        transition: { alarmName: 'orders-b-health' },
        alarms: { 'orders-a-health': 'OK', 'orders-b-health': 'ALARM' },
        lag: { a: { lagSeconds: 0, timestamp: NOW } },
      }),
    );
    expect(d).toMatchObject({ action: 'failover', from: 'b', to: 'a', expectedEpoch: 1 });
  });

  it('never selects the current primary as a candidate', () => {
    const d = decideAutoFailover(input({ lag: { a: { lagSeconds: 0, timestamp: NOW } } }));
    expect(d.candidates.map((c) => c.nodeId)).not.toContain('a');
  });

  describe('holds, each with its reason and a detail that names what it saw', () => {
    const cases: {
      name: string;
      i: DecisionInput;
      reason: string;
      detail: RegExp;
    }[] = [
      {
        name: 'an OK transition',
        i: input({ transition: { state: 'OK', previousState: 'ALARM' } }),
        reason: 'not-an-alarm-transition',
        detail: /ALARM -> OK/,
      },
      {
        name: 'an INSUFFICIENT_DATA transition',
        i: input({ transition: { state: 'INSUFFICIENT_DATA' } }),
        reason: 'not-an-alarm-transition',
        detail: /INSUFFICIENT_DATA/,
      },
      {
        name: "a replica's alarm",
        i: input({ transition: { alarmName: 'orders-b-health' }, alarms: { 'orders-b-health': 'ALARM' } }),
        reason: 'not-primary-alarm',
        detail: /orders-b-health does not watch the current primary a/,
      },
      {
        name: 'a recorded primary that is no longer configured',
        i: input({ state: { primary: 'zz' } }),
        reason: 'primary-not-configured',
        detail: /zz is not a node/,
      },
      {
        name: 'a primary alarm that is OK again (stale event)',
        i: input({ alarms: { 'orders-a-health': 'OK' } }),
        reason: 'primary-healthy',
        detail: /is OK now: the event is stale/,
      },
      {
        name: 'a primary alarm in INSUFFICIENT_DATA now',
        i: input({ alarms: { 'orders-a-health': 'INSUFFICIENT_DATA' } }),
        reason: 'primary-healthy',
        detail: /INSUFFICIENT_DATA now/,
      },
      {
        name: 'a primary alarm DescribeAlarms does not know',
        i: input({ alarms: { 'orders-a-health': undefined } }),
        reason: 'primary-healthy',
        detail: /not found by DescribeAlarms/,
      },
      {
        name: 'a paused service',
        i: input({ state: { paused: true } }),
        reason: 'paused',
        detail: /paused/,
      },
      {
        name: 'autoFailover disabled',
        i: input({
          service: testConfig([
            route53Service({ id: 'orders', nodes: ['a', 'b', 'c'], policy: { autoFailover: false } }),
          ]).services[0]!,
        }),
        reason: 'auto-failover-disabled',
        detail: /autoFailover is false/,
      },
      {
        name: 'a live lease',
        i: input({
          state: {
            lease: {
              holder: 'exec-1',
              operation: 'switchover',
              acquiredAt: NOW - 1000,
              expiresAt: NOW + 30_000,
            },
          },
        }),
        reason: 'operation-in-progress',
        detail: /switchover by exec-1 holds the lease for 30 s more/,
      },
      {
        name: 'a role change inside the cooldown',
        i: input({ state: { lastChangeAt: NOW - 599_000 } }),
        reason: 'cooldown',
        detail: /9 min 59 s ago, inside the 10 min cooldown/,
      },
      {
        name: 'no replica positively OK (absent, INSUFFICIENT_DATA)',
        i: input({ alarms: { 'orders-b-health': undefined, 'orders-c-health': 'INSUFFICIENT_DATA' } }),
        reason: 'no-healthy-candidate',
        detail: /b UNKNOWN, c INSUFFICIENT_DATA/,
      },
      {
        name: 'a healthy replica over the lag budget',
        i: input({
          alarms: { 'orders-c-health': 'ALARM' },
          lag: { b: { lagSeconds: 45, timestamp: NOW } },
        }),
        reason: 'lag-over-budget',
        detail: /over the 10 s budget: b 45 s/,
      },
      {
        name: 'a stale lag datapoint',
        i: input({
          lag: {
            b: { lagSeconds: 0, timestamp: NOW - 61_000 },
            c: { lagSeconds: 0, timestamp: NOW + 61_000 },
          },
        }),
        reason: 'lag-stale',
        detail: /outside the 1 min window: b 1 min 1 s old, c 1 min 1 s in the future/,
      },
      {
        name: 'missing, NaN and negative lag',
        i: input({
          service: testConfig([route53Service({ id: 'orders', nodes: ['a', 'b', 'c', 'd'] })]).services[0]!,
          alarms: { 'orders-d-health': 'OK' },
          lag: {
            b: undefined,
            c: { lagSeconds: Number.NaN, timestamp: NOW },
            d: { lagSeconds: -1, timestamp: NOW },
          },
        }),
        reason: 'lag-unknown',
        detail: /no usable lag datapoint for b, c, d/,
      },
    ];
    it.each(cases)('$name -> $reason', ({ i, reason, detail }) => {
      const d = holdOf(i);
      expect(d.reason).toBe(reason);
      expect(d.detail).toMatch(detail);
      expect(d.serviceId).toBe('orders');
    });
  });

  it('reports the most specific lag reason among healthy replicas: over-budget, then stale, then unknown', () => {
    const svc = testConfig([route53Service({ id: 'orders', nodes: ['a', 'b', 'c', 'd'] })]).services[0]!;
    const base = {
      service: svc,
      alarms: { 'orders-d-health': 'OK' as const },
    };
    expect(
      holdOf(
        input({
          ...base,
          lag: {
            b: undefined,
            c: { lagSeconds: 1, timestamp: NOW - 999_000 },
            d: { lagSeconds: 99, timestamp: NOW },
          },
        }),
      ).reason,
    ).toBe('lag-over-budget');
    expect(
      holdOf(
        input({
          ...base,
          lag: { b: undefined, c: { lagSeconds: 1, timestamp: NOW - 999_000 }, d: undefined },
        }),
      ).reason,
    ).toBe('lag-stale');
    // An unhealthy node's lag does not count: its over-budget lag is not the reason.
    expect(
      holdOf(
        input({
          ...base,
          alarms: { 'orders-d-health': 'ALARM' },
          lag: { b: undefined, c: undefined, d: { lagSeconds: 99, timestamp: NOW } },
        }),
      ).reason,
    ).toBe('lag-unknown');
  });

  it('treats the boundaries as the policy states them', () => {
    // Exactly at the budget and exactly at the maximum age: still eligible.
    expect(
      decideAutoFailover(input({ lag: { b: { lagSeconds: 10, timestamp: NOW - 60_000 }, c: undefined } })),
    ).toMatchObject({ action: 'failover', to: 'b', lagSeconds: 10 });
    // A lease that expires now is free; a cooldown that ends now is over.
    expect(
      decideAutoFailover(
        input({
          state: {
            lease: { holder: 'x', operation: 'auto-failover', acquiredAt: NOW - 120_000, expiresAt: NOW },
            lastChangeAt: NOW - 600_000,
          },
        }),
      ).action,
    ).toBe('failover');
  });

  it('checks in the documented order: a stale event wins over pause, pause over a lease', () => {
    const everything = {
      paused: true,
      lease: { holder: 'x', operation: 'switchover' as const, acquiredAt: NOW, expiresAt: NOW + 1000 },
      lastChangeAt: NOW,
    };
    expect(holdOf(input({ state: everything, alarms: { 'orders-a-health': 'OK' } })).reason).toBe(
      'primary-healthy',
    );
    expect(holdOf(input({ state: everything })).reason).toBe('paused');
    expect(holdOf(input({ state: { ...everything, paused: false } })).reason).toBe('operation-in-progress');
    expect(holdOf(input({ state: { lastChangeAt: NOW } })).reason).toBe('cooldown');
  });

  it('initialState seeds the configured primary at epoch 0, not paused, without a lease', () => {
    expect(initialState(service)).toEqual({ serviceId: 'orders', primary: 'a', epoch: 0, paused: false });
  });
});
