/**
 * One probe sample of a group of services: every node checked at once, each with its own timeout,
 * so one slow, refusing or misconfigured node never delays or breaks the others; then the figures
 * (lambdas/domain/probe.ts) for every node, published in one PutMetricData round.
 */
import { type DbCredentials, getDbCredentials, type SecretsPort } from '../aws/secrets-manager.ts';
import { NodeTimeoutError, SecretFormatError } from '../domain/errors.ts';
import type { Logger } from '../domain/ports.ts';
import {
  httpFigures,
  type Lag,
  type MysqlReading,
  mysqlLagSeconds,
  mysqlWritable,
  type NodeFigures,
  type PgReading,
  type PrimaryPosition,
  pgLag,
  pgPrimaryPosition,
  pgWritable,
  UNKNOWN_LAG,
} from '../domain/probe.ts';
import type { ProbeConfig } from '../domain/probe-config.ts';
import { abandonMysql, abandonPostgres, connectMysql, connectPostgres, withTimeout } from './connect.ts';
import { readHttp } from './http.ts';
import { readMysql } from './mysql.ts';
import { readPostgres } from './postgres.ts';
import { checkTcp } from './tcp.ts';

export interface ProbedNode {
  readonly serviceId: string;
  readonly nodeId: string;
  readonly probe: ProbeConfig;
}

/** One datapoint to publish (lambdas/aws/cloudwatch-probe-metrics.ts). */
export interface ProbeDatapoint {
  readonly serviceId: string;
  readonly nodeId: string;
  readonly metric: 'healthy' | 'writable' | 'replicationLagSeconds' | 'replicationLagBytes';
  readonly value: number;
  readonly timestamp: number;
}

export interface ProbeMetricsPort {
  publish(datapoints: readonly ProbeDatapoint[], probeErrors: number, timestamp: number): Promise<void>;
}

/** Where the last primary WAL position of each service is kept between invocations. */
export interface PrimaryPositionStore {
  get(serviceId: string): Promise<PrimaryPosition | undefined>;
  put(serviceId: string, position: PrimaryPosition): Promise<void>;
}

/** The raw answers of one node; the kind decides the figures. */
export type Reading =
  | { readonly kind: 'postgres'; readonly pg: PgReading }
  | { readonly kind: 'mysql'; readonly mysql: MysqlReading }
  | { readonly kind: 'http'; readonly figures: NodeFigures }
  | { readonly kind: 'tcp' };

/** Why a node counted as unhealthy, for the log line and the operator. */
export type FailureReason = 'timeout' | 'auth' | 'unreachable' | 'secret' | 'error';

export interface NodeResult {
  readonly serviceId: string;
  readonly nodeId: string;
  readonly figures: NodeFigures;
  readonly failure?: { readonly reason: FailureReason; readonly message: string };
}

export interface SamplerDeps {
  readonly secrets: SecretsPort;
  readonly metrics: ProbeMetricsPort;
  readonly positions: PrimaryPositionStore;
  readonly logger: Logger;
  readonly now: () => number;
  /** Reads one node; the default talks to the real engines. Tests replace it. */
  readonly read?: (node: ProbedNode, secrets: SecretsPort) => Promise<Reading>;
}

export interface SampleOutcome {
  readonly results: readonly NodeResult[];
  /** Problems of the probe itself (a secret that lacks fields): counted in ProbeErrors. */
  readonly probeErrors: number;
}

/** In-memory state of one execution environment: when each replica was last seen caught up. */
export class SamplerMemory {
  readonly caughtUpAt = new Map<string, number>();
  readonly positions = new Map<string, PrimaryPosition>();
}

