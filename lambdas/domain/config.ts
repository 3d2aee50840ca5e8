/**
 * The operator's configuration: what to protect and how. One schema serves `cdk synth` (which
 * reports every problem at once) and the Lambdas (which read the same, already validated, JSON).
 *
 * Pure: zod only, no AWS SDK, no environment, no clock.
 */
import * as z from 'zod';
import { actionsSchema, checkServiceActions, nodeActionFields } from './action-config.ts';
import { checkHealthSignals } from './config-checks.ts';
import { describeConfigIssue } from './config-messages.ts';
import { type ConfigProblem, ConfigValidationError, formatValue } from './errors.ts';
import { MAX_FAILOVER_CONCURRENCY } from './failover-concurrency.ts';
import {
  applyProbeDefaults,
  probeDefaultsSchema,
  probeHealthSignalSchema,
  probeSchema,
} from './probe-config.ts';
import { DEFAULT_READINESS, readinessSchema } from './readiness-config.ts';

const ID = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
const idSchema = z
  .string()
  .regex(ID, 'must be 1-48 lowercase letters, digits or dashes, starting and ending with a letter or digit');

const targetGroupArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
    'must be a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)',
  );
const listenerArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(app|net)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
    'must be a listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app|net/<lb>/<id>/<id>)',
  );
const loadBalancerArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(app|net)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
    'must be a load balancer ARN',
  );

/** A DNS name without a trailing dot, lowercase, e.g. `db.example.com`. */
const dnsName = z
  .string()
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .regex(
        /^(?=.{1,253}$)(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$/,
        'must be a fully qualified DNS name such as db.example.com',
      ),
  );

// ---------------------------------------------------------------------------------------------
// Traffic routers
// ---------------------------------------------------------------------------------------------

export const route53RouterSchema = z.strictObject({
  type: z.literal('route53'),
  /** Hosted zone id, e.g. Z0123456789ABCDEFGHIJ. */
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as Z0123456789ABC'),
  /** The zone's apex name, so records outside it are rejected at synth. */
  zoneName: dnsName,
  recordName: dnsName,
  recordType: z.enum(['A', 'AAAA', 'CNAME']),
  /** Low TTLs bound the DNS part of recovery time; 5..3600 s. */
  ttlSeconds: z.number().int().min(5).max(3600).default(30),
});

export const elbTargetRouterSchema = z.strictObject({
  type: z.literal('elbv2-target'),
  /** One target group; the primary is its only registered target. Nodes give `target`. */
  targetGroupArn,
});

export const elbWeightedRouterSchema = z.strictObject({
  type: z.literal('elbv2-weighted'),
  /** A listener whose default action forwards to per-node target groups (nodes give `targetGroupArn`). */
  listenerArn,
});

export const routerSchema = z.discriminatedUnion('type', [
  route53RouterSchema,
  elbTargetRouterSchema,
  elbWeightedRouterSchema,
]);

// ---------------------------------------------------------------------------------------------
// Health and lag signals
// ---------------------------------------------------------------------------------------------

export const healthSignalSchema = z.discriminatedUnion('type', [
  z.strictObject({
    /** An alarm that already exists; the stack only listens to it. */
    type: z.literal('alarm'),
    alarmName: z.string().min(1).max(255),
  }),
  z.strictObject({
    /** The stack creates a Route 53 health check and an alarm on it (metrics live in us-east-1). */
    type: z.literal('route53-health-check'),
    protocol: z.enum(['HTTP', 'HTTPS', 'TCP']),
    /** IP address or host name of the endpoint. */
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535),
    path: z.string().startsWith('/').max(255).optional(),
    /** 10 (fast) or 30 s. */
    requestIntervalSeconds: z.union([z.literal(10), z.literal(30)]).default(10),
    failureThreshold: z.number().int().min(1).max(10).default(3),
  }),
  z.strictObject({
    /** The stack creates an alarm on the target group's HealthyHostCount (< 1 is unhealthy). */
    type: z.literal('target-group-health'),
    targetGroupArn,
    loadBalancerArn,
  }),
  /** The stack's node probe: an alarm on its high-resolution `Healthy` metric (the default with a probe). */
  probeHealthSignalSchema,
]);

