/**
 * The PostgreSQL check: connect, one query (it doubles as the `SELECT 1`), disconnect. What the
 * figures mean is decided in lambdas/domain/probe.ts.
 */
import type pg from 'pg';
import { type PgReading, parseLsn } from '../domain/probe.ts';

/**
 * Needs only CONNECT on the database: the functions are executable by every role (the
 * `pg_monitor` role is recommended anyway, see the README).
 */
export const PG_PROBE_QUERY = `SELECT
  pg_is_in_recovery() AS in_recovery,
  current_setting('default_transaction_read_only') = 'on' AS read_only,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
  pg_last_wal_replay_lsn()::text AS replay_lsn,
  pg_last_wal_receive_lsn()::text AS receive_lsn,
  extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age`;

interface Row {
  in_recovery: boolean;
  read_only: boolean;
  current_lsn: string | null;
  replay_lsn: string | null;
  receive_lsn: string | null;
  replay_age: number | null;
}

export async function readPostgres(client: pg.Client): Promise<PgReading> {
  const { rows } = await client.query<Row>(PG_PROBE_QUERY);
  const row = rows[0];
  if (!row) throw new Error('the probe query returned no row');
  return {
    inRecovery: row.in_recovery,
    readOnlyByDefault: row.read_only,
    ...(row.current_lsn ? { currentLsn: parseLsn(row.current_lsn) } : {}),
    ...(row.in_recovery && row.replay_lsn ? { replayLsn: parseLsn(row.replay_lsn) } : {}),
    ...(row.receive_lsn ? { receiveLsn: parseLsn(row.receive_lsn) } : {}),
    ...(row.replay_age !== null && Number.isFinite(row.replay_age)
      ? { replayAgeSeconds: row.replay_age }
      : {}),
  };
}
