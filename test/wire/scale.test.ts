/**
 * 1,000 services in one deployment, the way a user would do it: the sample service copied 1,000
 * times (bench/fleet.ts; with alarm health signals, and probed) written to a file and synthesized by the pinned CDK CLI, `cdk synth -c
 * config=<file>`, bundling included. The assembly must pass every deploy-time limit of
 * lib/limits.ts (read back from the written templates and assets), carry no template-size warning,
 * and pass cfn-lint. Too slow for `npm test` (minutes), so it runs in `npm run test:wire`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetJson } from '../../bench/fleet.ts';
import { type Figure, largestPerLimit, measureTemplates, overLimit } from '../../lib/limits.ts';
import { PROJECT_ROOT } from '../infra/helpers.ts';
import { lintAssembly, unexpectedFindings } from '../support/cfn-lint.ts';

const run = promisify(execFile);
const SERVICES = 1000;

function sizeOnDisk(path: string): number {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, e) => n + sizeOnDisk(join(path, e)), 0) : st.size;
}

describe.each([
  ['alarm health signals', 'aws-signals', SERVICES],
  ['probed nodes', 'probe', SERVICES],
] as const)('cdk synth of the fleet (%s: %s, %i services)', (_label, sample, services) => {
  const dir = mkdtempSync(join(tmpdir(), 'failover-fleet-'));
  const outdir = join(dir, 'cdk.out');
  let output = '';
  let figures: Figure[] = [];

  beforeAll(async () => {
    const configFile = join(dir, 'fleet.json');
    writeFileSync(configFile, JSON.stringify(fleetJson(services, { sample })));
    const { stdout, stderr } = await run(
      'npx',
      ['cdk', 'synth', '--quiet', '-c', `config=${configFile}`, '-o', outdir],
      { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
    );
    output = `${stdout}\n${stderr}`;
    const templates = new Map(
      readdirSync(outdir)
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => [f, JSON.parse(readFileSync(join(outdir, f), 'utf8'))] as const),
    );
    const assets = readdirSync(outdir)
      .filter((f) => f.startsWith('asset.') && statSync(join(outdir, f)).isDirectory())
      .map((f) => ({ limit: 'lambdaAssetBytes' as const, subject: f, value: sizeOnDisk(join(outdir, f)) }));
    figures = [...measureTemplates(templates), ...assets];
  }, 600_000);

  it('succeeds without a template-size (or any other) warning', () => {
    expect(output).not.toMatch(/approaching limit|template size/i);
    expect(output).not.toMatch(/\[Warning at /);
  });

  it('passes every deploy-time limit, Lambda packages included', () => {
    const largest = largestPerLimit(figures);
    console.log(
      `[scale] ${services} services (${sample}): ${[...largest]
        .map(([k, v]) => `${k} ${v.figure.value} (${Math.round(v.fractionOfLimit * 100)} %)`)
        .join(', ')}`,
    );
    expect(figures.filter((f) => f.limit === 'lambdaAssetBytes').length).toBeGreaterThan(0);
    expect(overLimit(figures)).toEqual([]);
  });

  it('passes cfn-lint on every template', async () => {
    const { templates, findings } = await lintAssembly(outdir);
    console.log(
      `[cfn-lint] ${services} services (${sample}): ${templates.length} templates, ${findings.length} findings`,
    );
    expect(templates.length).toBeGreaterThan(10);
    expect(unexpectedFindings(findings)).toEqual([]);
  }, 600_000);
});
