/**
 * The mysql probe against a real MariaDB 10.11 primary and replica (SHOW REPLICA STATUS with
 * MariaDB's column names), with a least-privilege login.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { UNKNOWN_LAG } from '../../lambdas/domain/probe.ts';
import { detectSplitBrain } from '../../lambdas/domain/split-brain.ts';
import type { ProbedNode } from '../../lambdas/probe/sampler.ts';
import { useMariaDbCluster } from '../support/realdb/mariadb.ts';
import { localProbedNode, probeHarness, SECRET_ARN } from './probe-support.ts';

describe('mysql probe (real MariaDB 10.11)', () => {
  const maria = useMariaDbCluster();
  const h = probeHarness();
  let nodes: ProbedNode[];
  const node = localProbedNode('shop-db', 'mysql', 'mysql');

  beforeAll(async () => {
    const { primary, replica } = maria.current;
    // The grants the README asks for (replicated to the replica).
    await primary.sql(
      "CREATE USER 'failover_probe'@'127.0.0.1' IDENTIFIED BY 'probe-pw'; GRANT REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'failover_probe'@'127.0.0.1'",
    );
    await primary.sql(
      'CREATE DATABASE shop; CREATE TABLE shop.t (id int AUTO_INCREMENT PRIMARY KEY, v text)',
    );
    await maria.current.waitForReplay();
    h.secrets.values.set(SECRET_ARN('mysql'), { username: 'failover_probe', password: 'probe-pw' });
    nodes = [node('primary', primary.port), node('replica', replica.port)];
  });

  it('caught up: both healthy, the primary writable, the read-only replica at lag 0', async () => {
    const r = await h.sample(nodes);
    expect(r.get('primary')?.figures).toEqual({ healthy: 1, writable: 1 });
    expect(r.get('replica')?.figures).toEqual({ healthy: 1, writable: 0, lagSeconds: 0 });
  });

  it('SQL thread stopped: lag unknown (published as UNKNOWN_LAG), never 0', async () => {
    const { primary, replica } = maria.current;
    await replica.stopSqlThread();
    try {
      await primary.sql("INSERT INTO shop.t (v) VALUES ('a')");
      const r = await h.sample(nodes);
      expect(r.get('replica')?.figures).toEqual({ healthy: 1, writable: 0, lagSeconds: 'unknown' });
      const published = h.published
        .at(-1)
        ?.find((d) => d.nodeId === 'replica' && d.metric === 'replicationLagSeconds');
      expect(published?.value).toBe(UNKNOWN_LAG);
    } finally {
      await replica.startReplication();
    }
    await maria.current.waitForReplay();
    expect((await h.sample(nodes)).get('replica')?.figures).toMatchObject({ lagSeconds: 0 });
  });

  it('wrong password, closed port, frozen server: each unhealthy with its reason, the others sampled', async () => {
    const { primary, replica } = maria.current;
    h.secrets.values.set(SECRET_ARN('wrong'), { username: 'failover_probe', password: 'nope' });
    replica.freeze();
    let r: Awaited<ReturnType<typeof h.sample>>;
    try {
      r = await h.sample([
        node('wrong-password', primary.port, { secretArn: SECRET_ARN('wrong') }),
        node('closed', 1),
        node('frozen', replica.port),
        node('primary', primary.port),
      ]);
    } finally {
      replica.thaw();
    }
    expect(r.get('wrong-password')).toMatchObject({ figures: { healthy: 0 }, failure: { reason: 'auth' } });
    expect(r.get('closed')).toMatchObject({ figures: { healthy: 0 }, failure: { reason: 'unreachable' } });
    expect(r.get('frozen')).toMatchObject({ figures: { healthy: 0 }, failure: { reason: 'timeout' } });
    expect(r.get('primary')?.figures).toEqual({ healthy: 1, writable: 1 });
    expect(String(h.logger.lines.find((l) => l.data?.nodeId === 'wrong-password')?.data?.error)).toMatch(
      /Access denied/,
    );
  });

  it('replica promoted while the primary still runs: two writers, the detector fires', async () => {
    await maria.current.replica.promote();
    const r = await h.sample(nodes);
    expect(r.get('replica')?.figures).toEqual({ healthy: 1, writable: 1 });
    const writable = new Map([...r].map(([id, res]) => [id, res.figures.writable]));
    expect(detectSplitBrain(writable).splitBrain).toBe(true);
  });
});
