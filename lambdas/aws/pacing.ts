/**
 * Client-side pacing for background readers (the readiness check) that share an account-wide API
 * budget with failovers: Route 53 allows about 5 requests/s per account, and a failover must never
 * be throttled because a readiness pass is walking zones. Every attempt the client sends (the
 * SDK's retries included) waits for its slot; a throttling answer doubles the gap (up to
 * MAX_GAP_MS), each success brings it back towards the configured rate.
 */

/** Error names that mean "slow down" (Route 53 and the SDK's own names). */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'PriorRequestNotComplete',
  'RequestLimitExceeded',
]);
export const MAX_GAP_MS = 16_000;

export interface PacerOptions {
  readonly requestsPerSecond: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
}

export class Pacer {
  private readonly baseGapMs: number;
  private gapMs: number;
  private next = 0;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** Attempts paced so far, and how many were throttled (for logs and tests). */
  sent = 0;
  throttled = 0;

  constructor(options: PacerOptions) {
    if (!(options.requestsPerSecond > 0)) {
      throw new RangeError(`requestsPerSecond must be positive, got: ${options.requestsPerSecond}`);
    }
    this.baseGapMs = 1000 / options.requestsPerSecond;
    this.gapMs = this.baseGapMs;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  /** Resolves when the caller may send; callers are served in call order. */
  async take(): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.next);
    this.next = at + this.gapMs;
    this.sent++;
    if (at > now) await this.sleep(at - now);
  }

  /** The last attempt's outcome: throttled widens the gap, anything else narrows it back. */
  settle(throttled: boolean): void {
    if (throttled) {
      this.throttled++;
      this.gapMs = Math.min(MAX_GAP_MS, this.gapMs * 2);
      this.next = Math.max(this.next, this.now() + this.gapMs);
    } else {
      this.gapMs = Math.max(this.baseGapMs, this.gapMs * 0.75);
    }
  }

  get currentGapMs(): number {
    return this.gapMs;
  }
}

/** The part of an SDK v3 client's middleware stack pacing uses (any client's input/output). */
interface MiddlewareAdder {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
    options: { step: 'finalizeRequest'; priority: 'low'; name: string },
  ): void;
}

/** Adds `pacer` to every attempt `client` sends (inside the SDK's retry loop). Returns the client. */
export function paceClient<C extends { readonly middlewareStack: object }>(client: C, pacer: Pacer): C {
  (client.middlewareStack as unknown as MiddlewareAdder).add(
    (next) => async (args) => {
      await pacer.take();
      try {
        const out = await next(args);
        pacer.settle(false);
        return out;
      } catch (err) {
        const name = err !== null && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
        pacer.settle(typeof name === 'string' && THROTTLING.has(name));
        throw err;
      }
    },
    // After the retry middleware (priority high in the same step): every attempt is paced.
    { step: 'finalizeRequest', priority: 'low', name: 'readinessPacing' },
  );
  return client;
}
