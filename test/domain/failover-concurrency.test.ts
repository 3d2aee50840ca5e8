import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FAILOVER_CONCURRENCY_CAP,
  defaultFailoverConcurrency,
  failoverConcurrency,
  MIN_FAILOVER_CONCURRENCY,
} from '../../lambdas/domain/failover-concurrency.ts';

describe('defaultFailoverConcurrency', () => {
  it.each([
    [1, 10],
    [10, 10],
    [11, 11],
    [100, 100],
    [1000, 100],
  ])('%i services -> %i executions', (services, expected) => {
    expect(defaultFailoverConcurrency(services)).toBe(expected);
  });

  it('never throttles a correlated failure of the whole fleet below the cap, and stays within its bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), (services) => {
        const c = defaultFailoverConcurrency(services);
        expect(c).toBeGreaterThanOrEqual(MIN_FAILOVER_CONCURRENCY);
        expect(c).toBeLessThanOrEqual(DEFAULT_FAILOVER_CONCURRENCY_CAP);
        if (services <= DEFAULT_FAILOVER_CONCURRENCY_CAP) expect(c).toBeGreaterThanOrEqual(services);
        expect(defaultFailoverConcurrency(services + 1)).toBeGreaterThanOrEqual(c);
      }),
    );
  });
});

describe('failoverConcurrency', () => {
  it('the configured value wins over the derived default', () => {
    expect(failoverConcurrency({ failoverConcurrency: 3, services: new Array(500) })).toBe(3);
    expect(failoverConcurrency({ services: new Array(500) })).toBe(100);
  });
});