const lagRequired = {
  error: (iss: { input?: unknown }) =>
    iss.input === undefined
      ? 'required unless the node has a probe that measures lag (postgres, mysql, or http with lagPointer)'
      : undefined,
};

export const lagMetricSchema = z.strictObject(
  {
    namespace: z.string().min(1).max(255),
    metricName: z.string().min(1).max(255),
    dimensions: z.record(z.string().min(1).max(255), z.string().min(1).max(1024)).default({}),
    statistic: z.enum(['Maximum', 'Average', 'Minimum', 'p99', 'p90', 'p50']).default('Maximum'),
    /** The period the lag is aggregated over; 1, 5, 10, 30 or a multiple of 60. */
    periodSeconds: z
      .number()
      .int()
      .refine(
        (p) => [1, 5, 10, 30].includes(p) || (p >= 60 && p % 60 === 0),
        'must be 1, 5, 10, 30 or a multiple of 60',
      )
      .default(10),
  },
  lagRequired,
);

// ---------------------------------------------------------------------------------------------
// Nodes and services
// ---------------------------------------------------------------------------------------------

export const nodeSchema = z.strictObject({
  id: idSchema,
  /** Lower is preferred when lag ties. @default position in the list */
  priority: z.number().int().min(0).max(1000).optional(),
  /** Route 53 router: the record value while this node is primary (IP for A/AAAA, host for CNAME). */
  address: z.string().min(1).max(255).optional(),
  /** elbv2-target router: what to register in the target group. */
  target: z
    .strictObject({
      id: z.string().min(1).max(255),
      port: z.number().int().min(1).max(65535).optional(),
      availabilityZone: z.string().min(1).optional(),
    })
    .optional(),
  /** elbv2-weighted router: this node's own target group. */
  targetGroupArn: targetGroupArn.optional(),
  health: healthSignalSchema,
  /** Replication lag in seconds while this node is a replica. Every node needs one: after a failover the old primary is a replica. */
  lag: lagMetricSchema,
  /** Node actions and what they need to know about the node (action-config.ts). */
  ...nodeActionFields,
  /** The stack's probe for this node (merged over the service's `probe` defaults). */
  probe: probeSchema.optional(),
});

export const policySchema = z.strictObject({
  /** Fail over automatically on the primary's alarm. When false, alarms are recorded and notified only. */
  autoFailover: z.boolean().default(true),
  /** No automatic change within this many seconds of the last role change (anti-flap). */
  cooldownSeconds: z.number().int().min(0).max(86_400).default(600),
  /** Decide and report, change nothing. */
  dryRun: z.boolean().default(false),
  /** Recovery-point budget: a replica lagging more than this is never promoted automatically. */
  maxLagSeconds: z.number().min(0).max(86_400).default(30),
  /** The newest lag datapoint must be at most this old, or lag counts as unknown-stale. */
  maxLagAgeSeconds: z.number().int().min(10).max(3600).default(120),
  /** A replica further behind than this many bytes of WAL is never promoted automatically (needs a probe that measures bytes). */
  maxLagBytes: z.number().int().min(0).optional(),
});

export const switchoverSchema = z.strictObject({
  /** Catch-up poll interval while waiting for lag 0. */
  pollIntervalSeconds: z.number().int().min(1).max(300).default(5),
  /** Give up (and roll back) when the replica has not caught up by then. */
  catchUpTimeoutSeconds: z.number().int().min(5).max(3600).default(300),
  /**
   * Give up (and roll back) when the new primary is not verified by then: Route 53 change INSYNC,
   * or the load balancer's health check passing on the new target (interval x healthy threshold).
   */
  verifyTimeoutSeconds: z.number().int().min(10).max(3600).default(180),
});

