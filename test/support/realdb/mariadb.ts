/**
 * A real MariaDB primary with binlog replicas on 127.0.0.1, for `npm run test:db`.
 *
 * - `mariadbd` and `mariadb-install-db` from Debian's `mariadb-server` (`apt-get install -y
 *   mariadb-server`; MARIADB_BIN overrides the directory of mariadbd). Started directly, in the
 *   foreground, as children of this process, each with its own data directory, port and socket:
 *   never the system service. A missing install is a failure with the install command.
 * - One `mariadb-install-db` per process; every node's data directory is a copy of it.
 * - Users: `root`@`127.0.0.1` gets a password (a wrong one is refused, as in production), and
 *   `repl`@`127.0.0.1` is the replication account; both are created on every node with the binary
 *   log off, so they do not replicate. Replicas replicate by GTID from the primary's first binlog,
 *   with `read_only = ON`.
 * - `stop('immediate')` is SIGKILL (a crash), `stop('clean')` SIGTERM. Every node is stopped and its
 *   directory removed in `stop()`, from the exit hooks, and by the global setup's sweep.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { type SuiteFixture, useSuiteFixture } from '../suite-fixture.ts';
import type { LocalDbCluster, LocalDbNode, StartLocalDbClusterOptions } from './cluster.ts';
import { dataTemplate, startClusterIn } from './cluster.ts';
import {
  freePort,
  isAlive,
  type OsUser,
  readLog,
  run,
  serviceUser,
  signalTree,
  sleep,
  waitFor,
} from './process.ts';

export const MARIADB_BIN = process.env.MARIADB_BIN ?? '/usr/sbin';
export const MARIADB_INSTALL_DB = process.env.MARIADB_INSTALL_DB ?? '/usr/bin/mariadb-install-db';
export const MARIADB_INSTALL_HINT =
  'MariaDB is required by `npm run test:db`: `apt-get update && apt-get install -y mariadb-server` (Debian 12 ships 10.11); the system service need not run, the fixture starts its own servers';
export const MARIADB_ROOT_PASSWORD = 'fixture-root-password';
export const MARIADB_REPL_PASSWORD = 'fixture-repl-password';

export interface MysqlConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
}

export interface MariaDbNode extends LocalDbNode {
  readonly serverId: number;
  /** root over TCP on 127.0.0.1. */
  readonly connection: MysqlConnection;
  /** Runs statements on a fresh root connection; returns the rows of the last one. */
  sql<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** `immediate` = SIGKILL (a crash); `clean` = SIGTERM and wait for the shutdown. @default 'immediate' */
  stop(mode?: 'immediate' | 'clean'): Promise<void>;
  /** `STOP REPLICA SQL_THREAD`: events are still received but no longer applied. */
  stopSqlThread(): Promise<void>;
  /** `START REPLICA` (both threads). */
  startReplication(): Promise<void>;
  /** Stops and resets replication and sets `read_only = OFF`: it takes writes. */
  promote(): Promise<void>;
}

/** Replicas wait by GTID (MASTER_GTID_WAIT); stop() is SIGKILL to every node. */
export type MariaDbCluster = LocalDbCluster<MariaDbNode>;

export type StartMariaDbClusterOptions = StartLocalDbClusterOptions;

