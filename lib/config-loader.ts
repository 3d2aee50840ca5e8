/**
 * Reads the operator's configuration file for `cdk synth`. Every failure is one
 * ConfigValidationError: a file that cannot be read, a JSON syntax error (with the file path and
 * position), or every schema problem at once (field path + the bad value) together with what the
 * deploy region cannot do (region-checks.ts), so one synth run shows the operator everything to fix.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type FailoverConfig, parseConfig } from '../lambdas/domain/config.ts';
import { type ConfigProblem, ConfigValidationError } from '../lambdas/domain/errors.ts';
import { type RegionSource, regionProblems } from './region-checks.ts';

export interface LoadConfigOptions {
  /** The region the stack deploys to, when known: region-bound settings are checked against it. */
  readonly region?: string;
  /** @default 'context' */
  readonly regionSource?: RegionSource;
}

export function loadConfigFile(path: string, options: LoadConfigOptions = {}): FailoverConfig {
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
  const inRegion =
    options.region === undefined
      ? []
      : regionProblems(raw, options.region, options.regionSource ?? 'context');
  let schemaProblems: readonly ConfigProblem[] = [];
  try {
    const config = parseConfig(raw);
    if (inRegion.length === 0) return config;
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    schemaProblems = err.problems;
  }
  throw new ConfigValidationError([...schemaProblems, ...inRegion]);
}
