/**
 * Invariants 1, 2, 5, 6 and 9 of DESIGN.md at the decision level, over random services (2-5 nodes),
 * random alarm states (including absent alarms), random lag samples (missing, stale, from the
 * future, NaN, negative, infinite) and random stored state (leases, pauses, cooldowns).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { healthAlarmName, nodePriority, type ServiceConfig } from '../../lambdas/domain/config.ts';
import { type DecisionInput, decideAutoFailover } from '../../lambdas/domain/decide.ts';
import type { AlarmStateValue, Decision, LagSample } from '../../lambdas/domain/types.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';

const NUM_RUNS = 2000;
const NOW = Date.UTC(2025, 5, 1);

const serviceArb = fc
  .record({
    nodes: fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { minLength: 2, maxLength: 5 }),
    // Few distinct priorities so ties (and the node-id tie-break) happen often.
    priorities: fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), {
      minLength: 5,
      maxLength: 5,
    }),
    autoFailoverOff: fc.integer({ min: 0, max: 9 }),
    cooldownSeconds: fc.integer({ min: 0, max: 1200 }),
    maxLagSeconds: fc.integer({ min: 0, max: 60 }),
    maxLagAgeSeconds: fc.integer({ min: 10, max: 300 }),
  })
  .map(
    (g): ServiceConfig =>
      testConfig([
        route53Service({
          id: 'svc',
          nodes: g.nodes,
          priorities: g.priorities,
          policy: {
            autoFailover: g.autoFailoverOff !== 0,
            cooldownSeconds: g.cooldownSeconds,
            maxLagSeconds: g.maxLagSeconds,
            maxLagAgeSeconds: g.maxLagAgeSeconds,
          },
        }),
      ]).services[0]!,
  );

const alarmArb = fc.oneof(
  { arbitrary: fc.constant<AlarmStateValue>('OK'), weight: 6 },
  { arbitrary: fc.constant<AlarmStateValue>('ALARM'), weight: 2 },
  { arbitrary: fc.constant<AlarmStateValue>('INSUFFICIENT_DATA'), weight: 1 },
  { arbitrary: fc.constant(undefined), weight: 1 },
);

const lagValueArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 90 }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 5 }), weight: 3 },
  { arbitrary: fc.double({ min: 0, max: 90, noNaN: true }), weight: 2 },
  {
    arbitrary: fc.constantFrom(Number.NaN, -1, -0.001, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    weight: 1,
  },
);

const lagSampleArb = fc.oneof(
  {
    arbitrary: fc.record({
      lagSeconds: lagValueArb,
      // Mostly fresh; sometimes from up to 120 s in the future or up to 400 s old (ms).
      timestamp: fc
        .oneof(
          { arbitrary: fc.integer({ min: -5_000, max: 60_000 }), weight: 4 },
          { arbitrary: fc.integer({ min: -120_000, max: 400_000 }), weight: 1 },
        )
        .map((age) => NOW - age),
    }),
    weight: 8,
  },
  { arbitrary: fc.constant<LagSample | undefined>(undefined), weight: 1 },
  { arbitrary: fc.constant('absent' as const), weight: 1 },
);

const scenarioArb = serviceArb.chain((service) => {
  const ids = service.nodes.map((n) => n.id);
  const perNode = <T>(arb: fc.Arbitrary<T>) => fc.tuple(...ids.map(() => arb));
  return fc.record({
    service: fc.constant(service),
    primary: fc.oneof(
      { arbitrary: fc.constantFrom(...ids), weight: 19 },
      { arbitrary: fc.constant('gone'), weight: 1 },
    ),
    alarms: perNode(alarmArb),
    primaryAlarm: fc.oneof(
      { arbitrary: fc.constant<AlarmStateValue>('ALARM'), weight: 8 },
      { arbitrary: alarmArb, weight: 2 },
    ),
    lag: perNode(lagSampleArb),
    transitionTarget: fc.oneof(
      { arbitrary: fc.constant('primary' as const), weight: 8 },
      { arbitrary: fc.constantFrom(...ids), weight: 1 },
      { arbitrary: fc.constant('unrelated-alarm'), weight: 1 },
    ),
    transitionState: fc.oneof(
      { arbitrary: fc.constant<AlarmStateValue>('ALARM'), weight: 8 },
      { arbitrary: fc.constantFrom<AlarmStateValue>('OK', 'INSUFFICIENT_DATA'), weight: 2 },
    ),
    epoch: fc.integer({ min: 0, max: 1000 }),
    paused: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
    // Lease relative to now: none, expired, exactly at now, live.
    leaseOffsetMs: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 3 },
      { arbitrary: fc.integer({ min: -300_000, max: 300_000 }), weight: 1 },
    ),
    lastChangeAgoMs: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 3 },
      { arbitrary: fc.integer({ min: -10_000, max: 2_000_000 }), weight: 1 },
    ),
    // Former primaries waiting to rejoin: mostly none, sometimes any subset of the nodes.
    needsRejoin: fc.oneof(
      { arbitrary: fc.constant<string[]>([]), weight: 2 },
      { arbitrary: fc.subarray(ids), weight: 1 },
    ),
  });
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

function toInput(s: Scenario): DecisionInput {
  const { service } = s;
  const alarms = new Map<string, AlarmStateValue>();
  const lag = new Map<string, LagSample | undefined>();
  service.nodes.forEach((node, i) => {
    const value = node.id === s.primary ? s.primaryAlarm : s.alarms[i];
    if (value !== undefined) alarms.set(healthAlarmName(service, node), value);
    const sample = s.lag[i];
    if (sample !== 'absent') lag.set(node.id, sample);
  });
  const target = service.nodes.find((n) => n.id === s.transitionTarget);
  const primaryNode = service.nodes.find((n) => n.id === s.primary);
  const alarmName =
    s.transitionTarget === 'primary'
      ? primaryNode
        ? healthAlarmName(service, primaryNode)
        : 'svc-gone-health'
      : target
        ? healthAlarmName(service, target)
        : s.transitionTarget;
  return {
    service,
    transition: {
      alarmName,
      state: s.transitionState,
      previousState: s.transitionState === 'ALARM' ? 'OK' : 'ALARM',
      timestamp: NOW - 1000,
      eventId: 'e',
    },
    alarms,
    lag,
    state: {
      serviceId: service.id,
      primary: s.primary,
      epoch: s.epoch,
      paused: s.paused,
      ...(s.leaseOffsetMs !== undefined
        ? {
            lease: {
              holder: 'other',
              operation: 'switchover' as const,
              acquiredAt: NOW - 1000,
              expiresAt: NOW + s.leaseOffsetMs,
            },
          }
        : {}),
      ...(s.lastChangeAgoMs !== undefined ? { lastChangeAt: NOW - s.lastChangeAgoMs } : {}),
      ...(s.needsRejoin.length > 0 ? { needsRejoin: s.needsRejoin } : {}),
    },
    now: NOW,
  };
}

/** An independent statement of what "eligible" means, written from the policy, not the code. */
function oracleEligible(i: DecisionInput): string[] {
  const { service, state, now } = i;
  const p = service.policy;
  const eligible = service.nodes.filter((n) => {
    if (n.id === state.primary) return false;
    if (state.needsRejoin?.includes(n.id)) return false;
    if (i.alarms.get(healthAlarmName(service, n)) !== 'OK') return false;
    const s = i.lag.get(n.id);
    if (!s || !(s.lagSeconds >= 0) || !Number.isFinite(s.lagSeconds)) return false;
    const ageMs = now - s.timestamp;
    if (ageMs > p.maxLagAgeSeconds * 1000 || ageMs < -60_000) return false;
    return s.lagSeconds <= p.maxLagSeconds;
  });
  return eligible
    .map((n) => ({ id: n.id, lag: i.lag.get(n.id)!.lagSeconds, prio: nodePriority(service, n.id) }))
    .sort((a, b) => a.lag - b.lag || a.prio - b.prio || a.id.localeCompare(b.id))
    .map((c) => c.id);
}

