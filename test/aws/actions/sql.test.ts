/**
 * The SQL each role sends, against a recording session. The same actions run against real
 * PostgreSQL and MariaDB in the real-database suite.
 */
import { describe, expect, it } from 'vitest';
import { AwsNodeActions } from '../../../lambdas/aws/actions/index.ts';
import type { SqlDeps, SqlSession } from '../../../lambdas/aws/actions/sql.ts';
import { actionConfig, fakeTiming, request, SECRET_ARN } from './helpers.ts';

function recorder(answers: (sql: string) => Record<string, unknown>[]) {
  const sent: string[] = [];
  const connected: unknown[] = [];
  let ended = 0;
  const session: SqlSession = {
    query: async (sql, params) => {
      sent.push(params ? `${sql} ${JSON.stringify(params)}` : sql);
      return answers(sql);
    },
    end: async () => {
      ended += 1;
    },
  };
  const deps: SqlDeps = {
    credentials: async (arn) => {
      expect(arn).toBe(SECRET_ARN);
      return { username: 'admin', password: 'pw' };
    },
    connect: async (engine, connection) => {
      connected.push([engine, connection.host, connection.port]);
      return session;
    },
  };
  return { sent, connected, deps, ended: () => ended };
}

function port(actions: Record<string, unknown>, deps: SqlDeps) {
  return new AwsNodeActions({
    config: actionConfig(actions),
    clients: { sql: () => deps },
    timing: fakeTiming(),
  });
}

describe('postgres action', () => {
  it('promotes with pg_promote and checks the server left recovery', async () => {
    let promoted = false;
    const r = recorder((sql) => {
      if (sql.startsWith('SELECT pg_promote')) {
        promoted = true;
        return [{ promoted: true }];
      }
      return sql.includes('pg_is_in_recovery') ? [{ in_recovery: !promoted }] : [];
    });
    const result = await port({ promote: { type: 'postgres', timeoutSeconds: 30 } }, r.deps).run(
      request('promote', { timeoutMs: 30_000 }),
    );
    expect(r.connected).toEqual([['postgres', 'db-b.internal', 5432]]);
    expect(r.sent).toEqual([
      'SELECT pg_is_in_recovery() AS in_recovery',
      'SELECT pg_promote(true, $1) AS promoted [29]',
      'SELECT pg_is_in_recovery() AS in_recovery',
    ]);
    expect(result).toMatchObject({ status: 'succeeded', detail: expect.stringMatching(/promoted/) });
    expect(r.ended()).toBe(1);
  });

  it('fails a promote that leaves the server in recovery', async () => {
    const r = recorder((sql) =>
      sql.includes('pg_is_in_recovery') ? [{ in_recovery: true }] : [{ promoted: false }],
    );
    const result = await port({ promote: { type: 'postgres' } }, r.deps).run(request('promote'));
    expect(result.status).toBe('failed');
    expect(result.detail).toContain('still in recovery');
  });

  it('fences a primary read-only and ends the other client sessions', async () => {
    const r = recorder((sql) => {
      if (sql.includes('pg_is_in_recovery')) return [{ in_recovery: false }];
      if (sql.includes('pg_terminate_backend')) return [{ ended: '3' }];
      if (sql.includes('pg_file_settings')) return [{ setting: 'on' }];
      // Our own session sees the reload on the second read.
      if (sql.includes('current_setting'))
        return [{ v: r.sent.filter((q) => q.includes('current_setting')).length > 1 ? 'on' : 'off' }];
      return [];
    });
    const result = await port({ fence: { type: 'postgres' } }, r.deps).run(request('fence'));
    expect(r.sent.slice(0, 5)).toEqual([
      'SELECT pg_is_in_recovery() AS in_recovery',
      'ALTER SYSTEM SET default_transaction_read_only = on',
      'SELECT pg_reload_conf()',
      'SELECT current_setting($1) AS v ["default_transaction_read_only"]',
      'SELECT current_setting($1) AS v ["default_transaction_read_only"]',
    ]);
    expect(r.sent[5]).toContain("backend_type = 'client backend' AND pid <> pg_backend_pid()");
    expect(result.detail).toContain('3 client session(s) ended');
  });

  it('fences one database where ALTER SYSTEM is not allowed (Amazon RDS)', async () => {
    const r = recorder((sql) => {
      if (sql.includes('current_database() AS db')) return [{ db: 'led"ger' }];
      if (sql.includes('pg_is_in_recovery')) return [{ in_recovery: false }];
      if (sql.includes('pg_terminate_backend')) return [{ ended: 0 }];
      if (sql.includes('pg_db_role_setting')) return [{ setting: 'on' }];
      return [];
    });
    const result = await port({ fence: { type: 'postgres', readOnlyScope: 'database' } }, r.deps).run(
      request('fence'),
    );
    expect(r.sent).toContain('ALTER DATABASE "led""ger" SET default_transaction_read_only = on');
    expect(r.sent.some((q) => q.startsWith('ALTER SYSTEM'))).toBe(false);
    expect(result.status).toBe('succeeded');
    await port({ fence: { type: 'postgres', readOnlyScope: 'database' } }, r.deps).run(request('unfence'));
    expect(r.sent.at(-1)).toBe('ALTER DATABASE "led""ger" RESET default_transaction_read_only');
  });

  it('unfences by resetting the setting', async () => {
    const r = recorder((sql) => (sql.includes('current_setting') ? [{ v: 'off' }] : []));
    const result = await port({ fence: { type: 'postgres' } }, r.deps).run(request('unfence'));
    expect(result.status).toBe('succeeded');
    expect(r.sent).toEqual([
      'ALTER SYSTEM RESET default_transaction_read_only',
      'SELECT pg_reload_conf()',
      'SELECT current_setting($1) AS v ["default_transaction_read_only"]',
    ]);
  });
});

