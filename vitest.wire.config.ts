import { defineConfig } from 'vitest/config';

// Suites that need Python tools (moto_server, cfn-lint): `pip install "moto[server]" cfn-lint`.
export default defineConfig({
  test: {
    include: ['test/wire/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // aws-cdk-lib's template validator can only warn (see vitest.config.ts); cfn-lint.test.ts lints.
    env: { CDK_VALIDATION: 'false' },
  },
});
