/**
 * `npm run drill` as a user runs it: the command line (scenario names, --list, --out, errors), the
 * printed timeline and summary, the exit status, and the two report files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { endpointProblem, reportName, verdictText } from '../../drill/scenario-cli.ts';
import { SCENARIOS } from '../../drill/scenarios/index.ts';
import { PROJECT_ROOT } from '../../drill/sim/stack.ts';

const tsx = createRequire(import.meta.url).resolve('tsx/cli');

function drill(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.AWS_ENDPOINT_URL;
  return spawnSync(process.execPath, [tsx, 'drill/main.ts', ...args], {
    cwd: PROJECT_ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('npm run drill', () => {
  it('--list names every scenario and exits 0', () => {
    const run = drill('--list');
    expect(run.status).toBe(0);
    expect(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(SCENARIOS.map((s) => s.name));
  });

  it('refuses an unknown scenario with exit 2 and the list of names', () => {
    const run = drill('primary-crahs');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown scenario\(s\): primary-crahs\navailable: primary-crash, /);
  });

  it('refuses an unknown option with exit 2 and the usage', () => {
    const run = drill('--bogus');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run drill/);
  });

  it('runs the named scenarios, prints the timeline and a summary, and writes both reports', () => {
    const out = mkdtempSync(join(tmpdir(), 'drill-cli-'));
    const run = drill('several-replicas', 'replica-lagging', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('running against the simulated environment (no AWS account needed)');
    expect(run.stdout).toMatch(/t=\+91\.6s {2}decided {3}fail over git-1 -> git-3/);
    expect(run.stdout).toMatch(/PASS {2}several-replicas +RTO +28\.7 s +RPO 1\.5 s/);
    expect(run.stdout).toMatch(/PASS {2}replica-lagging +no role change/);
    // A selection: its own report name (the full run's drill.json stays), and a verdict that counts.
    expect(run.stdout).toMatch(/\n2 scenarios passed in /);
    expect(run.stdout).not.toContain('all scenarios passed');
    expect(existsSync(join(out, 'drill.json'))).toBe(false);
    const base = join(out, 'drill-several-replicas+replica-lagging');
    expect(run.stdout).toContain(`reports: ${base}.json`);
    const json = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    expect(json.scenarios.map((s: { name: string }) => s.name)).toEqual([
      'several-replicas',
      'replica-lagging',
    ]);
    const html = readFileSync(`${base}.html`, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(2);
    // Self-contained: no script, stylesheet or image is loaded from anywhere.
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(http/);
  });

  it('says what to do, not a stack trace, when the --endpoint-url cannot be used', () => {
    // Port 1 on loopback: nothing listens, and the drill must say to start moto_server.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.AWS_ENDPOINT_URL;
    const run = spawnSync(
      process.execPath,
      [tsx, 'drill/main.ts', 'primary-crash', '--endpoint-url', 'http://127.0.0.1:1'],
      {
        cwd: PROJECT_ROOT,
        env: { ...env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^drill failed: nothing answers at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): start moto_server/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('endpointProblem', () => {
  const endpoint = 'http://127.0.0.1:5000';
  it('tells the user to give moto_server any credentials', () => {
    const err = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(endpointProblem(err, endpoint)).toMatch(
      /^no AWS credentials .* AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing npm run drill -- --endpoint-url http:\/\/127\.0\.0\.1:5000$/,
    );
  });

  it('tells the user to start moto_server when nothing listens, also behind a wrapped cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(endpointProblem(refused, endpoint)).toMatch(/start moto_server first/);
    expect(endpointProblem(new Error('fetch failed', { cause: refused }), endpoint)).toMatch(/ECONNREFUSED/);
  });

  it('leaves every other error alone', () => {
    expect(endpointProblem(new Error('AccessDenied'), endpoint)).toBeUndefined();
  });
});

describe('report names and the verdict', () => {
  const ALL = [
    { name: 'a', title: '' },
    { name: 'b', title: '' },
    { name: 'c', title: '' },
  ];

  it.each([
    [[], 'drill'],
    [['c', 'a', 'b'], 'drill'],
    [['b'], 'drill-b'],
    [['b', 'a'], 'drill-b+a'],
  ])('%j -> %s', (selected, name) => {
    expect(reportName('drill', selected, ALL)).toBe(name);
  });

  it.each([
    [[true], false, '1 scenario passed'],
    [[true, true], false, '2 scenarios passed'],
    [[true, true, true], true, 'all 3 scenarios passed'],
    [[true, false, false], true, '2 of 3 scenarios FAILED'],
    [[false], false, '1 of 1 scenario FAILED'],
  ])('%j (every scenario: %s) -> %s', (passed, every, text) => {
    expect(
      verdictText(
        passed.map((p) => ({ passed: p })),
        every,
      ),
    ).toBe(text);
  });
});
