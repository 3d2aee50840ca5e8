import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { defineConfig } from 'vitest/config';

// Test files share their worker's module cache (isolate: false, the 'shared' project), so
// aws-cdk-lib, the SDK, our own modules and the synthesized sample stack are loaded once per worker
// instead of once per file. What a file patches while it runs (aws-sdk-client-mock stubs on the SDK
// clients' prototypes, vi.spyOn / vi.stubEnv / vi.stubGlobal, fake timers, process.env) is undone
// after the file by test/support/file-sandbox.ts. A file that has modules evaluated under its
// patches (vi.mock / vi.doMock, or vi.resetModules to import a handler again with a new
// process.env) or changes the working directory cannot be undone that way: it gets a fresh worker
// (isolate: true, the 'sandboxed' project). Such files are found by their text and the text of the
// test modules they import (NEEDS_FRESH_MODULES), so a new one is sandboxed without anyone
// remembering to list it.
const NEEDS_FRESH_MODULES = /\bvi\.(mock|doMock|resetModules|stubGlobal)\(|process\.chdir\(/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

/** Whether `file`, or a module under test/ it imports (directly or not), matches NEEDS_FRESH_MODULES. */
function needsFreshModules(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  if (NEEDS_FRESH_MODULES.test(text)) return true;
  return [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+\.ts)'/g)]
    .map((m) => join(dirname(file), m[1] as string))
    .some((dep) => dep.startsWith(`test${sep}`) && existsSync(dep) && needsFreshModules(dep, seen));
}

const SANDBOXED = testFiles('test').filter((file) => needsFreshModules(file));

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
    // One worker per core (vitest's default leaves one core to itself): on a 2-core machine the
    // second worker shares its core with tsc while that runs, then has it alone.
    maxWorkers: availableParallelism(),
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
          setupFiles: ['test/support/file-sandbox.ts'],
        },
      },
    ],
  },
});
