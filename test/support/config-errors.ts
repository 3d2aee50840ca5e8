/** What a configuration refused at load or synth time throws, for tests that read its problems. */
import { expect } from 'vitest';
import { ConfigValidationError } from '../../lambdas/domain/errors.ts';

/** Runs `build`, expects it to throw a ConfigValidationError, and returns that error. */
export function configValidationError(build: () => unknown): ConfigValidationError {
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigValidationError);
  return error as ConfigValidationError;
}
