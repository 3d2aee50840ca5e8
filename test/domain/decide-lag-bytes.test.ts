import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { decideAutoFailover, LAG_BYTES_KEY_SUFFIX, lagQueries } from '../../lambdas/domain/decide.ts';
import type { LagSample } from '../../lambdas/domain/types.ts';
import { POSTGRES_PROBE, probedServiceInput } from '../support/probed-service.ts';

const NOW = 1_700_000_000_000;
const service = (maxLagBytes?: number) =>
  parseConfig(
    probedServiceInput(
      {
        probe: POSTGRES_PROBE,
        policy: { maxLagSeconds: 30, ...(maxLagBytes === undefined ? {} : { maxLagBytes }) },
      },
      'db',
    ),
  ).services[0]!;

function decide(maxLagBytes: number | undefined, bytes: LagSample | undefined) {
  const svc = service(maxLagBytes);
  const lag = new Map<string, LagSample | undefined>([
    ['b', { lagSeconds: 1, timestamp: NOW - 5_000 }],
    [`b${LAG_BYTES_KEY_SUFFIX}`, bytes],
  ]);
  return decideAutoFailover({
    service: svc,
    transition: {
      alarmName: 'failover-db-a-health',
      state: 'ALARM',
      previousState: 'OK',
      timestamp: NOW,
      eventId: 'e',
    },
    alarms: new Map([
      ['failover-db-a-health', 'ALARM'],
      ['failover-db-b-health', 'OK'],
    ]),
    lag,
    state: { serviceId: 'db', primary: 'a', epoch: 1, paused: false },
    now: NOW,
  });
}

describe('policy.maxLagBytes', () => {
  it('reads the probe bytes metric only when the policy sets a budget', () => {
    expect(lagQueries(service()).map((q) => q.key)).toEqual(['a', 'b']);
    const q = lagQueries(service(1000));
    expect(q.map((x) => x.key)).toEqual(['a', 'a#bytes', 'b', 'b#bytes']);
    expect(q[3]?.metric).toMatchObject({
      metricName: 'ReplicationLagBytes',
      dimensions: { ServiceId: 'db', NodeId: 'b' },
    });
  });

  it('refuses a replica over the budget in bytes although its seconds are within budget', () => {
    const d = decide(1000, { lagSeconds: 5000, timestamp: NOW - 5_000 });
    expect(d).toMatchObject({ action: 'hold', reason: 'lag-over-budget' });
    expect(d.action === 'hold' && d.detail).toMatch(/30 s \/ 1000 bytes budget/);
  });

  it('refuses unknown or stale bytes, promotes within budget, ignores bytes without a budget', () => {
    expect(decide(1000, undefined)).toMatchObject({ action: 'hold', reason: 'lag-unknown' });
    expect(decide(1000, { lagSeconds: 10, timestamp: NOW - 600_000 })).toMatchObject({
      action: 'hold',
      reason: 'lag-stale',
    });
    expect(decide(1000, { lagSeconds: 1000, timestamp: NOW - 5_000 })).toMatchObject({
      action: 'failover',
      to: 'b',
    });
    expect(decide(undefined, { lagSeconds: 1e15, timestamp: NOW - 5_000 })).toMatchObject({
      action: 'failover',
      to: 'b',
    });
  });

  it('never promotes a replica whose bytes exceed the budget (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        (max, bytes) => {
          const d = decide(max, { lagSeconds: bytes, timestamp: NOW - 1_000 });
          if (bytes > max) expect(d.action).toBe('hold');
          else expect(d.action).toBe('failover');
        },
      ),
    );
  });
});
