/**
 * The probe against a real PostgreSQL 15 primary and streaming replica: what it publishes for each
 * situation the README describes, with the real `pg` driver and a least-privilege login.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { UNKNOWN_LAG } from '../../lambdas/domain/probe.ts';
import { detectSplitBrain } from '../../lambdas/domain/split-brain.ts';
import type { ProbedNode } from '../../lambdas/probe/sampler.ts';
import { usePgCluster } from '../support/realdb/postgres.ts';
import { localProbedNode, probeHarness, SECRET_ARN } from './probe-support.ts';

const SERVICE = 'orders-db';

describe('postgres probe (real PostgreSQL 15)', () => {
  const pg = usePgCluster();
  const h = probeHarness();
  let nodes: ProbedNode[];
  const node = localProbedNode(SERVICE, 'postgres', 'probe');

  beforeAll(async () => {
    const { primary, replica } = pg.current;
    // The grants the README asks for: a login with pg_monitor, nothing else.
    await primary.sql("CREATE ROLE failover_probe LOGIN PASSWORD 'probe-pw' IN ROLE pg_monitor");
    await primary.sql('CREATE TABLE probe_t (id serial PRIMARY KEY, v text)');
    await pg.current.waitForReplay();
    h.secrets.values.set(SECRET_ARN('probe'), { username: 'failover_probe', password: 'probe-pw' });
    nodes = [node('primary', primary.port), node('replica', replica.port)];
  });

  it('caught up: both healthy, only the primary writable, lag 0 s and 0 bytes', async () => {
    await pg.current.primary.sql("INSERT INTO probe_t (v) VALUES ('a')");
    await pg.current.waitForReplay();
    const r = await h.sample(nodes);
    expect(r.get('primary')?.figures).toEqual({ healthy: 1, writable: 1 });
    expect(r.get('replica')?.figures).toEqual({ healthy: 1, writable: 0, lagSeconds: 0, lagBytes: 0 });
  });

  it('idle primary: a caught-up replica stays at lag 0 however long ago the last commit was', async () => {
    await pg.current.waitForReplay();
    await new Promise((r) => setTimeout(r, 2_500));
    const r = await h.sample(nodes);
    // The last replayed commit is seconds old now; the replica is missing nothing.
    const [age] = await pg.current.replica.sql<{ s: number }>(
      'SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS s',
    );
    expect(age?.s).toBeGreaterThan(2);
    expect(r.get('replica')?.figures).toMatchObject({ lagSeconds: 0, lagBytes: 0 });
  });

  it('replay paused while the primary writes: lag grows in bytes and in seconds', async () => {
    const { primary, replica } = pg.current;
    await h.sample(nodes); // caught up now: the probe remembers when
    await replica.pauseReplay();
    try {
      await primary.sql("INSERT INTO probe_t (v) SELECT repeat('x', 1000) FROM generate_series(1, 200)");
      const first = (await h.sample(nodes)).get('replica')?.figures;
      await new Promise((r) => setTimeout(r, 1_500));
      await primary.sql("INSERT INTO probe_t (v) SELECT repeat('y', 1000) FROM generate_series(1, 200)");
      const second = (await h.sample(nodes)).get('replica')?.figures;
      expect(first?.lagBytes).toBeGreaterThan(200_000);
      expect(second?.lagBytes).toBeGreaterThan(first?.lagBytes as number);
      expect(first?.lagSeconds).toBeGreaterThan(0);
      expect(second?.lagSeconds).toBeGreaterThan((first?.lagSeconds as number) + 1);
      expect(second?.lagSeconds).not.toBe(UNKNOWN_LAG);
      expect(second).toMatchObject({ healthy: 1, writable: 0 });
    } finally {
      await replica.resumeReplay();
    }
    await pg.current.waitForReplay();
    expect((await h.sample(nodes)).get('replica')?.figures).toMatchObject({ lagSeconds: 0, lagBytes: 0 });
  });

  it('wrong password: that node unhealthy with a clear log line, the other node still sampled', async () => {
    h.secrets.values.set(SECRET_ARN('wrong'), { username: 'failover_probe', password: 'nope' });
    const r = await h.sample([
      node('primary', pg.current.primary.port, { secretArn: SECRET_ARN('wrong') }),
      nodes[1] as ProbedNode,
    ]);
    expect(r.get('primary')).toMatchObject({ figures: { healthy: 0 }, failure: { reason: 'auth' } });
    expect(r.get('replica')?.figures.healthy).toBe(1);
    const line = h.logger.lines.find((l) => l.message === 'node check failed' && l.data?.reason === 'auth');
    expect(line?.data).toMatchObject({
      serviceId: SERVICE,
      nodeId: 'primary',
      kind: 'postgres',
      port: pg.current.primary.port,
    });
    expect(String(line?.data?.error)).toMatch(/password authentication failed/);
    expect(h.secrets.forgotten).toContain(SECRET_ARN('wrong'));
  });

  it('a secret without its fields: unhealthy, logged as an error and counted as a probe error', async () => {
    h.secrets.values.set(SECRET_ARN('half'), { username: 'failover_probe' });
    const r = await h.sample([node('primary', pg.current.primary.port, { secretArn: SECRET_ARN('half') })]);
    expect(r.get('primary')).toMatchObject({ figures: { healthy: 0 }, failure: { reason: 'secret' } });
    expect(String(r.get('primary')?.failure?.message)).toMatch(/lacks the field password/);
    expect(h.logger.lines.some((l) => l.level === 'error' && l.data?.reason === 'secret')).toBe(true);
  });

  it('unreachable host and a server that never answers: unhealthy within the timeout', async () => {
    const { replica } = pg.current;
    const closed = node('primary', 1, {});
    replica.freeze();
    let r: Awaited<ReturnType<typeof h.sample>>;
    const t0 = Date.now();
    try {
      r = await h.sample([closed, nodes[1] as ProbedNode]);
    } finally {
      replica.thaw();
    }
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(r.get('primary')).toMatchObject({ figures: { healthy: 0 }, failure: { reason: 'unreachable' } });
    expect(r.get('replica')).toMatchObject({ figures: { healthy: 0 }, failure: { reason: 'timeout' } });
  });

  it('primary stopped: primary unhealthy, replica lag from the last known primary position, even after a cold start', async () => {
    const { primary, replica } = pg.current;
    await pg.current.waitForReplay();
    await h.sample(nodes);
    await replica.pauseReplay();
    await primary.sql("INSERT INTO probe_t (v) SELECT repeat('z', 1000) FROM generate_series(1, 300)");
    const before = (await h.sample(nodes)).get('replica')?.figures;
    await primary.stop('immediate');
    h.coldStart();
    const after = await h.sample(nodes);
    expect(after.get('primary')?.figures).toEqual({ healthy: 0 });
    const lag = after.get('replica')?.figures;
    expect(lag?.lagBytes).toBeGreaterThanOrEqual(before?.lagBytes as number);
    expect(lag?.lagBytes).not.toBe(UNKNOWN_LAG);
    expect(lag?.lagSeconds).toBeGreaterThan(0);
    await replica.resumeReplay();
  });

  it('replica promoted for real: Writable 1, and with the old primary back the detector sees two writers', async () => {
    const { primary, replica } = pg.current;
    await replica.promote();
    let r = await h.sample(nodes);
    expect(r.get('replica')?.figures).toEqual({ healthy: 1, writable: 1 });
    // The old primary comes back on its own, not rewound: two nodes take writes.
    await primary.start();
    r = await h.sample(nodes);
    expect(r.get('primary')?.figures).toEqual({ healthy: 1, writable: 1 });
    const writable = new Map([...r].map(([id, res]) => [id, res.figures.writable]));
    expect(detectSplitBrain(writable)).toEqual({ splitBrain: true, writers: ['primary', 'replica'] });
  });
});
