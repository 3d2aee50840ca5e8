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

/** Route 53 record changes, one statement per hosted zone. */
export function route53Statements(config: FailoverConfig): PolicyStatement[] {
  const byZone = new Map<string, { names: Set<string>; types: Set<string> }>();
  for (const service of config.services) {
    const r = service.router;
    if (r.type !== 'route53') continue;
    const entry = byZone.get(r.hostedZoneId) ?? { names: new Set(), types: new Set() };
    entry.names.add(normalizeRecordName(r.recordName));
    entry.types.add(r.recordType);
    byZone.set(r.hostedZoneId, entry);
  }
  if (byZone.size === 0) return [];
  const zoneArn = (id: string) => `arn:${Aws.PARTITION}:route53:::hostedzone/${id}`;
  const zones = [...byZone.keys()].sort();
  const statements = zones.map((zoneId) => {
    const { names, types } = byZone.get(zoneId)!;
    return new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [zoneArn(zoneId)],
      // One statement per zone, so a name of one zone cannot be written into another (delegated
      // sub-zones share suffixes). Names and types of a zone stay in ONE statement: the router
      // batches every change to a zone into one request, and ForAllValues needs all of the
      // request's names and types in the same statement's lists. Only DELETE and CREATE: the
      // exact-value [DELETE old, CREATE new] batch is the compare-and-swap; denying UPSERT makes a
      // blind last-writer-wins overwrite impossible even for a buggy caller.
      conditions: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...names].sort(),
          'route53:ChangeResourceRecordSetsRecordTypes': [...types].sort(),
          'route53:ChangeResourceRecordSetsActions': ['DELETE', 'CREATE'],
        },
      },
    });
  });
  statements.push(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['route53:ListResourceRecordSets'],
      resources: zones.map(zoneArn),
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
  for (const chunk of chunks([...targetGroups].sort())) {
    statements.push(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        resources: chunk,
      }),
    );
  }
  for (const chunk of chunks([...listeners].sort())) {
    statements.push(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['elasticloadbalancing:ModifyListener'],
        resources: chunk,
        conditions: MODIFY_LISTENER_CONDITIONS,
      }),
    );
  }
  return statements;
}

/**
 * The router's ModifyListener sends only the listener ARN and the default actions (the weights).
 * ModifyListener's condition keys (service authorization reference) are the listener protocol and
 * the TLS security policy in the request, and tags: requiring both keys to be absent lets the role
 * rewrite weights but never downgrade HTTPS to HTTP or change the TLS policy. No key covers the
 * default actions' target groups, the port or the certificates (see RELIABILITY.md, security).
 */
export const MODIFY_LISTENER_CONDITIONS = {
  Null: {
    'elasticloadbalancing:ListenerProtocol': 'true',
    'elasticloadbalancing:SecurityPolicy': 'true',
  },
} as const;

/**
 * CDK moves whole statements into overflow managed policies (6,144 characters each) when a role's
 * inline policy passes 10,240; a statement bigger than that could not be placed anywhere. Each
 * statement gets at most this many ARNs (~110 characters each), unlike Route 53 names which must
 * stay together (see above). Splitting ARNs is harmless: each ELB call names one resource.
 */
const ARNS_PER_STATEMENT = 25;

function chunks<T>(items: readonly T[], size = ARNS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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
