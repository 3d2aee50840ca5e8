/**
 * The fencing-token order every node action relies on: (epoch, attempt, step), with the closing
 * steps (rejoin, split-brain fence) above every attempt of their epoch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fencingToken,
  MAX_TOKEN_ATTEMPT,
  TOKEN_SEQUENCE,
  type TokenStep,
  tokenAttemptFits,
  tokenParts,
} from '../../lambdas/domain/node-actions.ts';

const STEPS = Object.keys(TOKEN_SEQUENCE) as TokenStep[];
const FORWARD: TokenStep[] = ['fence', 'promote', 'demote'];
const ROLLBACK: TokenStep[] = ['unfence', 'demoteTarget'];
const CLOSING: TokenStep[] = ['rejoin', 'splitBrainFence'];

const epoch = fc.integer({ min: 0, max: 1_000_000 });
const attempt = fc.integer({ min: 0, max: MAX_TOKEN_ATTEMPT });
const step = fc.constantFrom(...STEPS);

describe('fencingToken', () => {
  it("a later attempt's fence outranks an earlier attempt's rollback unfence (the same epoch)", () => {
    // An attempt that failed to promote unfences the old primary; the next attempt fences it again.
    expect(fencingToken(1, 'fence', 2)).toBeGreaterThan(fencingToken(1, 'unfence', 1));
    fc.assert(
      fc.property(
        epoch,
        attempt,
        fc.constantFrom(...FORWARD, ...ROLLBACK),
        fc.constantFrom(...FORWARD, ...ROLLBACK),
        (e, a, s1, s2) => {
          fc.pre(a < MAX_TOKEN_ATTEMPT);
          expect(fencingToken(e, s2, a + 1)).toBeGreaterThan(fencingToken(e, s1, a));
        },
      ),
    );
  });

  it('within one attempt every rollback call outranks every forward call it may undo', () => {
    fc.assert(
      fc.property(epoch, attempt, (e, a) => {
        for (const f of FORWARD)
          for (const r of ROLLBACK) expect(fencingToken(e, r, a)).toBeGreaterThan(fencingToken(e, f, a));
      }),
    );
  });

  it('the closing steps outrank every attempt of their epoch and stay below the next epoch', () => {
    fc.assert(
      fc.property(epoch, attempt, step, fc.constantFrom(...CLOSING), (e, a, s, closing) => {
        if (!CLOSING.includes(s)) expect(fencingToken(e, closing, a)).toBeGreaterThan(fencingToken(e, s, a));
        expect(fencingToken(e, closing, a)).toBeGreaterThan(
          fencingToken(e, 'demoteTarget', MAX_TOKEN_ATTEMPT),
        );
        expect(fencingToken(e, closing, a)).toBeLessThan(fencingToken(e + 1, 'fence', 0));
      }),
    );
  });

  it('is strictly increasing in (epoch, attempt, step) and taken apart by tokenParts', () => {
    fc.assert(
      fc.property(epoch, attempt, step, epoch, attempt, step, (e1, a1, s1, e2, a2, s2) => {
        const slot = (a: number, s: TokenStep) => (CLOSING.includes(s) ? MAX_TOKEN_ATTEMPT + 1 : a);
        const key = (e: number, a: number, s: TokenStep) => [e, slot(a, s), TOKEN_SEQUENCE[s]] as const;
        const k1 = key(e1, a1, s1);
        const k2 = key(e2, a2, s2);
        const cmp = k1[0] - k2[0] || k1[1] - k2[1] || k1[2] - k2[2];
        const t1 = fencingToken(e1, s1, a1);
        const t2 = fencingToken(e2, s2, a2);
        expect(Math.sign(t1 - t2)).toBe(Math.sign(cmp));
        expect(tokenParts(t1)).toEqual({ epoch: e1, attempt: slot(a1, s1), sequence: TOKEN_SEQUENCE[s1] });
        expect(Number.isSafeInteger(t1)).toBe(true);
      }),
    );
  });

  it('without an attempt (callers with no lease) it orders below every leased attempt of the epoch', () => {
    expect(fencingToken(3, 'demoteTarget')).toBeLessThan(fencingToken(3, 'fence', 1));
    expect(fencingToken(3, 'fence')).toBe(fencingToken(3, 'fence', 0));
  });

  it('refuses an attempt past the token space and a negative or fractional epoch', () => {
    expect(tokenAttemptFits(MAX_TOKEN_ATTEMPT)).toBe(true);
    expect(tokenAttemptFits(MAX_TOKEN_ATTEMPT + 1)).toBe(false);
    expect(tokenAttemptFits(1.5)).toBe(false);
    expect(() => fencingToken(1, 'fence', MAX_TOKEN_ATTEMPT + 1)).toThrow(
      /attempt must be a whole number from 0 to 9999998, got: 9999999/,
    );
    expect(() => fencingToken(-1, 'fence')).toThrow(/epoch must be a whole number >= 0, got: -1/);
  });
});
