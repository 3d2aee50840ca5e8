/**
 * The one suite that really bundles (esbuild, locally, no Docker), from two cloud assemblies: the
 * real `cdk synth` of the project's own configuration (config/failover.json through cdk.json and
 * bin/app.ts, cdk-nag and the template validation on: what a user runs before `cdk deploy`), and an
 * in-process synthesis of the sample configuration with a fixture handler added. The asset
 * directories hold an ESM bundle and the validated config.json next to it, the bundles hold only
 * code that runs in Lambda (nothing from lambdas/testing/, the CLI, the drill, the bench or the
 * tests), they load and run on Node.js 22 the way Lambda would load them (the failover Lambda, the
 * workflow step Lambda and a fixture handler that echoes config.json), and the same code with
 * another configuration is another asset.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Duration } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FailoverConfig, parseConfig } from '../../lambdas/domain/config.ts';
import { loadConfigFile } from '../../lib/config-loader.ts';
import { bundledConfig } from '../../lib/failover-automation.ts';
import { type CfnResource, type Json, PROJECT_ROOT, resourcesOf, sampleConfig, synth } from './helpers.ts';

const run = promisify(execFile);
const NODE22 = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
const CDK = join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk');

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A cloud assembly's directory and its stack template's Lambda functions. */
interface Assembly {
  readonly outdir: string;
  readonly functions: Record<string, CfnResource>;
}

/**
 * `cdk synth` as a user runs it: the CDK CLI, cdk.json's app and configuration, every Lambda
 * bundled, cdk-nag, and aws-cdk-lib's template validation (which vitest turns off in-process).
 */
async function cdkSynth(): Promise<Assembly & { stderr: string; manifest: Json }> {
  const outdir = mkdtempSync(join(tmpdir(), 'failover-cdk-synth-'));
  const { CDK_VALIDATION: _off, ...env } = process.env;
  const { stderr } = await run(CDK, ['synth', '--quiet', '--no-notices', '-o', outdir], {
    cwd: PROJECT_ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
  const template = JSON.parse(
    readFileSync(join(outdir, manifest.artifacts.FailoverStack.properties.templateFile), 'utf8'),
  );
  const functions = Object.fromEntries(
    Object.entries(template.Resources as Record<string, CfnResource>).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function',
    ),
  );
  return { outdir, functions, stderr, manifest };
}

/** The sample configuration synthesized in-process, bundled, with a fixture handler added. */
function synthBundled(config: FailoverConfig): Assembly {
  const s = synth(config, {
    bundle: true,
    extend: (stack) => {
      stack.automation.createHandlerFunction('ConfigEcho', {
        entry: 'test/infra/fixtures/config-echo-handler.ts',
        description: 'test fixture: reads config.json at cold start',
        timeout: Duration.seconds(10),
      });
    },
  });
  return { outdir: s.app.outdir, functions: resourcesOf(s.template, 'AWS::Lambda::Function') };
}

/** Asset directory of the Lambda whose logical id starts with `prefix`. */
function assetDir(a: Assembly, prefix: string): { dir: string; hash: string } {
  const [, fn] = Object.entries(a.functions).find(([id]) => id.startsWith(prefix))!;
  const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
  return { dir: join(a.outdir, `asset.${hash}`), hash };
}

/** Asset directory of every Lambda in the stack, by logical id. */
function allAssetDirs(a: Assembly): [string, string][] {
  return Object.keys(a.functions).map((id) => [id, assetDir(a, id).dir]);
}

/** The source files esbuild put into a bundle, relative to the project (from its source map). */
function bundledSources(dir: string): string[] {
  const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
  return map.sources.map((source) => relative(PROJECT_ROOT, resolve(dir, source)));
}

/** Imports a bundle in a fresh Node.js 22 process, as the Lambda runtime would, and runs `expr` with it as `m`. */
async function inLambdaProcess(dir: string, expr: string): Promise<string> {
  const { stdout } = await run(
    NODE22,
    [
      '--enable-source-maps',
      '--input-type=module',
      '-e',
      `const m = await import('${dir}/index.mjs'); ${expr}`,
    ],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        LAMBDA_TASK_ROOT: dir,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        TABLE_NAME: 'state-table',
        TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:topic',
      },
    },
  );
  return stdout.trim();
}

