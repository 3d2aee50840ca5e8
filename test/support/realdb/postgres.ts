/**
 * A real PostgreSQL 15 primary with streaming replicas on 127.0.0.1, for `npm run test:db`.
 *
 * - Binaries from /usr/lib/postgresql/15/bin (Debian's `postgresql` package; PG_BIN overrides).
 *   A missing install is a failure with the install command, never a skip.
 * - PostgreSQL refuses to run as root: when this process is root, every tool runs as the
 *   `postgres` OS user and the data directories belong to it.
 * - The primary comes from `initdb` (superuser `postgres` with a password over TCP, trust over the
 *   node's own Unix socket and for replication from 127.0.0.1), each replica from
 *   `pg_basebackup -R` (streaming, `primary_conninfo` written for us). `wal_log_hints = on`, so a
 *   stopped old primary can be rewound with `pg_rewind` and rejoin; `fsync = off`, because the
 *   tests never survive a power cut and the start is faster.
 * - Every node is stopped (`-m immediate`) and its directory removed in `stop()`, and also from
 *   the exit hooks and the global setup's sweep when the run dies without reaching afterAll.
 */
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { type SuiteFixture, useSuiteFixture } from '../suite-fixture.ts';
import type { LocalDbCluster, LocalDbNode, StartLocalDbClusterOptions } from './cluster.ts';
import { dataTemplate, startClusterIn } from './cluster.ts';
import {
  CommandFailedError,
  freePort,
  giveTo,
  isAlive,
  type OsUser,
  readLog,
  run,
  runSync,
  serviceUser,
  signalTree,
  waitFor,
} from './process.ts';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const PG_INSTALL_HINT =
  'PostgreSQL 15 server binaries are required by `npm run test:db`: `apt-get install -y postgresql` (Debian 12), or set PG_BIN to the directory holding initdb, pg_ctl and pg_basebackup';
/** The superuser's password over TCP (the node's Unix socket trusts the OS user). */
export const PG_SUPERUSER_PASSWORD = 'fixture-superuser-password';

/** What a `pg` Client, or the probe, needs to reach a node. */
export interface PgConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export type PgStopMode = 'smart' | 'fast' | 'immediate';

export interface PgNode extends LocalDbNode {
  /** Superuser connection over TCP on 127.0.0.1. */
  readonly connection: PgConnection;
  /** Runs one statement on a fresh connection (superuser) and returns its rows. */
  sql<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<R[]>;
  /** `pg_ctl stop -m <mode>` (default `immediate`: like a crash, no shutdown checkpoint). */
  stop(mode?: PgStopMode): Promise<void>;
  /** `pg_ctl promote -w`: ends recovery; the node accepts writes when it returns. */
  promote(): Promise<void>;
  /** `pg_wal_replay_pause()`, and waits until replay is actually paused. */
  pauseReplay(): Promise<void>;
  /** `pg_wal_replay_resume()`. */
  resumeReplay(): Promise<void>;
  /**
   * Makes this (stopped) node a streaming replica of `source` with `pg_rewind -R`, then starts it:
   * how a failed old primary rejoins after a failover.
   */
  rewindFrom(source: PgNode): Promise<void>;
}

/** After a promotion, wait with pgWaitForReplay and the new primary. */
export type PgCluster = LocalDbCluster<PgNode>;

export interface StartPgClusterOptions extends StartLocalDbClusterOptions {
  /** Extra `postgresql.conf` settings for every node. @default none */
  readonly settings?: Readonly<Record<string, string>>;
}

const BASE_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: "'127.0.0.1'",
  wal_level: 'replica',
  wal_log_hints: 'on',
  max_wal_senders: '10',
  wal_keep_size: "'256MB'",
  hot_standby: 'on',
  fsync: 'off',
  shared_buffers: "'32MB'",
  max_connections: '40',
  // Status messages from the replica every second, so pg_stat_replication is fresh.
  wal_receiver_status_interval: "'1s'",
  log_line_prefix: "'%m [%p] '",
};

