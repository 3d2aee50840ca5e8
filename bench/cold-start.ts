/**
 * Cold start: the failover handler bundled exactly as the stack bundles it (a real `cdk synth`
 * with bundling, NodejsFunction + the local esbuild), against a baseline bundle made by the same
 * construct from bench/fixtures/sdk-baseline.ts (the same SDK clients and commands, nothing else).
 *
 * Module init is measured inside fresh Node.js processes, the way Lambda loads the bundle:
 * `await import(index.mjs)` with NODE_OPTIONS' --enable-source-maps, timed around the import.
 * The first invocation (configuration read and validated, clients built, an event for an
 * unknown alarm answered without any AWS call) is timed separately.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { App } from 'aws-cdk-lib';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { loadConfigFile } from '../lib/config-loader.ts';
import { FailoverStack } from '../lib/failover-stack.ts';
import { type Figure, median, percentile } from './report.ts';

const run = promisify(execFile);
const PROJECT_ROOT = join(import.meta.dirname, '..');

export interface BundleInfo {
  readonly name: string;
  readonly dir: string;
  /** index.mjs bytes: what Node parses at init. */
  readonly bundleBytes: number;
  /** index.mjs gzip -9 bytes: about its share of the deployment zip. */
  readonly bundleGzipBytes: number;
  /** Every file of the asset (bundle, source map, config.json), deflated as the zip would. */
  readonly assetZipBytes: number;
}

export interface InitSample {
  readonly initMs: number;
  /** CPU (user + system) the process spent in the import: steadier than wall time on a busy machine. */
  readonly initCpuMs: number;
  readonly firstInvokeMs: number;
  readonly processMs: number;
}

export interface ColdStartResult {
  readonly bundles: readonly BundleInfo[];
  readonly samples: ReadonlyMap<string, readonly InitSample[]>;
  readonly synthMs: number;
}

/** Logical-id prefixes of the functions measured (those absent from the stack are skipped). */
const MEASURED = [
  { name: 'failover', prefix: 'AutomationFailoverFunction' },
  { name: 'zone-shift', prefix: 'AutomationZoneShiftFunction' },
  { name: 'sdk-baseline', prefix: 'AutomationBenchSdkBaseline' },
] as const;

function synthBundled(config: FailoverConfig): { outdir: string; template: Record<string, unknown> } {
  const outdir = mkdtempSync(join(tmpdir(), 'failover-bench-'));
  const app = new App({ outdir });
  const stack = new FailoverStack(app, 'Bench', { config });
  stack.automation.createHandlerFunction('BenchSdkBaseline', {
    entry: 'bench/fixtures/sdk-baseline.ts',
    description: 'bench: the SDK clients alone',
  });
  const assembly = app.synth();
  return { outdir, template: assembly.getStackByName(stack.stackName).template };
}

function deflatedSize(dir: string): number {
  let total = 0;
  for (const file of readdirSync(dir)) {
    const path = join(dir, file);
    if (statSync(path).isFile()) total += gzipSync(readFileSync(path), { level: 9 }).length;
  }
  return total;
}

export function findBundles(outdir: string, template: Record<string, unknown>): BundleInfo[] {
  const resources = (template.Resources ?? {}) as Record<
    string,
    { Type: string; Properties: { Code?: { S3Key?: unknown } } }
  >;
  const out: BundleInfo[] = [];
  for (const { name, prefix } of MEASURED) {
    const entry = Object.entries(resources).find(
      ([id, r]) => id.startsWith(prefix) && r.Type === 'AWS::Lambda::Function',
    );
    if (!entry) continue;
    const hash = String(entry[1].Properties.Code?.S3Key).replace(/\.zip$/, '');
    const dir = join(outdir, `asset.${hash}`);
    const bundle = readFileSync(join(dir, 'index.mjs'));
    out.push({
      name,
      dir,
      bundleBytes: bundle.length,
      bundleGzipBytes: gzipSync(bundle, { level: 9 }).length,
      assetZipBytes: deflatedSize(dir),
    });
  }
  return out;
}

/** A well-formed alarm event for an alarm no service uses: answered without any AWS call. */
const UNKNOWN_ALARM_EVENT = {
  version: '0',
  id: 'bench-event',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  account: '111122223333',
  time: '2025-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:cloudwatch:us-east-1:111122223333:alarm:bench-unknown'],
  detail: {
    alarmName: 'bench-unknown-alarm',
    state: { value: 'ALARM', reason: 'bench', timestamp: '2025-01-01T00:00:00.000+0000' },
    previousState: { value: 'OK', reason: 'bench', timestamp: '2024-12-31T23:59:00.000+0000' },
    configuration: { metrics: [] },
  },
};

async function sampleInit(bundle: BundleInfo, sourceMaps = true): Promise<InitSample> {
  const url = pathToFileURL(join(bundle.dir, 'index.mjs')).href;
  const event = bundle.name === 'zone-shift' ? { Records: [] } : UNKNOWN_ALARM_EVENT;
  const script = `
const c0 = process.cpuUsage();
const t0 = performance.now();
const m = await import(${JSON.stringify(url)});
const t1 = performance.now();
const c1 = process.cpuUsage(c0);
await m.handler(${JSON.stringify(event)}, { awsRequestId: 'bench' });
const t2 = performance.now();
const initCpuMs = (c1.user + c1.system) / 1000;
process.stdout.write('\\nBENCH ' + JSON.stringify({ initMs: t1 - t0, initCpuMs, firstInvokeMs: t2 - t1 }) + '\\n');
`;
  const started = performance.now();
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: bundle.dir,
    env: {
      PATH: process.env.PATH,
      // As the stack sets it for every function (or not, to show what the source maps cost).
      NODE_OPTIONS: sourceMaps ? '--enable-source-maps' : '',
      LAMBDA_TASK_ROOT: bundle.dir,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      TABLE_NAME: 'bench-table',
      TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:bench',
      SHIFT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/bench-shift',
      LOG_LEVEL: 'error',
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const processMs = performance.now() - started;
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`bundle ${bundle.name} printed no measurement:\n${stdout.slice(0, 2000)}`);
  return { ...(JSON.parse(line.slice('BENCH '.length)) as Omit<InitSample, 'processMs'>), processMs };
}

