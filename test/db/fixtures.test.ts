/**
 * The real-database fixtures themselves: other suites (the probe, the SQL node actions, the game
 * day) rely on what they promise, so each promise is checked here once.
 */
import { describe, expect, it } from 'vitest';
import type { LocalDbNode, ScratchNode } from '../support/realdb/cluster.ts';
import { useMariaDbCluster } from '../support/realdb/mariadb.ts';
import { pgWaitForReplay, usePgCluster } from '../support/realdb/postgres.ts';

/** The primary crashes (stop immediate, no shutdown checkpoint) and the replica is promoted. */
async function crashPrimaryAndPromote(cluster: {
  readonly primary: LocalDbNode & ScratchNode;
  readonly replica: LocalDbNode;
}): Promise<void> {
  await cluster.primary.stop('immediate');
  expect(cluster.primary.isRunning()).toBe(false);
  await cluster.replica.promote();
}

describe('PostgreSQL fixture', () => {
  const pg = usePgCluster();

  it('starts a primary and a streaming replica that replays its writes', async () => {
    const { primary, replica } = pg.current;
    expect(await primary.sql('SELECT pg_is_in_recovery() AS r')).toEqual([{ r: false }]);
    expect(await replica.sql('SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    const [walsender] = await primary.sql<{ state: string }>('SELECT state FROM pg_stat_replication');
    expect(walsender?.state).toBe('streaming');
    await primary.sql('CREATE TABLE fixture_t (x int)');
    await primary.sql('INSERT INTO fixture_t VALUES (1)');
    await pg.current.waitForReplay();
    expect(await replica.sql('SELECT x FROM fixture_t')).toEqual([{ x: 1 }]);
  });

  it('refuses a wrong password over TCP', async () => {
    const { primary } = pg.current;
    const { pgQuery } = await import('../support/realdb/postgres.ts');
    await expect(pgQuery({ ...primary.connection, password: 'wrong' }, 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    );
  });

  it('pauses and resumes replay', async () => {
    const { primary, replica } = pg.current;
    await replica.pauseReplay();
    await primary.sql('INSERT INTO fixture_t VALUES (2)');
    await new Promise((r) => setTimeout(r, 300));
    expect(await replica.sql('SELECT count(*)::int AS n FROM fixture_t')).toEqual([{ n: 1 }]);
    await replica.resumeReplay();
    await pg.current.waitForReplay();
    expect(await replica.sql('SELECT count(*)::int AS n FROM fixture_t')).toEqual([{ n: 2 }]);
  });

  it('freezes a node so that connections hang, and thaws it', async () => {
    const { replica } = pg.current;
    replica.freeze();
    try {
      const { default: pgDriver } = await import('pg');
      const client = new pgDriver.Client({ ...replica.connection, connectionTimeoutMillis: 500 });
      await expect(client.connect()).rejects.toThrow(/timeout/i);
    } finally {
      replica.thaw();
    }
    expect(await replica.sql('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('fails over for real: primary crashes, replica promotes, old primary rewinds and rejoins', async () => {
    const { primary, replica } = pg.current;
    await crashPrimaryAndPromote(pg.current);
    expect(await replica.sql('SELECT pg_is_in_recovery() AS r')).toEqual([{ r: false }]);
    await replica.sql('INSERT INTO fixture_t VALUES (3)');
    await primary.rewindFrom(replica);
    expect(await primary.sql('SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    await pgWaitForReplay(replica, primary);
    expect(await primary.sql('SELECT count(*)::int AS n FROM fixture_t')).toEqual([{ n: 3 }]);
  });
});

describe('MariaDB fixture', () => {
  const maria = useMariaDbCluster();

  it('starts a primary and a read-only replica that applies its writes', async () => {
    const { primary, replica } = maria.current;
    expect(await replica.sql('SELECT @@read_only AS ro')).toEqual([{ ro: 1 }]);
    expect(await primary.sql('SELECT @@read_only AS ro')).toEqual([{ ro: 0 }]);
    await primary.sql('CREATE DATABASE fixture; CREATE TABLE fixture.t (x int PRIMARY KEY)');
    await primary.sql('INSERT INTO fixture.t VALUES (1)');
    await maria.current.waitForReplay();
    expect(await replica.sql('SELECT x FROM fixture.t')).toEqual([{ x: 1 }]);
    const [status] = await replica.sql<Record<string, unknown>>('SHOW REPLICA STATUS');
    expect(status).toMatchObject({ Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes' });
  });

  it('stops the SQL thread: events no longer apply and the lag is NULL', async () => {
    const { primary, replica } = maria.current;
    await replica.stopSqlThread();
    await primary.sql('INSERT INTO fixture.t VALUES (2)');
    const [status] = await replica.sql<Record<string, unknown>>('SHOW REPLICA STATUS');
    expect(status).toMatchObject({ Slave_SQL_Running: 'No', Seconds_Behind_Master: null });
    await replica.startReplication();
    await maria.current.waitForReplay();
    expect(await replica.sql('SELECT count(*) AS n FROM fixture.t')).toEqual([{ n: 2 }]);
  });

  it('crashes the primary and promotes the replica', async () => {
    const { primary, replica } = maria.current;
    await crashPrimaryAndPromote(maria.current);
    expect(await replica.sql('SELECT @@read_only AS ro')).toEqual([{ ro: 0 }]);
    await replica.sql('INSERT INTO fixture.t VALUES (3)');
    await primary.start();
    expect(await primary.sql('SELECT count(*) AS n FROM fixture.t')).toEqual([{ n: 2 }]);
  });
});