export async function sampleOnce(
  nodes: readonly ProbedNode[],
  deps: SamplerDeps,
  memory: SamplerMemory,
): Promise<SampleOutcome> {
  const startedAt = deps.now();
  const read = deps.read ?? readNode;
  const settled = await Promise.all(
    nodes.map(async (node) => {
      const timeoutMs = node.probe.timeoutSeconds * 1000;
      try {
        const reading = await withTimeout(
          timeoutMs,
          `${node.serviceId}/${node.nodeId}`,
          read(node, deps.secrets),
        );
        return { node, reading };
      } catch (err) {
        return { node, error: err };
      }
    }),
  );

  const results: NodeResult[] = [];
  let probeErrors = 0;
  const byService = groupBy(settled, (s) => s.node.serviceId);
  for (const [serviceId, entries] of byService) {
    const pgReadings = entries.map((e) => (e.reading?.kind === 'postgres' ? e.reading.pg : undefined));
    const primaryNow = pgPrimaryPosition(pgReadings);
    let lastKnown = memory.positions.get(serviceId);
    if (entries.some((e) => e.reading?.kind === 'postgres' && e.reading.pg.inRecovery)) {
      if (primaryNow !== undefined) {
        lastKnown = { lsn: primaryNow, at: startedAt };
        memory.positions.set(serviceId, lastKnown);
        await deps.positions.put(serviceId, lastKnown).catch((err: unknown) => {
          deps.logger.warn('primary position not stored', { serviceId, error: errorMessage(err) });
        });
      } else if (lastKnown === undefined) {
        lastKnown = await deps.positions.get(serviceId).catch((err: unknown) => {
          deps.logger.warn('primary position not read', { serviceId, error: errorMessage(err) });
          return undefined;
        });
        if (lastKnown) memory.positions.set(serviceId, lastKnown);
      }
    } else if (primaryNow !== undefined) {
      memory.positions.set(serviceId, { lsn: primaryNow, at: startedAt });
    }

    for (const entry of entries) {
      const { node } = entry;
      if (entry.error !== undefined || !entry.reading) {
        const failure = classify(entry.error);
        if (failure.reason === 'secret') probeErrors++;
        const log = failure.reason === 'secret' ? deps.logger.error : deps.logger.warn;
        log.call(deps.logger, 'node check failed', {
          serviceId,
          nodeId: node.nodeId,
          kind: node.probe.kind,
          host: node.probe.host,
          port: node.probe.port,
          reason: failure.reason,
          error: failure.message,
        });
        results.push({ serviceId, nodeId: node.nodeId, figures: { healthy: 0 }, failure });
        continue;
      }
      results.push({
        serviceId,
        nodeId: node.nodeId,
        figures: figuresOf(entry.reading, {
          primaryNow,
          lastKnown,
          memory,
          key: `${serviceId}/${node.nodeId}`,
          now: startedAt,
        }),
      });
    }
  }

  const datapoints = results.flatMap((r) => datapointsOf(r, startedAt));
  await deps.metrics.publish(datapoints, probeErrors, startedAt);
  return { results, probeErrors };
}

function figuresOf(
  reading: Reading,
  ctx: {
    primaryNow: bigint | undefined;
    lastKnown: PrimaryPosition | undefined;
    memory: SamplerMemory;
    key: string;
    now: number;
  },
): NodeFigures {
  switch (reading.kind) {
    case 'tcp':
      return { healthy: 1 };
    case 'http':
      return reading.figures;
    case 'mysql': {
      const lag = mysqlLagSeconds(reading.mysql);
      const writable = mysqlWritable(reading.mysql);
      return {
        healthy: 1,
        writable: writable ? 1 : 0,
        ...(lag !== undefined && !writable ? { lagSeconds: lag } : {}),
      };
    }
    case 'postgres': {
      const r = reading.pg;
      if (!r.inRecovery) return { healthy: 1, writable: pgWritable(r) ? 1 : 0 };
      const lag = pgLag({
        replica: r,
        ...(ctx.primaryNow !== undefined ? { primaryNow: ctx.primaryNow } : {}),
        ...(ctx.lastKnown !== undefined ? { lastKnown: ctx.lastKnown } : {}),
        ...(ctx.memory.caughtUpAt.has(ctx.key) ? { lastCaughtUpAt: ctx.memory.caughtUpAt.get(ctx.key) } : {}),
        now: ctx.now,
      });
      if (lag.caughtUp) ctx.memory.caughtUpAt.set(ctx.key, ctx.now);
      return { healthy: 1, writable: 0, lagSeconds: lag.lagSeconds, lagBytes: lag.lagBytes };
    }
  }
}

