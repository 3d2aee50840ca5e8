/**
 * `postgres` and `mysql`: node actions in SQL, on a connection to the node itself (`nodes[].sql`,
 * else the node's probe of the same engine; credentials from the Secrets Manager secret it names).
 *
 * PostgreSQL
 * - promote: `SELECT pg_promote(true, <seconds>)`, then `pg_is_in_recovery()` must be false.
 * - fence / demote: `ALTER SYSTEM SET default_transaction_read_only = on`, `pg_reload_conf()`,
 *   then `pg_terminate_backend` of every other client session. A client can still run
 *   `SET default_transaction_read_only = off` (or `BEGIN READ WRITE`) and write: this fence stops
 *   well-behaved clients and ends current sessions, nothing more. A strong fence is `ec2-stop` or
 *   `ec2-isolate`. A SQL demote cannot turn a primary into a replica (that needs pg_rewind and a
 *   restart: an `ssm-command`).
 * - unfence: `ALTER SYSTEM RESET default_transaction_read_only`, `pg_reload_conf()`.
 * MySQL 8 / MariaDB 10.11
 * - promote: stop replication, forget it (`RESET REPLICA ALL`; MariaDB `RESET SLAVE ALL`), then
 *   `read_only = OFF` (MySQL: `super_read_only = OFF` first); `@@read_only` must read 0.
 * - fence / demote: `super_read_only = ON` (MariaDB, which has none: `read_only = ON`), then
 *   `KILL` every other client session. Accounts with SUPER / READ_ONLY ADMIN still write on MariaDB.
 * - unfence: `read_only = OFF` (and `super_read_only = OFF`).
 * Every step is idempotent: a node already in the wanted state succeeds at once.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ActionOf, type ResolvedSqlConnection, sqlConnectionOf } from '../../domain/action-config.ts';
import { NodeActionFailedError } from '../../domain/errors.ts';
import type { ActionContext, KindOutcome } from './common.ts';

export interface SqlCredentials {
  readonly username: string;
  readonly password: string;
}

/** One open connection; rows as plain objects keyed by column name. */
export interface SqlSession {
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  end(): Promise<void>;
}

export type SqlEngine = 'postgres' | 'mysql';

export interface SqlDeps {
  credentials(secretArn: string, signal: AbortSignal): Promise<SqlCredentials>;
  connect(
    engine: SqlEngine,
    connection: ResolvedSqlConnection,
    credentials: SqlCredentials,
    timeoutMs: number,
  ): Promise<SqlSession>;
}

type SqlAction = ActionOf<'postgres'> | ActionOf<'mysql'>;

export function sqlRunner(deps: SqlDeps) {
  return async (ctx: ActionContext<SqlAction>): Promise<KindOutcome> => {
    const connection = sqlConnectionOf(ctx.node, ctx.action.type);
    if (!connection) {
      throw new NodeActionFailedError(
        ctx.action.type,
        'failed',
        `${ctx.node.id} has no sql connection and no ${ctx.action.type} probe`,
      );
    }
    const credentials = await deps.credentials(connection.secretArn, ctx.signal);
    const remaining = () => Math.max(1, ctx.deadline - ctx.timing.now());
    const engine = ctx.action.type;
    const session = await driverDeadline(engine, () =>
      deps.connect(engine, connection, credentials, remaining()),
    );
    try {
      const detail = await driverDeadline(engine, () =>
        engine === 'postgres'
          ? postgres(session, ctx as ActionContext<ActionOf<'postgres'>>, remaining)
          : mysql(session, ctx as ActionContext<ActionOf<'mysql'>>),
      );
      return { detail: `${connection.host}:${connection.port} ${detail}` };
    } finally {
      await session.end().catch(() => undefined);
    }
  };
}

/**
 * The drivers' own deadlines, set to the action's remaining time, race ours: pg's connect
 * ('timeout expired', 'Connection terminated due to connection timeout') and query ('Query read
 * timeout'), mysql2's ETIMEDOUT and PROTOCOL_SEQUENCE_TIMEOUT. A hung server (SIGSTOP, a stuck
 * host) still accepts the TCP connection and then never answers: the action reached the node and
 * did not finish in time. That is a timed-out action (the fence gate holds as fence-hung), not a
 * server that answered with a failure.
 */
const DRIVER_TIMEOUT =
  /\b(timeout expired|Connection terminated due to connection timeout|Query read timeout|ETIMEDOUT|PROTOCOL_SEQUENCE_TIMEOUT)\b/;

