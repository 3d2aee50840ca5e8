/**
 * The monthly cost of what the stack deploys for a configuration, priced at AWS's public us-east-1
 * list prices (`failover cost`, docs/cost.md).
 *
 * Two steps, kept apart so each can be checked:
 *   - `stackResources(config)` enumerates the billable resources the stack creates, with the same
 *     rules as lib/ (health alarms per signal type, the service alarms, the probe's functions,
 *     schedules and split-brain alarms, dashboards); test/cli/cost.test.ts compares it with the
 *     synthesized templates of the sample and every example configuration, so the two cannot drift;
 *   - `monthlyCost(config)` prices them, plus the usage the resources generate by themselves in a
 *     month without incidents (the probe's invocations, metrics and API calls), under explicit
 *     assumptions. Free tiers are not subtracted: an account's other workloads use them up.
 *
 * What runs only when something happens (a failover, a switchover, a CLI command) costs cents per
 * incident and is not in the monthly figure; the model says so in `notCounted`.
 */

import { READINESS_METRICS } from '../lambdas/app/readiness.ts';
import { PROBE_NAMESPACE } from '../lambdas/contract/metrics.ts';
import type { FailoverConfig, NodeConfig, ServiceConfig } from '../lambdas/domain/config.ts';
import { lagQueries } from '../lambdas/domain/decide.ts';
import { probeAlarmPeriodSeconds, probeMeasuresLag } from '../lambdas/domain/probe-config.ts';
import { readinessRoute53Requests } from '../lambdas/domain/readiness-config.ts';
import type { Output } from './output.ts';

/** USD, us-east-1, as published on the AWS pricing pages on `PRICES_AS_OF`. */
export const PRICES_AS_OF = '2026-11-25';
export const PRICES = {
  /** aws.amazon.com/route53/pricing: basic health check, AWS endpoint, per month. */
  route53HealthCheck: 0.5,
  /** Each optional feature (HTTPS, string matching, fast interval, latency) on an AWS endpoint, per month. */
  route53HealthCheckFeature: 1.0,
  /** aws.amazon.com/cloudwatch/pricing: per metric in a standard-resolution (60 s+) alarm, per month. */
  alarmMetricStandard: 0.1,
  /** Per metric in a high-resolution (10 s or 30 s period) alarm, per month. */
  alarmMetricHighResolution: 0.3,
  compositeAlarm: 0.5,
  dashboard: 3.0,
  /** Per custom metric per month, first 10,000 metrics (prorated by the hours it is published). */
  customMetric: 0.3,
  /** PutMetricData, per 1,000 requests. */
  putMetricDataPer1000: 0.01,
  /** GetMetricData, per 1,000 metrics requested. */
  getMetricDataPer1000Metrics: 0.01,
  /** CloudWatch Logs: ingestion per GB, storage per GB-month, Logs Insights per GB scanned. */
  logsIngestionPerGb: 0.5,
  logsStoragePerGbMonth: 0.03,
  logsInsightsPerGbScanned: 0.005,
  /** aws.amazon.com/kms/pricing: customer managed key, per month. */
  kmsKey: 1.0,
  /** aws.amazon.com/dynamodb/pricing (on-demand): per million write request units; PITR per GB-month. */
  dynamoWritesPerMillion: 0.625,
  dynamoPitrPerGbMonth: 0.2,
  dynamoStoragePerGbMonth: 0.25,
  /** aws.amazon.com/lambda/pricing: Arm, per GB-second; requests per million. */
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequestsPerMillion: 0.2,
  /** aws.amazon.com/secrets-manager/pricing: API calls per 10,000. */
  secretsManagerPer10k: 0.05,
  /** aws.amazon.com/sqs/pricing: standard queue requests per million. */
  sqsRequestsPerMillion: 0.4,
} as const;

export type PriceList = { readonly [K in keyof typeof PRICES]: number };