/** Starts a primary and `replicas` streaming replicas; all caught up when it returns. */
export async function startPgCluster(options: StartPgClusterOptions = {}): Promise<PgCluster> {
  assertInstalled();
  const user = serviceUser('postgres');
  return startClusterIn<LocalPgNode, PgCluster>(
    'pg',
    user,
    (node) => node.stopSync(),
    async ({ root, add, stop }) => {
      const settings = { ...BASE_SETTINGS, ...options.settings };
      const primary = add(new LocalPgNode('primary', root, user, await freePort()));
      await primary.init(settings);
      await primary.start();
      const replicas: LocalPgNode[] = [];
      for (let i = 1; i <= (options.replicas ?? 1); i++) {
        const replica = add(new LocalPgNode(`replica${i}`, root, user, await freePort()));
        await replica.baseBackupFrom(primary);
        await replica.start();
        replicas.push(replica);
      }
      const cluster: PgCluster = {
        primary,
        replica: replicas[0] as PgNode,
        replicas,
        waitForReplay: (replica = replicas[0] as PgNode, timeoutMs = 30_000) =>
          pgWaitForReplay(primary, replica, timeoutMs),
        stop,
      };
      for (const replica of replicas) await cluster.waitForReplay(replica);
      return cluster;
    },
  );
}

/** One cluster for the enclosing suite: started in beforeAll, stopped in afterAll whatever happened. */
export function usePgCluster(options: StartPgClusterOptions = {}): SuiteFixture<PgCluster> {
  return useSuiteFixture('the PostgreSQL cluster', () => startPgCluster(options), 120_000);
}

/** Runs one statement on a fresh connection and returns its rows. */
export async function pgQuery<R extends Record<string, unknown>>(
  connection: PgConnection,
  text: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000 });
  // A server restarted under the session (demote, stop) emits 'error' after the statement.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const result = await client.query(text, params as unknown[]);
    return result.rows as R[];
  } finally {
    await client.end();
  }
}

/** Waits until `replica` has replayed everything `source` (any node taking writes) has written so far. */
export async function pgWaitForReplay(primary: PgNode, replica: PgNode, timeoutMs = 30_000): Promise<void> {
  const [{ lsn }] = (await primary.sql<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')) as [
    { lsn: string },
  ];
  await waitFor(
    `${replica.name} to replay up to ${lsn}`,
    async () => {
      const [row] = await replica.sql<{ behind: string | null }>(
        'SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS behind',
        [lsn],
      );
      return row && row.behind !== null && Number(row.behind) <= 0 ? true : undefined;
    },
    timeoutMs,
  );
}

/**
 * One `initdb` per run (about 2-4 s here), kept in the run's scratch directory: every primary is a
 * copy of it.
 */
function initdbTemplate(user: OsUser | undefined): Promise<string> {
  return dataTemplate('pg-template', user, async (dir, data) => {
    const pwfile = join(dir, 'superuser.pw');
    writeFileSync(pwfile, `${PG_SUPERUSER_PASSWORD}\n`, { mode: 0o600 });
    giveTo(pwfile, user);
    await run(
      join(PG_BIN, 'initdb'),
      [
        '-D',
        data,
        '-U',
        'postgres',
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--no-sync',
        '--no-instructions',
        '-E',
        'UTF8',
        '--locale=C',
      ],
      { ...(user ? { user } : {}), cwd: dir, timeoutMs: 120_000 },
    );
  });
}

function assertInstalled(): void {
  for (const tool of ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres']) {
    if (!existsSync(join(PG_BIN, tool)))
      throw new Error(`${join(PG_BIN, tool)} not found. ${PG_INSTALL_HINT}`);
  }
}

class LocalPgNode implements PgNode {
  readonly dataDir: string;
  readonly connection: PgConnection;
  private readonly logFile: string;

  constructor(
    readonly name: string,
    root: string,
    private readonly user: OsUser | undefined,
    readonly port: number,
  ) {
    this.dataDir = join(root, name);
    this.logFile = join(root, `${name}.log`);
    this.connection = {
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: PG_SUPERUSER_PASSWORD,
      database: 'postgres',
    };
  }

