import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeQueuedShift, encodeQueuedShift } from '../../lambdas/domain/queued-shift.ts';
import type { QueuedShift } from '../../lambdas/domain/types.ts';

const id = fc.string({ minLength: 1, maxLength: 40 });
const state = fc.constantFrom('OK', 'ALARM', 'INSUFFICIENT_DATA') as fc.Arbitrary<
  'OK' | 'ALARM' | 'INSUFFICIENT_DATA'
>;
const shiftArb: fc.Arbitrary<QueuedShift> = fc.record({
  serviceId: id,
  from: id,
  to: id,
  expectedEpoch: fc.nat(),
  holder: id,
  transition: fc.record({
    alarmName: fc.string({ minLength: 1, maxLength: 255 }),
    state,
    previousState: state,
    timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    eventId: id,
  }),
  lagSeconds: fc.double({ min: 0, max: 86_400, noNaN: true }),
  queuedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  reason: fc.string({ maxLength: 256 }),
});

const valid = (): QueuedShift => ({
  serviceId: 's',
  from: 'a',
  to: 'b',
  expectedEpoch: 0,
  holder: 'h',
  transition: { alarmName: 'x', state: 'ALARM', previousState: 'OK', timestamp: 1, eventId: 'e' },
  lagSeconds: 0,
  queuedAt: 2,
  reason: 'Throttling',
});

describe('queued shift messages', () => {
  it('decode to exactly what was encoded', () => {
    fc.assert(
      fc.property(shiftArb, (shift) => {
        expect(decodeQueuedShift(encodeQueuedShift(shift))).toEqual({ ok: true, shift });
      }),
    );
  });

  it.each<[string, (m: Record<string, unknown>) => unknown, RegExp]>([
    ['another version', (m) => ({ ...m, v: 2 }), /^v: /],
    ['a negative epoch', (m) => ({ ...m, expectedEpoch: -1 }), /^expectedEpoch: /],
    ['a fractional epoch', (m) => ({ ...m, expectedEpoch: 1.5 }), /^expectedEpoch: /],
    ['no holder', (m) => ({ ...m, holder: '' }), /^holder: /],
    [
      'an unknown alarm state',
      (m) => ({ ...m, transition: { ...(m.transition as object), state: 'BAD' } }),
      /^transition\.state: /,
    ],
    ['an extra field', (m) => ({ ...m, force: true }), /Unrecognized key/],
    ['a negative lag', (m) => ({ ...m, lagSeconds: -1 }), /^lagSeconds: /],
    ['not an object', () => [1, 2], /^\(root\): /],
  ])('refuse %s, naming the field', (_, mutate, problem) => {
    const message = JSON.parse(encodeQueuedShift(valid()));
    const out = decodeQueuedShift(JSON.stringify(mutate(message)));
    expect(out.ok).toBe(false);
    expect(out.ok === false && out.problems.some((p) => problem.test(p))).toBe(true);
  });

  it('refuse a body that is not JSON', () => {
    expect(decodeQueuedShift('{nope')).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^\(root\): not JSON/)],
    });
  });
});
