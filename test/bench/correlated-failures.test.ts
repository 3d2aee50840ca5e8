/**
 * Correlated failures (issue 6): 200 services whose primaries fail at once, on a simulated Route 53
 * with its real limits, through the real failover handler, router, queue hand-off and zone
 * shifter. Asserts the OUTCOME (every service failed over exactly once, none lost, traffic on
 * exactly one node that matches the recorded primary), never timing: `npm run bench` reports that.
 */
import { describe, expect, it } from 'vitest';
import { runCorrelated } from '../../bench/correlated.ts';

describe('200 services failing at once', () => {
  it.each([1, 2])(
    'with the zone shifter, all fail over and none is lost (%i hosted zone(s))',
    async (zones) => {
      const r = await runCorrelated({ design: 'zone-shift', services: 200, zones });
      expect(r.violations).toEqual([]);
      expect(r.failedOver).toBe(200);
      expect(r.lost).toBe(0);
      expect(r.deadLettered).toBe(0);
      // Coalesced: a handful of accepted Route 53 changes, not one per service.
      expect(r.calls.route53.acceptedChanges).toBeLessThan(20);
      expect(r.calls.queueMessages).toBeGreaterThan(0);
      for (const s of r.services) expect(s.committedAtMs, s.serviceId).toBeDefined();
    },
  );

  it('isolates records an operator moved beforehand: those are reported conflicts, all others fail over', async () => {
    const r = await runCorrelated({ design: 'zone-shift', services: 200, zones: 1, conflicts: 5 });
    expect(r.violations).toEqual([]);
    expect(r.expected).toBe(195);
    expect(r.failedOver).toBe(195);
    expect(r.conflictsReported).toBe(5);
    expect(r.lost).toBe(0);
  });

  it.each([3, 11, 29])('holds across random arrival orders (seed %i)', async (seed) => {
    const r = await runCorrelated({ design: 'zone-shift', services: 200, zones: 2, seed });
    expect(r.violations).toEqual([]);
    expect(r.failedOver).toBe(200);
  });

  it('one change per event (the design before the queue) loses failovers, though it never breaks an invariant', async () => {
    const r = await runCorrelated({ design: 'per-event', services: 200, zones: 1 });
    expect(r.violations).toEqual([]);
    expect(r.lost).toBeGreaterThan(0);
    expect(r.deadLettered).toBe(r.lost);
    expect(r.failedOver + r.lost).toBe(200);
  });
});