/** What the model assumes about usage; every figure it rests on, in one place. */
export interface CostAssumptions {
  /** AWS bills a month as 730 hours. */
  readonly hoursPerMonth: number;
  /** Times a month someone opens (or auto-refresh reloads) the overview dashboard. */
  readonly dashboardLoadsPerMonth: number;
  /** What the three writers (failover, zone shift, workflow step) log per day without incidents, in MB. */
  readonly writerLogMbPerDay: number;
  /** Lambda's START/END/REPORT lines and the probe's own, per probe invocation, in bytes. */
  readonly probeLogBytesPerInvocation: number;
  /** ReceiveMessage calls a minute of the zone shifter's event source (long polls of 20 s). */
  readonly shiftQueuePollsPerMinute: number;
  /** Size of the state table (state, leases, history), in GB. */
  readonly stateTableGb: number;
  /** The probe caches a secret this long per execution environment. */
  readonly secretCacheMinutes: number;
  /** A readiness pass besides its paced Route 53 reads (1 s each): the other reads and writes, in s. */
  readonly readinessBaseSecondsPerPass: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  hoursPerMonth: 730,
  dashboardLoadsPerMonth: 100,
  writerLogMbPerDay: 1,
  probeLogBytesPerInvocation: 400,
  shiftQueuePollsPerMinute: 15,
  stateTableGb: 0.001,
  secretCacheMinutes: 5,
  readinessBaseSecondsPerPass: 2,
};

/** Services one probe invocation samples (lib/node-probe.ts `servicesPerInvocation` default). */
export const PROBE_SERVICES_PER_INVOCATION = 25;
/** Services per service dashboard (lib/automation-monitoring `servicesPerDashboard` default). */
export const SERVICES_PER_DASHBOARD = 20;
/** The probe function's memory (lib/node-probe.ts). */
export const PROBE_MEMORY_MB = 256;
/** A probe invocation samples until its minute ends. */
export const PROBE_SECONDS_PER_INVOCATION = 60;
/** Logs Insights widgets on the overview dashboard (lib/automation-monitoring/overview.ts). */
export const OVERVIEW_LOG_WIDGETS = 2;
/** The overview dashboard's default time range, in days. */
export const OVERVIEW_RANGE_DAYS = 1;

/** One CloudWatch metric alarm: priced per metric it reads, at its period's resolution. */
export interface AlarmResource {
  readonly name: string;
  readonly metrics: number;
  readonly periodSeconds: number;
}

export interface HealthCheckResource {
  readonly name: string;
  /** Optional features Route 53 bills (HTTPS, fast interval). */
  readonly features: readonly ('https' | 'fast-interval')[];
}

/** One probe invocation a minute for up to 25 services of one placement (a rule starts up to 5). */
export interface ProbeScheduleResource {
  readonly placement: number;
  readonly serviceIds: readonly string[];
  /** PutMetricData calls a minute: one per sample time of each interval in the schedule. */
  readonly putMetricDataPerMinute: number;
  /** Distinct secrets its nodes read. */
  readonly secrets: number;
  /** PostgreSQL services: a positions write per sample. */
  readonly positionWritesPerMinute: number;
}

export interface StackResources {
  readonly healthChecks: readonly HealthCheckResource[];
  readonly alarms: readonly AlarmResource[];
  readonly compositeAlarms: readonly string[];
  readonly dashboards: readonly string[];
  readonly logQueryWidgets: number;
  readonly kmsKeys: number;
  /** DynamoDB tables with point-in-time recovery (the state table; the probe's positions table). */
  readonly pitrTables: readonly string[];
  /** Probe functions, one per placement (subnets and security groups). */
  readonly probeFunctions: number;
  readonly probeSchedules: readonly ProbeScheduleResource[];
  /** Custom metrics the probe publishes (per node and role) plus ProbeErrors. */
  readonly probeMetrics: readonly string[];
  /** The scheduled readiness check (lib/readiness.ts): its function exists even when disabled. */
  readonly readiness: {
    readonly enabled: boolean;
    readonly intervalMinutes: number;
    /** Route 53 pages one pass reads, paced at 1 request/s (readiness-config.ts). */
    readonly route53RequestsPerPass: number;
    /**
     * Custom metrics a pass publishes (EMF) while every service is ready: Ready per service and the
     * two totals. CheckFailing (per service and failing check) exists only while a check fails.
     */
    readonly metrics: number;
    /** Lag metrics one pass requests with GetMetricData (billed per metric requested). */
    readonly lagMetricsPerPass: number;
  };
  /** Lag metrics the configuration names but nothing in the stack publishes: yours. */
  readonly yourLagMetrics: readonly { readonly name: string; readonly putsPerMinute: number }[];
}

