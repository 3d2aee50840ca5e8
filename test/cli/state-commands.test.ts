import { describe, expect, it } from 'vitest';
import { runAutoFailover } from '../../lambdas/app/auto-failover.ts';
import type { StatePort } from '../../lambdas/domain/ports.ts';
import type { HistoryEntry, OperationKind, PauseRecord } from '../../lambdas/domain/types.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { ACTOR, cliHarness, START, sampleConfig } from './helpers.ts';

/** The in-memory state's port methods, bound, to wrap one of them. */
function bindAll(s: StatePort): StatePort {
  const proto = Object.getPrototypeOf(s) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.getOwnPropertyNames(proto)) {
    const v = (s as unknown as Record<string, unknown>)[k];
    if (k !== 'constructor' && typeof v === 'function') out[k] = v.bind(s);
  }
  return out as unknown as StatePort;
}

describe('failover pause / resume', () => {
  it('pauses automatic failover, keeping who, when and why (no primary recorded), and announces it', async () => {
    const h = cliHarness();
    const r = await h.run('pause', 'orders-db', '--reason', 'network maintenance');
    expect(r.code).toBe(0);
    expect(h.env.state.snapshot('orders-db')).toEqual({
      serviceId: 'orders-db',
      epoch: 0,
      paused: true,
      pause: { by: ACTOR, at: START, reason: 'network maintenance' },
    });
    expect(h.env.notifier.published).toEqual([
      {
        kind: 'paused',
        serviceId: 'orders-db',
        subject: `orders-db: automatic failover paused by ${ACTOR}`,
        detail: {
          serviceId: 'orders-db',
          paused: true,
          changed: true,
          primary: 'db-a',
          epoch: 0,
          actor: ACTOR,
          by: ACTOR,
          reason: 'network maintenance',
          at: '2026-03-01T12:00:00Z',
        },
      },
    ]);
    expect(r.stdout).toContain('orders-db: automatic failover paused; primary db-a, epoch 0');
    expect(r.stdout).toContain('announced on the notification topic');
  });

  it('resumes it, keeping the epoch and primary, dropping the pause record and saying whose pause ended', async () => {
    const h = cliHarness();
    const pause = { by: 'arn:aws:iam::111122223333:user/bob', at: START - 3_600_000, reason: 'patching' };
    h.record('orders-db', { primary: 'db-b', epoch: 7, paused: true, pause });
    const r = await h.run('resume', 'orders-db', '--json');
    expect(r.code).toBe(0);
    expect(h.env.state.snapshot('orders-db')).toEqual({
      serviceId: 'orders-db',
      primary: 'db-b',
      epoch: 7,
      paused: false,
    });
    expect(r.json()).toMatchObject({
      paused: false,
      changed: true,
      notified: true,
      reason: `resumed by ${ACTOR} with the failover CLI`,
      pausedBy: pause.by,
      pauseReason: 'patching',
    });
  });

  /** orders-db paused with `read`; a rollback's `newer` pause lands right after the CLI's read. */
  function pausedAgainAfterRead(read: PauseRecord, newer: PauseRecord) {
    const h = cliHarness({
      ports: (env) => ({
        state: {
          ...bindAll(env.state),
          get: async (id: string) => {
            const got = await env.state.get(id);
            if (env.state.snapshot(id)?.pause?.by === read.by) await env.state.setPaused(id, true, newer);
            return got;
          },
        },
      }),
    });
    h.record('orders-db', { primary: 'db-b', epoch: 7, paused: true, pause: read });
    return h;
  }

  it('resume clears only the pause it read: a newer pause written meanwhile stays, exit 1, nothing announced', async () => {
    const read = { by: 'arn:aws:iam::111122223333:user/bob', at: START - 3_600_000, reason: 'patching' };
    const newer = { by: 'failover-workflow', at: START - 1_000, reason: 'rollback failed: needs attention' };
    const h = pausedAgainAfterRead(read, newer);
    const r = await h.run('resume', 'orders-db');
    expect(r.code).toBe(1);
    expect(h.env.state.snapshot('orders-db')).toMatchObject({ paused: true, pause: newer });
    expect(h.env.notifier.published).toEqual([]);
    expect(r.stdout).not.toContain('automatic failover resumed');
    expect(r.stderr).toContain(
      'orders-db: NOT resumed: the pause changed after it was read (it was paused by arn:aws:iam::111122223333:user/bob at 2026-03-01T11:00:00Z: patching)',
    );
    expect(r.stderr).toContain(
      'now: paused by failover-workflow at 2026-03-01T11:59:59Z: rollback failed: needs attention',
    );
    expect(r.stderr).toContain(
      'look at why (failover status orders-db, failover history orders-db), then run failover resume orders-db again',
    );
  });

  it('resume --json reports the newer pause when the pause changed after it was read', async () => {
    const read = { by: 'bob', at: START - 3_600_000, reason: 'patching' };
    const newer = { by: 'failover-workflow', at: START - 1_000, reason: 'needs attention' };
    const h = pausedAgainAfterRead(read, newer);
    const r = await h.run('resume', 'orders-db', '--json');
    expect(r.code).toBe(1);
    expect(r.json()).toEqual({
      serviceId: 'orders-db',
      paused: true,
      changed: false,
      notified: false,
      error: 'PauseChangedError',
      readPause: { pausedBy: 'bob', pausedAt: '2026-03-01T11:00:00Z', pauseReason: 'patching' },
      pausedBy: 'failover-workflow',
      pausedAt: '2026-03-01T11:59:59Z',
      pauseReason: 'needs attention',
    });
  });

  it('resume of a service that is not paused says so and announces nothing', async () => {
    const h = cliHarness();
    const r = await h.run('resume', 'orders-db');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'orders-db: automatic failover is not paused; nothing to resume, nothing announced',
    );
    expect(h.env.notifier.published).toEqual([]);
    expect(h.env.state.snapshot('orders-db')).toBeUndefined();
    const j = (await h.run('resume', 'orders-db', '--json')).json();
    expect(j).toEqual({ serviceId: 'orders-db', paused: false, changed: false, notified: false });
  });

  it('pause of a paused service names who paused it and announces nothing', async () => {
    const h = cliHarness();
    await h.run('pause', 'orders-db', '--reason', 'patching');
    const again = await h.run('pause', 'orders-db', '--reason', 'other');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      `orders-db: automatic failover is already paused (paused by ${ACTOR} at 2026-03-01T12:00:00Z: patching); nothing changed`,
    );
    expect(h.env.notifier.ofKind('paused')).toHaveLength(1);
    expect(h.env.state.snapshot('orders-db')?.pause?.reason).toBe('patching');
  });

  it('records the caller IAM identity when it can be read, the local user when it cannot', async () => {
    const arn = 'arn:aws:sts::111122223333:assumed-role/Oncall/alice';
    const h = cliHarness({ callerIdentity: async () => arn });
    await h.run('pause', 'orders-db', '--reason', 'patching');
    expect(h.env.state.snapshot('orders-db')?.pause?.by).toBe(`${arn} (${ACTOR})`);
    const status = await h.run('status', 'orders-db');
    expect(status.stdout).toContain(
      `automatic    PAUSED by ${arn} (${ACTOR}) at 2026-03-01T12:00:00Z: patching (failover resume to allow it again)`,
    );
    const j = (await h.run('status', 'orders-db', '--json')).json();
    expect(j.services[0]).toMatchObject({
      paused: true,
      recorded: false,
      pause: { by: `${arn} (${ACTOR})`, at: START, reason: 'patching' },
    });

    const denied = cliHarness({
      callerIdentity: async () => {
        throw Object.assign(new Error('expired token'), { name: 'ExpiredTokenException' });
      },
    });
    const r = await denied.run('pause', 'orders-db');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('the caller identity could not be read (expired token)');
    expect(denied.env.state.snapshot('orders-db')?.pause?.by).toBe(ACTOR);
  });

  it('really stops automatic failover: the decision replayed by status holds on paused', async () => {
    const h = cliHarness();
    h.env.lag.put('orders-db', 'db-b', 0, START - 1000);
    await h.run('pause', 'orders-db');
    const j = (await h.run('status', 'orders-db', '--json')).json();
    expect(j.services[0].ifPrimaryFailsNow).toMatchObject({ action: 'hold', reason: 'paused' });
    await h.run('resume', 'orders-db');
    const k = (await h.run('status', 'orders-db', '--json')).json();
    expect(k.services[0].ifPrimaryFailsNow).toMatchObject({ action: 'failover', to: 'db-b' });
  });

  it('exits 1 when the flag is set but the announcement cannot be sent', async () => {
    const h = cliHarness({
      ports: () => ({
        notifier: {
          publish: async () => {
            throw Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' });
          },
        },
      }),
    });
    const r = await h.run('pause', 'orders-db', '--json');
    expect(r.code).toBe(1);
    expect(h.env.state.snapshot('orders-db')?.paused).toBe(true);
    expect(r.json()).toMatchObject({
      paused: true,
      notified: false,
      notifyError: 'KMSDisabledException: KMS key disabled',
    });
    expect(r.stderr).toContain('the paused flag is set, but the notification could not be sent');
  });

  it("a stale local configuration's pause records no primary: the deployed primary's alarm still fails over", async () => {
    // Deployed: db-a is the initial primary. The operator's file still says db-b (stale).
    const deployed = sampleConfig();
    const stale = structuredClone(deployed);
    stale.services[0] = { ...stale.services[0]!, initialPrimary: 'db-b' };
    const lambdaEnv = createMemoryEnvironment(deployed, { clock: { start: START } });
    const h = cliHarness({ config: stale, ports: () => ({ state: lambdaEnv.state }) });

    expect((await h.run('pause', 'orders-db', '--reason', 'patching')).code).toBe(0);
    expect(lambdaEnv.state.snapshot('orders-db')?.primary).toBeUndefined();
    expect((await h.run('resume', 'orders-db')).code).toBe(0);

    lambdaEnv.lag.put('orders-db', 'db-b', 0, START - 5_000);
    const alarmName = lambdaEnv.alarms.setNode('orders-db', 'db-a', 'ALARM');
    const out = await runAutoFailover(
      { ...lambdaEnv, holderId: 'req-1' },
      { alarmName, state: 'ALARM', previousState: 'OK', timestamp: START, eventId: 'e1' },
    );
    // With the primary seeded from the stale file (db-b) this held as not-primary-alarm.
    expect(out).toMatchObject({ outcome: 'failed-over', from: 'db-a', to: 'db-b', epoch: 1 });
    expect(lambdaEnv.state.snapshot('orders-db')).toMatchObject({ primary: 'db-b', epoch: 1 });
  });

  it.each([
    [['pause'], 'missing argument <service>'],
    [['resume', 'nope'], 'unknown service: "nope"'],
    [['pause', 'orders-db', '--force'], "unknown option '--force'"],
  ])('refuses %j with exit status 2 and changes nothing', async (argv, message) => {
    const h = cliHarness();
    const r = await h.run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(h.env.state.snapshot('orders-db')).toBeUndefined();
    expect(h.env.notifier.published).toEqual([]);
  });
});

