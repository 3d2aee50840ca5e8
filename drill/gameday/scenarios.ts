/**
 * The game day's scenarios. Each one breaks a real PostgreSQL pair while the client writes, lets
 * the real automation react, and measures what the client and the databases saw.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PROBE_DIMENSIONS, PROBE_METRICS, PROBE_NAMESPACE } from '../../lambdas/contract/metrics.ts';
import { type PgNode, pgQuery } from '../../test/support/realdb/postgres.ts';
import { POLICY, PROBE_INTERVAL_SECONDS } from './config.ts';
import type { GameDayScenario, ScenarioRun } from './scenario.ts';
import { prepareFailoverCli } from './switchover.ts';

/** How long the client writes before anything breaks. */
const WARM_UP_MS = 4_000;
/** How long an automatic failover may take before the scenario gives up waiting. */
const FAILOVER_TIMEOUT_MS = 90_000;
/** The client keeps writing this long after it reached the new primary. */
const TAIL_MS = 3_000;

async function warmUp(s: ScenarioRun): Promise<void> {
  s.begin();
  await s.sleep(WARM_UP_MS);
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

type FailoverDecision = ReturnType<ScenarioRun['outcomes']>[number];
type Notifications = ReturnType<ScenarioRun['notifications']>;

/** The failover Lambda's decision as a check's detail: outcome, reason and detail, or that it never ran. */
function decisionText(outcome: FailoverDecision | undefined): string {
  return outcome
    ? `${outcome.outcome}: ${outcome.reason} (${outcome.detail ?? ''})`
    : 'the failover Lambda was not invoked';
}

/** Counts what reached the topic (figure `notifications`) and checks `name`: `heard` judges it. */
function checkNotified(s: ScenarioRun, name: string, heard: (notes: Notifications) => boolean): void {
  const notes = s.notifications();
  s.figures.notifications = notes.length;
  s.check(
    name,
    heard(notes),
    notes.length ? notes.map((n) => `${n.kind}: ${n.subject}`).join('; ') : 'no notification on the topic',
  );
}

async function inRecovery(node: PgNode): Promise<boolean | undefined> {
  try {
    const [row] = await node.sql<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    return row?.r;
  } catch {
    return undefined;
  }
}

/**
 * A write straight to the node, bypassing the record, as the application's role: does it accept
 * writes? `refused` is a read-only server (SQLSTATE 25006: demoted or fenced, or in recovery) or a
 * refused connection (stopped); anything else (a timeout, a dropped session) proves nothing.
 */
async function directWrite(
  node: PgNode,
  id: number,
): Promise<{ accepted: boolean; refused: boolean; detail: string }> {
  try {
    await pgQuery(
      { ...node.connection, user: 'app', password: 'app' },
      'INSERT INTO gameday_writes (id) VALUES ($1)',
      [id],
    );
    return { accepted: true, refused: false, detail: `row ${id} committed` };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const refused = e.code === '25006' || e.code === 'ECONNREFUSED';
    return {
      accepted: false,
      refused,
      detail: `${e.code ?? ''} ${e.message ?? String(err)}`.trim().slice(0, 160),
    };
  }
}

/** Where the report shades the outage (scenario seconds). */
function recordGap(s: ScenarioRun, from: number | undefined, to: number | undefined): void {
  s.figures.gapFromSecond = from === undefined ? null : round(s.t(from));
  s.figures.gapToSecond = to === undefined ? null : round(s.t(to));
}

/** Rows per second the client had acknowledged in the `ms` before `at`. */
function rateBefore(s: ScenarioRun, at: number, ms = 3_000): number {
  return round(s.client.acks.filter((a) => a.at <= at && a.at > at - ms).length / (ms / 1000), 1);
}

/**
 * After the primary `old` stopped answering at `faultAt`: waits for the automatic failover and the
 * client's first acknowledged write on `next`, then measures RTO, RPO and what the automation saw.
 */
async function measureFailover(
  s: ScenarioRun,
  faultAt: number,
  old: 'db-a',
  next: 'db-b',
): Promise<number | undefined> {
  const firstNew = await s.waitFor(() => s.client.acksBy(next)[0], FAILOVER_TIMEOUT_MS);
  await s.sleep(TAIL_MS);
  const failedOver = s.outcomes().find((o) => o.outcome === 'failed-over');
  const alarm = s.world.transitions.find(
    (t) => t.alarmName.includes(`-${s.serviceId}-${old}-`) && t.to === 'ALARM' && t.at >= faultAt,
  );
  const decision = s.logLines('failover decision').find((l) => l.action === 'failover');
  const oldAcks = s.client.acksBy(old);
  const lastOld = oldAcks.filter((a) => a.at <= (firstNew?.at ?? Date.now())).at(-1);
  s.figures.writesPerSecondBefore = rateBefore(s, faultAt);
  s.figures.detectionSeconds = alarm ? round((alarm.at - faultAt) / 1000) : null;
  s.figures.lagSecondsSeenAtPromotion = decision?.lagSeconds ?? null;
  s.figures.lagBytesSeenAtPromotion = await lagBytesAt(s, next, failedOver ? Date.now() : faultAt);
  s.figures.rtoSeconds = firstNew && lastOld ? round((firstNew.at - lastOld.at) / 1000) : null;
  recordGap(s, lastOld?.at, firstNew?.at);
  s.figures.lastAckOnOldPrimaryId = lastOld?.id ?? null;
  s.figures.firstAckOnNewPrimaryId = firstNew?.id ?? null;
  s.figures.failedWritesDuringOutage = s.client.failures.filter(
    (f) => f.at >= (lastOld?.at ?? faultAt) && f.at <= (firstNew?.at ?? Date.now()),
  ).length;
  const lost = await s.missingOn(s.node(next), oldAcks).catch(() => null);
  s.lostIds = lost ?? [];
  s.figures.rpoRows = lost === null ? null : lost.length;
  const firstLost = lost?.length ? oldAcks.find((a) => a.id === lost[0]) : undefined;
  s.figures.rpoSeconds =
    lost === null ? null : firstLost && lastOld ? round((lastOld.at - firstLost.at) / 1000) : 0;

  s.check(
    `automatic failover to ${next}`,
    failedOver?.to === next,
    failedOver
      ? `failover Lambda: ${failedOver.outcome} ${failedOver.from} -> ${failedOver.to}`
      : `no failover: ${
          s
            .outcomes()
            .map((o) => `${o.outcome} ${o.reason ?? ''}`)
            .join('; ') || 'the failover Lambda was not invoked'
        }`,
  );
  const recovery = await inRecovery(s.node(next));
  s.check(
    `${next} promoted for real (pg_is_in_recovery() = false)`,
    recovery === false,
    recovery === undefined ? `${next} did not answer` : `pg_is_in_recovery() = ${recovery}`,
  );
  s.check(
    `the client writes again, on ${next}`,
    firstNew !== undefined,
    firstNew
      ? `first row acknowledged by ${next}: id ${firstNew.id}, ${s.figures.rtoSeconds} s after the last one on ${old}`
      : `no row acknowledged by ${next} within ${FAILOVER_TIMEOUT_MS / 1000} s`,
  );
  if (lost !== null && typeof s.figures.lagSecondsSeenAtPromotion === 'number') {
    const lag = s.figures.lagSecondsSeenAtPromotion;
    const rpo = s.figures.rpoSeconds as number;
    s.check(
      'lost writes agree with the lag the automation saw (within one probe interval)',
      Math.abs(rpo - lag) <= PROBE_INTERVAL_SECONDS,
      `${lost.length} acknowledged rows missing on ${next} (${rpo} s of writes); lag at promotion ${lag} s; probe interval ${PROBE_INTERVAL_SECONDS} s`,
    );
  }
  return failedOver
    ? (s.world.deliveries.find((d) => d.result === failedOver)?.finishedAt ?? Date.now())
    : undefined;
}

/** The datapoints the probe published for `nodeId`'s `metric` between `from` and `to` (ms), 1 s periods. */
async function probeDatapoints(
  s: ScenarioRun,
  nodeId: string,
  metric: string,
  from: number,
  to: number,
): Promise<{ t: number; v: number }[]> {
  const out = await s.world.clients.cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(from),
      EndTime: new Date(to),
      MetricDataQueries: [
        {
          Id: 'm',
          MetricStat: {
            Metric: {
              Namespace: PROBE_NAMESPACE,
              MetricName: metric,
              Dimensions: [
                { Name: PROBE_DIMENSIONS.service, Value: s.serviceId },
                { Name: PROBE_DIMENSIONS.node, Value: nodeId },
              ],
            },
            Period: 1,
            Stat: 'Maximum',
          },
        },
      ],
    }),
  );
  const r = out.MetricDataResults?.[0];
  return (r?.Timestamps ?? []).flatMap((ts, i) => {
    const v = r?.Values?.[i];
    return v === undefined ? [] : [{ t: ts.getTime(), v }];
  });
}