/** The secret a node's probe reads, if any (tcp probes read none). */
function secretOf(node: NodeConfig): string[] {
  const p = node.probe;
  if (!p || p.kind === 'tcp' || !p.secretArn) return [];
  return [p.secretArn];
}

/** Whether a node's lag comes from the stack's probe. */
function lagFromProbe(node: NodeConfig): boolean {
  return node.lag.namespace === PROBE_NAMESPACE;
}

function probePlacement(service: ServiceConfig): string | undefined {
  const probed = service.nodes.find((n) => n.probe);
  if (!probed?.probe) return undefined;
  return `${[...probed.probe.subnets].sort().join(',')}|${[...probed.probe.securityGroups].sort().join(',')}`;
}

/** The billable resources `cdk deploy` creates for `config` with the stack's default options. */
export function stackResources(config: FailoverConfig): StackResources {
  const healthChecks: HealthCheckResource[] = [];
  const alarms: AlarmResource[] = [];
  const compositeAlarms: string[] = [];
  const probeMetrics: string[] = [];
  const yourLagMetrics: { name: string; putsPerMinute: number }[] = [];

  // The automation's own alarms: dead-letter queue, failover errors, zone-shift errors and backlog,
  // failed, timed-out or stopped workflow executions (one alarm over three metrics).
  alarms.push(
    { name: 'dead-letter queue not empty', metrics: 1, periodSeconds: 60 },
    { name: 'failover Lambda errors', metrics: 1, periodSeconds: 60 },
    { name: 'zone shifter errors', metrics: 1, periodSeconds: 60 },
    { name: 'zone-shift backlog', metrics: 1, periodSeconds: 60 },
    { name: 'failed executions', metrics: 3, periodSeconds: 60 },
  );

  for (const service of config.services) {
    for (const node of service.nodes) {
      const label = `${service.id}/${node.id}`;
      switch (node.health.type) {
        case 'alarm':
          break; // yours, exists already
        case 'route53-health-check': {
          const features: ('https' | 'fast-interval')[] = [];
          if (node.health.protocol === 'HTTPS') features.push('https');
          if (node.health.requestIntervalSeconds === 10) features.push('fast-interval');
          healthChecks.push({ name: label, features });
          alarms.push({ name: `${label} health`, metrics: 1, periodSeconds: 60 });
          break;
        }
        case 'target-group-health':
          alarms.push({ name: `${label} health`, metrics: 1, periodSeconds: 60 });
          break;
        case 'probe':
          if (node.probe) {
            alarms.push({
              name: `${label} health`,
              metrics: 1,
              periodSeconds: probeAlarmPeriodSeconds(node.probe),
            });
          }
          break;
      }
      if (!lagFromProbe(node)) {
        yourLagMetrics.push({
          name: `${node.lag.namespace} ${node.lag.metricName} (${label})`,
          putsPerMinute: 60 / Math.min(60, node.lag.periodSeconds),
        });
      }
      if (node.probe) {
        const p = node.probe;
        const replica = node.id !== service.initialPrimary;
        probeMetrics.push(`${label} Healthy`);
        if (p.kind === 'postgres' || p.kind === 'mysql' || (p.kind === 'http' && p.writablePointer))
          probeMetrics.push(`${label} Writable`);
        if (replica && probeMeasuresLag(p)) probeMetrics.push(`${label} ReplicationLagSeconds`);
        if (replica && p.kind === 'postgres') probeMetrics.push(`${label} ReplicationLagBytes`);
      }
    }
    // lib/automation-monitoring/service-alarms.ts: no healthy replica (composite) and the worst
    // replica's lag over budget (one metric per node, standard resolution).
    compositeAlarms.push(`${service.id} no healthy replica`);
    alarms.push({ name: `${service.id} lag over budget`, metrics: service.nodes.length, periodSeconds: 60 });
    // lib/node-probe.ts: split brain over the Writable metric of every probed node but tcp ones.
    const writers = service.nodes.filter((n) => n.probe && n.probe.kind !== 'tcp');
    if (writers.length >= 2) {
      alarms.push({
        name: `${service.id} split brain`,
        metrics: writers.length,
        periodSeconds: Math.max(
          ...writers.map((n) => probeAlarmPeriodSeconds(n.probe as NonNullable<typeof n.probe>)),
        ),
      });
    }
  }

  // The probe: one function per placement, one invocation a minute per 25 services of it.
  const placements = new Map<string, ServiceConfig[]>();
  for (const service of config.services) {
    const key = probePlacement(service);
    if (key !== undefined) placements.set(key, [...(placements.get(key) ?? []), service]);
  }
  const probeSchedules: ProbeScheduleResource[] = [];
  [...placements.values()].forEach((services, placement) => {
    alarms.push(
      { name: `probe ${placement} errors`, metrics: 1, periodSeconds: 60 },
      { name: `probe ${placement} not running`, metrics: 1, periodSeconds: 60 },
    );
    for (let i = 0; i < services.length; i += PROBE_SERVICES_PER_INVOCATION) {
      const shard = services.slice(i, i + PROBE_SERVICES_PER_INVOCATION);
      const nodes = shard.flatMap((s) => s.nodes.filter((n) => n.probe));
      // The handler samples each distinct interval/timeout on its own schedule (one publish each).
      const intervals = new Map<string, number>();
      for (const n of nodes) {
        const p = n.probe as NonNullable<typeof n.probe>;
        intervals.set(`${p.intervalSeconds}/${p.timeoutSeconds}`, p.intervalSeconds);
      }
      const samplesPerMinute = (interval: number) => Math.floor(60 / interval);
      probeSchedules.push({
        placement,
        serviceIds: shard.map((s) => s.id),
        putMetricDataPerMinute: [...intervals.values()].reduce((sum, iv) => sum + samplesPerMinute(iv), 0),
        secrets: new Set(nodes.flatMap((n) => secretOf(n))).size,
        positionWritesPerMinute: shard
          .filter((s) => s.nodes.some((n) => n.probe?.kind === 'postgres'))
          .reduce((sum, s) => {
            const pg = s.nodes.find((n) => n.probe?.kind === 'postgres')?.probe;
            return sum + (pg ? samplesPerMinute(pg.intervalSeconds) : 0);
          }, 0),
      });
    }
  });
  const probing = placements.size > 0;
  if (probing) {
    alarms.push({ name: 'probe errors (ProbeErrors)', metrics: 1, periodSeconds: 60 });
    probeMetrics.push('ProbeErrors');
  }

  // lib/readiness.ts: not ready (one metric at the schedule's period), its errors, and (while the
  // schedule is enabled) its invocations stopping.
  const readinessPeriod = config.readiness.intervalMinutes * 60;
  alarms.push(
    { name: 'readiness: a service not ready', metrics: 1, periodSeconds: readinessPeriod },
    { name: 'readiness check errors', metrics: 1, periodSeconds: readinessPeriod },
    ...(config.readiness.enabled
      ? [{ name: 'readiness check not running', metrics: 1, periodSeconds: readinessPeriod }]
      : []),
  );

  const dashboards = ['overview'];
  for (let i = 0; i < config.services.length; i += SERVICES_PER_DASHBOARD) {
    dashboards.push(`services-${i / SERVICES_PER_DASHBOARD + 1}`);
  }

  return {
    healthChecks,
    alarms,
    compositeAlarms,
    dashboards,
    logQueryWidgets: OVERVIEW_LOG_WIDGETS,
    kmsKeys: 1,
    pitrTables: [...(probing ? ['state', 'probe positions'] : ['state']), 'readiness verdicts'],
    probeFunctions: placements.size,
    probeSchedules,
    probeMetrics,
    readiness: {
      enabled: config.readiness.enabled,
      intervalMinutes: config.readiness.intervalMinutes,
      route53RequestsPerPass: readinessRoute53Requests(config),
      metrics: config.readiness.enabled
        ? config.services.length +
          [READINESS_METRICS.notReadyServices, READINESS_METRICS.unknownServices].length
        : 0,
      lagMetricsPerPass: config.services.reduce((n, s) => n + lagQueries(s).length, 0),
    },
    yourLagMetrics,
  };
}

