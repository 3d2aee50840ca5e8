import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';
import { cliHarness, START } from './helpers.ts';

const SEC = 1000;

/** The sample configuration with every replica's lag fresh: ready. */
function readyHarness() {
  const h = cliHarness();
  h.env.lag.put('orders-db', 'db-b', 0.5, START - 4 * SEC);
  h.env.lag.put('git-server', 'git-2', 2, START - 4 * SEC);
  return h;
}

function actionsConfig() {
  const base = route53Service({ id: 'pg', nodes: ['a', 'b'] });
  return parseConfig({
    services: [
      {
        ...base,
        actions: { fence: { type: 'ec2-stop' }, promote: { type: 'ssm-command', commands: ['promote'] } },
        nodes: base.nodes.map((n, i) => ({ ...n, instanceId: `i-0000000000000000${i}` })),
      },
    ],
  });
}

describe('failover check', () => {
  it('exits 0 and says READY when every service would fail over now', async () => {
    const h = readyHarness();
    const r = await h.run('check');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^orders-db {2}READY$/m);
    expect(r.stdout).toMatch(
      /routing\s+ok\s+record db\.example\.com A in Z0123456789EXAMPLE points at db-a \(10\.0\.1\.10\), TTL 10$/m,
    );
    expect(r.stdout).toMatch(/decision\s+ok\s+if db-a failed now: failover to db-b/);
    expect(r.stdout).toContain('all 2 services ready');
  });

  it('exits 1 for a record whose TTL differs from the configured one, and is ready again once fixed', async () => {
    const h = readyHarness();
    h.readiness.routing.setRecord('orders-db', { values: ['10.0.1.10'], ttlSeconds: 300, alias: false });
    const bad = await h.run('check', 'orders-db');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^orders-db {2}NOT READY \(routing\)$/m);
    expect(bad.stdout).toContain('has TTL 300 but router.ttlSeconds is 10');
    expect(bad.stdout).not.toContain('git-server');
    h.readiness.routing.resetRecord('orders-db');
    const fixed = await h.run('check', 'orders-db');
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/^orders-db {2}READY$/m);
  });

  it('exits 1 for a missing health alarm and for stale lag, with --json naming the failed checks', async () => {
    const h = readyHarness();
    h.env.alarms.set('failover-orders-db-db-b-health', undefined);
    h.env.lag.clear('git-server', 'git-2');
    h.env.lag.put('git-server', 'git-2', 2, START - 600 * SEC);
    const r = await h.run('check', '--json');
    expect(r.code).toBe(1);
    const out = r.json();
    expect(out.ready).toBe(false);
    const byId = Object.fromEntries(
      out.services.map((s: { serviceId: string }) => [s.serviceId, s]),
    ) as Record<string, { status: string; checks: { check: string; status: string; reasons?: string[] }[] }>;
    expect(byId['orders-db']?.status).toBe('not-ready');
    expect(byId['orders-db']?.checks.find((c) => c.check === 'alarms')).toMatchObject({
      status: 'fail',
      reasons: [expect.stringContaining('failover-orders-db-db-b-health of db-b does not exist')],
    });
    expect(byId['git-server']?.checks.find((c) => c.check === 'lag')).toMatchObject({
      status: 'fail',
      reasons: [expect.stringMatching(/git-2: newest datapoint .* is 10 min old/)],
    });
  });

  it('exits 1 for a missing action resource, and 0 when it is back', async () => {
    const config = actionsConfig();
    const h = cliHarness({ config });
    h.env.lag.put('pg', 'b', 0, START - SEC);
    expect((await h.run('check')).code).toBe(0);
    h.readiness.resources.remove({ kind: 'ec2-instance', id: 'i-00000000000000001' });
    const r = await h.run('check');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^pg {2}NOT READY \(actions\)$/m);
    expect(r.stdout).toContain(
      'the fence action (ec2-stop) of b needs EC2 instance i-00000000000000001: not found',
    );
    h.readiness.resources.restore({ kind: 'ec2-instance', id: 'i-00000000000000001' });
    expect((await h.run('check')).code).toBe(0);
  });

  it('exits 1 and says UNKNOWN when the routing could not be read (never ready by default)', async () => {
    const h = readyHarness();
    h.readiness.routing.failNext(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const r = await h.run('check', 'orders-db');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^orders-db {2}UNKNOWN \(a read failed\) \(routing, state\)$/m);
    expect(r.stdout).toContain('routing not read: Throttling: Rate exceeded');
  });

  it('reads Route 53 once per pass for all services, not once per service', async () => {
    const h = readyHarness();
    await h.run('check');
    expect(h.readiness.routing.reads).toEqual([['orders-db', 'git-server']]);
  });

  it('refuses an unknown service with exit 2 before reading anything', async () => {
    const h = readyHarness();
    const r = await h.run('check', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown service: "nope"');
    expect(h.readiness.routing.reads).toEqual([]);
  });

  it('status <service> shows the readiness section; status of every service points to check', async () => {
    const h = readyHarness();
    const ok = await h.run('status', 'orders-db');
    expect(ok.stdout).toContain('  readiness    ready: every check passes');
    h.readiness.routing.setRecord('orders-db', { values: ['10.0.1.10'], ttlSeconds: 300, alias: false });
    const bad = await h.run('status', 'orders-db');
    expect(bad.code).toBe(0);
    expect(bad.stdout).toMatch(
      /^ {2}readiness {4}NOT READY: routing: record db\.example\.com A .* has TTL 300 but router\.ttlSeconds is 10/m,
    );
    const json = (await h.run('status', 'orders-db', '--json')).json();
    expect(json.services[0].readiness).toMatchObject({ status: 'not-ready' });
    const all = await h.run('status');
    expect(all.stdout).not.toContain('  readiness  ');
    expect(all.stdout).toContain('readiness: run failover check (every service) or status <service>');
  });
});