export async function measureColdStart(
  options: { runs?: number; config?: FailoverConfig; log?: (line: string) => void } = {},
): Promise<ColdStartResult> {
  const runs = options.runs ?? 30;
  const log = options.log ?? (() => {});
  const config = options.config ?? loadConfigFile(join(PROJECT_ROOT, 'config', 'failover.json'));
  const t0 = performance.now();
  const { outdir, template } = synthBundled(config);
  const synthMs = performance.now() - t0;
  const bundles = findBundles(outdir, template);
  log(`bundled ${bundles.map((b) => b.name).join(', ')} in ${Math.round(synthMs)} ms (${outdir})`);
  const samples = new Map<string, InitSample[]>();
  const add = (key: string, s: InitSample) => samples.set(key, [...(samples.get(key) ?? []), s]);
  // One warm-up each (file cache), then interleaved runs so drift hits every bundle alike.
  for (const b of bundles) await sampleInit(b);
  for (let i = 0; i < runs; i++) {
    for (const b of bundles) {
      add(b.name, await sampleInit(b));
      // What --enable-source-maps costs at init, for the failover bundle and the baseline.
      if (b.name !== 'zone-shift') add(`${b.name}:no-source-maps`, await sampleInit(b, false));
    }
  }
  return { bundles, samples, synthMs };
}

export function coldStartFigures(result: ColdStartResult): Figure[] {
  const section = 'cold start';
  const base = result.bundles.find((b) => b.name === 'sdk-baseline');
  const baseSamples = result.samples.get('sdk-baseline') ?? [];
  const figures: Figure[] = [];
  const kb = (n: number) => n / 1024;
  for (const b of result.bundles) {
    if (b.name === 'sdk-baseline') continue;
    const s = result.samples.get(b.name) ?? [];
    const baseline = (label: string, value: number | undefined) =>
      value === undefined ? {} : { baseline: { label, value } };
    figures.push(
      {
        section,
        name: `${b.name}: bundle (index.mjs)`,
        value: kb(b.bundleBytes),
        unit: 'KB',
        ...baseline('SDK only', base && kb(base.bundleBytes)),
        goal: { op: '<=', value: 400 },
        note: 'raw bytes Node parses at init',
      },
      {
        section,
        name: `${b.name}: bundle gzip -9`,
        value: kb(b.bundleGzipBytes),
        unit: 'KB',
        ...baseline('SDK only', base && kb(base.bundleGzipBytes)),
      },
      {
        section,
        name: `${b.name}: deployment zip (bundle + map + config)`,
        value: kb(b.assetZipBytes),
        unit: 'KB',
        ...baseline('SDK only', base && kb(base.assetZipBytes)),
        goal: { op: '<=', value: 400 },
      },
      {
        section,
        name: `${b.name}: module init, median of ${s.length}`,
        value: median(s.map((x) => x.initMs)),
        unit: 'ms',
        ...baseline('SDK only', baseSamples.length ? median(baseSamples.map((x) => x.initMs)) : undefined),
        goalOn: 'ratio',
        goal: { op: '<=', value: 1.2 },
      },
      {
        section,
        name: `${b.name}: module init CPU time, median`,
        value: median(s.map((x) => x.initCpuMs)),
        unit: 'ms',
        ...baseline('SDK only', baseSamples.length ? median(baseSamples.map((x) => x.initCpuMs)) : undefined),
        goalOn: 'ratio',
        goal: { op: '<=', value: 1.2 },
      },
      ...(result.samples.has(`${b.name}:no-source-maps`)
        ? [
            {
              section,
              name: `${b.name}: module init CPU time without --enable-source-maps`,
              value: median(result.samples.get(`${b.name}:no-source-maps`)!.map((x) => x.initCpuMs)),
              unit: 'ms',
              ...baseline(
                'SDK only, no maps',
                median((result.samples.get('sdk-baseline:no-source-maps') ?? []).map((x) => x.initCpuMs)),
              ),
            },
          ]
        : []),
      {
        section,
        name: `${b.name}: module init, p90`,
        value: percentile(
          s.map((x) => x.initMs),
          90,
        ),
        unit: 'ms',
        ...baseline(
          'SDK only',
          baseSamples.length
            ? percentile(
                baseSamples.map((x) => x.initMs),
                90,
              )
            : undefined,
        ),
      },
      {
        section,
        name: `${b.name}: first invocation (config, clients), median`,
        value: median(s.map((x) => x.firstInvokeMs)),
        unit: 'ms',
        ...baseline(
          'SDK clients built',
          baseSamples.length ? median(baseSamples.map((x) => x.firstInvokeMs)) : undefined,
        ),
      },
      {
        section,
        name: `${b.name}: whole process (node start to exit), median`,
        value: median(s.map((x) => x.processMs)),
        unit: 'ms',
        ...baseline('SDK only', baseSamples.length ? median(baseSamples.map((x) => x.processMs)) : undefined),
      },
    );
  }
  return figures;
}
