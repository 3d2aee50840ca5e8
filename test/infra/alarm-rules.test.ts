import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alarmEventPattern,
  EVENT_PATTERN_QUOTA_CHARS,
  eventPatternSize,
  packAlarmNames,
} from '../../lib/alarm-rules.ts';

const alarmName = fc.string({ minLength: 1, maxLength: 255, unit: 'grapheme-ascii' });

describe('packAlarmNames', () => {
  it('keeps every name once, in order, in groups whose patterns fit the quota', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(alarmName, { maxLength: 300 }),
        fc.integer({ min: 600, max: 4096 }),
        (names, max) => {
          const groups = packAlarmNames(names, max);
          expect(groups.flat()).toEqual(names);
          for (const g of groups) {
            expect(g.length).toBeGreaterThan(0);
            expect(eventPatternSize(g)).toBeLessThanOrEqual(max);
            // The compact JSON CloudFormation sends is never larger than what we measured.
            expect(JSON.stringify(alarmEventPattern(g)).length).toBeLessThanOrEqual(eventPatternSize(g));
          }
        },
      ),
    );
  });

  it('fills each group: the next name would not have fitted', () => {
    fc.assert(
      fc.property(fc.uniqueArray(alarmName, { minLength: 1, maxLength: 300 }), (names) => {
        const groups = packAlarmNames(names);
        for (let i = 0; i + 1 < groups.length; i++) {
          expect(eventPatternSize([...groups[i]!, groups[i + 1]![0]!])).toBeGreaterThan(
            EVENT_PATTERN_QUOTA_CHARS,
          );
        }
      }),
    );
  });

  it('returns no groups for no names', () => {
    expect(packAlarmNames([])).toEqual([]);
  });

  it('refuses a name that cannot fit any pattern', () => {
    expect(() => packAlarmNames(['x'.repeat(200)], 200)).toThrow(
      /alarm name too long .* 200 characters, got: x+/,
    );
  });

  it('measures JSON escapes the way EventBridge counts them', () => {
    expect(eventPatternSize(['a"b'])).toBe(eventPatternSize(['abcd']));
  });
});
