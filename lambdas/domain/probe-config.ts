/**
 * The node probe's configuration: which check runs against a node, from which subnets, with which
 * credentials, how often. A service may give defaults (`services[].probe`) that each node's
 * `probe` completes or overrides; the merged probe is validated per node, so a missing subnet list,
 * secret or port is reported with the node's path.
 *
 * A node with a probe needs no `health` and no `lag`: they default to the probe's `Healthy` alarm
 * and its `ReplicationLagSeconds` metric (see `applyProbeDefaults`), so after parsing every node
 * still has both, whoever wrote them.
 *
 * Pure: zod only.
 */
import * as z from 'zod';
import { PROBE_DIMENSIONS, PROBE_METRICS, PROBE_NAMESPACE } from '../contract/metrics.ts';

/** How often a node is sampled; each divides a minute, and the alarm period is max(10, interval). */
export const PROBE_INTERVALS = [5, 10, 20, 30, 60] as const;
export const DEFAULT_PROBE_INTERVAL_SECONDS = 10;
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 2;
/** Datapoints of the probe's health alarm: one lost sample never fails over a healthy primary. */
export const PROBE_HEALTH_DATAPOINTS = 2;

const subnetId = z
  .string()
  .regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123456789abcdef0');
const securityGroupId = z
  .string()
  .regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id such as sg-0123456789abcdef0');
const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
    'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  );
/** RFC 6901: empty (the whole document) or `/`-separated tokens. */
const jsonPointer = z
  .string()
  .regex(/^(\/([^~]|~[01])*)*$/, 'must be a JSON pointer such as /replication/lagSeconds');

const placement = {
  /** Host name or IP address the probe connects to (from inside the VPC). */
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  /** Subnets the probe Lambda runs in: it must reach `host:port` from there. */
  subnets: z.array(subnetId).min(1, 'at least one subnet: the probe runs next to the databases'),
  /** Security groups of the probe Lambda; the database's group must allow them on `port`. */
  securityGroups: z.array(securityGroupId).min(1, 'at least one security group'),
  /** Seconds between samples: 5, 10, 20, 30 or 60. @default 10 */
  intervalSeconds: z
    .number()
    .refine(
      (n) => (PROBE_INTERVALS as readonly number[]).includes(n),
      `must be one of ${PROBE_INTERVALS.join(', ')}`,
    )
    .default(DEFAULT_PROBE_INTERVAL_SECONDS),
  /** A check that has not answered by then counts as unhealthy. @default 2 */
  timeoutSeconds: z.number().min(0.5).max(10).default(DEFAULT_PROBE_TIMEOUT_SECONDS),
};

/** `disable` for tests and private links only; `require` encrypts; `verify` also checks the certificate. */
const tls = z.enum(['disable', 'require', 'verify']).default('require');

export const postgresProbeSchema = z.strictObject({
  kind: z.literal('postgres'),
  ...placement,
  database: z.string().min(1).max(63).default('postgres'),
  /** Secret with `username` and `password` (an RDS-managed secret has them). */
  secretArn,
  tls,
});

export const mysqlProbeSchema = z.strictObject({
  kind: z.literal('mysql'),
  ...placement,
  secretArn,
  tls,
});

export const httpProbeSchema = z.strictObject({
  kind: z.literal('http'),
  ...placement,
  protocol: z.enum(['http', 'https']).default('https'),
  path: z.string().startsWith('/').max(1024).default('/'),
  /** Healthy when the status is in [min, max]. @default 200-299 */
  healthyStatus: z
    .strictObject({ min: z.number().int().min(100).max(599), max: z.number().int().min(100).max(599) })
    .default({ min: 200, max: 299 }),
  /** Where the JSON body holds the replication lag in seconds (number, or null when unknown). */
  lagPointer: jsonPointer.optional(),
  /** Where the JSON body holds whether the node takes writes (boolean). */
  writablePointer: jsonPointer.optional(),
  /** Optional secret with `token` (sent as a bearer token) or `username` and `password` (basic). */
  secretArn: secretArn.optional(),
});

export const tcpProbeSchema = z.strictObject({
  kind: z.literal('tcp'),
  ...placement,
});

