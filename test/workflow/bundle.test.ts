/**
 * The step Lambda as it ships: bundled by esbuild from the synthesized stack, loaded in a fresh
 * Node.js 22 process the way the Lambda runtime loads it, with config.json next to it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const NODE22 = join(ROOT, 'node_modules', '.bin', 'node');

const config = parseConfig(JSON.parse(readFileSync(join(ROOT, 'config', 'failover.json'), 'utf8')));

describe('workflow step Lambda bundle', () => {
  let dir: string;
  beforeAll(() => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'workflow-bundle-')) });
    const stack = new FailoverStack(app, 'Bundle', { config });
    const fn = stack.workflow.stepFunction.node.defaultChild as CfnFunction;
    const code = stack.resolve(fn.code) as { s3Key: string };
    app.synth();
    dir = join(app.outdir, `asset.${code.s3Key.replace(/\.zip$/, '')}`);
  });

  it('is an ESM bundle with the validated config.json next to it', () => {
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'index.mjs', 'index.mjs.map']);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(config);
  });

  it('loads on Node.js 22, builds its AWS wiring at the first invocation, and refuses a malformed step', async () => {
    const script = `
      const m = await import('${dir}/index.mjs');
      const out = { handler: typeof m.handler };
      try { await m.handler({ step: 'rollbackEverything' }); } catch (e) { out.error = e.name; out.message = e.message; }
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(NODE22, ['--enable-source-maps', '--input-type=module', '-e', script], {
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
    });
    const out = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(out).toMatchObject({ handler: 'function', error: 'InvalidInputError' });
    expect(out.message).toMatch(/^invalid workflow step event: step: /);
  });
});
