/**
 * What every built-in action kind shares: the context a run gets (request, config, deadline,
 * abort signal), the bounded wait loop, command templating and output tails.
 *
 * A kind runner resolves with what happened, throws NodeActionFailedError when the action itself
 * reports failure, and lets SDK errors through: the port (index.ts) classifies them and turns
 * every outcome into a NodeActionResult.
 */
import type { NodeActionConfig } from '../../domain/action-config.ts';
import type { NodeConfig, ServiceConfig } from '../../domain/config.ts';
import { NodeActionFailedError } from '../../domain/errors.ts';
import type { NodeActionRequest } from '../../domain/node-actions.ts';

export interface ActionTiming {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Between two status reads of a long-running action. */
  readonly pollIntervalMs: number;
}

export interface ActionContext<A extends NodeActionConfig = NodeActionConfig> {
  readonly request: NodeActionRequest;
  readonly action: A;
  readonly service: ServiceConfig;
  readonly node: NodeConfig;
  /** Epoch ms after which the run has timed out. */
  readonly deadline: number;
  /** Aborts at the deadline; passed to every SDK call so none outlives the run. */
  readonly signal: AbortSignal;
  readonly timing: ActionTiming;
}

export interface KindOutcome {
  readonly detail: string;
  readonly outputTail?: string;
  readonly ids?: Readonly<Record<string, string>>;
}

export type KindRunner<A extends NodeActionConfig = NodeActionConfig> = (
  ctx: ActionContext<A>,
) => Promise<KindOutcome>;

export type Poll<T> =
  | { readonly done: true; readonly value: T }
  | { readonly done: false; readonly detail: string };

/**
 * Reads `check` until it says done, sleeping `pollIntervalMs` between reads, never past the
 * deadline: the last read happens before it, and the error carries the last status seen.
 */
export async function waitFor<T>(ctx: ActionContext, check: () => Promise<Poll<T>>): Promise<T> {
  for (;;) {
    const poll = await check();
    if (poll.done) return poll.value;
    const remaining = ctx.deadline - ctx.timing.now();
    if (remaining <= 0 || ctx.signal.aborted)
      throw new NodeActionFailedError(ctx.action.type, 'timed-out', poll.detail);
    await ctx.timing.sleep(Math.min(ctx.timing.pollIntervalMs, remaining), ctx.signal);
    if (ctx.signal.aborted) throw new NodeActionFailedError(ctx.action.type, 'timed-out', poll.detail);
  }
}

/**
 * Replaces `{serviceId} {node} {role} {mode} {epoch} {token}` in a command line. Every value is
 * an id (lowercase letters, digits, dashes), a number or a fixed word, so nothing needs quoting
 * for a shell or PowerShell.
 */
export function template(line: string, request: NodeActionRequest): string {
  const values: Record<string, string> = {
    serviceId: request.serviceId,
    node: request.nodeId,
    role: request.role,
    mode: request.mode,
    epoch: String(request.epoch),
    token: String(request.token),
  };
  return line.replace(/\{(serviceId|node|role|mode|epoch|token)\}/g, (_, key: string) => values[key] ?? '');
}

/** The last `max` characters, marked when cut. */
export function tail(text: string | undefined, max: number): string | undefined {
  if (!text || max <= 0) return undefined;
  return text.length <= max ? text : `...${text.slice(text.length - max + 3)}`;
}

/**
 * The first and the last `max / 2` characters, the cut marked: what an error message says first
 * (its type, the failing call) and how it ended both survive.
 */
export function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor((max - 5) / 2);
  return `${text.slice(0, half)} ... ${text.slice(text.length - half)}`;
}

/** Real timers: sleeps end early when the run is aborted. */
export const REAL_TIMING: ActionTiming = {
  now: () => Date.now(),
  pollIntervalMs: 5_000,
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};
