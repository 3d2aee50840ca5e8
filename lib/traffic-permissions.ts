/**
 * Least-privilege IAM statements for the Lambdas that move traffic and read health signals,
 * derived from the validated configuration. Every write action is scoped to a configured
 * resource; the only `Resource: '*'` statements hold read actions that IAM cannot scope.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import {
  Effect,
  Grant,
  type IGrantable,
  type IRole,
  ManagedPolicy,
  Policy,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { normalizeRecordName, route53RecordGroups } from '../lambdas/contract/route53-permissions.ts';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { LIMITS, policyChars } from './limits.ts';

export { normalizeRecordName };

const zoneArn = (id: string) => `arn:${Aws.PARTITION}:route53:::hostedzone/${id}`;

/**
 * Route 53 record changes: one statement per record-name group of a hosted zone
 * (lambdas/contract/route53-permissions.ts; one group per zone until a zone's names outgrow a
 * managed policy). Per zone, so a name of one zone cannot be written into another (delegated
 * sub-zones share suffixes). A group's names and types stay in ONE statement: the router batches
 * the changes of a group into one request, and ForAllValues needs all of the request's names and
 * types in the same statement's lists. Only DELETE and CREATE: the exact-value
 * [DELETE old, CREATE new] batch is the compare-and-swap; denying UPSERT makes a blind
 * last-writer-wins overwrite impossible even for a buggy caller.
 */
export function route53ChangeStatements(config: FailoverConfig): PolicyStatement[] {
  return route53RecordGroups(config.services).map(
    (group) =>
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [zoneArn(group.hostedZoneId)],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...group.names],
            'route53:ChangeResourceRecordSetsRecordTypes': [...group.types],
            'route53:ChangeResourceRecordSetsActions': ['DELETE', 'CREATE'],
          },
        },
      }),
  );
}

/** Route 53 reads: the configured zones' records, and the status of a change. */
export function route53ReadStatements(config: FailoverConfig): PolicyStatement[] {
  const zones = [
    ...new Set(config.services.flatMap((s) => (s.router.type === 'route53' ? [s.router.hostedZoneId] : []))),
  ].sort();
  if (zones.length === 0) return [];
  return [
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
  ];
}

/** Every Route 53 statement: the scoped changes and the reads. */
export function route53Statements(config: FailoverConfig): PolicyStatement[] {
  return [...route53ChangeStatements(config), ...route53ReadStatements(config)];
}

/**
 * Characters per managed policy the traffic statements are packed into: 60 % of IAM's 6,144, the
 * headroom the deploy-limit figures aim for.
 */
export const TRAFFIC_POLICY_BUDGET_CHARS = Math.floor(LIMITS.managedPolicyChars.max * 0.6);

export interface TrafficPermissionsProps {
  readonly config: FailoverConfig;
}

/**
 * The scoped traffic writes (Route 53 record changes, ELB registrations and listener weights) as
 * customer managed policies shared by every Lambda that moves traffic. The statements grow with
 * the fleet (a record name or an ARN per service): inline, each role would carry its own copy and
 * pass IAM's 10,240 characters per role near 450 services. Packed into policies of at most
 * TRAFFIC_POLICY_BUDGET_CHARS, written once, attached to each role: the first inline, the rest
 * managed.
 */
export class TrafficPermissions extends Construct {
  /** The first part of the scoped writes, attached inline to every grantee role. */
  readonly inlinePolicy?: Policy;
  /** The other parts, as customer managed policies. */
  readonly policies: readonly ManagedPolicy[];
  private readonly writes: readonly PolicyStatement[];
  private readonly reads: readonly PolicyStatement[];

  constructor(scope: Construct, id: string, props: TrafficPermissionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const docs: { statements: PolicyStatement[]; chars: number }[] = [];
    // The document wrapper: {"Version":"2012-10-17","Statement":[...]}.
    const wrapper = policyChars({ Version: '2012-10-17', Statement: [] });
    this.writes = [...route53ChangeStatements(props.config), ...elbStatements(props.config)];
    for (const statement of this.writes) {
      const chars = policyChars(stack.resolve(statement.toStatementJson())) + 1;
      const last = docs[docs.length - 1];
      if (last && last.chars + chars <= TRAFFIC_POLICY_BUDGET_CHARS) {
        last.statements.push(statement);
        last.chars += chars;
      } else {
        docs.push({ statements: [statement], chars: wrapper + chars });
      }
    }
    // The first part is an inline policy attached to each role (one AWS::IAM::Policy resource):
    // IAM counts it against the role's 10,240 inline characters, which the roles' own statements
    // leave mostly free, instead of against the 10 managed policies a role may have. 1,000
    // services of ~20-character names in one zone take 7 parts: 1 inline and 6 managed (60 % of
    // the 10) instead of 7 managed (70 %).
    const [first, ...rest] = docs;
    this.inlinePolicy = first
      ? new Policy(this, 'Inline', {
          document: new PolicyDocument({ statements: first.statements }),
        })
      : undefined;
    this.policies = rest.map(
      (doc, i) =>
        new ManagedPolicy(this, `Policy${i + 1}`, {
          description: `Failover automation: scoped traffic changes, part ${i + 2} of ${docs.length}`,
          document: new PolicyDocument({ statements: doc.statements }),
        }),
    );
    this.reads = [...route53ReadStatements(props.config), ...signalReadStatements(props.config)];
  }

  /** Attaches the policies to the grantee's role and adds the reads to its own policy. */
  grant(grantee: IGrantable): Grant {
    const principal = grantee.grantPrincipal;
    if (isRole(principal)) {
      this.inlinePolicy?.attachToRole(principal);
      for (const policy of this.policies) policy.attachToRole(principal);
    } else {
      // Not a role (a user, an imported principal): its own policy gets the statements.
      for (const statement of this.writes) principal.addToPrincipalPolicy(statement);
    }
    for (const statement of this.reads) principal.addToPrincipalPolicy(statement);
    return Grant.drop(grantee, 'traffic changes (managed policies) and signal reads');
  }
}

function isRole(x: unknown): x is IRole {
  return typeof (x as IRole)?.addManagedPolicy === 'function' && typeof (x as IRole)?.roleArn === 'string';
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