async function driverDeadline<T>(engine: SqlEngine, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof NodeActionFailedError) throw err;
    const code = (err as { code?: unknown } | undefined)?.code;
    const text = `${err instanceof Error ? err.message : String(err)}${typeof code === 'string' ? ` (${code})` : ''}`;
    if (!DRIVER_TIMEOUT.test(text)) throw err;
    throw new NodeActionFailedError(engine, 'timed-out', `the server did not answer in time: ${text}`, {
      cause: err,
    });
  }
}

async function one(
  session: SqlSession,
  sql: string,
  params?: readonly unknown[],
): Promise<Record<string, unknown>> {
  return (await session.query(sql, params))[0] ?? {};
}

async function postgres(
  session: SqlSession,
  ctx: ActionContext<ActionOf<'postgres'>>,
  remaining: () => number,
): Promise<string> {
  const inRecovery = async () =>
    (await one(session, 'SELECT pg_is_in_recovery() AS in_recovery')).in_recovery === true;
  const role = ctx.request.role;
  if (role === 'promote') {
    if (!(await inRecovery())) return 'already a primary (not in recovery)';
    // Leave a second of the budget for the check after it.
    const waitSeconds = Math.max(1, Math.floor(remaining() / 1000) - 1);
    const promoted = (await one(session, 'SELECT pg_promote(true, $1) AS promoted', [waitSeconds])).promoted;
    if (await inRecovery()) {
      throw new NodeActionFailedError(
        'postgres',
        'failed',
        `pg_promote returned ${String(promoted)} but the server is still in recovery after ${waitSeconds} s`,
      );
    }
    return 'promoted: pg_promote done, pg_is_in_recovery() is false';
  }
  const database = ctx.action.readOnlyScope === 'database';
  const db = database ? quoteIdent(String((await one(session, 'SELECT current_database() AS db')).db)) : '';
  if (role === 'unfence') {
    if (database) {
      await session.query(`ALTER DATABASE ${db} RESET default_transaction_read_only`);
    } else {
      await session.query('ALTER SYSTEM RESET default_transaction_read_only');
      await session.query('SELECT pg_reload_conf()');
      await reloaded(session, ctx, 'off');
    }
    return 'unfenced: default_transaction_read_only reset';
  }
  // fence, demote
  if (await inRecovery()) return 'is a replica (in recovery): it takes no writes';
  if (database) {
    // Applies to sessions that start from now on; the ones already open are ended below.
    await session.query(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
  } else {
    await session.query('ALTER SYSTEM SET default_transaction_read_only = on');
    await session.query('SELECT pg_reload_conf()');
    await reloaded(session, ctx, 'on');
  }
  let ended = 0;
  if (ctx.action.terminateSessions) {
    const row = await one(
      session,
      "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS ended FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    ended = Number(row.ended ?? 0);
  }
  const applied = database
    ? await one(
        session,
        "SELECT 'on' AS setting FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0 AND 'default_transaction_read_only=on' = ANY (setconfig)",
      )
    : await one(
        session,
        "SELECT setting FROM pg_file_settings WHERE name = 'default_transaction_read_only' AND applied ORDER BY seqno DESC LIMIT 1",
      );
  if (applied.setting !== 'on') {
    throw new NodeActionFailedError(
      'postgres',
      'failed',
      'default_transaction_read_only = on was not applied',
    );
  }
  return `read-only: default_transaction_read_only = on (${database ? `database ${db}` : 'server'}), ${ended} client session(s) ended`;
}

/**
 * pg_reload_conf() only signals the postmaster: for a few milliseconds after it returns a new
 * session can still start with the old setting. The postmaster re-reads the file before it
 * signals the backends, so once our own session shows the value, every session started from now
 * on has it too.
 */
async function reloaded(session: SqlSession, ctx: ActionContext, want: 'on' | 'off'): Promise<void> {
  for (;;) {
    const now = (await one(session, 'SELECT current_setting($1) AS v', ['default_transaction_read_only'])).v;
    if (now === want) return;
    const remaining = ctx.deadline - ctx.timing.now();
    if (remaining <= 0 || ctx.signal.aborted) {
      throw new NodeActionFailedError(
        'postgres',
        'timed-out',
        `default_transaction_read_only is still ${String(now)} after pg_reload_conf()`,
      );
    }
    await ctx.timing.sleep(Math.min(RELOAD_POLL_MS, remaining), ctx.signal);
  }
}

/** The reload takes milliseconds: read again soon. */
const RELOAD_POLL_MS = 50;

/** A PostgreSQL identifier, double-quoted. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function mysql(session: SqlSession, ctx: ActionContext<ActionOf<'mysql'>>): Promise<string> {
  const maria = ctx.action.flavor === 'mariadb';
  const role = ctx.request.role;
  const readOnly = async () => Number((await one(session, 'SELECT @@GLOBAL.read_only AS ro')).ro) === 1;
  if (role === 'promote' || role === 'unfence') {
    if (role === 'promote') {
      await session.query(maria ? 'STOP SLAVE' : 'STOP REPLICA');
      await session.query(maria ? 'RESET SLAVE ALL' : 'RESET REPLICA ALL');
    }
    if (!maria) await session.query('SET GLOBAL super_read_only = OFF');
    await session.query('SET GLOBAL read_only = OFF');
    if (await readOnly()) throw new NodeActionFailedError('mysql', 'failed', '@@read_only is still 1');
    return role === 'promote'
      ? 'promoted: replication stopped and reset, read_only = OFF'
      : 'unfenced: read_only = OFF';
  }
  // fence, demote. On MySQL super_read_only = ON also sets read_only = ON.
  await session.query(maria ? 'SET GLOBAL read_only = ON' : 'SET GLOBAL super_read_only = ON');
  if (!(await readOnly())) throw new NodeActionFailedError('mysql', 'failed', '@@read_only is still 0');
  let killed = 0;
  if (ctx.action.killSessions) {
    const rows = await session.query(
      "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker') AND USER NOT IN ('system user', 'event_scheduler')",
    );
    for (const row of rows) {
      try {
        await session.query('KILL ?', [Number(row.id)]);
        killed += 1;
      } catch (err) {
        // The session ended by itself meanwhile (ER_NO_SUCH_THREAD): nothing to kill.
        if ((err as { errno?: number }).errno !== 1094) throw err;
      }
    }
  }
  return `read-only: ${maria ? 'read_only' : 'super_read_only'} = ON, ${killed} client session(s) killed`;
}

/** Credentials from a Secrets Manager secret holding JSON `{ "username", "password" }`. */
export function secretsManagerCredentials(client: SecretsManagerClient): SqlDeps['credentials'] {
  return async (secretArn, signal) => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }), {
      abortSignal: signal,
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(out.SecretString ?? '');
    } catch {
      parsed = undefined;
    }
    const p = parsed as { username?: unknown; password?: unknown } | undefined;
    if (typeof p?.username !== 'string' || typeof p?.password !== 'string') {
      throw new NodeActionFailedError(
        'sql',
        'failed',
        `secret ${secretArn} must hold JSON with string fields username and password`,
      );
    }
    return { username: p.username, password: p.password };
  };
}