/** The newest ReplicationLagBytes the probe published for `nodeId` at or before `at`. */
async function lagBytesAt(s: ScenarioRun, nodeId: string, at: number): Promise<number | null> {
  const points = await probeDatapoints(s, nodeId, PROBE_METRICS.replicationLagBytes, at - 30_000, at + 1_000);
  let best: { t: number; v: number } | undefined;
  for (const p of points) if (p.t <= at && (!best || p.t > best.t)) best = p;
  return best?.v ?? null;
}

async function crashPrimary(s: ScenarioRun): Promise<number> {
  const pid = s.node('db-a').pid();
  if (pid === undefined) throw new Error('db-a is not running');
  process.kill(pid, 'SIGKILL');
  const at = Date.now();
  s.mark('fault', `kill -9 ${pid}: db-a's postmaster (the primary) crashes`, at, 'world', 'kill -9 db-a');
  return at;
}

export const primaryCrash: GameDayScenario = {
  name: 'primary-crash',
  title: 'The primary crashes (kill -9 of its postmaster)',
  summary:
    "The client writes; the primary's postmaster is killed. The probe stops seeing it, its health alarm fires, the bundled failover Lambda promotes the replica with pg_promote() and moves the record. RTO is the client's last acknowledged write on the old primary to its first on the new one; RPO is the acknowledged rows missing on the new primary, next to the lag the automation saw.",
  serviceId: 'crash',
  async run(s) {
    await warmUp(s);
    const crashAt = await crashPrimary(s);
    await measureFailover(s, crashAt, 'db-a', 'db-b');
  },
};

