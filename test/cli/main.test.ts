import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELP } from '../../cli/args.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../../cli/main.ts';
import { FailoverError } from '../../lambdas/domain/errors.ts';
import { cliHarness, PROJECT_ROOT } from './helpers.ts';

describe('runCli', () => {
  it.each([
    [['--help'], HELP.main],
    [['help'], HELP.main],
    [['help', 'history'], HELP.history],
    [['failover', '--help'], HELP.failover],
    [['status', '-h'], HELP.status],
  ])('%j prints the help on stdout and exits 0', async (argv, text) => {
    const r = await cliHarness().run(...argv);
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toBe(`${text}\n`);
    expect(r.stderr).toBe('');
  });

  it('exits 2 without a command, pointing at the help', async () => {
    const r = await cliHarness().run();
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toBe("error: missing command\nrun 'failover --help' for the commands\n");
  });

  it('answers a usage error in JSON when --json was asked for', async () => {
    const r = await cliHarness().run('history', '--json');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.json()).toEqual({
      error: 'UsageError',
      message: 'missing argument <service>',
      hint: "run 'failover history --help' for its usage",
      exitCode: 2,
    });
  });

  it('reads the configuration from --config, relative to the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'failover-cli-'));
    const sample = JSON.parse(
      (await import('node:fs')).readFileSync(join(PROJECT_ROOT, 'config', 'failover.json'), 'utf8'),
    );
    sample.services = [sample.services[1]];
    writeFileSync(join(dir, 'one.json'), JSON.stringify(sample));
    const r = await cliHarness().run('status', '--json', '--config', join(dir, 'one.json'));
    expect(r.code).toBe(EXIT_OK);
    expect(r.json().services.map((s: { serviceId: string }) => s.serviceId)).toEqual(['git-server']);
  });

  it.each([
    [
      'a missing file',
      (dir: string) => join(dir, 'absent.json'),
      /cannot read the failover configuration at .*absent\.json.*\(pass --config <file>\)/,
    ],
    [
      'an invalid configuration',
      (dir: string) => {
        writeFileSync(join(dir, 'bad.json'), JSON.stringify({ services: [{ id: 'x', nodes: [] }] }));
        return join(dir, 'bad.json');
      },
      /^error: \/.*\/bad\.json: invalid failover configuration \(\d+ problems\):\n {2}- services\[0\]/,
    ],
  ])('exits 2 on %s', async (_name, file, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'failover-cli-'));
    const r = await cliHarness().run('status', '--config', file(dir));
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(message);
  });

  it('exits 1 on an unexpected failure, naming the error', async () => {
    const h = cliHarness({
      ports: (env) => ({
        state: Object.assign(Object.create(env.state), {
          setPaused: async () => {
            throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
          },
        }),
      }),
    });
    const r = await h.run('pause', 'orders-db');
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.stderr).toBe('error: Rate exceeded (ThrottlingException)\n');
  });

  it.each([
    [
      Object.assign(new Error('Region is missing'), { name: 'Error' }),
      'error: Region is missing\nno AWS region: set AWS_REGION (or a region in your AWS profile), or pass --region <region>\n',
    ],
    [
      Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }),
      'error: Requested resource not found (ResourceNotFoundException)\nthe state table (stack output TableName, or --table-name) does not exist in this account and region: deploy the stack, check --stack-name and --region\n',
    ],
    [
      Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }),
      expect.stringContaining('--dry-run also needs the deployed workflow'),
    ],
    [new FailoverError('stack FailoverAutomation not found'), 'error: stack FailoverAutomation not found\n'],
  ])('says what to do about %s, without our own error class names', async (error, stderr) => {
    const h = cliHarness({
      ports: (env) => ({
        state: Object.assign(Object.create(env.state), {
          setPaused: async () => {
            throw error;
          },
        }),
      }),
    });
    const r = await h.run('pause', 'orders-db');
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.stderr).toEqual(stderr);
    expect(r.stderr).not.toContain('(FailoverError)');
  });
});

describe('bin/failover.ts (the real process)', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin', 'failover.ts'), ...args], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
      },
      timeout: 60_000,
    });

  it('exits with the status runCli returns: 0 help, 2 usage errors', () => {
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: failover <command> [options]');
    const flag = cli('status', '--bogus');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain("error: unknown option '--bogus'");
    const service = cli('switchover', 'payments', '--wait');
    expect(service.status).toBe(2);
    expect(service.stderr).toContain('unknown service: "payments" (configured: orders-db, git-server)');
  }, 120_000);

  it('is executable with a shebang that runs TypeScript', async () => {
    const { readFileSync, statSync } = await import('node:fs');
    const file = join(PROJECT_ROOT, 'bin', 'failover.ts');
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S npx tsx');
    expect(statSync(file).mode & 0o111).not.toBe(0);
  });
});
