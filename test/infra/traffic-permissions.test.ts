import { describe, expect, it } from 'vitest';
import { normalizeRecordName } from '../../lib/traffic-permissions.ts';

describe('normalizeRecordName', () => {
  it.each([
    ['db.example.com', 'db.example.com'],
    ['DB.Example.COM.', 'db.example.com'],
    ['*.example.com', '\\052.example.com'],
    ['_sip._tcp.example.com', '_sip._tcp.example.com'],
    ['a-b.example.com', 'a-b.example.com'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeRecordName(input)).toBe(expected);
  });
});
