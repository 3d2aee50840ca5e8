import { describe, expect, it, vi } from 'vitest';
import { rtoText } from '../../cli/status.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import type { TrafficPort } from '../../lambdas/domain/ports.ts';
import { estimateRto } from '../../lambdas/domain/rto.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { cliHarness, START, sampleConfig } from './helpers.ts';

const SEC = 1000;

describe('failover status', () => {
  it('shows every service: primary, epoch, health, lag against the budget and what automation would do', async () => {
    const h = cliHarness();
    h.env.lag.put('orders-db', 'db-b', 2.5, START - 4 * SEC);
    h.env.lag.put('git-server', 'git-2', 75, START - 8 * SEC);
    const r = await h.run('status');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('orders-db  PostgreSQL primary with a streaming replica');
    expect(r.stdout).toContain('primary      db-a (epoch 0, initial: nothing recorded yet)');
    expect(r.stdout).toMatch(/db-b\s+replica\s+OK\s+2\.5 s \(4 s old\)\s+eligible/);
    expect(r.stdout).toContain('if db-a failed now: automatic failover to db-b (lag 2.5 s)');
    // git-2 lags 75 s against a 60 s budget: the operator learns now that a failover would be refused.
    expect(r.stdout).toMatch(/git-2\s+replica\s+OK\s+75 s \(8 s old\)\s+lag-over-budget/);
    expect(r.stdout).toContain(
      'if git-1 failed now: automatic failover would HOLD (lag-over-budget): lag over the 60 s budget: git-2 75 s',
    );
    expect(r.stdout).toContain('traffic: not read for all services');
  });

  it('reads the live routing only for one service (Route 53 requests are shared with failovers)', async () => {
    const current = vi.fn(async (serviceId: string) => (serviceId === 'orders-db' ? 'db-a' : 'git-1'));
    const h = cliHarness({
      ports: (env) => ({
        traffic: { shift: env.traffic.shift.bind(env.traffic), current } satisfies TrafficPort,
      }),
    });
    await h.run('status');
    expect(current).not.toHaveBeenCalled();
    const r = await h.run('status', 'orders-db');
    expect(current).toHaveBeenCalledTimes(1);
    expect(r.stdout).toContain('primary      db-a (epoch 0, initial: nothing recorded yet), traffic on db-a');
    expect(r.stdout).not.toContain('git-server');
  });

  it('flags traffic that is not on the recorded primary, and a router it cannot read', async () => {
    const h = cliHarness({
      ports: (env) => ({
        traffic: {
          shift: env.traffic.shift.bind(env.traffic),
          current: async (id) => {
            if (id === 'git-server')
              throw Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' });
            return 'db-b';
          },
        },
      }),
    });
    const a = await h.run('status', 'orders-db');
    expect(a.stdout).toContain('traffic on db-b');
    expect(a.stdout).toContain(
      '!            traffic is on db-b, but the recorded primary is db-a: repair before any operation',
    );
    const b = await h.run('status', 'git-server', '--json');
    expect(b.code).toBe(0);
    expect(b.json().services[0]).toMatchObject({
      trafficReadError: 'AccessDenied: User is not authorized',
      trafficNote: expect.stringContaining(
        'could not read the routing (AccessDenied: User is not authorized): where traffic points is unknown; check the credentials',
      ),
    });
    // Unknown is not "no single node": that would say the routing was read and matched nothing.
    expect(b.json().services[0]).not.toHaveProperty('traffic');
    const c = await h.run('status', 'git-server');
    expect(c.stdout).toContain(
      'primary      git-1 (epoch 0, initial: nothing recorded yet), traffic UNKNOWN (the routing could not be read)',
    );
    expect(c.stdout).not.toContain('no single node');
  });

  it('writes every duration in one format (a stale datapoint is 3 min 50 s old in the table and in the decision)', async () => {
    const h = cliHarness();
    h.env.lag.put('orders-db', 'db-b', 2.345, START - 230_276);
    const r = await h.run('status', 'orders-db');
    expect(r.stdout).toMatch(/db-b\s+replica\s+OK\s+2\.3 s \(3 min 50 s old\)\s+lag-stale/);
    expect(r.stdout).toContain(
      'automatic failover would HOLD (lag-stale): newest lag datapoint outside the 1 min window: db-b 3 min 50 s old',
    );
    // Before: "230.276 s old" next to "3 min 50 s".
    expect(r.stdout).not.toMatch(/\d+\.\d{2,} s/);
    expect(r.stdout).not.toMatch(/\b\d{3,} s\b/);
  });

  it("says the primary is failing now, not 'if it failed now', when its alarm is already in ALARM", async () => {
    const h = cliHarness();
    h.env.lag.put('orders-db', 'db-b', 2.5, START - 4 * SEC);
    const alarm = h.env.alarms.setNode('orders-db', 'db-a', 'ALARM');
    const r = await h.run('status', 'orders-db');
    expect(r.stdout).not.toContain('if db-a failed now');
    expect(r.stdout).toContain(
      `db-a is FAILING NOW (alarm ${alarm} in ALARM): automatic failover moves it to db-b (lag 2.5 s)`,
    );
    await h.run('pause', 'orders-db', '--reason', 'x');
    expect((await h.run('status', 'orders-db')).stdout).toContain(
      `db-a is FAILING NOW (alarm ${alarm} in ALARM): automatic failover HOLDS (paused)`,
    );
  });

  it('shows the recorded state: epoch, paused, a live lease, the last change and the cooldown', async () => {
    const h = cliHarness();
    const change = {
      serviceId: 'orders-db',
      epoch: 3,
      at: START - 120 * SEC,
      operation: 'switchover' as const,
      from: 'db-a',
      to: 'db-b',
      reason: 'kernel patching',
      lagSeconds: 0,
      actor: 'switchover-orders-db-db-b-0123456789abcdef',
    };
    h.record('orders-db', {
      primary: 'db-b',
      epoch: 3,
      paused: true,
      lease: {
        holder: 'failover-orders-db-auto-0123',
        operation: 'failover',
        acquiredAt: START - 10 * SEC,
        expiresAt: START + 290 * SEC,
      },
      lastChangeAt: change.at,
      lastChange: change,
    });
    h.env.lag.put('orders-db', 'db-a', 1, START - 5 * SEC);
    const r = await h.run('status', 'orders-db');
    expect(r.stdout).toContain('primary      db-b (epoch 3), traffic on db-a');
    expect(r.stdout).toContain('automatic    PAUSED by an operator (failover resume to allow it again)');
    expect(r.stdout).toContain('(in cooldown for 8 min)');
    expect(r.stdout).toContain(
      'lease        failover failover-orders-db-auto-0123 until 2026-03-01T12:04:50Z (4 min 50 s left)',
    );
    expect(r.stdout).toContain(
      'last change  2026-03-01T11:58:00Z switchover db-a -> db-b (epoch 3, lag 0 s) by switchover-orders-db-db-b-0123456789abcdef: kernel patching',
    );
    expect(r.stdout).toMatch(/db-a\s+replica\s+OK\s+1 s \(5 s old\)\s+eligible/);
    expect(r.stdout).toMatch(/db-b\s+primary\s+OK\s+-\s+-/);
    expect(r.stdout).toContain(
      'if db-b failed now: automatic failover would HOLD (paused): automatic failover of orders-db is paused by an operator',
    );
    const j = (await h.run('status', 'orders-db', '--json')).json();
    expect(j.services[0]).toMatchObject({
      primary: 'db-b',
      epoch: 3,
      recorded: true,
      paused: true,
      lease: { operation: 'failover', live: true },
      lastChange: change,
      cooldownEndsAt: change.at + 600 * SEC,
      ifPrimaryFailsNow: { action: 'hold', reason: 'paused' },
    });
  });

  it.each([
    [
      'an unhealthy replica',
      { alarm: 'ALARM' as const, lagAge: undefined },
      'no-healthy-candidate',
      /db-b\s+replica\s+ALARM/,
    ],
    [
      'a replica with no lag datapoint',
      { alarm: 'OK' as const, lagAge: undefined },
      'lag-unknown',
      /no datapoint in 15 min/,
    ],
    ['stale lag', { alarm: 'OK' as const, lagAge: 300 }, 'lag-stale', /1 s \(5 min old\)\s+lag-stale/],
  ])('explains a hold for %s', async (_name, world, reason, row) => {
    const h = cliHarness();
    h.env.alarms.setNode('orders-db', 'db-b', world.alarm);
    if (world.lagAge !== undefined) h.env.lag.put('orders-db', 'db-b', 1, START - world.lagAge * SEC);
    const r = await h.run('status', 'orders-db', '--json');
    expect(r.json().services[0].ifPrimaryFailsNow).toMatchObject({ action: 'hold', reason });
    const text = await h.run('status', 'orders-db');
    expect(text.stdout).toMatch(row);
    expect(text.stdout).toContain(`automatic failover would HOLD (${reason})`);
  });

  it('shows a former primary that needs rejoin: never a candidate, and how to clear it', async () => {
    const h = cliHarness();
    h.record('orders-db', { primary: 'db-b', epoch: 4, needsRejoin: ['db-a'] });
    h.env.lag.put('orders-db', 'db-a', 0, START - SEC);
    const r = await h.run('status', 'orders-db');
    expect(r.stdout).toContain(
      '!            db-a NEEDS REJOIN: a former primary, never promoted or given traffic until it rejoined; demote it to a replica of db-b, then run failover rejoin orders-db db-a',
    );
    expect(r.stdout).toMatch(/db-a\s+replica\s+OK\s+0 s \(1 s old\)\s+needs-rejoin/);
    expect(r.stdout).toContain('if db-b failed now: automatic failover would HOLD');
    const j = (await h.run('status', 'orders-db', '--json')).json();
    expect(j.services[0]).toMatchObject({ primary: 'db-b', epoch: 4, needsRejoin: ['db-a'] });
    expect(j.services[0].primaryNote).toBeUndefined();
    // Nothing to rejoin: no field, no line.
    const other = await h.run('status', 'git-server', '--json');
    expect(other.json().services[0].needsRejoin).toBeUndefined();
    expect((await h.run('status', 'git-server')).stdout).not.toContain('NEEDS REJOIN');
  });

  it('flags a recorded primary that is not in the configuration, and what automation does about it', async () => {
    const h = cliHarness();
    h.record('orders-db', { primary: 'db-z', epoch: 9 });
    const r = await h.run('status', 'orders-db');
    expect(r.stdout).toContain('primary      db-z (epoch 9)');
    expect(r.stdout).toContain(
      '!            the recorded primary db-z is not a node of orders-db in the configuration (nodes: db-a, db-b): automatic failover holds and the workflow refuses until the record or the configuration is fixed',
    );
    expect(r.stdout).toContain('automatic failover would HOLD (primary-not-configured)');
    const j = (await h.run('status', 'orders-db', '--json')).json();
    expect(j.services[0]).toMatchObject({
      primary: 'db-z',
      primaryNote: expect.stringContaining('db-z is not a node of orders-db'),
      ifPrimaryFailsNow: { action: 'hold', reason: 'primary-not-configured' },
    });
    expect((await h.run('status', 'git-server', '--json')).json().services[0].primaryNote).toBeUndefined();
  });

  it('treats a health alarm DescribeAlarms did not return as UNKNOWN, never as healthy', async () => {
    const h = cliHarness();
    h.env.alarms.setNode('orders-db', 'db-b', undefined);
    h.env.lag.put('orders-db', 'db-b', 0, START - SEC);
    const j = (await h.run('status', 'orders-db', '--json')).json();
    expect(j.services[0].nodes[1]).toMatchObject({ id: 'db-b', health: 'UNKNOWN', verdict: 'unhealthy' });
    expect(j.services[0].ifPrimaryFailsNow.reason).toBe('no-healthy-candidate');
  });

  it('reads every alarm and lag datapoint of all services in one call each', async () => {
    const config = testConfig(Array.from({ length: 30 }, (_, i) => route53Service({ index: i })));
    const h = cliHarness({ config });
    const getStates = vi.spyOn(h.env.alarms, 'getStates');
    const getLatest = vi.spyOn(h.env.lag, 'getLatest');
    const r = await h.run('status', '--json');
    expect(r.code).toBe(0);
    expect(r.json().services).toHaveLength(30);
    expect(getStates).toHaveBeenCalledTimes(1);
    expect(getStates.mock.calls[0]![0]).toHaveLength(60);
    expect(getLatest).toHaveBeenCalledTimes(1);
    expect(getLatest.mock.calls[0]![0]).toHaveLength(60);
  });

  it('prints one JSON document and nothing else with --json', async () => {
    const h = cliHarness();
    const r = await h.run('status', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const j = r.json();
    expect(j.at).toBe('2026-03-01T12:00:00Z');
    expect(j.services.map((s: { serviceId: string }) => s.serviceId)).toEqual(['orders-db', 'git-server']);
  });

  it('refuses an unknown service with exit status 2, listing the configured ones', async () => {
    const h = cliHarness();
    const r = await h.run('status', 'payments');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: unknown service: "payments" (configured: orders-db, git-server)');
  });

  it('fails with exit status 1 when the state table cannot be read', async () => {
    const h = cliHarness({
      ports: (env) => ({
        state: Object.assign(Object.create(env.state), {
          get: async () => {
            throw Object.assign(new Error('Requested resource not found'), {
              name: 'ResourceNotFoundException',
            });
          },
        }),
      }),
    });
    const r = await h.run('status', 'orders-db');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: Requested resource not found');
    expect(r.stderr).toContain('(ResourceNotFoundException)');
  });

  describe('RTO model', () => {
    const tg = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/git-1/0123456789abcdef';
    /** The sample with git-server on AWS signals: git-1 its target group, git-2 an existing alarm. */
    const awsSignals = () => {
      const config = sampleConfig();
      return parseConfig({
        ...config,
        services: config.services.map((s) =>
          s.id !== 'git-server'
            ? s
            : {
                ...s,
                probe: undefined,
                nodes: s.nodes.map(({ probe: _p, ...n }) => ({
                  ...n,
                  health:
                    n.id === 'git-1'
                      ? {
                          type: 'target-group-health',
                          targetGroupArn: tg,
                          loadBalancerArn:
                            'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/git-alb/0123456789abcdef',
                        }
                      : { type: 'alarm', alarmName: 'git-2-appliance-health' },
                  lag: {
                    namespace: 'Custom/Git',
                    metricName: 'ReplicationLagSeconds',
                    dimensions: { Node: n.id },
                  },
                })),
              },
        ),
      });
    };

    it('shows the recovery-time model for a failure of the current primary', async () => {
      const h = cliHarness();
      const r = await h.run('status', 'orders-db', '--json');
      const orders = sampleConfig().services[0]!;
      const expected = estimateRto(orders, { nodeId: 'db-a', alarms: new Map(), targetGroups: new Map() });
      expect(r.json().services[0].rto).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(expected.total).toBeDefined();
      const text = await h.run('status', 'orders-db');
      expect(text.stdout).toContain(`  RTO model    if db-a fails: ${rtoText(expected)}`);
      expect(rtoText(expected)).toMatch(
        /^~[\d.]+ s best case, <= [\d.]+ s worst case \(detection [\d.]+-[\d.]+ s, event 0.5-2 s, decision 0.2-1 s, DNS TTL 5-10 s\)$/,
      );
    });

    it('uses the health check settings read from the target group, and the existing alarm of the current primary', async () => {
      const h = cliHarness({
        config: awsSignals(),
        rto: {
          targetGroups: new Map([[tg, { intervalSeconds: 10, unhealthyThreshold: 3 }]]),
          alarms: new Map([['git-2-appliance-health', { periodSeconds: 10, datapointsToAlarm: 3 }]]),
        },
      });
      const a = (await h.run('status', 'git-server', '--json')).json().services[0].rto;
      expect(a.detection.basis).toContain('target group health check 3 x 10 s, then HealthyHostCount');
      expect(a.traffic).toMatchObject({ typical: 0, worst: 0 });
      h.record('git-server', { primary: 'git-2', epoch: 1 });
      const b = (await h.run('status', 'git-server', '--json')).json().services[0].rto;
      expect(b).toMatchObject({
        nodeId: 'git-2',
        detection: { basis: expect.stringContaining('existing alarm git-2-appliance-health (3 x 10 s)') },
      });
      expect(b.total).toBeDefined();
    });

    it('says the model is incomplete, never guesses, when an existing alarm cannot be read', async () => {
      const h = cliHarness({
        config: awsSignals(),
        rto: { error: Object.assign(new Error('denied'), { name: 'AccessDenied' }) },
      });
      h.record('git-server', { primary: 'git-2', epoch: 1 });
      const r = await h.run('status', 'git-server');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /RTO model {4}if git-2 fails: unknown: no period and datapoints for the existing health alarm \(detection unknown,/,
      );
      expect(r.stdout).toContain(
        '!            existing alarm settings not read: AccessDenied: denied; target group health checks not read (ALB defaults assumed): AccessDenied: denied',
      );
      // orders-db uses neither kind of signal: its model is complete and carries no note.
      const orders = (await h.run('status', 'orders-db', '--json')).json().services[0];
      expect(orders.rtoNote).toBeUndefined();
      expect(orders.rto.total).toBeDefined();
    });
  });
});
