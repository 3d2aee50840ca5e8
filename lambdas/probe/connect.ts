/**
 * Connections to the databases, shared by the node probe and the SQL node actions: one place that
 * knows how to reach PostgreSQL (`pg`) and MySQL/MariaDB (`mysql2`) with a timeout and the
 * configured TLS mode, and how to abandon a connection whose server stopped answering.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DbCredentials } from '../aws/secrets-manager.ts';
import { NodeTimeoutError } from '../domain/errors.ts';

export type TlsMode = 'disable' | 'require' | 'verify';

export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly tls: TlsMode;
}

export interface MysqlTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsMode;
}

/** `require`: encrypted, any certificate; `verify`: the certificate must chain to a trusted CA. */
function tlsOptions(mode: TlsMode): false | { rejectUnauthorized: boolean } {
  return mode === 'disable' ? false : { rejectUnauthorized: mode === 'verify' };
}

/**
 * A connected `pg` client. Every statement on it gives up after `timeoutMs` on the server
 * (statement_timeout) and on the client (query_timeout, for a server that does not answer at all).
 */
export async function connectPostgres(
  target: PgTarget,
  credentials: DbCredentials,
  timeoutMs: number,
  applicationName = 'failover-probe',
): Promise<pg.Client> {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: credentials.username,
    password: credentials.password,
    ssl: tlsOptions(target.tls),
    connectionTimeoutMillis: Math.max(1, Math.round(timeoutMs)),
    query_timeout: Math.max(1, Math.round(timeoutMs)),
    statement_timeout: Math.max(1, Math.round(timeoutMs)),
    application_name: applicationName,
  });
  // A server that dies under an idle client emits 'error' on it; without a listener that would
  // crash the Lambda and every other node's sample with it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    abandonPostgres(client);
    throw err;
  }
  return client;
}

/** Closes a client without waiting for a server that may never answer (frozen, partitioned). */
export function abandonPostgres(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
  client.end().catch(() => undefined);
}

/** A connected `mysql2` connection; `timeoutMs` bounds the connect and each query (pass it to `query`). */
export async function connectMysql(
  target: MysqlTarget,
  credentials: DbCredentials,
  timeoutMs: number,
): Promise<mysql.Connection> {
  const tls = tlsOptions(target.tls);
  const conn = await mysql.createConnection({
    host: target.host,
    port: target.port,
    user: credentials.username,
    password: credentials.password,
    connectTimeout: Math.max(1, Math.round(timeoutMs)),
    ...(tls ? { ssl: tls } : {}),
    // Numbers as numbers (Seconds_Behind_Source is BIGINT), dates untouched.
    supportBigNumbers: true,
    bigNumberStrings: false,
  });
  conn.on('error', () => undefined);
  return conn;
}

/** Closes a connection without waiting for a server that may never answer. */
export function abandonMysql(conn: mysql.Connection): void {
  conn.destroy();
}

/** Rejects with a TimeoutError after `ms`, running `onTimeout` first (to abandon a connection). */
export async function withTimeout<T>(
  ms: number,
  what: string,
  work: Promise<T>,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new NodeTimeoutError(`${what} did not answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