const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
/**
 * A whole function ARN, optionally qualified (version or alias): no wildcard can pass, since IAM
 * grants `lambda:InvokeFunction` on exactly this string. Which account is checked at synth
 * (lib/arn-accounts.ts): the stack's, or one listed in `allowedAccountIds`.
 */
const lambdaArn = z
  .string()
  .regex(
    new RegExp(
      `^arn:aws[a-z-]*:lambda:${REGION}:\\d{12}:function:[A-Za-z0-9_-]{1,64}(?::(?:\\$LATEST|[A-Za-z0-9_-]{1,128}))?$`,
    ),
    'must be a whole Lambda function ARN without wildcards (arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>])',
  );
const sqsQueueArn = z
  .string()
  .regex(
    new RegExp(`^arn:aws[a-z-]*:sqs:${REGION}:\\d{12}:[A-Za-z0-9_-]{1,80}(?:\\.fifo)?$`),
    'must be a whole SQS queue ARN without wildcards (arn:aws:sqs:<region>:<account>:<queue>)',
  );

export const hooksSchema = z.strictObject({
  fence: lambdaArn.optional(),
  promote: lambdaArn.optional(),
  demote: lambdaArn.optional(),
  /** A hook that has not answered by then fails the workflow (and rolls back). */
  timeoutSeconds: z.number().int().min(1).max(900).default(60),
});

export const serviceObjectSchema = z.strictObject({
  id: idSchema,
  description: z.string().max(256).optional(),
  nodes: z.array(nodeSchema).min(2, 'a service needs at least two nodes'),
  initialPrimary: idSchema,
  router: routerSchema,
  policy: policySchema.default(policySchema.parse({})),
  switchover: switchoverSchema.default(switchoverSchema.parse({})),
  /** Shorthand for `lambda` actions; a role may be given here or in `actions`, not both. */
  hooks: hooksSchema.optional(),
  /** Fence, promote and demote actions (action-config.ts); nodes may override them. */
  actions: actionsSchema.optional(),
  /** Probe settings every node's `probe` starts from (see probe-config.ts). */
  probe: probeDefaultsSchema.optional(),
});

/** A service, after its probe defaults are applied (applyProbeDefaults). */
export const serviceSchema = z.preprocess(applyProbeDefaults, serviceObjectSchema);

export const subscriberSchema = z.discriminatedUnion('protocol', [
  z.strictObject({ protocol: z.literal('email'), endpoint: z.email() }),
  z.strictObject({ protocol: z.literal('sqs'), endpoint: sqsQueueArn }),
  z.strictObject({ protocol: z.literal('lambda'), endpoint: lambdaArn }),
  z.strictObject({ protocol: z.literal('https'), endpoint: z.url({ protocol: /^https$/ }) }),
]);

export const configSchema = z
  .strictObject({
    /** CloudFormation stack name. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('FailoverAutomation'),
    notifications: z
      .strictObject({ subscribers: z.array(subscriberSchema).default([]) })
      .default({ subscribers: [] }),
    /**
     * Accounts other than the stack's whose Lambda functions (hooks, subscribers) and SQS queues
     * (subscribers) the configuration may name. Empty: everything must be in the stack's account.
     */
    allowedAccountIds: z.array(z.string().regex(/^\d{12}$/, 'must be a 12-digit account id')).default([]),
    /**
     * Reserved concurrent executions of the failover Lambda (lambdas/domain/failover-concurrency.ts).
     * Absent: derived from the number of services.
     */
    failoverConcurrency: z.number().int().min(1).max(MAX_FAILOVER_CONCURRENCY).optional(),
    /**
     * Buckets the per-node health checks and alarms are hashed into (lib/health-alarms.ts). Absent:
     * 32. Set it once: changing it moves most services' alarms between nested stacks.
     */
    healthStackShards: z.number().int().min(1).max(100).optional(),
    services: z.array(serviceSchema).min(1, 'at least one service is required'),
    /** The scheduled readiness check (readiness-config.ts). */
    readiness: readinessSchema.default(DEFAULT_READINESS),
  })
  // Also after field errors (zod skips refinements then by default): one run reports everything.
  .superRefine(checkCrossReferences, { when: () => true });

