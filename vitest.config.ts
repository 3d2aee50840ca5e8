import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Suites whose files patch what other files share: aws-sdk-client-mock stubs the SDK clients'
// prototypes, vi.mock / vi.resetModules / vi.stubEnv change modules and process.env. Each of
// their files gets a fresh worker (isolate: true). Every other suite shares its worker's module
// cache across files (isolate: false), so aws-cdk-lib, the SDK and our own modules are loaded once
// per worker instead of once per file. A test file that patches globals is found by its text
// (PATCHES_GLOBALS), so a new one is sandboxed without anyone remembering to list it.
const PATCHES_GLOBALS =
  /\bmockClient\(|\bvi\.(mock|doMock|resetModules|stubEnv|stubGlobal|spyOn|useFakeTimers)\(|process\.env(\.\w+|\[[^\]]+\])\s*=[^=]|delete process\.env|process\.chdir\(/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const SANDBOXED = [
  'test/aws/**/*.test.ts',
  'test/handlers/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/runtime/**/*.test.ts',
  ...testFiles('test').filter((file) => PATCHES_GLOBALS.test(readFileSync(file, 'utf8'))),
];

// Not in `npm test`:
// - test/wire (moto_server, cfn-lint): `npm run test:wire`;
// - test/db (real PostgreSQL and MariaDB servers): `npm run test:db` (vitest.db.config.ts);
// - test/reliability/*.{long,moto}.test.ts: `npm run test:reliability` (the quick in-memory
//   reliability suites run here too, the property test with 300 runs);
// - test/drill/report.test.ts needs Chromium: `npm run test:browser`.
const EXCLUDE = [
  'test/wire/**',
  'test/db/**',
  'test/reliability/**/*.{long,moto}.test.ts',
  'test/drill/report.test.ts',
  'test/drill/gameday-report.test.ts',
  'node_modules/**',
];

export default defineConfig({
  test: {
    // aws-cdk-lib's built-in CloudFormation template validation (a WASM engine) costs ~7 s of CPU
    // per synthesis and can only warn (errors are downgraded unless a feature flag we do not set
    // says otherwise), so it can fail no test: off for the template tests. cfn-lint checks every
    // synthesized template in `npm run test:wire`, and `cdk synth` in `npm test` keeps it on.
    env: { CDK_VALIDATION: 'false' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'sandboxed', include: SANDBOXED, exclude: EXCLUDE, isolate: true },
      },
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: [...EXCLUDE, ...SANDBOXED],
          isolate: false,
        },
      },
    ],
  },
});
