/**
 * The `postgres` and `mysql` node actions against real servers (PostgreSQL 15 primary + streaming
 * replica, MariaDB primary + replica), through the real port, the real drivers and a credentials
 * reader standing in for Secrets Manager.
 */
import { Client as PgClient } from 'pg';
import { describe, expect, it } from 'vitest';
import { AwsNodeActions } from '../../lambdas/aws/actions/index.ts';
import { driverConnect, type SqlDeps } from '../../lambdas/aws/actions/sql.ts';
import { actionConfig, fakeTiming, request, SECRET_ARN } from '../aws/actions/helpers.ts';
import { useMariaDbCluster } from '../support/realdb/mariadb.ts';
import { usePgCluster } from '../support/realdb/postgres.ts';

/** The primary's admin login, as the credentials reader would hand it out. */
function loginOf(node: { connection: { user: string; password: string } }) {
  return { username: node.connection.user, password: node.connection.password };
}

function port(
  actions: Record<string, unknown>,
  engine: 'postgres' | 'mysql',
  nodes: { a: { port: number }; b: { port: number } },
  credentials: { username: string; password: string },
) {
  const sql = (p: number) => ({
    host: '127.0.0.1',
    port: p,
    secretArn: SECRET_ARN,
    tls: false,
    ...(engine === 'postgres' ? { database: 'postgres' } : {}),
  });
  const deps: SqlDeps = { credentials: async () => credentials, connect: driverConnect };
  return new AwsNodeActions({
    config: actionConfig(actions, { a: { sql: sql(nodes.a.port) }, b: { sql: sql(nodes.b.port) } }),
    clients: { sql: () => deps },
    timing: fakeTiming(),
  });
}

describe('postgres node actions (real PostgreSQL 15)', () => {
  const pg = usePgCluster();
  const creds = () => loginOf(pg.current.primary);

  it('fences the primary read-only, ends its client sessions, and unfences it', async () => {
    const { primary, replica } = pg.current;
    const p = port({ fence: { type: 'postgres' } }, 'postgres', { a: primary, b: replica }, creds());
    await primary.sql('CREATE TABLE IF NOT EXISTS fenced_t (v int)');
    // A client session open before the fence, which could go on writing.
    const open = new PgClient(primary.connection);
    open.on('error', () => undefined);
    await open.connect();

    const fenced = await p.run(request('fence'));
    expect(fenced, fenced.detail).toMatchObject({ status: 'succeeded' });
    expect(fenced.detail).toMatch(/[1-9]\d* client session\(s\) ended/);
    await expect(open.query('INSERT INTO fenced_t VALUES (0)')).rejects.toThrow();
    await open.end().catch(() => undefined);
    // A new session defaults to read-only: a plain write fails.
    await expect(primary.sql('INSERT INTO fenced_t VALUES (1)')).rejects.toThrow(/read-only transaction/);
    // What the README says a SQL fence cannot stop: a client that asks for a read-write transaction.
    await primary.sql('BEGIN READ WRITE; INSERT INTO fenced_t VALUES (2); COMMIT');
    expect(await primary.sql('SELECT v FROM fenced_t')).toEqual([{ v: 2 }]);

    const unfenced = await p.run(request('unfence'));
    expect(unfenced.status).toBe('succeeded');
    await primary.sql('INSERT INTO fenced_t VALUES (3)');
  });

  it('a fence of a replica (in recovery) changes nothing and succeeds', async () => {
    const { primary, replica } = pg.current;
    const p = port({ fence: { type: 'postgres' } }, 'postgres', { a: replica, b: primary }, creds());
    const result = await p.run(request('fence'));
    expect(result).toMatchObject({ status: 'succeeded', detail: expect.stringContaining('is a replica') });
  });

  it('promotes the replica with pg_promote and sees it leave recovery; a second promote is a no-op', async () => {
    const { primary, replica } = pg.current;
    await pg.current.waitForReplay();
    const p = port(
      { promote: { type: 'postgres', timeoutSeconds: 30 } },
      'postgres',
      { a: primary, b: replica },
      creds(),
    );
    const result = await p.run(request('promote', { timeoutMs: 30_000 }));
    expect(result, result.detail).toMatchObject({ status: 'succeeded' });
    expect((await replica.sql<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(false);
    const again = await p.run(request('promote', { timeoutMs: 30_000 }));
    expect(again.detail).toContain('already a primary');
  });

  it('a session the server ends under the driver (restart, terminate) does not crash the process', async () => {
    const { primary } = pg.current;
    const session = await driverConnect(
      'postgres',
      {
        host: '127.0.0.1',
        port: primary.port,
        database: 'postgres',
        secretArn: SECRET_ARN,
        tls: false,
        verify: true,
      },
      creds(),
      5_000,
    );
    const [{ pid }] = (await session.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
    // What a demote's restart does to an idle session: FATAL 57P01 arrives as an 'error' event.
    await primary.sql('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(session.query('SELECT 1')).rejects.toThrow();
    await session.end().catch(() => undefined);
  });

  it('a wrong password is a failed action with the server error, not a crash', async () => {
    const { primary, replica } = pg.current;
    const p = port(
      { fence: { type: 'postgres' } },
      'postgres',
      { a: primary, b: replica },
      {
        username: 'postgres',
        password: 'wrong',
      },
    );
    const result = await p.run(request('fence'));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/password authentication failed/);
  });
});

describe('mysql node actions (real MariaDB)', () => {
  const db = useMariaDbCluster();
  const creds = () => loginOf(db.current.primary);
  /** The port with `actions` of kind mysql on the MariaDB pair: a the primary, b the replica. */
  const mariaPort = (actions: Record<string, unknown>) =>
    port(actions, 'mysql', { a: db.current.primary, b: db.current.replica }, creds());

  it('fences the primary read-only and kills other client sessions, then unfences it', async () => {
    const { primary } = db.current;
    const p = mariaPort({ fence: { type: 'mysql', flavor: 'mariadb' } });
    const result = await p.run(request('fence'));
    expect(result, result.detail).toMatchObject({ status: 'succeeded' });
    expect(result.detail).toContain('read_only = ON');
    expect(Number((await primary.sql<{ ro: number }>('SELECT @@GLOBAL.read_only AS ro'))[0]?.ro)).toBe(1);
    const undone = await p.run(request('unfence'));
    expect(undone.status).toBe('succeeded');
    expect(Number((await primary.sql<{ ro: number }>('SELECT @@GLOBAL.read_only AS ro'))[0]?.ro)).toBe(0);
  });

  it('promotes the replica: replication stopped and reset, read_only off', async () => {
    const { replica } = db.current;
    await db.current.waitForReplay();
    const p = mariaPort({ promote: { type: 'mysql', flavor: 'mariadb' } });
    const result = await p.run(request('promote'));
    expect(result, result.detail).toMatchObject({ status: 'succeeded' });
    expect(await replica.sql('SHOW SLAVE STATUS')).toEqual([]);
    expect(Number((await replica.sql<{ ro: number }>('SELECT @@GLOBAL.read_only AS ro'))[0]?.ro)).toBe(0);
  });
});
