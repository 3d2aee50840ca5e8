/**
 * Setup file of vitest's 'shared' project (vitest.config.ts): its test files run one after another
 * in one worker and share the worker's module cache, so whatever a file patches must end with the
 * file. vitest runs this module again before every test file; its afterAll hook runs after the
 * file's own hooks and undoes, whatever the file did or forgot to undo:
 *
 * - aws-sdk-client-mock stubs (`mockClient(SomeClient)` stubs `SomeClient.prototype.send` for
 *   every later client of that class, in any file): restored through the sinon sandbox they live in;
 * - `vi.spyOn`, `vi.stubEnv`, `vi.stubGlobal`, fake timers;
 * - `process.env`: put back as it was before the file (keys added, changed or deleted).
 *
 * What it cannot undo is a module evaluated with the file's patches in place (a module that reads
 * `process.env` when it is first imported, or `vi.mock`): such files stay in the 'sandboxed'
 * project, a fresh worker each (vitest.config.ts finds them by their text).
 */
import { createRequire } from 'node:module';
import { afterAll, vi } from 'vitest';

// The sinon instance aws-sdk-client-mock stubs with (its default sandbox), not one of our own.
const sinon = createRequire(createRequire(import.meta.url).resolve('aws-sdk-client-mock'))('sinon') as {
  restore(): void;
};

const envBefore = { ...process.env };

afterAll(() => {
  sinon.restore();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.useRealTimers();
  for (const key of Object.keys(process.env)) if (!(key in envBefore)) delete process.env[key];
  for (const [key, value] of Object.entries(envBefore))
    if (process.env[key] !== value) process.env[key] = value;
});
