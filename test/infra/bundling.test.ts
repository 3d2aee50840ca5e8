/**
 * The one suite that really bundles (esbuild, locally, no Docker): the asset directories in the
 * cloud assembly hold an ESM bundle and the validated config.json next to it, the bundles hold
 * only code that runs in Lambda (nothing from lambdas/testing/, the CLI, the drill, the bench or
 * the tests), and they load and run on Node.js 22 the way Lambda would load them: the failover
 * Lambda, the workflow step Lambda and a fixture handler that echoes config.json.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Duration } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FailoverConfig, parseConfig } from '../../lambdas/domain/config.ts';
import { bundledConfig } from '../../lib/failover-automation.ts';
import { PROJECT_ROOT, resourcesOf, type Synthesized, sampleConfig, synth } from './helpers.ts';

const run = promisify(execFile);
const NODE22 = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');

function synthBundled(config: FailoverConfig): Synthesized {
  return synth(config, {
    bundle: true,
    extend: (stack) => {
      stack.automation.createHandlerFunction('ConfigEcho', {
        entry: 'test/infra/fixtures/config-echo-handler.ts',
        description: 'test fixture: reads config.json at cold start',
        timeout: Duration.seconds(10),
      });
    },
  });
}

/** Asset directory of the Lambda whose logical id starts with `prefix`. */
function assetDir(s: Synthesized, prefix: string): { dir: string; hash: string } {
  const [, fn] = Object.entries(resourcesOf(s.template, 'AWS::Lambda::Function')).find(([id]) =>
    id.startsWith(prefix),
  )!;
  const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
  return { dir: join(s.app.outdir, `asset.${hash}`), hash };
}

/** Asset directory of every Lambda in the stack, by logical id. */
function allAssetDirs(s: Synthesized): [string, string][] {
  return Object.keys(resourcesOf(s.template, 'AWS::Lambda::Function')).map((id) => [id, assetDir(s, id).dir]);
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
  let s: Synthesized;
  beforeAll(() => {
    config = sampleConfig();
    s = synthBundled(config);
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

  it('every Lambda of the stack is bundled, and no bundle holds test, drill, bench or CLI code', () => {
    const lambdas = allAssetDirs(s).filter(([id]) => !id.startsWith('AutomationConfigEcho'));
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
    const changed = parseConfig({ ...config, services: config.services.slice(0, 1) });
    const other = synthBundled(changed);
    for (const prefix of ['AutomationFailoverFunction', 'AutomationConfigEcho']) {
      const a = assetDir(s, prefix);
      const b = assetDir(other, prefix);
      expect(b.hash).not.toBe(a.hash);
      expect(JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')).services).toHaveLength(1);
    }
  }, 180_000); // a second esbuild run of every Lambda: minutes on a loaded 2-core machine
});
