import { describe, expect, it } from 'vitest';
import { normalizeRecordName } from '../../lib/traffic-permissions.ts';
import { allTemplates, asArray, generateConfig, identityStatements, sampleConfig, synth } from './helpers.ts';

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

describe('ModifyListener is narrowed by the condition keys ELB offers', () => {
  it.each([
    ['the sample configuration', () => sampleConfig()],
    ['a generated 30-service configuration', () => generateConfig(30, 'mixed', 2)],
  ])(
    '%s: every grant of it, in every role, forbids changing the protocol or the TLS policy',
    (_n, config) => {
      const s = synth(config());
      const grants = allTemplates(s)
        .flatMap((t) => identityStatements(t))
        .filter(({ statement }) =>
          asArray<string>(statement.Action).some((a) => /^elasticloadbalancing:(ModifyListener|\*)$/.test(a)),
        );
      expect(grants.length).toBeGreaterThan(0);
      for (const { policy, statement } of grants) {
        expect(statement.Effect, policy).toBe('Allow');
        expect(statement.Condition, policy).toEqual({
          Null: {
            'elasticloadbalancing:ListenerProtocol': 'true',
            'elasticloadbalancing:SecurityPolicy': 'true',
          },
        });
        for (const r of asArray<string>(statement.Resource))
          expect(r, policy).toMatch(/:listener\/(app|net)\//);
      }
    },
  );
});