export const primaryReturns: GameDayScenario = {
  name: 'primary-returns',
  title: 'The old primary comes back after the failover',
  summary:
    'After the crash failover, the old primary is started again: PostgreSQL starts it as a primary. The automation must demote or fence it before it acknowledges a single write; then it rejoins as a replica of the new primary with pg_rewind and catches up.',
  serviceId: 'crash',
  async run(s) {
    const alreadyFailedOver = (await s.recordNode()) === 'db-b' && !s.node('db-a').isRunning();
    let failoverAt: number;
    if (alreadyFailedOver) {
      await warmUp(s);
      failoverAt = s.start;
      s.mark(
        'fault',
        'continuing from primary-crash: db-b is the primary, db-a is down',
        s.start,
        'world',
        'db-a down',
      );
    } else {
      if (!s.node('db-a').isRunning())
        throw new Error(
          'db-a is down but the record still points at it: primary-crash did not fail over, nothing to return from',
        );
      await warmUp(s);
      const crashAt = await crashPrimary(s);
      failoverAt = (await measureFailover(s, crashAt, 'db-a', 'db-b')) ?? Date.now();
    }
    const old = s.node('db-a');
    const restartAt = Date.now();
    await old.start();
    s.mark(
      'fault',
      'db-a restarted: it comes up believing it is the primary',
      restartAt,
      'world',
      'db-a restarted',
    );
    // A client that still has db-a (an old DNS answer, a hard-coded address) writes to it directly.
    let staleAcks = 0;
    let staleId = 1_000_000_000;
    let firstRefusedAt: number | undefined;
    const demoted = await s.waitFor(async () => {
      const r = await directWrite(old, ++staleId);
      if (r.accepted) staleAcks++;
      if (!r.refused) {
        await s.sleep(250);
        return undefined;
      }
      firstRefusedAt ??= Date.now();
      return r.detail;
    }, 45_000);
    s.figures.staleClientAcksBeforeFence = staleAcks;
    s.figures.oldPrimaryWritableSeconds = firstRefusedAt ? round((firstRefusedAt - restartAt) / 1000) : null;
    if (demoted)
      s.mark(
        'action',
        `db-a refuses writes now: ${demoted}`,
        firstRefusedAt,
        'observed',
        'db-a refuses writes',
      );
    const dnsAcks = s.acksAfter('db-a', failoverAt).length;
    s.figures.oldPrimaryAcksAfterFailover = dnsAcks;
    s.check(
      'the client acknowledged 0 writes on the old primary after the failover',
      dnsAcks === 0,
      `${dnsAcks} rows acknowledged by db-a after the failover`,
    );
    s.check(
      'the returning old primary is demoted or fenced by the automation',
      demoted !== undefined,
      demoted
        ? `${round(((firstRefusedAt as number) - restartAt) / 1000)} s after its restart; a client connected straight to it got ${staleAcks} writes acknowledged before that`
        : `db-a still accepted writes 45 s after its restart (${staleAcks} acknowledged straight to it)`,
    );

    // Rejoin: stop it, rewind it onto the new primary's timeline, start it as a streaming replica.
    const rejoinAt = Date.now();
    await old.stop('fast');
    await old.rewindFrom(s.node('db-b'));
    s.mark(
      'operator',
      'db-a rewound with pg_rewind -R onto db-b and started as its replica',
      Date.now(),
      'operator',
      'db-a rejoined (pg_rewind)',
    );
    s.figures.rewindSeconds = round((Date.now() - rejoinAt) / 1000);
    const caughtUp = await s.waitFor(async () => {
      const [{ lsn }] = (await s
        .node('db-b')
        .sql<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
      const [row] = await old.sql<{ behind: string | null; r: boolean }>(
        'SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS behind, pg_is_in_recovery() AS r',
        [lsn],
      );
      return row?.r && row.behind !== null && Number(row.behind) <= 0 ? true : undefined;
    }, 30_000);
    s.figures.catchUpSeconds = caughtUp ? round((Date.now() - rejoinAt) / 1000) : null;
    await s.sleep(1_000);
    const acked = s.client.acksBy('db-b');
    const missing = await s.missingOn(old, acked).catch(() => null);
    s.figures.rowsMissingOnRejoinedReplica = missing === null ? null : missing.length;
    s.check(
      'db-a rejoined as a replica of db-b and caught up',
      caughtUp === true && missing !== null && missing.length <= Math.ceil(50 * 1.5),
      caughtUp
        ? `in recovery, replayed up to db-b's position within ${s.figures.catchUpSeconds} s; ${acked.length - (missing?.length ?? 0)} of ${acked.length} rows written on db-b present`
        : 'did not catch up within 30 s',
    );
  },
};

export const replicaLagging: GameDayScenario = {
  name: 'replica-lagging',
  title: 'The replica lags past the budget, then the primary crashes',
  summary: `Replay is paused on the replica (pg_wal_replay_pause) while the client writes, until the lag the probe publishes exceeds the ${POLICY.maxLagSeconds} s budget; then the primary crashes. Promoting would lose the unreplayed writes: the automation must hold, say why, and notify. Replay is resumed afterwards.`,
  serviceId: 'lagging',
  async run(s) {
    await warmUp(s);
    const replica = s.node('db-b');
    await replica.pauseReplay();
    s.mark(
      'fault',
      'pg_wal_replay_pause() on db-b: it receives WAL but stops applying it',
      Date.now(),
      'world',
      'db-b replay paused',
    );
    const over = await s.waitFor(async () => {
      const lag = await lagSecondsPublished(s, 'db-b');
      return lag !== undefined && lag > POLICY.maxLagSeconds + 1 ? lag : undefined;
    }, 30_000);
    s.figures.publishedLagSecondsAtCrash = over ?? null;
    const [behind] = await s
      .node('db-a')
      .sql<{ bytes: string }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), (SELECT replay_lsn FROM pg_stat_replication LIMIT 1))::text AS bytes',
      )
      .catch(() => [{ bytes: 'null' }]);
    s.figures.unreplayedBytesAtCrash = behind?.bytes === 'null' || !behind ? null : Number(behind.bytes);
    const crashAt = await crashPrimary(s);
    const outcome = await s.waitFor(() => s.outcomes().find((o) => o.outcome !== 'ignored'), 60_000);
    await s.sleep(2_000);
    await s.world.drainNotifications();
    s.figures.decision = outcome ? `${outcome.outcome}${outcome.reason ? `: ${outcome.reason}` : ''}` : null;
    s.figures.holdDetail = outcome?.detail ?? null;
    s.figures.detectionSeconds = (() => {
      const alarm = s.world.transitions.find(
        (t) => t.alarmName.includes(`-${s.serviceId}-db-a-`) && t.to === 'ALARM',
      );
      return alarm ? round((alarm.at - crashAt) / 1000) : null;
    })();
    s.check(
      'no failover: the automation holds because the replica is over the lag budget',
      outcome?.outcome === 'held' && /lag/.test(String(outcome.reason)),
      decisionText(outcome),
    );
    checkNotified(s, 'the on-call is notified of the hold', (notes) => notes.length > 0);
    const recovery = await inRecovery(replica);
    s.check('db-b was not promoted', recovery === true, `pg_is_in_recovery() = ${recovery}`);
    s.check(
      'the record still points at db-a',
      (await s.recordNode()) === 'db-a',
      `record -> ${await s.recordNode()}`,
    );
    await replica.resumeReplay();
    const resumedAt = Date.now();
    s.mark('operator', 'pg_wal_replay_resume() on db-b', resumedAt, 'operator', 'replay resumed');
    const replayed = await s.waitFor(async () => {
      const [row] = await replica.sql<{ d: string | null }>(
        'SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text AS d',
      );
      return row?.d !== null && Number(row?.d) <= 0 ? true : undefined;
    }, 30_000);
    s.figures.replayCatchUpSeconds = replayed ? round((Date.now() - resumedAt) / 1000) : null;
    const lost = await s.missingOn(replica, s.client.acksBy('db-a')).catch(() => null);
    s.figures.rowsAForcedFailoverWouldLoseNow = lost === null ? null : lost.length;
    s.lostIds = lost ?? [];
  },
};