export const probeSchema = z
  .discriminatedUnion('kind', [postgresProbeSchema, mysqlProbeSchema, httpProbeSchema, tcpProbeSchema])
  .superRefine((p, ctx) => {
    if (p.timeoutSeconds >= p.intervalSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeoutSeconds'],
        message: `must be shorter than intervalSeconds (${p.intervalSeconds})`,
        input: p.timeoutSeconds,
      });
    }
  });

/** Service-level defaults: any probe field; each node's probe completes them. */
export const probeDefaultsSchema = z.partialRecord(
  z.enum([
    'kind',
    'host',
    'port',
    'subnets',
    'securityGroups',
    'intervalSeconds',
    'timeoutSeconds',
    'database',
    'secretArn',
    'tls',
    'protocol',
    'path',
    'healthyStatus',
    'lagPointer',
    'writablePointer',
  ]),
  z.unknown(),
);

export type ProbeConfig = z.output<typeof probeSchema>;
export type ProbeKind = ProbeConfig['kind'];

/** The probe's health signal on a node: an alarm on `Healthy` that the stack creates. */
export const probeHealthSignalSchema = z.strictObject({
  type: z.literal('probe'),
});

/** Whether this probe measures replication lag in seconds (what a node's default `lag` reads). */
export function probeMeasuresLag(probe: { readonly kind?: unknown; readonly lagPointer?: unknown }): boolean {
  return (
    probe.kind === 'postgres' ||
    probe.kind === 'mysql' ||
    (probe.kind === 'http' && probe.lagPointer !== undefined)
  );
}

/** The alarm period for a probe's Healthy metric: a period with no sample would read as missing. */
export function probeAlarmPeriodSeconds(probe: Pick<ProbeConfig, 'intervalSeconds'>): number {
  return Math.max(10, probe.intervalSeconds);
}

/** The probe's lag metric for one node, in the shape of a configured `lag`. */
export function probeLagMetric(serviceId: string, nodeId: string, intervalSeconds: number) {
  return {
    namespace: PROBE_NAMESPACE,
    metricName: PROBE_METRICS.replicationLagSeconds,
    dimensions: { [PROBE_DIMENSIONS.service]: serviceId, [PROBE_DIMENSIONS.node]: nodeId },
    statistic: 'Maximum' as const,
    periodSeconds: Math.max(10, intervalSeconds),
  };
}

/** The probe's lag-in-bytes metric for one node (PostgreSQL), same shape. */
export function probeLagBytesMetric(serviceId: string, nodeId: string, intervalSeconds: number) {
  return {
    ...probeLagMetric(serviceId, nodeId, intervalSeconds),
    metricName: PROBE_METRICS.replicationLagBytes,
  };
}

/**
 * Runs before the service is validated: merges the service's probe defaults into each node's
 * probe, and gives a probed node its default `health` ({ type: 'probe' }) and, when the probe
 * measures lag, its default `lag` (the probe's metric). Anything the operator wrote wins.
 * Malformed input passes through untouched for the schema to report.
 */
export function applyProbeDefaults(input: unknown): unknown {
  if (!isRecord(input) || !Array.isArray(input.nodes)) return input;
  const defaults = isRecord(input.probe) ? input.probe : undefined;
  const serviceId = typeof input.id === 'string' ? input.id : '';
  return {
    ...input,
    nodes: input.nodes.map((node: unknown) => {
      if (!isRecord(node)) return node;
      const own = isRecord(node.probe) ? node.probe : undefined;
      if (!defaults && !own) return node;
      if (node.probe !== undefined && !own) return node;
      const probe = { ...definedOnly(defaults), ...definedOnly(own) };
      const out: Record<string, unknown> = { ...node, probe };
      if (out.health === undefined) out.health = { type: 'probe' };
      if (out.lag === undefined && probeMeasuresLag(probe) && typeof node.id === 'string') {
        const interval =
          typeof probe.intervalSeconds === 'number' ? probe.intervalSeconds : DEFAULT_PROBE_INTERVAL_SECONDS;
        out.lag = probeLagMetric(serviceId, node.id, interval);
      }
      return out;
    }),
  };
}

function definedOnly(o: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
