/**
 * The validated configuration, read once per execution environment (cold start). CDK bundles it
 * as `config.json` next to the handler, because Lambda environment variables total only 4 KB;
 * `FAILOVER_CONFIG_FILE` overrides the path (local runs, tests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FailoverConfig, parseConfig } from '../domain/config.ts';
import { ConfigValidationError } from '../domain/errors.ts';

export const CONFIG_FILE_NAME = 'config.json';

/** The file the configuration is read from; throws naming the variables when neither is set. */
export function runtimeConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAILOVER_CONFIG_FILE) return env.FAILOVER_CONFIG_FILE;
  if (env.LAMBDA_TASK_ROOT) return join(env.LAMBDA_TASK_ROOT, CONFIG_FILE_NAME);
  throw new Error(
    'missing environment variable FAILOVER_CONFIG_FILE (or LAMBDA_TASK_ROOT to find config.json)',
  );
}

/** Reads and validates one configuration file, every time it is called. */
export function readConfigFile(
  path: string,
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): FailoverConfig {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new Error(`cannot read the failover configuration at ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    throw new ConfigValidationError([
      {
        path: '(file)',
        message: `not valid JSON in ${path}: ${message}`,
        value: offendingLine(text, message) ?? path,
      },
    ]);
  }
  return parseConfig(json);
}

const cache = new Map<string, FailoverConfig>();

/**
 * The configuration for this execution environment, read and validated on first use and cached
 * per path: warm invocations pay nothing, and a bad file fails the cold start loudly.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): FailoverConfig {
  const path = runtimeConfigPath(env);
  let config = cache.get(path);
  if (!config) {
    config = readConfigFile(path);
    cache.set(path, config);
  }
  return config;
}

/** Test hook: forget cached configurations. */
export function resetRuntimeConfigForTests(): void {
  cache.clear();
}

/** A required environment variable, or an error that names it (fail fast at cold start). */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new Error(`missing environment variable ${name}`);
  return value;
}

/** The line of `text` a JSON.parse message points at (`... (line 3 column 5)`), trimmed. */
function offendingLine(text: string, message: string): string | undefined {
  const m = /line (\d+) column \d+/.exec(message);
  const line = m ? text.split('\n')[Number(m[1]) - 1] : undefined;
  return line?.trim() || undefined;
}