describe('failover history', () => {
  const entry = (epoch: number, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
    serviceId: 'orders-db',
    epoch,
    at: START - (10 - epoch) * 3_600_000,
    operation: epoch % 2 ? 'auto-failover' : 'switchover',
    from: epoch % 2 ? 'db-a' : 'db-b',
    to: epoch % 2 ? 'db-b' : 'db-a',
    reason: `change ${epoch}`,
    lagSeconds: epoch,
    actor: `actor-${epoch}`,
    ...extra,
  });

  async function withHistory() {
    const h = cliHarness();
    // Through the real commit path, so the entries are what the state table holds.
    for (const e of [
      entry(1),
      entry(2),
      entry(3, { operation: 'failover', forced: true, lagSeconds: undefined }),
    ]) {
      const holder = `h${e.epoch}`;
      await h.env.state.acquireLease({
        serviceId: 'orders-db',
        expectedEpoch: e.epoch - 1,
        seedPrimary: 'db-a',
        lease: {
          holder,
          operation: e.operation as OperationKind,
          acquiredAt: e.at,
          expiresAt: e.at + 60_000,
        },
        now: e.at,
      });
      await h.env.state.commit({
        serviceId: 'orders-db',
        expectedEpoch: e.epoch - 1,
        holder,
        newPrimary: e.to,
        at: e.at,
        history: e,
      });
    }
    return h;
  }

  it('lists role changes newest first, marking forced ones and unknown lag', async () => {
    const h = await withHistory();
    const r = await h.run('history', 'orders-db');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^epoch\s+at\s+operation\s+change\s+lag\s+actor\s+reason$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['3', '2026-03-01T05:00:00Z', 'failover', 'db-a -> db-b', 'unknown FORCED', 'actor-3', 'change 3'],
      ['2', '2026-03-01T04:00:00Z', 'switchover', 'db-b -> db-a', '2 s', 'actor-2', 'change 2'],
      ['1', '2026-03-01T03:00:00Z', 'auto-failover', 'db-a -> db-b', '1 s', 'actor-1', 'change 1'],
    ]);
  });

  it('honours --limit and prints the entries as JSON', async () => {
    const h = await withHistory();
    const r = await h.run('history', 'orders-db', '--limit', '2', '--json');
    expect(r.code).toBe(0);
    expect(r.json().entries.map((e: HistoryEntry) => e.epoch)).toEqual([3, 2]);
  });

  it('says so when nothing was recorded yet', async () => {
    const h = cliHarness();
    const r = await h.run('history', 'git-server');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('git-server: no role change recorded (primary is the configured git-1)\n');
  });

  it.each([
    [['history', 'orders-db', '--limit', '0'], '--limit must be an integer between 1 and 1000, got: 0'],
    [['history', 'orders-db', '--limit'], '--limit needs a value'],
    [['history', 'nope'], 'unknown service: "nope"'],
  ])('refuses %j with exit status 2', async (argv, message) => {
    const r = await cliHarness().run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('failover rejoin', () => {
  it('clears a needs-rejoin mark at the current epoch and records it in the history', async () => {
    const h = cliHarness();
    h.record('orders-db', { primary: 'db-b', epoch: 3, needsRejoin: ['db-a'] });
    const r = await h.run('rejoin', 'orders-db', 'db-a', '--reason', 'pg_rewind done', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ nodeId: 'db-a', changed: true, epoch: 3 });
    expect(h.env.state.snapshot('orders-db')?.needsRejoin).toBeUndefined();
    expect((await h.env.state.history('orders-db', 1))[0]).toMatchObject({
      operation: 'rejoin',
      from: 'db-a',
      epoch: 3,
      reason: 'pg_rewind done',
    });
  });

  it('says so and changes nothing when the node is not marked', async () => {
    const h = cliHarness();
    const r = await h.run('rejoin', 'orders-db', 'db-a', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ changed: false });
    expect(await h.env.state.history('orders-db', 1)).toEqual([]);
  });
});