/** Starts a primary and replicas; all replicating and caught up when it returns. */
export async function startMariaDbCluster(options: StartMariaDbClusterOptions = {}): Promise<MariaDbCluster> {
  assertInstalled();
  const user = serviceUser('mysql');
  const templateDir = await installTemplate(user);
  return startClusterIn<LocalMariaDbNode, MariaDbCluster>(
    'mariadb',
    user,
    (node) => node.killSync(),
    async ({ root, add, stop }) => {
      const primary = add(new LocalMariaDbNode('primary', 1, root, user, templateDir));
      await primary.create();
      const replicas: LocalMariaDbNode[] = [];
      for (let i = 1; i <= (options.replicas ?? 1); i++) {
        const replica = add(new LocalMariaDbNode(`replica${i}`, i + 1, root, user, templateDir));
        await replica.create();
        await replica.sql('SET GLOBAL read_only = ON');
        await replica.sql(
          `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${primary.port}, MASTER_USER = 'repl', MASTER_PASSWORD = '${MARIADB_REPL_PASSWORD}', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
        );
        await replica.startReplication();
        replicas.push(replica);
      }
      const waitForReplay = (replica: MariaDbNode = replicas[0] as MariaDbNode, timeoutMs = 30_000) =>
        waitForGtid(primary, replica, timeoutMs);
      for (const replica of replicas) await waitForReplay(replica);
      return { primary, replica: replicas[0] as MariaDbNode, replicas, waitForReplay, stop };
    },
  );
}

/** One cluster for the enclosing suite: started in beforeAll, stopped in afterAll whatever happened. */
export function useMariaDbCluster(options: StartMariaDbClusterOptions = {}): SuiteFixture<MariaDbCluster> {
  return useSuiteFixture('the MariaDB cluster', () => startMariaDbCluster(options), 120_000);
}

/** Runs statements on a fresh connection and returns the rows of the last one. */
export async function mysqlQuery<R>(
  connection: MysqlConnection | { readonly socketPath: string; readonly user: string },
  text: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  const conn = await mysql.createConnection({
    ...connection,
    connectTimeout: 10_000,
    multipleStatements: true,
  });
  try {
    const [rows] = await conn.query(text, params as unknown[]);
    if (Array.isArray(rows) && Array.isArray(rows[rows.length - 1])) return rows[rows.length - 1] as R[];
    return (Array.isArray(rows) ? rows : []) as R[];
  } finally {
    await conn.end();
  }
}

async function waitForGtid(primary: MariaDbNode, replica: MariaDbNode, timeoutMs: number): Promise<void> {
  const [row] = await primary.sql<{ pos: string }>('SELECT @@GLOBAL.gtid_binlog_pos AS pos');
  const pos = row?.pos ?? '';
  if (pos === '') return;
  // MASTER_GTID_WAIT returns 0 once the replica applied `pos`, -1 on its own timeout.
  const [res] = await replica.sql<{ r: number }>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [
    pos,
    timeoutMs / 1000,
  ]);
  if (Number(res?.r) !== 0)
    throw new Error(`${replica.name} did not apply GTID ${pos} within ${timeoutMs} ms`);
}

function assertInstalled(): void {
  for (const path of [join(MARIADB_BIN, 'mariadbd'), MARIADB_INSTALL_DB]) {
    if (!existsSync(path)) throw new Error(`${path} not found. ${MARIADB_INSTALL_HINT}`);
  }
}

const SERVER_OPTIONS = [
  '--no-defaults',
  '--bind-address=127.0.0.1',
  '--skip-name-resolve',
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-file-size=4M',
  '--innodb-flush-log-at-trx-commit=2',
  '--performance-schema=OFF',
  '--max-connections=40',
];

function installTemplate(user: OsUser | undefined): Promise<string> {
  return dataTemplate('mariadb-template', user, async (dir, data) => {
    await run(
      MARIADB_INSTALL_DB,
      [...SERVER_OPTIONS, `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
      { ...(user ? { user } : {}), cwd: dir, timeoutMs: 120_000 },
    );
  });
}

class LocalMariaDbNode implements MariaDbNode {
  readonly dataDir: string;
  readonly connection: MysqlConnection;
  port = 0;
  private readonly socket: string;
  private readonly errorLog: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly serverId: number,
    root: string,
    private readonly user: OsUser | undefined,
    private readonly templateDir: string,
  ) {
    this.dataDir = join(root, name);
    this.socket = join(root, `${name}.sock`);
    this.errorLog = join(root, `${name}.err`);
    const self = this;
    this.connection = {
      host: '127.0.0.1',
      get port() {
        return self.port;
      },
      user: 'root',
      password: MARIADB_ROOT_PASSWORD,
    };
  }

  async create(): Promise<void> {
    cpSync(this.templateDir, this.dataDir, { recursive: true, preserveTimestamps: true });
    if (this.user) await run('chown', ['-R', `${this.user.uid}:${this.user.gid}`, this.dataDir]);
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        await this.start();
        break;
      } catch (err) {
        if (attempt >= 3 || !/address already in use|Do you already have another/i.test(this.log()))
          throw err;
      }
    }
    // Over the socket, root@localhost has no password yet; nothing here goes to the binlog.
    await mysqlQuery(
      { socketPath: this.socket, user: 'root' },
      [
        'SET SESSION sql_log_bin = 0',
        `ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}'`,
        `CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '${MARIADB_REPL_PASSWORD}'`,
        `GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'`,
      ].join('; '),
    );
  }

  async start(): Promise<void> {
    if (this.isRunning()) return;
    const child = spawn(
      join(MARIADB_BIN, 'mariadbd'),
      [
        ...SERVER_OPTIONS,
        `--datadir=${this.dataDir}`,
        `--port=${this.port}`,
        `--socket=${this.socket}`,
        `--pid-file=${this.dataDir}.pid`,
        `--log-error=${this.errorLog}`,
        `--server-id=${this.serverId}`,
        '--log-bin=mariadb-bin',
        '--log-slave-updates=ON',
        '--gtid-strict-mode=ON',
        '--relay-log=relay-bin',
      ],
      {
        stdio: 'ignore',
        cwd: join(this.dataDir, '..'),
        ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
      },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => undefined);
    await waitFor(
      `${this.name} (mariadbd on port ${this.port}) to accept connections`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `mariadbd exited with ${child.exitCode ?? child.signalCode}:\n${this.log().slice(-3_000)}`,
          );
        }
        // root@localhost (the socket) keeps an empty password: only the fixture uses it.
        await mysqlQuery({ socketPath: this.socket, user: 'root' }, 'SELECT 1');
        return true;
      },
      60_000,
      100,
    ).catch(async (err) => {
      if (child.exitCode !== null || child.signalCode !== null) throw err;
      await this.stop('immediate');
      throw err;
    });
  }

  async stop(mode: 'immediate' | 'clean' = 'immediate'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.thaw();
    child.kill(mode === 'immediate' ? 'SIGKILL' : 'SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(60_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  killSync(): void {
    const pid = this.pid();
    if (pid === undefined) return;
    signalTree(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  }

  freeze(): void {
    const pid = this.pid();
    if (pid === undefined) throw new Error(`${this.name} is not running`);
    process.kill(pid, 'SIGSTOP');
  }

  thaw(): void {
    const pid = this.pid();
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
  }

  async stopSqlThread(): Promise<void> {
    await this.sql('STOP REPLICA SQL_THREAD');
  }

  async startReplication(): Promise<void> {
    await this.sql('START REPLICA');
  }

  async promote(): Promise<void> {
    await this.sql('STOP REPLICA; RESET REPLICA ALL; SET GLOBAL read_only = OFF');
  }

  sql<R = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return mysqlQuery<R>(this.connection, text, params);
  }

  isRunning(): boolean {
    return this.pid() !== undefined;
  }

  pid(): number | undefined {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return undefined;
    return isAlive(child.pid) ? child.pid : undefined;
  }

  log(): string {
    return readLog(this.errorLog);
  }
}
