/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * A virtual clock for tests, the drill and benchmarks: time moves only when told to, or, with
 * `autoAdvance`, jumps to the next timer as soon as every pending promise is waiting on one.
 * Concurrent sleeps of 100 ms and 200 ms therefore finish at +100 and +200 virtual ms, in that
 * order, in a few real microseconds: injected latency costs no wall time and stays deterministic.
 */
import type { Clock } from '../domain/ports.ts';

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly resolve: () => void;
}

export interface ManualClockOptions {
  /** Epoch ms to start at. @default 2025-01-01T00:00:00Z */
  readonly start?: number;
  /**
   * Advance to the next timer once nothing else can run (checked with `setImmediate`, after the
   * microtask queue drains). Turn off to drive time only with `advance()`. @default true
   */
  readonly autoAdvance?: boolean;
}

export class ManualClock implements Clock {
  private current: number;
  private readonly timers: Timer[] = [];
  private seq = 0;
  private checkScheduled = false;
  private readonly autoAdvance: boolean;

  constructor(options: ManualClockOptions = {}) {
    this.current = options.start ?? Date.UTC(2025, 0, 1);
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.current;
  }

  /** Jumps to `ms` (never backwards), firing due timers in order. */
  set(ms: number): void {
    if (ms < this.current) throw new Error(`ManualClock cannot go backwards: ${ms} < ${this.current}`);
    this.fireUntil(ms);
    this.current = ms;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    this.set(this.current + ms);
  }

  /** Resolves when virtual time reaches now + ms. Use as the `sleep` of `instrument()`. */
  sleep = (ms: number): Promise<void> => {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.timers.push({ due: this.current + ms, seq: this.seq++, resolve });
      this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      this.scheduleCheck();
    });
  };

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  private fireUntil(limit: number): void {
    while (this.timers.length > 0 && this.timers[0]!.due <= limit) {
      const timer = this.timers.shift()!;
      this.current = Math.max(this.current, timer.due);
      timer.resolve();
    }
  }

  private scheduleCheck(): void {
    if (!this.autoAdvance || this.checkScheduled) return;
    this.checkScheduled = true;
    // setImmediate runs after the microtask queue drains: every promise chain that could still
    // register an earlier timer has done so by then.
    setImmediate(() => {
      this.checkScheduled = false;
      const next = this.timers[0];
      if (!next) return;
      // Fire only the timers due at that instant; their continuations may add earlier ones.
      this.fireUntil(next.due);
      if (this.timers.length > 0) this.scheduleCheck();
    });
  }
}