function preconditionsHold(i: DecisionInput): boolean {
  const { service, state, transition, now } = i;
  const primary = service.nodes.find((n) => n.id === state.primary);
  return (
    transition.state === 'ALARM' &&
    primary !== undefined &&
    transition.alarmName === healthAlarmName(service, primary) &&
    i.alarms.get(transition.alarmName) === 'ALARM' &&
    !state.paused &&
    service.policy.autoFailover &&
    !(state.lease && state.lease.expiresAt > now) &&
    !(state.lastChangeAt !== undefined && now - state.lastChangeAt < service.policy.cooldownSeconds * 1000)
  );
}

const check = (predicate: (i: DecisionInput, d: Decision) => void) =>
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const i = toInput(s);
      predicate(i, decideAutoFailover(i));
    }),
    { numRuns: NUM_RUNS },
  );

describe('decideAutoFailover properties', () => {
  it('invariant 1: only ever promotes a node whose alarm is positively OK', () => {
    check((i, d) => {
      if (d.action !== 'failover') return;
      const to = i.service.nodes.find((n) => n.id === d.to)!;
      expect(i.alarms.get(healthAlarmName(i.service, to))).toBe('OK');
    });
  });

  it('invariant 2: never promotes a replica whose lag is unknown, stale or over budget', () => {
    check((i, d) => {
      if (d.action !== 'failover') return;
      const sample = i.lag.get(d.to);
      expect(sample).toBeDefined();
      expect(Number.isFinite(sample!.lagSeconds)).toBe(true);
      expect(sample!.lagSeconds).toBeGreaterThanOrEqual(0);
      expect(sample!.lagSeconds).toBeLessThanOrEqual(i.service.policy.maxLagSeconds);
      expect(i.now - sample!.timestamp).toBeLessThanOrEqual(i.service.policy.maxLagAgeSeconds * 1000);
      expect(sample!.timestamp - i.now).toBeLessThanOrEqual(60_000);
      expect(d.lagSeconds).toBe(sample!.lagSeconds);
    });
  });

  it('invariant 5: never while paused, disabled, in cooldown or under a live lease; never to the current primary', () => {
    check((i, d) => {
      if (d.action !== 'failover') return;
      expect(i.state.paused).toBe(false);
      expect(i.service.policy.autoFailover).toBe(true);
      if (i.state.lease) expect(i.state.lease.expiresAt).toBeLessThanOrEqual(i.now);
      if (i.state.lastChangeAt !== undefined)
        expect(i.now - i.state.lastChangeAt).toBeGreaterThanOrEqual(i.service.policy.cooldownSeconds * 1000);
      expect(d.to).not.toBe(i.state.primary);
      expect(d.from).toBe(i.state.primary);
      expect(d.expectedEpoch).toBe(i.state.epoch);
    });
  });

  it('invariant 9: a former primary that has not rejoined is never a candidate, whatever its health and lag', () => {
    check((i, d) => {
      const waiting = i.state.needsRejoin ?? [];
      for (const c of d.candidates) if (waiting.includes(c.nodeId)) expect(c.verdict).toBe('needs-rejoin');
      if (d.action === 'failover') expect(waiting).not.toContain(d.to);
    });
  });

  it("invariant 6: a replica's alarm, a non-ALARM transition or an unconfirmed (stale) event holds", () => {
    check((i, d) => {
      const primary = i.service.nodes.find((n) => n.id === i.state.primary);
      const primaryAlarm = primary ? healthAlarmName(i.service, primary) : undefined;
      if (i.transition.state !== 'ALARM') {
        expect(d).toMatchObject({ action: 'hold', reason: 'not-an-alarm-transition' });
      } else if (primaryAlarm === undefined) {
        expect(d).toMatchObject({ action: 'hold', reason: 'primary-not-configured' });
      } else if (i.transition.alarmName !== primaryAlarm) {
        expect(d).toMatchObject({ action: 'hold', reason: 'not-primary-alarm' });
      } else if (i.alarms.get(primaryAlarm) !== 'ALARM') {
        expect(d).toMatchObject({ action: 'hold', reason: 'primary-healthy' });
      }
    });
  });

  it('chooses the freshest eligible replica, then the lowest priority, then the node id; and fails over whenever one exists', () => {
    let failovers = 0;
    check((i, d) => {
      const expected = oracleEligible(i);
      if (!preconditionsHold(i)) {
        expect(d.action).toBe('hold');
        return;
      }
      if (expected.length === 0) {
        expect(d.action).toBe('hold');
        if (d.action === 'hold') {
          expect(['no-healthy-candidate', 'lag-unknown', 'lag-stale', 'lag-over-budget']).toContain(d.reason);
        }
        return;
      }
      failovers++;
      expect(d).toMatchObject({ action: 'failover', to: expected[0] });
    });
    // The generators must reach the interesting branch often enough to matter. They reach it in
    // ~11.5 % of runs (sd ~0.7 %): a 10 % bar failed about one run in fifty (197 of 2,000 seen);
    // 5 % still fails a generator that stopped reaching it, never a healthy one by chance.
    expect(failovers).toBeGreaterThan(NUM_RUNS / 20);
  });

  it('is deterministic: same facts in any map order give the same decision', () => {
    check((i, d) => {
      const shuffled: DecisionInput = {
        ...i,
        alarms: new Map([...i.alarms].reverse()),
        lag: new Map([...i.lag].reverse()),
      };
      expect(decideAutoFailover(shuffled)).toEqual(d);
      expect(decideAutoFailover(i)).toEqual(d);
    });
  });

  it('assesses every replica exactly once and never the primary', () => {
    check((i, d) => {
      const expected = i.service.nodes.map((n) => n.id).filter((id) => id !== i.state.primary);
      expect(d.candidates.map((c) => c.nodeId)).toEqual(expected);
    });
  });
});
