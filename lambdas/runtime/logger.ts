/**
 * Structured JSON logging for the Lambdas: one line per entry, with `level`, `message`,
 * `service`, `timestamp`, then the data keys (CloudWatch Logs Insights can filter on each).
 * Messages are static; everything variable goes in data. Values under keys that look like
 * secrets are redacted, and Errors are reduced to name, message and stack.
 */
import type { Logger } from '../domain/ports.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const RESERVED = new Set(['level', 'message', 'service', 'timestamp']);
/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEY =
  /secret|password|passwd|token|credential|authorization|api[-_]?key|access[-_]?key|session/i;
const MAX_DEPTH = 8;

export interface JsonLoggerOptions {
  /** Which component wrote the line, e.g. the function name. */
  readonly service: string;
  /** Entries below this level are dropped. @default 'info' */
  readonly level?: LogLevel;
  /** Keys added to every entry (request id, ...). @default {} */
  readonly context?: Record<string, unknown>;
  /** Where a finished line goes. @default process.stdout */
  readonly write?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The Logger port's four levels as one `log(level, ...)`: what a logger implements is where an entry goes. */
export abstract class LevelLogger implements Logger {
  debug(message: string, data?: Record<string, unknown>): void {
    this.log('debug', message, data);
  }
  info(message: string, data?: Record<string, unknown>): void {
    this.log('info', message, data);
  }
  warn(message: string, data?: Record<string, unknown>): void {
    this.log('warn', message, data);
  }
  error(message: string, data?: Record<string, unknown>): void {
    this.log('error', message, data);
  }

  protected abstract log(level: LogLevel, message: string, data?: Record<string, unknown>): void;
}

export class JsonLogger extends LevelLogger {
  private readonly threshold: number;
  private readonly write: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly options: JsonLoggerOptions) {
    super();
    this.threshold = LEVELS[options.level ?? 'info'];
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
  }

  /** A logger that adds `context` to every entry (e.g. the request id of one invocation). */
  child(context: Record<string, unknown>): JsonLogger {
    return new JsonLogger({ ...this.options, context: { ...this.options.context, ...context } });
  }

  protected log(level: LogLevel, message: string, data?: Record<string, unknown>): void {
    if (LEVELS[level] < this.threshold) return;
    const entry: Record<string, unknown> = {
      level,
      message,
      service: this.options.service,
      timestamp: new Date(this.now()).toISOString(),
    };
    for (const [key, value] of Object.entries({ ...this.options.context, ...data })) {
      // Data never overwrites the envelope: a colliding key is kept under a prefix.
      entry[RESERVED.has(key) ? `data_${key}` : key] = sanitize(key, value, 0);
    }
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch (err) {
      const { level: l, message: m, service, timestamp } = entry;
      line = JSON.stringify({
        level: l,
        message: m,
        service,
        timestamp,
        logError: `data not serializable: ${String(err)}`,
      });
    }
    this.write(line);
  }
}

export function parseLogLevel(value: string | undefined): LogLevel {
  const v = value?.toLowerCase();
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}

function sanitize(key: string, value: unknown, depth: number, seen = new WeakSet<object>()): unknown {
  if (SECRET_KEY.test(key)) return '[redacted]';
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      ...(value.stack ? { stack: value.stack } : {}),
      ...(value.cause !== undefined ? { cause: sanitize('cause', value.cause, depth + 1, seen) } : {}),
    };
  }
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  if (value instanceof Map) return sanitize(key, Object.fromEntries(value), depth, seen);
  if (value instanceof Set) return sanitize(key, [...value], depth, seen);
  if (Array.isArray(value)) return value.map((v) => sanitize('', v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = sanitize(k, v, depth + 1, seen);
  return out;
}