/** The highest ReplicationLagSeconds the probe published for `nodeId` in the last 15 s. */
async function lagSecondsPublished(s: ScenarioRun, nodeId: string): Promise<number | undefined> {
  const now = Date.now();
  const points = await probeDatapoints(
    s,
    nodeId,
    PROBE_METRICS.replicationLagSeconds,
    now - 15_000,
    now + 1_000,
  );
  return points.length ? Math.max(...points.map((p) => p.v)) : undefined;
}

export const plannedSwitchover: GameDayScenario = {
  name: 'planned-switchover',
  title: 'Planned switchover with the CLI',
  summary:
    '`failover switchover switchover --to db-b --wait` through the operator CLI: the synthesized workflow fences the primary, waits until the replica has replayed everything, promotes it, moves the record, verifies and demotes. No acknowledged row may be lost; the write pause is measured.',
  serviceId: 'switchover',
  async run(s) {
    const failoverCli = prepareFailoverCli(s.world);
    await warmUp(s);
    s.mark(
      'operator',
      'failover switchover switchover --to db-b --wait',
      Date.now(),
      'operator',
      'failover switchover',
    );
    const cli = await failoverCli.run(['switchover', 'switchover', '--to', 'db-b', '--wait'], (line, at) =>
      s.timeline.add(at, 'operator', `cli: ${line.trim()}`),
    );
    failoverCli.close();
    // The role-changing states on the chart (not every catch-up poll).
    const notable =
      /^(Prepare|Route|Has.*|CheckCatchUp|WaitForCatchUp|CaughtUp|CheckVerify|Verified|Notify)$/;
    for (const st of cli.states.filter((x) => !notable.test(x.name))) {
      s.markers.push({ t: s.t(st.at), kind: 'action', label: st.name });
    }
    s.figures.cliExitCode = cli.code;
    s.figures.workflowSeconds = round((cli.finishedAt - cli.startedAt) / 1000);
    s.figures.workflowStates = cli.states.map((x) => x.name).join(' > ');
    const firstNew = await s.waitFor(() => s.client.acksBy('db-b')[0], 30_000);
    await s.sleep(TAIL_MS);
    const lastOld = s.client.acksBy('db-a').at(-1);
    const fence = cli.states.find((x) => /fence/i.test(x.name));
    s.figures.writesPerSecondBefore = rateBefore(s, cli.startedAt);
    s.figures.writePauseSeconds = firstNew && lastOld ? round((firstNew.at - lastOld.at) / 1000) : null;
    recordGap(s, lastOld?.at, firstNew?.at);
    s.figures.fenceToFirstWriteSeconds = firstNew && fence ? round((firstNew.at - fence.at) / 1000) : null;
    const lost = await s.missingOn(s.node('db-b'), s.client.acksBy('db-a')).catch(() => null);
    s.lostIds = lost ?? [];
    s.figures.rpoRows = lost === null ? null : lost.length;
    s.check('the CLI reports success', cli.code === 0, `exit ${cli.code}`);
    s.check(
      'the record points at db-b',
      (await s.recordNode()) === 'db-b',
      `record -> ${await s.recordNode()}`,
    );
    const recovery = await inRecovery(s.node('db-b'));
    s.check(
      'db-b promoted (pg_is_in_recovery() = false)',
      recovery === false,
      `pg_is_in_recovery() = ${recovery}`,
    );
    s.check(
      'the client writes on db-b',
      firstNew !== undefined,
      firstNew
        ? `first row on db-b: id ${firstNew.id}, write pause ${s.figures.writePauseSeconds} s`
        : 'no row acknowledged by db-b',
    );
    s.check(
      '0 acknowledged rows lost',
      lost !== null && lost.length === 0,
      `${lost?.length ?? '?'} rows acknowledged by db-a missing on db-b`,
    );
  },
};

