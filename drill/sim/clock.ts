/**
 * Time for the drill. Both clocks implement the domain's `Clock`, so the real handlers read them
 * exactly as they read `Date.now()` in Lambda.
 *
 * - VirtualClock (the simulated environment): time moves only when the scenario driver jumps it
 *   forward, or when modelled API latency is waited (`sleep`, a ManualClock timer fired as soon as
 *   every pending promise waits on one). A scenario of several virtual minutes runs in milliseconds,
 *   and the same scenario always produces the same timeline.
 * - SkipClock (a real endpoint): real time flows, so the latency of real API calls is measured as
 *   it happens, but the idle stretches between scripted events are skipped by jumping ahead.
 */
import type { Clock } from '../../lambdas/domain/ports.ts';
import { ManualClock } from '../../lambdas/testing/clock.ts';

export interface DrillClock extends Clock {
  /** Jumps to `ms` if that is ahead of now; never goes backwards. */
  advanceTo(ms: number): void;
  /** Waits `ms` of modelled latency (virtual clock), or nothing (a real endpoint has its own latency). */
  sleep(ms: number): Promise<void>;
  /** True when latencies are modelled rather than measured. */
  readonly simulated: boolean;
}

export class VirtualClock implements DrillClock {
  readonly simulated = true;
  readonly manual: ManualClock;

  constructor(start: number) {
    this.manual = new ManualClock({ start, autoAdvance: true });
  }

  now(): number {
    return this.manual.now();
  }

  advanceTo(ms: number): void {
    if (ms <= this.manual.now()) return;
    // Jumping while an API call is waiting on its modelled latency would make that call take
    // longer than modelled: the driver only jumps between calls.
    if (this.manual.pendingTimers > 0) {
      throw new Error(
        `clock jump to ${ms} while ${this.manual.pendingTimers} modelled call(s) are in flight`,
      );
    }
    this.manual.set(ms);
  }

  sleep = (ms: number): Promise<void> => this.manual.sleep(ms);
}

export class SkipClock implements DrillClock {
  readonly simulated = false;
  private base: number;
  private anchor: number;

  /** `start`: epoch ms the clock reads now. */
  constructor(
    start: number,
    private readonly realNow: () => number = () => performance.now(),
  ) {
    this.base = start;
    this.anchor = realNow();
  }

  now(): number {
    return Math.round(this.base + (this.realNow() - this.anchor));
  }

  advanceTo(ms: number): void {
    const now = this.now();
    if (ms <= now) return;
    this.base += ms - now;
  }

  sleep(_ms: number): Promise<void> {
    return Promise.resolve();
  }
}
