import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../lambdas/domain/errors.ts';
import { loadConfigFile } from '../../lib/config-loader.ts';
import { PROJECT_ROOT } from './helpers.ts';

const run = promisify(execFile);
const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

function tempFile(name: string, content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'failover-config-test-')), name);
  writeFileSync(file, content);
  return file;
}

/** A config with three independent problems in different places. */
function badConfig(): string {
  const sample = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'failover.json'), 'utf8'));
  sample.services[0].router.ttlSeconds = 1; // below 5
  sample.services[0].nodes[1].address = '10.0.2.999'; // not IPv4
  sample.services[1].initialPrimary = 'git-9'; // no such node
  return JSON.stringify(sample, null, 2);
}

/** Runs bin/app.ts the way the CDK CLI does: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR. */
async function runApp(
  configPath: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string; outdir: string }> {
  const outdir = mkdtempSync(join(tmpdir(), 'failover-app-'));
  try {
    const { stdout, stderr } = await run(TSX, ['bin/app.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ config: configPath, 'aws:cdk:bundling-stacks': [] }),
        CDK_OUTDIR: outdir,
        ...env,
      },
    });
    return { code: 0, stdout, stderr, outdir };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, outdir };
  }
}

describe('loadConfigFile', () => {
  it('returns the validated sample configuration with defaults applied', () => {
    const config = loadConfigFile(join(PROJECT_ROOT, 'config', 'failover.json'));
    expect(config.services.map((s) => s.id)).toEqual(['orders-db', 'git-server']);
    expect(config.services[1]!.policy.autoFailover).toBe(true); // default
  });

  it("reports a JSON syntax error with the file path and the parser's reason", () => {
    const file = tempFile('broken.json', '{ "services": [ }');
    expect(() => loadConfigFile(file)).toThrow(ConfigValidationError);
    expect(() => loadConfigFile(file)).toThrow(`${file} is not valid JSON: Unexpected token '}'`);
  });

  it('reports a missing file with its path', () => {
    expect(() => loadConfigFile('/nonexistent/failover.json')).toThrow(
      /cannot read \/nonexistent\/failover\.json/,
    );
  });

  it('lists every problem with its field path and the bad value in one error', () => {
    const file = tempFile('bad.json', badConfig());
    let error: unknown;
    try {
      loadConfigFile(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems;
    expect(problems.map((p) => [p.path, p.value])).toEqual(
      expect.arrayContaining([
        ['services[0].router.ttlSeconds', 1],
        ['services[0].nodes[1].address', '10.0.2.999'],
        ['services[1].initialPrimary', 'git-9'],
      ]),
    );
    expect((error as Error).message).toMatch(/^invalid failover configuration \(3 problems\)/);
  });
});

describe('loadConfigFile with the deploy region', () => {
  const AWS_SIGNALS = join(PROJECT_ROOT, 'config', 'examples', 'aws-signals.json');
  const problemsOf = (file: string, region: string, regionSource?: 'context' | 'default') => {
    try {
      loadConfigFile(file, { region, ...(regionSource ? { regionSource } : {}) });
    } catch (err) {
      if (err instanceof ConfigValidationError) return err.problems;
      throw err;
    }
    return [];
  };

  it('refuses what cannot work from that region, each at its path with the value and the remedy', () => {
    const problems = problemsOf(AWS_SIGNALS, 'eu-west-1', 'default');
    expect(problems.map((p) => p.path)).toEqual([
      'services[0].nodes[0].health',
      'services[0].nodes[1].health',
      'services[1].router.listenerArn',
      'services[1].nodes[0].targetGroupArn',
      'services[1].nodes[0].health.targetGroupArn',
      'services[1].nodes[1].targetGroupArn',
    ]);
    expect(problems[0]?.message).toMatch(
      /^a route53-health-check needs the stack in us-east-1 \(Route 53 publishes HealthCheckStatus metrics only there\), but the region cdk deploys this env-agnostic stack to, eu-west-1 \(CDK_DEFAULT_REGION, from AWS_REGION or the profile; pass -c region=\.\.\. to choose another\); deploy the stack to us-east-1, or use the stack's node probe/,
    );
    expect(problems[2]).toEqual({
      path: 'services[1].router.listenerArn',
      message: expect.stringMatching(
        /^is in us-east-1, not in the region cdk deploys .*: the Lambdas call Elastic Load Balancing in their own region; deploy the stack to us-east-1 or name a resource in eu-west-1$/,
      ),
      value: expect.stringMatching(/^arn:aws:elasticloadbalancing:us-east-1:/),
    });
    expect(problemsOf(AWS_SIGNALS, 'us-east-1')).toEqual([]);
  });

  it('reports them together with the schema problems, in one error', () => {
    const sample = JSON.parse(readFileSync(AWS_SIGNALS, 'utf8'));
    delete sample.services[0].initialPrimary;
    const problems = problemsOf(tempFile('both.json', JSON.stringify(sample)), 'eu-west-1');
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['services[0].initialPrimary', 'services[0].nodes[0].health']),
    );
  });
});

describe('bin/app.ts', () => {
  it("checks the region against the CLI's default region when -c region is not given", async () => {
    const file = join(PROJECT_ROOT, 'config', 'examples', 'aws-signals.json');
    const { code, stderr, outdir } = await runApp(file, { CDK_DEFAULT_REGION: 'eu-west-1' });
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}: invalid failover configuration (6 problems):`);
    expect(stderr).toContain(
      'services[1].router.listenerArn: is in us-east-1, not in the region cdk deploys this env-agnostic stack to, eu-west-1',
    );
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(false);
  });

  it('exits 1 with every problem on stderr and no stack trace when the config is invalid', async () => {
    const file = tempFile('bad.json', badConfig());
    const { code, stderr, outdir } = await runApp(file);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}: invalid failover configuration (3 problems):`);
    expect(stderr).toContain('services[0].router.ttlSeconds');
    expect(stderr).toContain('got: 1');
    expect(stderr).toContain(
      'services[0].nodes[1].address: must be an IPv4 address for an A record, got: "10.0.2.999"',
    );
    expect(stderr).toContain(
      'services[1].initialPrimary: must be one of the node ids (git-1, git-2), got: "git-9"',
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(false);
  });

  it('exits 1 with the path on a JSON syntax error', async () => {
    const file = tempFile('broken.json', '{ "services": ');
    const { code, stderr } = await runApp(file);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file} is not valid JSON`);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
