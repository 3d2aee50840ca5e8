import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: faults, races (in memory and over moto_server), bad input, the long
// property run and the security checks, then a summary table (test/reliability/summary.ts).
// Needs moto_server on the PATH: `pip install "moto[server]"`.
const resultsDir = join(tmpdir(), `failover-reliability-${process.pid}`);
process.env.RELIABILITY_RESULTS_DIR = resultsDir;

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts', 'test/infra/cdk-nag.test.ts'],
    globalSetup: ['test/reliability/summary.ts'],
    // CDK_VALIDATION: aws-cdk-lib's template validator can only warn here (see vitest.config.ts).
    env: {
      RELIABILITY_RESULTS_DIR: resultsDir,
      RELIABILITY_PROPERTY_RUNS: '10000',
      CDK_VALIDATION: 'false',
    },
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
  },
});