describe('mysql action', () => {
  it('promotes MySQL: stop and reset replication, then read_only off', async () => {
    const r = recorder((sql) => (sql.includes('@@GLOBAL.read_only') ? [{ ro: 0 }] : []));
    await port({ promote: { type: 'mysql' } }, r.deps).run(request('promote'));
    expect(r.sent).toEqual([
      'STOP REPLICA',
      'RESET REPLICA ALL',
      'SET GLOBAL super_read_only = OFF',
      'SET GLOBAL read_only = OFF',
      'SELECT @@GLOBAL.read_only AS ro',
    ]);
  });

  it('promotes MariaDB with its own statements', async () => {
    const r = recorder((sql) => (sql.includes('@@GLOBAL.read_only') ? [{ ro: 0 }] : []));
    await port({ promote: { type: 'mysql', flavor: 'mariadb' } }, r.deps).run(request('promote'));
    expect(r.sent).toEqual([
      'STOP SLAVE',
      'RESET SLAVE ALL',
      'SET GLOBAL read_only = OFF',
      'SELECT @@GLOBAL.read_only AS ro',
    ]);
  });

  it('fences with super_read_only, then kills client sessions, tolerating one that ended', async () => {
    const r = recorder((sql) => {
      if (sql.includes('@@GLOBAL.read_only')) return [{ ro: 1 }];
      if (sql.includes('PROCESSLIST')) return [{ id: 11 }, { id: 12 }];
      if (sql.startsWith('KILL') && r.sent.at(-1)?.endsWith('[12]')) {
        throw Object.assign(new Error('Unknown thread id: 12'), { errno: 1094 });
      }
      return [];
    });
    const result = await port({ fence: { type: 'mysql' } }, r.deps).run(request('fence'));
    expect(r.sent).toEqual([
      'SET GLOBAL super_read_only = ON',
      'SELECT @@GLOBAL.read_only AS ro',
      expect.stringContaining('information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()'),
      'KILL ? [11]',
      'KILL ? [12]',
    ]);
    expect(result.detail).toContain('super_read_only = ON, 1 client session(s) killed');
  });

  it('fails a fence that did not make the server read-only', async () => {
    const r = recorder((sql) => (sql.includes('@@GLOBAL.read_only') ? [{ ro: 0 }] : []));
    const result = await port({ fence: { type: 'mysql', flavor: 'mariadb' } }, r.deps).run(request('fence'));
    expect(result.status).toBe('failed');
    expect(r.sent[0]).toBe('SET GLOBAL read_only = ON');
  });

  it.each([
    ['pg connect', 'postgres', 'connect', Object.assign(new Error('timeout expired'), {})],
    ['pg query', 'postgres', 'query', new Error('Query read timeout')],
    [
      'mysql2 connect',
      'mysql',
      'connect',
      Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }),
    ],
  ] as const)(
    'a fence the %s deadline cut short is timed out (a hung server), not failed',
    async (_, type, where, err) => {
      const r = recorder(() => {
        throw err;
      });
      const deps: SqlDeps =
        where === 'connect'
          ? {
              ...r.deps,
              connect: async () => {
                throw err;
              },
            }
          : r.deps;
      const result = await port({ fence: { type } }, deps).run(request('fence'));
      expect(result.status).toBe('timed-out');
      expect(result.detail).toContain('did not answer in time');
      expect(result.error?.unreachable).toBeUndefined();
    },
  );

  it('a refused connection stays a failure that never reached the node', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const result = await port(
      { fence: { type: 'postgres' } },
      {
        credentials: async () => ({ username: 'admin', password: 'pw' }),
        connect: async () => {
          throw refused;
        },
      },
    ).run(request('fence'));
    expect(result.status).toBe('failed');
    expect(result.error?.unreachable).toBe(true);
  });
});
