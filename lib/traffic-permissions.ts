/**
 * Least-privilege IAM statements for the Lambdas that move traffic and read health signals,
 * derived from the validated configuration. Every write action is scoped to a configured
 * resource; the only `Resource: '*'` statements hold read actions that IAM cannot scope.
 */
import { Aws } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { FailoverConfig } from '../lambdas/domain/config.ts';

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

/** Route 53 record changes, one statement per (hosted zone, record type). */
export function route53Statements(config: FailoverConfig): PolicyStatement[] {
  const byZoneAndType = new Map<string, { zoneId: string; type: string; names: Set<string> }>();
  const zones = new Set<string>();
  for (const service of config.services) {
    const r = service.router;
    if (r.type !== 'route53') continue;
    zones.add(r.hostedZoneId);
    const key = `${r.hostedZoneId}/${r.recordType}`;
    const entry = byZoneAndType.get(key) ?? { zoneId: r.hostedZoneId, type: r.recordType, names: new Set() };
    entry.names.add(normalizeRecordName(r.recordName));
    byZoneAndType.set(key, entry);
  }
  if (zones.size === 0) return [];
  const zoneArn = (id: string) => `arn:${Aws.PARTITION}:route53:::hostedzone/${id}`;
  const statements = [...byZoneAndType.values()].map(
    ({ zoneId, type, names }) =>
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [zoneArn(zoneId)],
        // Per zone and type, so a name of one zone cannot be written into another (delegated
        // sub-zones share suffixes) and an A-record service cannot create a CNAME. Only DELETE and
        // CREATE: the router's exact-value [DELETE old, CREATE new] batch is the compare-and-swap;
        // denying UPSERT makes a blind last-writer-wins overwrite impossible even for a buggy caller.
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...names].sort(),
            'route53:ChangeResourceRecordSetsRecordTypes': [type],
            'route53:ChangeResourceRecordSetsActions': ['DELETE', 'CREATE'],
          },
        },
      }),
  );
  statements.push(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['route53:ListResourceRecordSets'],
      resources: [...zones].sort().map(zoneArn),
    }),
    new PolicyStatement({
      effect: Effect.ALLOW,
      // Change ids are only known after the change; Route 53 scopes GetChange by change/* at most.
      actions: ['route53:GetChange'],
      resources: [`arn:${Aws.PARTITION}:route53:::change/*`],
    }),
  );
  return statements;
}

/** ELBv2 target registration and listener weights, scoped to the configured ARNs. */
export function elbStatements(config: FailoverConfig): PolicyStatement[] {
  const targetGroups = new Set<string>();
  const listeners = new Set<string>();
  for (const service of config.services) {
    const r = service.router;
    if (r.type === 'elbv2-target') targetGroups.add(r.targetGroupArn);
    if (r.type === 'elbv2-weighted') listeners.add(r.listenerArn);
  }
  const statements: PolicyStatement[] = [];
  if (targetGroups.size > 0) {
    statements.push(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        resources: [...targetGroups].sort(),
      }),
    );
  }
  if (listeners.size > 0) {
    statements.push(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['elasticloadbalancing:ModifyListener'],
        resources: [...listeners].sort(),
      }),
    );
  }
  return statements;
}

/**
 * Read-only actions that IAM cannot scope to a resource: ELBv2 Describe* and CloudWatch
 * DescribeAlarms/GetMetricData list no resource types in the service authorization reference, so
 * any other Resource than '*' would deny them.
 */
export function signalReadStatements(config: FailoverConfig): PolicyStatement[] {
  const usesElb = config.services.some((s) => s.router.type !== 'route53');
  return [
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData'],
      resources: ['*'],
    }),
    ...(usesElb
      ? [
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: [
              'elasticloadbalancing:DescribeTargetHealth',
              'elasticloadbalancing:DescribeListeners',
              'elasticloadbalancing:DescribeRules',
              'elasticloadbalancing:DescribeTargetGroups',
            ],
            resources: ['*'],
          }),
        ]
      : []),
  ];
}
