/**
 * What the node probe publishes, decided from what it read: the exact meaning of `Healthy`,
 * `Writable`, `ReplicationLagSeconds` and `ReplicationLagBytes` for each kind of node, and when in
 * a minute it samples. The engine-specific code (lambdas/probe/) only reads raw values.
 *
 * Pure: no drivers, no AWS SDK, no clock (`now` is an argument).
 */
import type { ProbeConfig } from './probe-config.ts';

/**
 * Published as the lag (seconds or bytes) of a replica whose lag cannot be known (a MySQL SQL
 * thread that is stopped, a PostgreSQL replica whose primary position was never seen, an
 * appliance answering null). Not publishing would leave the last good datapoint as the newest,
 * so a replica that just stopped applying would look caught up for the whole freshness window;
 * this value is over any budget, so every reader refuses it.
 */
export const UNKNOWN_LAG = 1e15;

/** A replica's lag: a measured value, or unknown (published as UNKNOWN_LAG). */
export type Lag = number | 'unknown';

/** What one sample of one node publishes. Absent figures are not published. */
export interface NodeFigures {
  readonly healthy: 0 | 1;
  readonly writable?: 0 | 1;
  readonly lagSeconds?: Lag;
  readonly lagBytes?: Lag;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/** One node's answers to the probe's query (lambdas/probe/postgres.ts). */
export interface PgReading {
  /** pg_is_in_recovery() */
  readonly inRecovery: boolean;
  /** current_setting('default_transaction_read_only') = 'on': a SQL fence. */
  readonly readOnlyByDefault: boolean;
  /** pg_current_wal_lsn() on a primary. */
  readonly currentLsn?: bigint;
  /** pg_last_wal_replay_lsn() on a replica. */
  readonly replayLsn?: bigint;
  /** pg_last_wal_receive_lsn() on a replica (null when it streams nothing). */
  readonly receiveLsn?: bigint;
  /** now() - pg_last_xact_replay_timestamp() on the replica, seconds; undefined when null. */
  readonly replayAgeSeconds?: number;
}

/** Parses an LSN as PostgreSQL prints it (`16/B374D848`) into a byte position. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** A node takes writes: out of recovery and not fenced read-only. */
export function pgWritable(r: PgReading): boolean {
  return !r.inRecovery && !r.readOnlyByDefault;
}

/** The primary's WAL position as the probe last knew it, and when it read it (epoch ms). */
export interface PrimaryPosition {
  readonly lsn: bigint;
  readonly at: number;
}

export interface PgLagInput {
  readonly replica: PgReading;
  /** The primary's position read in this sample; undefined when no primary answered. */
  readonly primaryNow?: bigint;
  /** The last primary position recorded by an earlier sample (kept across invocations). */
  readonly lastKnown?: PrimaryPosition;
  /** When this replica was last seen caught up (lag 0 bytes), epoch ms; undefined if never. */
  readonly lastCaughtUpAt?: number;
  readonly now: number;
}

export interface PgLag {
  readonly lagBytes: Lag;
  readonly lagSeconds: Lag;
  /** Whether the replica had replayed everything the (known) primary had: lag 0. */
  readonly caughtUp: boolean;
}

/**
 * Lag of a PostgreSQL replica.
 *
 * - Bytes: primary position minus `pg_last_wal_replay_lsn()`, never below 0. The primary
 *   position is the one read in this sample; when no primary answers, the larger of the last
 *   recorded primary position and what this replica has received. That is a lower bound (the
 *   dead primary may have written more), so the bytes say "at least this much is missing".
 *   Without any primary position: unknown.
 * - Seconds: 0 when the bytes are 0 (everything the primary had is replayed: an idle primary
 *   does not make a caught-up replica look late). Otherwise the smaller of two upper bounds on the
 *   age of the oldest missing WAL: `now() - pg_last_xact_replay_timestamp()` (missing WAL comes
 *   after the last replayed commit) and the time since the probe last saw the replica caught up.
 *   With neither: unknown. A paused or stopped replay keeps the bytes above 0, so its seconds
 *   keep growing: it never looks caught up.
 */
export function pgLag(input: PgLagInput): PgLag {
  const { replica, primaryNow, lastKnown, lastCaughtUpAt, now } = input;
  if (replica.replayLsn === undefined) return { lagBytes: 'unknown', lagSeconds: 'unknown', caughtUp: false };
  let primary = primaryNow;
  if (primary === undefined && lastKnown !== undefined) {
    primary =
      replica.receiveLsn !== undefined && replica.receiveLsn > lastKnown.lsn
        ? replica.receiveLsn
        : lastKnown.lsn;
  }
  if (primary === undefined) {
    return {
      lagBytes: 'unknown',
      lagSeconds: replica.replayAgeSeconds !== undefined ? Math.max(0, replica.replayAgeSeconds) : 'unknown',
      caughtUp: false,
    };
  }
  const behind = primary - replica.replayLsn;
  const lagBytes = behind > 0n ? Number(behind) : 0;
  if (lagBytes === 0) return { lagBytes: 0, lagSeconds: 0, caughtUp: true };
  const bounds: number[] = [];
  if (replica.replayAgeSeconds !== undefined) bounds.push(Math.max(0, replica.replayAgeSeconds));
  if (lastCaughtUpAt !== undefined) bounds.push(Math.max(0, (now - lastCaughtUpAt) / 1000));
  return {
    lagBytes,
    lagSeconds: bounds.length > 0 ? round3(Math.min(...bounds)) : 'unknown',
    caughtUp: false,
  };
}

/**
 * The primary position of a service in one sample: the writable nodes' `pg_current_wal_lsn()`.
 * With more than one writer (split brain) the largest, so no replica looks closer than it is.
 */
export function pgPrimaryPosition(readings: readonly (PgReading | undefined)[]): bigint | undefined {
  let best: bigint | undefined;
  for (const r of readings) {
    if (!r || !pgWritable(r) || r.currentLsn === undefined) continue;
    if (best === undefined || r.currentLsn > best) best = r.currentLsn;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// MySQL 8 / MariaDB 10.11
// ---------------------------------------------------------------------------------------------

export interface MysqlReading {
  /** @@global.read_only */
  readonly readOnly: boolean;
  /** @@global.super_read_only (MySQL only; MariaDB has none). */
  readonly superReadOnly?: boolean;
  /** SHOW REPLICA STATUS, when the node is a replica. */
  readonly replica?: {
    readonly ioRunning: boolean;
    readonly sqlRunning: boolean;
    /** Seconds_Behind_Source (MySQL) / Seconds_Behind_Master (MariaDB); null is unknown. */
    readonly secondsBehind: number | null;
  };
}

export function mysqlWritable(r: MysqlReading): boolean {
  return !r.readOnly && r.superReadOnly !== true;
}

/**
 * Lag of a MySQL/MariaDB replica: `Seconds_Behind_Source` only while both the IO and SQL threads
 * run; NULL, or a stopped thread, is unknown (never 0). A node without replica status has no lag.
 */
export function mysqlLagSeconds(r: MysqlReading): Lag | undefined {
  if (!r.replica) return undefined;
  const { ioRunning, sqlRunning, secondsBehind } = r.replica;
  if (
    !ioRunning ||
    !sqlRunning ||
    secondsBehind === null ||
    !Number.isFinite(secondsBehind) ||
    secondsBehind < 0
  ) {
    return 'unknown';
  }
  return secondsBehind;
}

// ---------------------------------------------------------------------------------------------
// HTTP appliances
// ---------------------------------------------------------------------------------------------

/** Resolves an RFC 6901 JSON pointer; undefined when a token is missing. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      cur = cur[Number(token)];
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, token)) {
      cur = (cur as Record<string, unknown>)[token];
    } else return undefined;
  }
  return cur;
}

export interface HttpReading {
  readonly status: number;
  /** The parsed JSON body; undefined when it was not JSON. */
  readonly body?: unknown;
}

export function httpFigures(probe: Extract<ProbeConfig, { kind: 'http' }>, r: HttpReading): NodeFigures {
  const healthy = r.status >= probe.healthyStatus.min && r.status <= probe.healthyStatus.max;
  if (!healthy) return { healthy: 0 };
  let writable: 0 | 1 | undefined;
  if (probe.writablePointer !== undefined) {
    const w = resolvePointer(r.body, probe.writablePointer);
    if (typeof w === 'boolean') writable = w ? 1 : 0;
  }
  let lagSeconds: Lag | undefined;
  // A node that says it takes writes is a primary: it has no replication lag to report.
  if (probe.lagPointer !== undefined && writable !== 1) {
    const l = resolvePointer(r.body, probe.lagPointer);
    lagSeconds = typeof l === 'number' && Number.isFinite(l) && l >= 0 ? l : 'unknown';
  }
  return {
    healthy: 1,
    ...(writable !== undefined ? { writable } : {}),
    ...(lagSeconds !== undefined ? { lagSeconds } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// When to sample
// ---------------------------------------------------------------------------------------------

/**
 * The sample start times of one invocation started at `start` (epoch ms): every
 * `intervalSeconds`, at `timeoutSeconds` before each interval ends, until the minute `start` is in
 * ends. Sampling at the end of each interval means a failure counts in the alarm period it
 * happens in (unless it falls in the last `timeoutSeconds`), and the next invocation, started by
 * the per-minute schedule, has a whole interval minus the timeout to start before its first slot.
 */
export function sampleTimes(start: number, intervalSeconds: number, timeoutSeconds: number): number[] {
  const interval = intervalSeconds * 1000;
  const offset = interval - Math.ceil(timeoutSeconds * 1000);
  const minuteEnd = (Math.floor(start / 60_000) + 1) * 60_000;
  const times: number[] = [];
  let slot = Math.floor(start / interval) * interval;
  for (; slot < minuteEnd; slot += interval) {
    const t = slot + offset;
    if (t >= start && t < minuteEnd) times.push(t);
  }
  return times;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