/** The real drivers: `pg` for PostgreSQL, `mysql2` for MySQL and MariaDB. Loaded on first use. */
export const driverConnect: SqlDeps['connect'] = async (engine, connection, credentials, timeoutMs) => {
  if (engine === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({
      host: connection.host,
      port: connection.port,
      database: connection.database ?? 'postgres',
      user: credentials.username,
      password: credentials.password,
      ssl: connection.tls ? { rejectUnauthorized: connection.verify } : false,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'failover-node-action',
    });
    // A server that goes away under the session (a demote restarts it; a fence ends sessions)
    // emits 'error' on the client after the statement; without a listener that event would crash
    // the whole Lambda process. The statement's own failure still reaches the caller.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => undefined);
      throw err;
    }
    return {
      query: async (sql, params) => (await client.query(sql, params ? [...params] : undefined)).rows,
      end: () => client.end(),
    };
  }
  const mysql2 = await import('mysql2/promise');
  const conn = await mysql2.createConnection({
    host: connection.host,
    port: connection.port,
    user: credentials.username,
    password: credentials.password,
    connectTimeout: timeoutMs,
    ...(connection.tls ? { ssl: { rejectUnauthorized: connection.verify } } : {}),
  });
  conn.on('error', () => undefined);
  return {
    query: async (sql, params) => {
      const [rows] = await conn.query({ sql, timeout: timeoutMs }, params ? [...params] : undefined);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
    end: () => conn.end(),
  };
};
