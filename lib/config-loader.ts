/**
 * Reads the operator's configuration file for `cdk synth`. Every failure is one
 * ConfigValidationError: a file that cannot be read, a JSON syntax error (with the file path and
 * position), or every schema problem at once (field path + the bad value), so one synth run shows
 * the operator everything to fix.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type FailoverConfig, parseConfig } from '../lambdas/domain/config.ts';
import { ConfigValidationError } from '../lambdas/domain/errors.ts';

export function loadConfigFile(path: string): FailoverConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (cause) {
    throw new ConfigValidationError([
      { path: '(file)', message: `cannot read ${absolute}: ${(cause as Error).message}`, value: path },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigValidationError([
      { path: '(file)', message: `${absolute} is not valid JSON: ${(cause as Error).message}`, value: path },
    ]);
  }
  return parseConfig(raw);
}