export type FailoverConfig = z.output<typeof configSchema>;
type NodeInput = Omit<z.input<typeof nodeSchema>, 'health' | 'lag'> &
  Partial<Pick<z.input<typeof nodeSchema>, 'health' | 'lag'>>;
/** What an operator writes: a probed node may leave out `health` and `lag`. */
export type FailoverConfigInput = Omit<z.input<typeof configSchema>, 'services'> & {
  services: (Omit<z.input<typeof serviceObjectSchema>, 'nodes'> & { nodes: NodeInput[] })[];
};
export type ServiceConfig = FailoverConfig['services'][number];
export type NodeConfig = ServiceConfig['nodes'][number];
export type RouterConfig = ServiceConfig['router'];
export type Route53RouterConfig = z.output<typeof route53RouterSchema>;
export type HealthSignal = NodeConfig['health'];
export type LagMetric = NodeConfig['lag'];
export type Policy = ServiceConfig['policy'];

/** Checks that need more than one field: ids, references, router-specific node fields. */
function checkCrossReferences(cfg: unknown, ctx: z.RefinementCtx): void {
  const config = cfg as unknown as FailoverConfig;
  const seenServices = new Map<string, number>();
  const seenRecords = new Map<string, string>();
  const seenAlarms = new Map<string, string>();
  // zod runs this even when fields above failed, so every access tolerates a malformed shape.
  if (!Array.isArray(config?.services)) return;
  config.services.forEach((service, si) => {
    if (!service || !Array.isArray(service.nodes) || !service.router) return;
    const at = (...rest: (string | number)[]) => ['services', si, ...rest];
    const prev = seenServices.get(service.id);
    if (prev !== undefined) {
      issue(ctx, at('id'), `duplicate service id, already used by services[${prev}]`, service.id);
    } else seenServices.set(service.id, si);

    const nodeIds = new Set<string>();
    service.nodes.forEach((node, ni) => {
      if (!node) return;
      if (nodeIds.has(node.id))
        issue(ctx, at('nodes', ni, 'id'), 'duplicate node id in this service', node.id);
      nodeIds.add(node.id);
      const r = service.router;
      if (r.type === 'route53') {
        if (typeof node.address !== 'string') {
          issue(
            ctx,
            at('nodes', ni, 'address'),
            'required by a route53 router (the record value)',
            undefined,
          );
        } else if (r.recordType === 'A' && !isIPv4(node.address)) {
          issue(ctx, at('nodes', ni, 'address'), 'must be an IPv4 address for an A record', node.address);
        } else if (r.recordType === 'AAAA' && !isIPv6(node.address)) {
          issue(ctx, at('nodes', ni, 'address'), 'must be an IPv6 address for an AAAA record', node.address);
        } else if (r.recordType === 'CNAME' && !/^([a-z0-9_-]+\.)+[a-z0-9-]+\.?$/i.test(node.address)) {
          issue(ctx, at('nodes', ni, 'address'), 'must be a host name for a CNAME record', node.address);
        }
      }
      if (r.type === 'elbv2-target' && node.target === undefined) {
        issue(
          ctx,
          at('nodes', ni, 'target'),
          'required by an elbv2-target router ({ id, port? })',
          undefined,
        );
      }
      if (r.type === 'elbv2-weighted' && node.targetGroupArn === undefined) {
        issue(ctx, at('nodes', ni, 'targetGroupArn'), 'required by an elbv2-weighted router', undefined);
      }
      if (node.health?.type === 'probe' && node.probe === undefined) {
        issue(
          ctx,
          at('nodes', ni, 'health'),
          'a probe health signal needs a probe on the node or the service',
          node.health,
        );
      }
      if (node.health?.type === 'alarm') {
        const owner = seenAlarms.get(node.health.alarmName);
        if (owner) {
          issue(
            ctx,
            at('nodes', ni, 'health', 'alarmName'),
            `alarm already watches ${owner}`,
            node.health.alarmName,
          );
        } else seenAlarms.set(node.health.alarmName, `${service.id}/${node.id}`);
      }
    });
    checkServiceActions(service, at, (path, message, value) => issue(ctx, path, message, value));
    checkHealthSignals(service, at, (path, message, value) => issue(ctx, path, message, value));
    if (typeof service.initialPrimary === 'string' && !nodeIds.has(service.initialPrimary)) {
      issue(
        ctx,
        at('initialPrimary'),
        `must be one of the node ids (${[...nodeIds].join(', ')})`,
        service.initialPrimary,
      );
    }
    const r = service.router;
    if (r.type === 'route53' && typeof r.recordName === 'string' && typeof r.zoneName === 'string') {
      if (r.recordName !== r.zoneName && !r.recordName.endsWith(`.${r.zoneName}`)) {
        issue(ctx, at('router', 'recordName'), `must be inside zone ${r.zoneName}`, r.recordName);
      }
      const key = `${r.hostedZoneId}/${r.recordName}/${r.recordType}`;
      const owner = seenRecords.get(key);
      if (owner)
        issue(ctx, at('router', 'recordName'), `record already routed by service ${owner}`, r.recordName);
      else seenRecords.set(key, service.id);
      if (r.recordType === 'CNAME' && r.recordName === r.zoneName) {
        issue(ctx, at('router', 'recordType'), 'a CNAME cannot be at the zone apex', r.recordType);
      }
      const addresses = service.nodes.map((n) => n?.address);
      if (new Set(addresses).size !== addresses.length) {
        issue(ctx, at('nodes'), 'nodes must have distinct addresses', addresses.join(', '));
      }
    }
  });
}

