/**
 * The MySQL 8 / MariaDB 10.11 check: `@@read_only` and `@@super_read_only` (MySQL only) from
 * SHOW GLOBAL VARIABLES, then SHOW REPLICA STATUS, whose column names differ: MySQL 8.0.22+ says
 * Replica_IO_Running / Seconds_Behind_Source, MariaDB Slave_IO_Running / Seconds_Behind_Master.
 */
import type mysql from 'mysql2/promise';
import type { MysqlReading } from '../domain/probe.ts';

type Row = Record<string, unknown>;

export async function readMysql(conn: mysql.Connection, timeoutMs: number): Promise<MysqlReading> {
  const [vars] = await conn.query({
    sql: "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'super_read_only')",
    timeout: timeoutMs,
  });
  const byName = new Map((vars as Row[]).map((r) => [String(r.Variable_name), String(r.Value)]));
  const [status] = await conn.query({ sql: 'SHOW REPLICA STATUS', timeout: timeoutMs });
  const row = (status as Row[])[0];
  return {
    readOnly: isOn(byName.get('read_only')),
    ...(byName.has('super_read_only') ? { superReadOnly: isOn(byName.get('super_read_only')) } : {}),
    ...(row ? { replica: replicaOf(row) } : {}),
  };
}

function replicaOf(row: Row): NonNullable<MysqlReading['replica']> {
  const pick = (mysqlName: string, mariaName: string) => (mysqlName in row ? row[mysqlName] : row[mariaName]);
  const seconds = pick('Seconds_Behind_Source', 'Seconds_Behind_Master');
  return {
    ioRunning: pick('Replica_IO_Running', 'Slave_IO_Running') === 'Yes',
    sqlRunning: pick('Replica_SQL_Running', 'Slave_SQL_Running') === 'Yes',
    secondsBehind: seconds === null || seconds === undefined ? null : Number(seconds),
  };
}

function isOn(value: string | undefined): boolean {
  return value === 'ON' || value === '1';
}
