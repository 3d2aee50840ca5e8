/**
 * The README tells a user to deploy with `-c account=… -c region=…`. With a concrete environment,
 * ARNs built from the stack's env render as literals, and a cdk-nag acknowledgment written for the
 * token form no longer matches: synth then fails on a finding everyone thought acknowledged. Both
 * forms must pass, for every configuration that creates such grants (probes: VPC network
 * interfaces; ec2-isolate actions: security groups).
 */
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../lib/config-loader.ts';
import { PROJECT_ROOT, synth } from './helpers.ts';

const CONFIGS = ['config/failover.json', 'config/examples/node-actions.json'];

describe('cdk-nag with a concrete account and Region', () => {
  it.each(CONFIGS)(
    '%s: no unacknowledged finding, env-agnostic or concrete',
    (file) => {
      const config = loadConfigFile(join(PROJECT_ROOT, file));
      for (const env of [undefined, { account: '111122223333', region: 'us-east-1' }]) {
        const s = synth(config, env ? { env } : {});
        const report = new AwsSolutionsChecks(s.app).validateScope(s.stack);
        expect(
          report.violations.map((v) => v.ruleName),
          env ? 'concrete env' : 'env-agnostic',
        ).toEqual([]);
      }
    },
    120_000,
  );
});