function issue(ctx: z.RefinementCtx, path: (string | number)[], message: string, value: unknown): void {
  ctx.addIssue({ code: 'custom', path, message, input: value });
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  return /^[0-9a-f:]+$/i.test(s) && s.includes(':') && s.split('::').length <= 2;
}

/** Validates a parsed configuration object; throws one error listing every problem. */
export function parseConfig(input: unknown): FailoverConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigValidationError(result.error.issues.flatMap((i) => toProblems(i, input)));
}

function toProblems(i: z.core.$ZodIssue, root: unknown): ConfigProblem[] {
  const own = 'input' in i && i.input !== undefined ? i.input : undefined;
  return describeConfigIssue(i, configSchema, own ?? valueAt(root, i.path)).map((d) => ({
    path: formatPath(d.path) || '(root)',
    message: d.message,
    value: d.path === i.path ? (own ?? valueAt(root, i.path)) : valueAt(root, d.path),
  }));
}

/**
 * One line per problem of a rejected input (an event, a workflow request), naming the field and
 * the value that was given: `detail.state.value: Invalid option: ..., got: "alarm"`.
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  root: unknown,
  rootLabel = '(root)',
): string[] {
  return issues.map((i) => {
    const value = 'input' in i && i.input !== undefined ? i.input : valueAt(root, i.path);
    return `${formatPath(i.path) || rootLabel}: ${i.message}, got: ${formatValue(value)}`;
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, idx) => (typeof p === 'number' ? `[${p}]` : idx === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** Helpers the rest of the code uses to look things up in a validated config. */
export function findService(config: FailoverConfig, serviceId: string): ServiceConfig | undefined {
  return config.services.find((s) => s.id === serviceId);
}

export function nodePriority(service: ServiceConfig, nodeId: string): number {
  const idx = service.nodes.findIndex((n) => n.id === nodeId);
  const node = service.nodes[idx];
  return node?.priority ?? idx;
}

/** The CloudWatch alarm name that carries a node's health, whether the stack creates it or not. */
export function healthAlarmName(service: ServiceConfig, node: NodeConfig): string {
  return node.health.type === 'alarm' ? node.health.alarmName : stackHealthAlarmName(service.id, node.id);
}

/** The name of the health alarm the stack creates for a node (every signal type but 'alarm'). */
export function stackHealthAlarmName(serviceId: string, nodeId: string): string {
  return `failover-${serviceId}-${nodeId}-health`;
}
