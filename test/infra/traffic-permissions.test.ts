import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetConfig } from '../../bench/fleet.ts';
import { recordGroupKeys, route53RecordGroups } from '../../lambdas/contract/route53-permissions.ts';
import type { ServiceConfig } from '../../lambdas/domain/config.ts';
import { policyChars } from '../../lib/limits.ts';
import { normalizeRecordName, TRAFFIC_POLICY_BUDGET_CHARS } from '../../lib/traffic-permissions.ts';
import {
  allTemplates,
  asArray,
  generateConfig,
  identityStatements,
  resourcesOf,
  type Synthesized,
  sampleConfig,
  synth,
} from './helpers.ts';

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

const r53Service = (id: string, zone: string, recordName: string, recordType = 'A') =>
  ({
    id,
    router: { type: 'route53', hostedZoneId: zone, recordName, recordType },
  }) as unknown as ServiceConfig;
const quotedChars = (names: readonly string[]) => names.reduce((n, x) => n + x.length + 3, 0);

describe('route53RecordGroups', () => {
  const service = fc.record({
    zone: fc.constantFrom('ZA', 'ZB', 'ZC'),
    label: fc.stringMatching(/^[a-z0-9-]{1,40}$/),
    type: fc.constantFrom('A', 'AAAA', 'CNAME'),
  });
  const services = fc
    .uniqueArray(service, { maxLength: 400, selector: (s) => `${s.zone}/${s.label}` })
    .map((list) => list.map((s, i) => r53Service(`s${i}`, s.zone, `${s.label}.example.com`, s.type)));

  it('puts every service in exactly one group of its zone, each group within the name budget', () => {
    fc.assert(
      fc.property(services, fc.integer({ min: 100, max: 4000 }), (list, budget) => {
        const groups = route53RecordGroups(list, budget);
        expect(groups.flatMap((g) => g.serviceIds).sort()).toEqual(list.map((s) => s.id).sort());
        for (const g of groups) {
          expect(g.names.length).toBeGreaterThan(0);
          if (g.names.length > 1) expect(quotedChars(g.names)).toBeLessThanOrEqual(budget);
          for (const id of g.serviceIds) {
            const s = list.find((x) => x.id === id)!;
            const r = s.router as { hostedZoneId: string; recordName: string; recordType: string };
            expect(r.hostedZoneId).toBe(g.hostedZoneId);
            expect(g.names).toContain(normalizeRecordName(r.recordName));
            expect(g.types).toContain(r.recordType);
          }
        }
      }),
    );
  });

  it('keeps every group but the last of each zone unchanged when services are appended', () => {
    fc.assert(
      fc.property(services, fc.nat(), (list, cut) => {
        const head = list.slice(0, list.length ? cut % list.length : 0);
        const before = route53RecordGroups(head, 500);
        const after = new Map(route53RecordGroups(list, 500).map((g) => [g.key, g]));
        const lastIndex = new Map<string, number>();
        for (const g of before) lastIndex.set(g.hostedZoneId, g.index);
        for (const g of before) {
          if (g.index === lastIndex.get(g.hostedZoneId)) continue;
          expect(after.get(g.key)?.serviceIds).toEqual(g.serviceIds);
        }
        // And no existing service changes group unless it was in its zone's last group.
        const keys = recordGroupKeys(list);
        for (const g of before) {
          if (g.index === lastIndex.get(g.hostedZoneId)) continue;
          for (const id of g.serviceIds) expect(keys.get(id)).toBe(g.key);
        }
      }),
    );
  });
});

describe('Route 53 permissions for 300 services in one hosted zone', () => {
  const config = fleetConfig(300);
  let s: Synthesized;
  beforeAll(() => {
    s = synth(config);
  });
  const roles = [
    'AutomationFailoverFunctionServiceRole',
    'AutomationZoneShiftFunctionServiceRole',
    'AutomationWorkflowFunctionServiceRole',
  ];
  const changeStatements = (role: string) =>
    identityStatements(s.template, role)
      .map((x) => x.statement)
      .filter((st) => asArray<string>(st.Action).includes('route53:ChangeResourceRecordSets'));

  it('gives each role one statement per record-name group, together listing exactly the configured names', () => {
    const groups = route53RecordGroups(config.services);
    expect(groups.length).toBeGreaterThan(1);
    for (const role of roles) {
      const statements = changeStatements(role);
      expect(statements, role).toHaveLength(groups.length);
      const listed = statements.map(
        (st) =>
          st.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'],
      );
      // A batch of a group is allowed by one statement: the one listing all of its names.
      for (const g of groups)
        expect(listed.some((names) => g.names.every((n) => names.includes(n)))).toBe(true);
      expect(listed.flat().sort()).toEqual(
        config.services
          .map((x) => normalizeRecordName((x.router as { recordName: string }).recordName))
          .sort(),
      );
      for (const st of statements) {
        expect(st.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsActions']).toEqual([
          'DELETE',
          'CREATE',
        ]);
        expect(JSON.stringify(st.Resource)).toMatch(/hostedzone\/Z0123456789EXAMPLE"/);
        expect(JSON.stringify(st)).not.toContain('UPSERT');
      }
    }
  });

  it('writes the statements once, as policies of at most 60 % of the IAM limit shared by the roles: the first inline, the rest managed', () => {
    // The traffic policies (the operator managed policy is attached by the account owner).
    const managed = Object.entries(resourcesOf(s.template, 'AWS::IAM::ManagedPolicy'))
      .filter(([id]) => id.startsWith('AutomationTrafficPermissions'))
      .map(([, p]) => p);
    const inline = Object.entries(resourcesOf(s.template, 'AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('AutomationTrafficPermissionsInline'))
      .map(([, p]) => p);
    expect(inline).toHaveLength(1);
    expect(JSON.stringify(inline[0]!.Properties.PolicyDocument)).toContain(
      'route53:ChangeResourceRecordSets',
    );
    expect(managed.length).toBeGreaterThan(1);
    managed.push(...inline);
    for (const p of managed) {
      expect(policyChars(p.Properties.PolicyDocument)).toBeLessThanOrEqual(TRAFFIC_POLICY_BUDGET_CHARS);
      const attached = (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
      for (const role of roles)
        expect(
          attached.some((a) => a.startsWith(role)),
          role,
        ).toBe(true);
    }
    for (const { statement } of identityStatements(s.template)) {
      if (asArray<string>(statement.Action).includes('route53:ChangeResourceRecordSets'))
        expect(statement.Resource).not.toBe('*');
    }
  });
});