  async init(settings: Readonly<Record<string, string>>): Promise<void> {
    const templateDir = await initdbTemplate(this.user);
    cpSync(templateDir, this.dataDir, { recursive: true, preserveTimestamps: true });
    // The postmaster refuses a data directory others can read.
    chmodSync(this.dataDir, 0o700);
    if (this.user) await run('chown', ['-R', `${this.user.uid}:${this.user.gid}`, this.dataDir]);
    const conf = Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n');
    writeFileSync(join(this.dataDir, 'postgresql.conf'), `${conf}\n`, { flag: 'a' });
    // First match wins: replication connections from the replicas need no password, everything
    // else over TCP does (so a wrong password is refused, as in production).
    writeFileSync(
      join(this.dataDir, 'pg_hba.conf'),
      [
        'local all all trust',
        'local replication all trust',
        'host replication all 127.0.0.1/32 trust',
        'host all all 127.0.0.1/32 scram-sha-256',
        '',
      ].join('\n'),
    );
  }

  async baseBackupFrom(source: PgNode): Promise<void> {
    await this.tool('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(source.port),
      '-U',
      'postgres',
      '-D',
      this.dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ]);
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.tool(
          'pg_ctl',
          [
            '-D',
            this.dataDir,
            '-l',
            this.logFile,
            '-w',
            '-t',
            '60',
            '-o',
            `-p ${this.port} -k ${join(this.dataDir, '..')}`,
            'start',
          ],
          90_000,
        );
        return;
      } catch (err) {
        if (attempt >= 3 || !/could not bind|already in use/i.test(this.log())) {
          throw new Error(`${this.name} did not start:\n${this.log().slice(-3_000)}`, { cause: err });
        }
        // Another process took the port between freePort() and the bind: we cannot change the
        // port of an existing replica's primary_conninfo, so just try again a little later.
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async stop(mode: PgStopMode = 'immediate'): Promise<void> {
    if (!this.isRunning()) return;
    this.thaw();
    try {
      await this.tool('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    } catch (err) {
      // "server is not running" is what we wanted.
      if (!(err instanceof CommandFailedError) || this.isRunning()) throw err;
    }
  }

  stopSync(): void {
    const pid = this.pid();
    if (pid === undefined) return;
    signalTree(pid, 'SIGCONT');
    runSync(join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop'], this.user);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  freeze(): void {
    const pid = this.requirePid();
    signalTree(pid, 'SIGSTOP');
  }

  thaw(): void {
    const pid = this.pid();
    if (pid !== undefined) signalTree(pid, 'SIGCONT');
  }

  async promote(): Promise<void> {
    await this.tool('pg_ctl', ['-D', this.dataDir, '-w', '-t', '60', 'promote']);
  }

  async pauseReplay(): Promise<void> {
    await this.sql('SELECT pg_wal_replay_pause()');
    await waitFor(`${this.name} to pause replay`, async () => {
      const [row] = await this.sql<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state');
      return row?.state === 'paused' ? true : undefined;
    });
  }

  async resumeReplay(): Promise<void> {
    await this.sql('SELECT pg_wal_replay_resume()');
  }

  async rewindFrom(source: PgNode): Promise<void> {
    if (this.isRunning()) throw new Error(`${this.name} must be stopped before pg_rewind`);
    // A promoted node writes its new timeline to pg_control only at its next checkpoint, which
    // PG 15 takes in the background: without one, pg_rewind reads "same timeline", says "no rewind
    // required", and the node then cannot follow the new primary.
    await source.sql('CHECKPOINT');
    await this.tool('pg_rewind', [
      '-D',
      this.dataDir,
      `--source-server=host=127.0.0.1 port=${source.port} user=postgres dbname=postgres password=${PG_SUPERUSER_PASSWORD}`,
      '-R',
      '--no-sync',
    ]);
    await this.start();
  }

  sql<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params: readonly unknown[] = [],
  ): Promise<R[]> {
    return pgQuery<R>(this.connection, text, params);
  }

  isRunning(): boolean {
    const pid = this.pid();
    return pid !== undefined && isAlive(pid);
  }

  pid(): number | undefined {
    try {
      const first = readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
      const pid = Number(first);
      return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  log(): string {
    return readLog(this.logFile);
  }

  private requirePid(): number {
    const pid = this.pid();
    if (pid === undefined) throw new Error(`${this.name} is not running`);
    return pid;
  }

  private async tool(name: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
    const { stdout, stderr } = await run(join(PG_BIN, name), args, {
      ...(this.user ? { user: this.user } : {}),
      cwd: join(this.dataDir, '..'),
      timeoutMs,
    });
    return `${stdout}${stderr}`;
  }
}
