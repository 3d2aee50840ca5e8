/**
 * A bundled Lambda from the cloud assembly, run the way the Lambda runtime runs it: `index.mjs`
 * imported from its asset directory (config.json next to it, found through LAMBDA_TASK_ROOT), in an
 * execution environment of its own. Here the environment is a worker thread of this process, with
 * its own `process.env` (the function's declared environment, the AWS endpoint pointing at
 * moto_server) and its own stdout, whose structured log lines are handed to `onLog`.
 *
 * Invocations are serialized per environment, as one Lambda execution environment handles one
 * event at a time.
 */
import { Worker } from 'node:worker_threads';

// biome-ignore lint/suspicious/noExplicitAny: JSON in and out, as Lambda delivers it
type Json = any;

export interface LogLine {
  readonly at: number;
  readonly function: string;
  readonly line: Json;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
process.setSourceMapsEnabled?.(true);
const loaded = import(workerData.entry);
parentPort.on('message', async ({ id, event, requestId }) => {
  try {
    const m = await loaded;
    const result = await m.handler(event, { awsRequestId: requestId, functionName: workerData.name });
    parentPort.postMessage({ id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: { name: err?.name ?? 'Error', message: String(err?.message ?? err) } });
  }
});
`;

export class LambdaInvocationError extends Error {
  override readonly name: string;
  constructor(errorType: string, message: string) {
    super(message);
    this.name = errorType;
  }
}

export class BundledLambda {
  private readonly worker: Worker;
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly waiting = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private partial = '';
  private stopped = false;

  constructor(
    readonly name: string,
    assetDir: string,
    env: Readonly<Record<string, string>>,
    private readonly onLog: (log: LogLine) => void,
  ) {
    this.worker = new Worker(WORKER, {
      eval: true,
      env: { ...env, LAMBDA_TASK_ROOT: assetDir, AWS_LAMBDA_FUNCTION_NAME: name },
      workerData: { entry: `${assetDir}/index.mjs`, name },
      stdout: true,
      stderr: true,
    });
    this.worker.stdout.on('data', (chunk: Buffer) => this.collect(chunk));
    this.worker.stderr.on('data', (chunk: Buffer) => this.collect(chunk));
    this.worker.on('message', (m: { id: number; ok: boolean; result?: Json; error?: Json }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new LambdaInvocationError(m.error.name, m.error.message));
    });
    this.worker.on('error', (err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** One invocation; throws the function's error as `{ name: errorType, message }`. */
  invoke(event: Json, requestId: string): Promise<Json> {
    const run = this.queue.then(
      () =>
        new Promise<Json>((resolve, reject) => {
          if (this.stopped) {
            reject(new Error(`${this.name}: the execution environment was shut down`));
            return;
          }
          const id = ++this.seq;
          this.waiting.set(id, { resolve, reject });
          this.worker.postMessage({ id, event, requestId });
        }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.worker.terminate();
  }

  private collect(chunk: Buffer): void {
    this.partial += chunk.toString('utf8');
    const lines = this.partial.split('\n');
    this.partial = lines.pop() ?? '';
    for (const text of lines) {
      if (!text.trim()) continue;
      let line: Json;
      try {
        line = JSON.parse(text);
      } catch {
        line = { message: text };
      }
      this.onLog({ at: Date.now(), function: this.name, line });
    }
  }
}

/**
 * EventBridge pattern matching, for the patterns the stack synthesizes: every key of the pattern
 * must be present in the event; an array lists the accepted values; an object descends.
 */
export function matchesPattern(pattern: Json, event: Json): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(event) ? event : [event];
    return values.some((v) => pattern.some((p) => (typeof p === 'object' && p !== null ? false : p === v)));
  }
  if (pattern && typeof pattern === 'object') {
    if (!event || typeof event !== 'object') return false;
    return Object.entries(pattern).every(([k, p]) => k in event && matchesPattern(p, event[k]));
  }
  return pattern === event;
}
