/**
 * cfn-lint on every synthesized template: the parent stack and each nested stack
 * (test/support/cfn-lint.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { generateConfig, sampleConfig, synth } from '../infra/helpers.ts';
import { lintAssembly, unexpectedFindings } from '../support/cfn-lint.ts';

async function lint(config: FailoverConfig) {
  const outdir = mkdtempSync(join(tmpdir(), 'failover-cfn-lint-'));
  synth(config, { outdir, env: { region: 'us-east-1' } }).app.synth();
  return lintAssembly(outdir);
}

describe('cfn-lint', () => {
  it('passes on the sample configuration (parent and nested templates)', async () => {
    const { templates, findings } = await lint(sampleConfig());
    expect(templates.length).toBeGreaterThanOrEqual(2);
    expect(templates.some((t) => t.endsWith('.nested.template.json'))).toBe(true);
    console.log(
      `[cfn-lint] sample: ${templates.length} templates, ${findings.length} findings, ${unexpectedFindings(findings).length} unexpected`,
    );
    expect(unexpectedFindings(findings)).toEqual([]);
  });

  it('passes on a generated 60-service configuration with every router and signal type', async () => {
    const { templates, findings } = await lint(generateConfig(60, 'mixed', 3));
    console.log(`[cfn-lint] generated: ${templates.length} templates, ${findings.length} findings`);
    expect(templates.length).toBeGreaterThan(2);
    expect(unexpectedFindings(findings)).toEqual([]);
  });
});
