/**
 * Global setup of `npm run test:db`: one scratch directory for every server the run starts, and a
 * sweep of it at the end. The fixtures stop their own servers in afterAll and from exit hooks;
 * this sweep is for what they cannot cover (a worker killed with SIGKILL, a runner interrupted
 * between files): every PostgreSQL data directory with a postmaster.pid is stopped with
 * `pg_ctl stop -m immediate`, every mariadbd pid file is killed, and the directory is removed.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_BIN } from './postgres.ts';
import { isAlive, runSync, SCRATCH_ENV, serviceUser } from './process.ts';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'failover-realdb-'));
  // The servers run as their own OS users (postgres, mysql) and must reach their directories.
  chmodSync(root, 0o755);
  process.env[SCRATCH_ENV] = root;
  let swept = false;
  const sweep = () => {
    if (swept) return;
    swept = true;
    sweepServers(root);
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', sweep);
  return sweep;
}

function sweepServers(root: string): void {
  for (const dir of walk(root, 3)) {
    const pgPid = readPid(join(dir, 'postmaster.pid'));
    if (pgPid !== undefined) {
      runSync(join(PG_BIN, 'pg_ctl'), ['-D', dir, '-m', 'immediate', '-w', 'stop'], serviceUser('postgres'));
      if (isAlive(pgPid)) process.kill(pgPid, 'SIGKILL');
    }
  }
  for (const file of walkFiles(root, 3)) {
    if (!file.endsWith('.pid')) continue;
    const pid = readPid(file);
    if (pid !== undefined) {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    }
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function walk(dir: string, depth: number): string[] {
  if (depth < 0) return [];
  const out = [dir];
  for (const entry of safeReaddir(dir)) {
    if (entry.isDirectory()) out.push(...walk(join(dir, entry.name), depth - 1));
  }
  return out;
}

function walkFiles(dir: string, depth: number): string[] {
  return walk(dir, depth).flatMap((d) =>
    safeReaddir(d)
      .filter((e) => e.isFile())
      .map((e) => join(d, e.name)),
  );
}

function safeReaddir(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