describe('Lambda bundles in the cloud assembly', () => {
  let config: FailoverConfig;
  let s: Assembly;
  let user: Assembly & { stderr: string; manifest: Json };
  beforeAll(async () => {
    config = sampleConfig();
    // The CLI's synthesis runs in its own process while this one synthesizes the sample.
    const cli = cdkSynth();
    try {
      s = synthBundled(config);
    } finally {
      user = await cli;
    }
  }, 300_000); // two bundled syntheses: minutes on a loaded 2-core machine

  it('cdk synth of the project configuration succeeds: cdk-nag clean, every template valid', () => {
    // Error annotations (a cdk-nag finding nobody acknowledged, a bad config) fail the CLI and so
    // the hook above; warnings (a template-validation finding, a config warning) only print.
    expect(user.stderr).not.toMatch(/^(WARNING|ERROR) /m);
    expect(Object.keys(user.functions).length).toBeGreaterThanOrEqual(4);
  });

  it('cdk synth of the project configuration is one env-agnostic stack named by the config', () => {
    const stack = user.manifest.artifacts.FailoverStack;
    expect(stack.properties.stackName).toBe('FailoverAutomation');
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });

  it.each(['AutomationFailoverFunction', 'AutomationWorkflowFunction', 'AutomationConfigEcho'])(
    '%s: an ESM bundle with the validated config.json next to it',
    (prefix) => {
      const { dir } = assetDir(s, prefix);
      expect(existsSync(dir)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['config.json', 'index.mjs', 'index.mjs.map']);
      const delivered = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      // Without the subscribers' endpoints (a webhook URL can hold a secret; the Lambdas never use them).
      expect(delivered).toEqual(bundledConfig(config));
      expect(delivered.services).toEqual(config.services);
      // It is the parser's output (defaults applied), and it parses again to itself.
      expect(parseConfig(delivered)).toEqual(delivered);
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toMatch(/^import \{ createRequire as __cr \}/);
    },
  );

  it('every Lambda of both stacks is bundled, and no bundle holds test, drill, bench or CLI code', () => {
    const lambdas = [...allAssetDirs(s), ...allAssetDirs(user)].filter(
      ([id]) => !id.startsWith('AutomationConfigEcho'),
    );
    // The failover, zone-shift and workflow step Lambdas at least; others may be added.
    expect(lambdas.length).toBeGreaterThanOrEqual(3);
    for (const [id, dir] of lambdas) {
      expect(existsSync(join(dir, 'index.mjs')), id).toBe(true);
      const sources = bundledSources(dir);
      // The handlers' own code is in (the source map is read correctly)...
      expect(
        sources.some((f) => f.startsWith('lambdas/handlers/')),
        id,
      ).toBe(true);
      // ...and nothing that runs elsewhere: lambdas/testing/ (in-memory AWS) is never bundled.
      const elsewhere = sources.filter((f) => /^(lambdas\/testing|cli|drill|bench|test|bin|lib)\//.test(f));
      expect(elsewhere, id).toEqual([]);
    }
  });

  it('the fixture handler reads config.json at cold start on Node.js 22', async () => {
    const { dir } = assetDir(s, 'AutomationConfigEcho');
    const out = await inLambdaProcess(dir, 'console.log(JSON.stringify(await m.handler()));');
    expect(JSON.parse(out)).toEqual({
      services: ['orders-db', 'git-server'],
      env: ['TABLE_NAME', 'TOPIC_ARN'],
    });
  });

  it('the failover bundle cold-starts on Node.js 22 and answers a malformed event without calling AWS', async () => {
    const { dir } = assetDir(s, 'AutomationFailoverFunction');
    // No endpoint is reachable here: a malformed event must be rejected before any client call.
    const out = await inLambdaProcess(
      dir,
      "console.log('RESULT ' + JSON.stringify(await m.handler({ 'detail-type': 'nope' }, { awsRequestId: 'r-1' })));",
    );
    const result = out
      .split('\n')
      .find((line) => line.startsWith('RESULT '))
      ?.slice('RESULT '.length);
    expect(JSON.parse(result ?? 'null')).toMatchObject({ outcome: 'ignored', reason: 'invalid-event' });
  });

  it('the workflow step bundle loads on Node.js 22, builds its AWS wiring at the first invocation, and refuses a malformed step', async () => {
    const { dir } = assetDir(s, 'AutomationWorkflowFunction');
    const out = await inLambdaProcess(
      dir,
      `const out = { handler: typeof m.handler };
      try { await m.handler({ step: 'rollbackEverything' }); } catch (e) { out.error = e.name; out.message = e.message; }
      console.log(JSON.stringify(out));`,
    );
    const result = JSON.parse(out.split('\n').at(-1) as string);
    expect(result).toMatchObject({ handler: 'function', error: 'InvalidInputError' });
    expect(result.message).toMatch(/^invalid workflow step event: step: /);
  });

  it('a configuration change is a new asset hash (the config is part of the content)', () => {
    // The same handler bundled for two configurations: the project's (cdk synth) and the sample's.
    const own = loadConfigFile(join(PROJECT_ROOT, 'config', 'failover.json'));
    expect(bundledConfig(own)).not.toEqual(bundledConfig(config));
    for (const prefix of ['AutomationFailoverFunction', 'AutomationWorkflowFunction']) {
      const a = assetDir(s, prefix);
      const b = assetDir(user, prefix);
      // Same code, byte for byte: the configuration is the only difference...
      expect(sha256(join(b.dir, 'index.mjs'))).toBe(sha256(join(a.dir, 'index.mjs')));
      expect(JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8'))).toEqual(bundledConfig(own));
      // ...and it makes another asset, so a deploy replaces the function's code.
      expect(b.hash).not.toBe(a.hash);
    }
  });
});
