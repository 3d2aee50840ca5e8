/**
 * What the real-database fixtures share: running a server's tools as its own OS user (PostgreSQL
 * refuses root; mariadbd wants an explicit user), free ports on 127.0.0.1, one scratch directory
 * per run, and a cleanup registry that stops servers and removes their data directories even when
 * the test process exits without running afterAll (crash, Ctrl-C, SIGTERM from the runner).
 *
 * Every server a fixture starts writes its state below `scratchRoot()`. The vitest global setup of
 * `npm run test:db` (test/support/realdb/global-setup.ts) points that at a directory of its own and
 * sweeps it when the run ends, so even a worker killed with SIGKILL leaves nothing running.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment variable the global setup uses to hand its scratch directory to workers. */
export const SCRATCH_ENV = 'FAILOVER_REALDB_SCRATCH';

/** An OS account to run a server as; `undefined` means "as this process". */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The account to run `name`'s tools as: that account when this process is root (the servers refuse
 * or discourage root), this process's own account otherwise.
 */
export function serviceUser(name: string): OsUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { name, uid, gid };
  } catch (err) {
    throw new Error(
      `the OS user '${name}' does not exist; it comes with the server package (apt-get install -y ${name === 'postgres' ? 'postgresql' : 'mariadb-server'})`,
      { cause: err },
    );
  }
}

/** Makes `path` (a directory or file) belong to `user`, recursively for directories we created. */
export function giveTo(path: string, user: OsUser | undefined): void {
  if (!user) return;
  chownSync(path, user.uid, user.gid);
}

/** A fresh directory below the run's scratch root, readable by the servers' OS users. */
export function scratchDir(prefix: string): string {
  const root = scratchRoot();
  const dir = mkdtempSync(join(root, `${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export function scratchRoot(): string {
  const fromSetup = process.env[SCRATCH_ENV];
  if (fromSetup) {
    mkdirSync(fromSetup, { recursive: true, mode: 0o755 });
    return fromSetup;
  }
  const dir = mkdtempSync(join(tmpdir(), 'failover-realdb-'));
  chmodSync(dir, 0o755);
  process.env[SCRATCH_ENV] = dir;
  registerCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly output: string,
  ) {
    super(`${command} failed (exit ${code}):\n${output.slice(-4_000)}`);
  }
}

/** Runs a tool to completion (as `user` when given) and throws with its output when it fails. */
export function run(
  command: string,
  args: readonly string[],
  options: { readonly user?: OsUser; readonly cwd?: string; readonly timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: options.cwd ?? tmpdir(),
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      env: { ...process.env, ...(options.user ? { HOME: tmpdir(), USER: options.user.name } : {}) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not be started: ${err.message}`, { cause: err }));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandFailedError(`${command} ${args.join(' ')}`, code, `${stdout}${stderr}`));
    });
  });
}

/** The synchronous form, for exit hooks (the event loop no longer runs there). */
export function runSync(command: string, args: readonly string[], user?: OsUser): void {
  spawnSync(command, args, {
    stdio: 'ignore',
    cwd: tmpdir(),
    timeout: 15_000,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
}

/** A port on 127.0.0.1 that was free a moment ago (callers retry when a server loses the race). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined, or throws `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/** `pid` and every process below it (read from /proc), for SIGSTOP/SIGCONT of a whole server. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // The process ended while we read /proc.
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    out.push(next);
    queue.push(...(parents.get(next) ?? []));
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalTree(pid: number, signal: NodeJS.Signals): void {
  for (const p of processTree(pid)) {
    try {
      process.kill(p, signal);
    } catch {
      // Already gone.
    }
  }
}

type Cleanup = () => void;
const cleanups = new Set<Cleanup>();
let hooksInstalled = false;

/**
 * Registers a synchronous cleanup that runs when the process exits or is interrupted, unless it
 * was unregistered (by the normal stop path) before. Returns the unregister function.
 */
export function registerCleanup(cleanup: Cleanup): () => void {
  installHooks();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

function runCleanups(): void {
  // Last registered first: servers stop before the scratch root holding them is removed.
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Keep going: one failed cleanup must not leave the other servers running.
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', runCleanups);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runCleanups();
      process.kill(process.pid, signal);
    });
  }
}

/** A server's log file so far, or '' before it exists (for error messages). */
export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
