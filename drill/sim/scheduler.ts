/**
 * A discrete-event scheduler over the drill clock. Everything the simulated world does (health
 * probes, alarm evaluations, lag datapoints, event deliveries) is an item at a point in time;
 * `runUntil` runs them in time order, jumping the clock between them.
 *
 * Items run one at a time and are awaited, so a handler invocation finishes (its modelled latency
 * included) before the next item starts. An item whose time has already passed when it comes up
 * (because an invocation ran over it) runs late, but is handed its scheduled time, so the data it
 * produces is stamped when it belonged. `runUntil` is re-entrant: a workflow that waits inside an
 * item lets the world run on.
 */
import type { DrillClock } from './clock.ts';

/** Items at the same instant run in this order: the world moves, then it is observed, then it is acted on. */
export const Priority = {
  world: 0,
  probe: 1,
  evaluate: 2,
  deliver: 3,
  script: 4,
} as const;

interface Item {
  readonly at: number;
  readonly priority: number;
  readonly seq: number;
  readonly run: (at: number) => void | Promise<void>;
}

export class Scheduler {
  private readonly queue: Item[] = [];
  private seq = 0;

  constructor(private readonly clock: DrillClock) {}

  at(at: number, priority: number, run: (at: number) => void | Promise<void>): void {
    const item: Item = { at, priority, seq: this.seq++, run };
    // Sorted insert: a few hundred items at most.
    let i = this.queue.length;
    while (i > 0 && compare(this.queue[i - 1]!, item) > 0) i--;
    this.queue.splice(i, 0, item);
  }

  /** Runs `run` at `first`, then every `periodMs` after it, until `until` (exclusive). */
  every(
    first: number,
    periodMs: number,
    until: number,
    priority: number,
    run: (at: number) => void | Promise<void>,
  ): void {
    const tick = async (at: number) => {
      // Scheduled before running: a nested runUntil inside `run` must see the next occurrence.
      if (at + periodMs < until) this.at(at + periodMs, priority, tick);
      await run(at);
    };
    if (first < until) this.at(first, priority, tick);
  }

  async runUntil(until: number): Promise<void> {
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > until) break;
      this.queue.shift();
      this.clock.advanceTo(next.at);
      await next.run(next.at);
    }
    this.clock.advanceTo(until);
  }

  get pending(): number {
    return this.queue.length;
  }
}

function compare(a: Item, b: Item): number {
  return a.at - b.at || a.priority - b.priority || a.seq - b.seq;
}