export type CostGroup =
  | 'Route 53'
  | 'CloudWatch alarms'
  | 'CloudWatch'
  | 'Node probe'
  | 'Readiness check'
  | 'Storage and keys';

export interface CostLine {
  readonly group: CostGroup;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  /** USD per month. */
  readonly monthly: number;
  /** Billed to you by something you run (your lag publishers), not by the stack. */
  readonly yours?: boolean;
}

export interface CostModel {
  readonly region: 'us-east-1';
  readonly pricesAsOf: string;
  readonly currency: 'USD';
  readonly lines: readonly CostLine[];
  /** What the stack costs a month without incidents (the lines not marked `yours`). */
  readonly monthlyTotal: number;
  /** What your own lag publishers cost on top (lines marked `yours`). */
  readonly yoursTotal: number;
  readonly resources: StackResources;
  readonly assumptions: CostAssumptions;
  /** What is deliberately left out, and why. */
  readonly notCounted: readonly string[];
}

export interface CostOptions {
  readonly prices?: PriceList;
  readonly assumptions?: Partial<CostAssumptions>;
}

export function monthlyCost(config: FailoverConfig, options: CostOptions = {}): CostModel {
  const prices = options.prices ?? PRICES;
  const a: CostAssumptions = { ...DEFAULT_ASSUMPTIONS, ...options.assumptions };
  const r = stackResources(config);
  const minutes = a.hoursPerMonth * 60;
  const lines: CostLine[] = [];
  const add = (line: Omit<CostLine, 'monthly'>) => {
    if (line.quantity > 0) lines.push({ ...line, monthly: line.quantity * line.unitPrice });
  };

  add({
    group: 'Route 53',
    item: 'health checks (AWS endpoints)',
    quantity: r.healthChecks.length,
    unit: 'health check',
    unitPrice: prices.route53HealthCheck,
  });
  add({
    group: 'Route 53',
    item: 'health check features (HTTPS, fast interval)',
    quantity: r.healthChecks.reduce((n, h) => n + h.features.length, 0),
    unit: 'feature',
    unitPrice: prices.route53HealthCheckFeature,
  });

  const standard = r.alarms.filter((x) => x.periodSeconds >= 60);
  const high = r.alarms.filter((x) => x.periodSeconds < 60);
  const metricsOf = (xs: readonly AlarmResource[]) => xs.reduce((n, x) => n + x.metrics, 0);
  add({
    group: 'CloudWatch alarms',
    item: `standard-resolution alarms (${standard.length}), per metric`,
    quantity: metricsOf(standard),
    unit: 'alarm metric',
    unitPrice: prices.alarmMetricStandard,
  });
  add({
    group: 'CloudWatch alarms',
    item: `high-resolution alarms (${high.length}: probe health, split brain), per metric`,
    quantity: metricsOf(high),
    unit: 'alarm metric',
    unitPrice: prices.alarmMetricHighResolution,
  });
  add({
    group: 'CloudWatch alarms',
    item: 'composite alarms (no healthy replica)',
    quantity: r.compositeAlarms.length,
    unit: 'alarm',
    unitPrice: prices.compositeAlarm,
  });

  add({
    group: 'CloudWatch',
    item: 'dashboards (overview + services)',
    quantity: r.dashboards.length,
    unit: 'dashboard',
    unitPrice: prices.dashboard,
  });
  add({
    group: 'CloudWatch',
    item: `Logs Insights widgets (${r.logQueryWidgets}), ${a.dashboardLoadsPerMonth} overview loads over ${OVERVIEW_RANGE_DAYS} day`,
    quantity:
      (a.dashboardLoadsPerMonth * r.logQueryWidgets * a.writerLogMbPerDay * OVERVIEW_RANGE_DAYS) / 1024,
    unit: 'GB scanned',
    unitPrice: prices.logsInsightsPerGbScanned,
  });
  add({
    group: 'CloudWatch',
    item: `logs of the three writers (${a.writerLogMbPerDay} MB/day without incidents), ingested`,
    quantity: (a.writerLogMbPerDay * (a.hoursPerMonth / 24)) / 1024,
    unit: 'GB',
    unitPrice: prices.logsIngestionPerGb,
  });

  const probeInvocations = r.probeSchedules.length * minutes;
  add({
    group: 'Node probe',
    item: `Lambda duration: ${r.probeSchedules.length} invocation(s) a minute x ${PROBE_SECONDS_PER_INVOCATION} s at ${PROBE_MEMORY_MB} MB, Arm`,
    quantity: probeInvocations * PROBE_SECONDS_PER_INVOCATION * (PROBE_MEMORY_MB / 1024),
    unit: 'GB-second',
    unitPrice: prices.lambdaArmGbSecond,
  });
  add({
    group: 'Node probe',
    item: 'Lambda requests (one a minute per group of up to 25 services)',
    quantity: probeInvocations / 1e6,
    unit: 'million requests',
    unitPrice: prices.lambdaRequestsPerMillion,
  });
  add({
    group: 'Node probe',
    item: 'custom metrics (Healthy, Writable, lag per replica, ProbeErrors)',
    quantity: r.probeMetrics.length,
    unit: 'metric',
    unitPrice: prices.customMetric,
  });
  add({
    group: 'Node probe',
    item: 'PutMetricData (one call per sample)',
    quantity: (r.probeSchedules.reduce((n, s) => n + s.putMetricDataPerMinute, 0) * minutes) / 1000,
    unit: '1,000 requests',
    unitPrice: prices.putMetricDataPer1000,
  });
  add({
    group: 'Node probe',
    item: `GetSecretValue (cached ${a.secretCacheMinutes} min per execution environment)`,
    quantity:
      (r.probeSchedules.reduce((n, s) => n + s.secrets, 0) * (minutes / a.secretCacheMinutes)) / 10_000,
    unit: '10,000 calls',
    unitPrice: prices.secretsManagerPer10k,
  });
  add({
    group: 'Node probe',
    item: 'primary positions (DynamoDB writes, PostgreSQL services)',
    quantity: (r.probeSchedules.reduce((n, s) => n + s.positionWritesPerMinute, 0) * minutes) / 1e6,
    unit: 'million writes',
    unitPrice: prices.dynamoWritesPerMillion,
  });
  add({
    group: 'Node probe',
    item: 'probe logs ingested (Lambda START/END/REPORT lines)',
    quantity: (probeInvocations * a.probeLogBytesPerInvocation) / 1024 ** 3,
    unit: 'GB',
    unitPrice: prices.logsIngestionPerGb,
  });

  const passes = r.readiness.enabled ? minutes / r.readiness.intervalMinutes : 0;
  const passSeconds = a.readinessBaseSecondsPerPass + r.readiness.route53RequestsPerPass;
  add({
    group: 'Readiness check',
    item: `Lambda duration: a pass every ${r.readiness.intervalMinutes} min, ~${passSeconds} s at 256 MB, Arm`,
    quantity: passes * passSeconds * 0.25,
    unit: 'GB-second',
    unitPrice: prices.lambdaArmGbSecond,
  });
  add({
    group: 'Readiness check',
    item: 'Lambda requests',
    quantity: passes / 1e6,
    unit: 'million requests',
    unitPrice: prices.lambdaRequestsPerMillion,
  });
  add({
    group: 'Readiness check',
    item: 'GetMetricData (the lag of every node, each pass)',
    quantity: (passes * r.readiness.lagMetricsPerPass) / 1000,
    unit: '1,000 metrics',
    unitPrice: prices.getMetricDataPer1000Metrics,
  });
  add({
    group: 'Readiness check',
    item: 'custom metrics (Ready per service, NotReadyServices, UnknownServices)',
    quantity: r.readiness.metrics,
    unit: 'metric',
    unitPrice: prices.customMetric,
  });

  add({
    group: 'Storage and keys',
    item: 'KMS key of the notification topic',
    quantity: r.kmsKeys,
    unit: 'key',
    unitPrice: prices.kmsKey,
  });
  add({
    group: 'Storage and keys',
    item: `DynamoDB point-in-time recovery (${r.pitrTables.join(', ')} tables)`,
    quantity: a.stateTableGb * r.pitrTables.length,
    unit: 'GB-month',
    unitPrice: prices.dynamoPitrPerGbMonth,
  });
  add({
    group: 'Storage and keys',
    item: 'DynamoDB storage',
    quantity: a.stateTableGb * r.pitrTables.length,
    unit: 'GB-month',
    unitPrice: prices.dynamoStoragePerGbMonth,
  });
  add({
    group: 'Storage and keys',
    item: 'zone-shift queue polled by its event source (long polls)',
    quantity: (a.shiftQueuePollsPerMinute * minutes) / 1e6,
    unit: 'million requests',
    unitPrice: prices.sqsRequestsPerMillion,
  });

  add({
    group: 'CloudWatch',
    item: 'your lag metrics (nodes without a probe), published by you',
    quantity: r.yourLagMetrics.length,
    unit: 'metric',
    unitPrice: prices.customMetric,
    yours: true,
  });
  add({
    group: 'CloudWatch',
    item: 'your PutMetricData calls for them (one per datapoint; batch nodes to pay less)',
    quantity: (r.yourLagMetrics.reduce((n, m) => n + m.putsPerMinute, 0) * minutes) / 1000,
    unit: '1,000 requests',
    unitPrice: prices.putMetricDataPer1000,
    yours: true,
  });

  const sum = (xs: readonly CostLine[]) => xs.reduce((n, l) => n + l.monthly, 0);
  return {
    region: 'us-east-1',
    pricesAsOf: PRICES_AS_OF,
    currency: 'USD',
    lines,
    monthlyTotal: sum(lines.filter((l) => !l.yours)),
    yoursTotal: sum(lines.filter((l) => l.yours)),
    resources: r,
    assumptions: a,
    notCounted: [
      'incidents: a failover, a switchover or a CLI command costs cents (Lambda, Step Functions transitions, DynamoDB, SNS)',
      'alarms, records, target groups and secrets you already have; your hosted zone',
      "the probe's route to CloudWatch, Secrets Manager and DynamoDB (NAT gateway or VPC endpoints)",
      "a not-ready service's CheckFailing metric per failing check: $0.30 a month prorated by the hours it fails (~$0.0004 an hour)",
      "the readiness pass's DynamoDB reads (two GetItem per service; $0.125 per million) and its DescribeAlarms, Route 53 and ELB reads (not priced per call)",
      'free tiers (10 alarm metrics, 10 custom metrics, 3 dashboards, 50 health checks, 1M Lambda requests): an account usually uses them already',
    ],
  };
}