export const primaryFrozen: GameDayScenario = {
  name: 'primary-frozen',
  title: 'The primary hangs (SIGSTOP), then resumes (SIGCONT)',
  summary:
    'A hung host, not a crash: the primary and all its processes are stopped with SIGSTOP. It still accepts TCP connections but never answers, so its SQL fence cannot finish. The node may still be writable when it resumes, so the automation must not promote next to it: it holds (fence-hung), pages the on-call, and when the primary is resumed with SIGCONT exactly one node takes writes.',
  serviceId: 'frozen',
  async run(s) {
    await warmUp(s);
    const old = s.node('db-a');
    const replica = s.node('db-b');
    old.freeze();
    const frozenAt = Date.now();
    s.mark(
      'fault',
      `SIGSTOP to db-a's postmaster and its children: it hangs`,
      frozenAt,
      'world',
      'SIGSTOP db-a',
    );
    const outcome = await s.waitFor(() => s.outcomes().find((o) => o.outcome !== 'ignored'), 120_000);
    await s.sleep(2_000);
    await s.world.drainNotifications();
    s.figures.decision = outcome ? `${outcome.outcome}${outcome.reason ? `: ${outcome.reason}` : ''}` : null;
    s.figures.holdDetail = outcome?.detail ?? null;
    s.check(
      'no promotion next to a hung primary: the fence did not finish, the automation holds (fence-hung)',
      outcome?.outcome === 'held' && outcome.reason === 'fence-hung',
      decisionText(outcome),
    );
    checkNotified(s, 'the on-call is paged: the primary could not be fenced', (notes) =>
      notes.some((n) => n.kind === 'failover-failed'),
    );
    const recovery = await inRecovery(replica);
    s.check('db-b was not promoted', recovery === true, `pg_is_in_recovery() = ${recovery}`);
    old.thaw();
    const thawAt = Date.now();
    s.mark('fault', 'SIGCONT to db-a: it runs again', thawAt, 'world', 'SIGCONT db-a');
    await s.sleep(PROBE_INTERVAL_SECONDS * 3_000);
    const resumedAcks = s.acksAfter('db-a', thawAt).length;
    s.figures.primaryAcksAfterResume = resumedAcks;
    s.check(
      'one writer after the resume: the client writes on db-a again',
      resumedAcks > 0 && s.acksAfter('db-b', frozenAt).length === 0,
      `${resumedAcks} rows acknowledged by db-a, ${s.acksAfter('db-b', frozenAt).length} by db-b`,
    );
    const onReplica = await directWrite(replica, 2_000_000_000);
    s.check('db-b still refuses writes', onReplica.refused, onReplica.detail);
    const lost = await s.missingOn(old, s.client.acksBy('db-a')).catch(() => null);
    s.figures.rpoRows = lost === null ? null : lost.length;
    s.lostIds = lost ?? [];
  },
};

export const SCENARIOS: readonly GameDayScenario[] = [
  primaryCrash,
  primaryReturns,
  replicaLagging,
  plannedSwitchover,
  primaryFrozen,
];