function datapointsOf(r: NodeResult, timestamp: number): ProbeDatapoint[] {
  const base = { serviceId: r.serviceId, nodeId: r.nodeId, timestamp };
  const out: ProbeDatapoint[] = [{ ...base, metric: 'healthy', value: r.figures.healthy }];
  if (r.figures.writable !== undefined) out.push({ ...base, metric: 'writable', value: r.figures.writable });
  if (r.figures.lagSeconds !== undefined) {
    out.push({ ...base, metric: 'replicationLagSeconds', value: lagValue(r.figures.lagSeconds) });
  }
  if (r.figures.lagBytes !== undefined) {
    out.push({ ...base, metric: 'replicationLagBytes', value: lagValue(r.figures.lagBytes) });
  }
  return out;
}

function lagValue(lag: Lag): number {
  return lag === 'unknown' ? UNKNOWN_LAG : lag;
}

/** Reads one node with the real drivers; credentials from Secrets Manager. */
export async function readNode(node: ProbedNode, secrets: SecretsPort): Promise<Reading> {
  const p = node.probe;
  const timeoutMs = p.timeoutSeconds * 1000;
  switch (p.kind) {
    case 'tcp':
      await checkTcp(p.host, p.port, timeoutMs);
      return { kind: 'tcp' };
    case 'http': {
      const secret = p.secretArn ? await secrets.getJson(p.secretArn) : undefined;
      const reading = await readHttp(p, secret, timeoutMs);
      return { kind: 'http', figures: httpFigures(p, reading) };
    }
    case 'postgres': {
      const credentials = await credentialsFor(secrets, p.secretArn);
      const client = await loginOrForget(secrets, p.secretArn, () =>
        connectPostgres(
          { host: p.host, port: p.port, database: p.database, tls: p.tls },
          credentials,
          timeoutMs,
        ),
      );
      try {
        return { kind: 'postgres', pg: await readPostgres(client) };
      } finally {
        abandonPostgres(client);
      }
    }
    case 'mysql': {
      const credentials = await credentialsFor(secrets, p.secretArn);
      const conn = await loginOrForget(secrets, p.secretArn, () =>
        connectMysql({ host: p.host, port: p.port, tls: p.tls }, credentials, timeoutMs),
      );
      try {
        return { kind: 'mysql', mysql: await readMysql(conn, timeoutMs) };
      } finally {
        abandonMysql(conn);
      }
    }
  }
}

function credentialsFor(secrets: SecretsPort, secretArn: string): Promise<DbCredentials> {
  return getDbCredentials(secrets, secretArn);
}

/** A refused login drops the cached secret: it may have been rotated since it was read. */
async function loginOrForget<T>(
  secrets: SecretsPort,
  secretArn: string,
  login: () => Promise<T>,
): Promise<T> {
  try {
    return await login();
  } catch (err) {
    if (classify(err).reason === 'auth') secrets.forget(secretArn);
    throw err;
  }
}

/** Sorts a failed check into what an operator can act on. */
export function classify(err: unknown): { reason: FailureReason; message: string } {
  const message = errorMessage(err);
  if (err instanceof SecretFormatError) return { reason: 'secret', message };
  if (err instanceof NodeTimeoutError) return { reason: 'timeout', message };
  const e = err as { code?: unknown; name?: unknown; errno?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  // PostgreSQL 28P01 invalid_password, 28000 invalid_authorization; MySQL 1045 access denied.
  if (
    code === '28P01' ||
    code === '28000' ||
    code === 'ER_ACCESS_DENIED_ERROR' ||
    code === 'ER_DBACCESS_DENIED_ERROR'
  ) {
    return { reason: 'auth', message };
  }
  if (
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code)
  ) {
    return { reason: 'unreachable', message };
  }
  if (code === 'ETIMEDOUT' || e?.name === 'TimeoutError' || /timeout|timed out/i.test(message)) {
    return { reason: 'timeout', message };
  }
  return { reason: 'error', message };
}

function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e) => errorMessage(e)).join('; ');
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(item);
    out.set(k, list);
  }
  return out;
}