/** `$1.23` (cents), `$0.004` below a cent. */
export function dollars(x: number): string {
  if (x === 0) return '$0.00';
  if (x < 0.01) return `$${x.toPrecision(1)}`;
  return `$${x.toFixed(2)}`;
}

/** A unit price as published: at least two decimals, all the digits it has (`$0.10`, `$0.625`). */
function priceText(p: number): string {
  const text = String(Number(p.toPrecision(6)));
  const decimals = text.split('.')[1]?.length ?? 0;
  return `$${decimals >= 2 ? text : p.toFixed(2)}`;
}

function quantityText(q: number): string {
  if (Number.isInteger(q)) return q.toLocaleString('en-US');
  if (q >= 100) return Math.round(q).toLocaleString('en-US');
  return String(Number(q.toPrecision(3)));
}

/** The text `failover cost` prints. */
export function formatCost(model: CostModel): string[] {
  const rows: string[][] = model.lines.map((l) => [
    l.group,
    l.item,
    `${quantityText(l.quantity)} ${l.unit}`,
    `x ${priceText(l.unitPrice)}`,
    dollars(l.monthly),
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = [
    `Monthly cost of the stack for this configuration, without incidents (${model.currency}, ${model.region} list prices of ${model.pricesAsOf}; free tiers not subtracted):`,
    '',
  ];
  for (const r of rows) {
    lines.push(
      `  ${r
        .slice(0, 4)
        .map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')}  ${(r[4] ?? '').padStart(8)}`,
    );
  }
  lines.push('');
  lines.push(`  total, the stack: ${dollars(model.monthlyTotal)} a month`);
  if (model.yoursTotal > 0) {
    lines.push(
      `  on top, your own lag publishers (lines "published by you"): ${dollars(model.yoursTotal)} a month`,
    );
  }
  lines.push('');
  lines.push('Not counted:');
  for (const n of model.notCounted) lines.push(`  - ${n}`);
  return lines;
}

/** `failover cost [--json]`: the model for the configuration file, offline (no AWS call). */
export function runCost(config: FailoverConfig, out: Output): number {
  const model = monthlyCost(config);
  for (const line of formatCost(model)) out.text(line);
  out.result({
    ...model,
    monthlyTotal: round2(model.monthlyTotal),
    yoursTotal: round2(model.yoursTotal),
    lines: model.lines.map((l) => ({ ...l, monthly: round4(l.monthly) })),
  });
  return 0;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
