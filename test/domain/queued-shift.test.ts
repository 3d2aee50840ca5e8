import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeQueuedShift,
  encodeQueuedShift,
  MAX_ACTION_TEXT,
  MAX_QUEUED_ACTIONS,
} from '../../lambdas/domain/queued-shift.ts';
import type { QueuedShift } from '../../lambdas/domain/types.ts';

const id = fc.string({ minLength: 1, maxLength: 40 });
const state = fc.constantFrom('OK', 'ALARM', 'INSUFFICIENT_DATA') as fc.Arbitrary<
  'OK' | 'ALARM' | 'INSUFFICIENT_DATA'
>;
const action = fc.record(
  {
    role: fc.constantFrom('fence', 'unfence', 'promote', 'demote') as fc.Arbitrary<
      'fence' | 'unfence' | 'promote' | 'demote'
    >,
    nodeId: id,
    token: fc.nat(),
    status: fc.constantFrom('succeeded', 'failed', 'timed-out') as fc.Arbitrary<
      'succeeded' | 'failed' | 'timed-out'
    >,
    kind: fc.string({ maxLength: 40 }),
    detail: fc.string({ maxLength: MAX_ACTION_TEXT }),
    outputTail: fc.string({ maxLength: MAX_ACTION_TEXT }),
    durationMs: fc.nat(),
  },
  { requiredKeys: ['role', 'nodeId', 'token', 'status', 'kind', 'detail', 'durationMs'] },
);
const shiftArb: fc.Arbitrary<QueuedShift> = fc.record(
  {
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
    token: id,
    // A target promoted before the shift was throttled: the shifter must send it as queued.
    promoted: fc.record({
      fenced: fc.constantFrom('yes', 'no', 'unknown') as fc.Arbitrary<'yes' | 'no' | 'unknown'>,
      actions: fc.array(action, { maxLength: MAX_QUEUED_ACTIONS }),
    }),
  },
  {
    requiredKeys: [
      'serviceId',
      'from',
      'to',
      'expectedEpoch',
      'holder',
      'transition',
      'lagSeconds',
      'queuedAt',
      'reason',
    ],
  },
);

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

  it('keep a promoted target and its actions across the wire (the shifter must not re-decide it), and stay below SQS 256 KB at worst', () => {
    const worst = '\u0001'.repeat(MAX_ACTION_TEXT * 2);
    const action = {
      role: 'promote' as const,
      nodeId: 'c',
      token: 1_000_000_102,
      status: 'succeeded' as const,
      kind: worst,
      detail: worst,
      outputTail: worst,
      durationMs: 5,
    };
    const shift = { ...valid(), promoted: { fenced: 'unknown' as const, actions: Array(40).fill(action) } };
    const body = encodeQueuedShift(shift);
    expect(Buffer.byteLength(body)).toBeLessThan(256 * 1024);
    const out = decodeQueuedShift(body);
    expect(out.ok && out.shift.promoted?.fenced).toBe('unknown');
    expect(out.ok && out.shift.promoted?.actions.length).toBe(MAX_QUEUED_ACTIONS);
    expect(out.ok && out.shift.promoted?.actions[0]?.detail.length).toBe(MAX_ACTION_TEXT);
  });

  it.each<[string, (m: Record<string, unknown>) => unknown, RegExp]>([
    [
      'a promoted verdict that is not one',
      (m) => ({ ...m, promoted: { fenced: 'maybe', actions: [] } }),
      /^promoted\.fenced: /,
    ],
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
