/**
 * How the Route 53 record names a deployment may change are grouped into IAM statements, shared by
 * the CDK constructs (which write the statements) and the Route 53 router (which must never send
 * one change batch across two groups).
 *
 * IAM scopes `route53:ChangeResourceRecordSets` by the names in the request with
 * `ForAllValues:StringEquals` on `route53:ChangeResourceRecordSetsNormalizedRecordNames`: a batch is
 * allowed only if ONE statement lists every name in it. A statement must fit in a managed policy
 * (6,144 characters), so a zone with more names than that holds is split into groups, and the
 * router sends one batch per group. Names are grouped in configuration order: appending services
 * only changes a zone's last group.
 */
import type { ServiceConfig } from '../domain/config.ts';

/**
 * Characters of quoted names per group: with the zone ARN, the record types and the actions a
 * statement stays near 3,550 characters, under 60 % of a managed policy's 6,144.
 */
export const RECORD_NAME_CHARS_PER_GROUP = 3_200;

/**
 * The form IAM compares `route53:ChangeResourceRecordSetsNormalizedRecordNames` against: lowercase,
 * no trailing dot, and every character other than a-z, 0-9, '-', '_' and the label dots written as
 * a three-digit octal escape (so the wildcard label `*` becomes `\052`).
 */
export function normalizeRecordName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/[^a-z0-9_.-]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

export interface RecordGroup {
  readonly hostedZoneId: string;
  /** 0, 1, ... within the zone. */
  readonly index: number;
  /** `<zone id>/<index>`: the router batches by it. */
  readonly key: string;
  /** Normalized names, sorted. */
  readonly names: readonly string[];
  /** Record types, sorted. */
  readonly types: readonly string[];
  readonly serviceIds: readonly string[];
}

/** The groups of every Route 53-routed service, zones sorted, groups in configuration order. */
export function route53RecordGroups(
  services: readonly ServiceConfig[],
  maxNameChars = RECORD_NAME_CHARS_PER_GROUP,
): RecordGroup[] {
  const byZone = new Map<string, { names: Set<string>; types: Set<string>; serviceIds: string[] }[]>();
  for (const service of services) {
    const r = service.router;
    if (r.type !== 'route53') continue;
    const groups = byZone.get(r.hostedZoneId) ?? [];
    byZone.set(r.hostedZoneId, groups);
    const name = normalizeRecordName(r.recordName);
    // A name several services share (different types) stays in the group that has it.
    let group = groups.find((g) => g.names.has(name));
    if (!group) {
      group = groups[groups.length - 1];
      const chars = (g: { names: Set<string> }) => [...g.names].reduce((n, x) => n + x.length + 3, 0);
      if (!group || (group.names.size > 0 && chars(group) + name.length + 3 > maxNameChars)) {
        group = { names: new Set(), types: new Set(), serviceIds: [] };
        groups.push(group);
      }
    }
    group.names.add(name);
    group.types.add(r.recordType);
    group.serviceIds.push(service.id);
  }
  return [...byZone.keys()].sort().flatMap((zone) =>
    byZone.get(zone)!.map((g, index) => ({
      hostedZoneId: zone,
      index,
      key: `${zone}/${index}`,
      names: [...g.names].sort(),
      types: [...g.types].sort(),
      serviceIds: g.serviceIds,
    })),
  );
}

/** Service id -> the key of its group. */
export function recordGroupKeys(services: readonly ServiceConfig[]): Map<string, string> {
  return new Map(
    route53RecordGroups(services).flatMap((g) => g.serviceIds.map((id) => [id, g.key] as const)),
  );
}
