/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * Wraps any port so tests, the drill and the benchmark can see and shape every call:
 *
 * - records each call (port, method, start, end, outcome) in a shared `CallLog`, which can count
 *   *sequential* round trips (calls issued together in one `Promise.all` count once);
 * - injects latency through an injectable `sleep` (a `ManualClock.sleep` keeps it virtual);
 * - injects faults: throw before the call reaches the port (`throw`: nothing applied), or let the
 *   call apply and then throw (`apply-then-throw`: the caller cannot know it worked, like a
 *   timeout after the request was sent).
 *
 * ```ts
 * const log = new CallLog(clock);
 * const state = instrument(env.state, 'state', {
 *   log, sleep: clock.sleep, latencyMs: 5,
 *   fault: faultOnce((c) => c.method === 'commit', { mode: 'throw', error: new Error('boom') }),
 * });
 * ```
 */

export interface CallInfo {
  readonly port: string;
  readonly method: string;
  readonly args: readonly unknown[];
  /** 1-based count of calls to this port and method so far, this one included. */
  readonly nth: number;
}

export type Fault =
  /** The call never reaches the port. */
  | { readonly mode: 'throw'; readonly error: unknown }
  /**
   * The call never reaches the port; the caller gets this value. For ports that report a failure
   * as a result rather than an error (`TrafficPort.shift` returns `failed` results).
   */
  | { readonly mode: 'return'; readonly value: unknown }
  /** The port applies the call, then the caller gets the error instead of the result. */
  | { readonly mode: 'apply-then-throw'; readonly error: unknown }
  /** The port applies the call, then the caller gets this value instead of the real result. */
  | { readonly mode: 'apply-then-return'; readonly value: unknown };

export interface CallRecord {
  readonly id: number;
  readonly port: string;
  readonly method: string;
  readonly args: readonly unknown[];
  /** Clock time (ms) when the call was issued and when it settled. */
  readonly start: number;
  end?: number;
  /** Positions in the log's global event order, to tell "issued after that one settled" apart even at zero latency. */
  readonly startSeq: number;
  endSeq?: number;
  outcome?: 'ok' | 'error';
  error?: string;
  /** Which fault, if any, was injected. */
  fault?: Fault['mode'];
}

/** A shared, ordered record of calls across every instrumented port. */
export class CallLog {
  readonly calls: CallRecord[] = [];
  private seq = 0;

  constructor(private readonly clock: { now(): number } = { now: () => performance.now() }) {}

  /** @internal used by instrument() */
  begin(port: string, method: string, args: readonly unknown[]): CallRecord {
    const record: CallRecord = {
      id: this.calls.length,
      port,
      method,
      args,
      start: this.clock.now(),
      startSeq: this.seq++,
    };
    this.calls.push(record);
    return record;
  }

  /** @internal used by instrument() */
  end(record: CallRecord, outcome: 'ok' | 'error', error?: unknown): void {
    record.end = this.clock.now();
    record.endSeq = this.seq++;
    record.outcome = outcome;
    if (error !== undefined)
      record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }

  /** Calls matching a filter, in issue order. */
  find(filter: { port?: string; method?: string } = {}): CallRecord[] {
    return this.calls.filter(
      (c) =>
        (filter.port === undefined || c.port === filter.port) &&
        (filter.method === undefined || c.method === filter.method),
    );
  }

  /**
   * How many round trips had to complete, one after another, before this call was issued: the
   * length of the longest chain of calls each issued after the previous one settled.
   */
  sequentialRoundTripsBefore(call: CallRecord): number {
    const depth = new Map<number, number>();
    const depthOf = (c: CallRecord): number => {
      const known = depth.get(c.id);
      if (known !== undefined) return known;
      let before = 0;
      for (const other of this.calls) {
        if (other.endSeq !== undefined && other.endSeq < c.startSeq)
          before = Math.max(before, depthOf(other));
      }
      depth.set(c.id, before + 1);
      return before + 1;
    };
    return depthOf(call) - 1;
  }

  clear(): void {
    this.calls.length = 0;
  }
}

export interface InstrumentHooks {
  /** Where calls are recorded; share one log across ports to count round trips. @default a new CallLog */
  readonly log?: CallLog;
  /** Latency added before each call reaches the port. @default 0 */
  readonly latencyMs?: number | ((call: CallInfo) => number);
  /** How latency is waited. @default setTimeout (use ManualClock.sleep for virtual time) */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Return a fault to inject into this call, or undefined to let it through. */
  readonly fault?: (call: CallInfo) => Fault | undefined;
  /** Only these methods are wrapped. @default every function property */
  readonly methods?: readonly string[];
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Returns a proxy of `port` whose methods are recorded and shaped by `hooks`. Non-function
 * properties pass through; methods run with the original object as `this`.
 */
export function instrument<T extends object>(
  port: T,
  name: string,
  hooks: InstrumentHooks = {},
): T & { readonly callLog: CallLog } {
  const log = hooks.log ?? new CallLog();
  const sleep = hooks.sleep ?? realSleep;
  const counts = new Map<string, number>();
  const wrapped = new Map<PropertyKey, unknown>();

  const wrap =
    (method: string, fn: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]): Promise<unknown> => {
      const nth = (counts.get(method) ?? 0) + 1;
      counts.set(method, nth);
      const info: CallInfo = { port: name, method, args, nth };
      const record = log.begin(name, method, args);
      try {
        const latency =
          typeof hooks.latencyMs === 'function' ? hooks.latencyMs(info) : (hooks.latencyMs ?? 0);
        if (latency > 0) await sleep(latency);
        const fault = hooks.fault?.(info);
        if (fault) record.fault = fault.mode;
        if (fault?.mode === 'throw') throw fault.error;
        if (fault?.mode === 'return') {
          log.end(record, 'ok');
          return fault.value;
        }
        const result = await fn.apply(port, args);
        if (fault?.mode === 'apply-then-throw') throw fault.error;
        const value = fault?.mode === 'apply-then-return' ? fault.value : result;
        log.end(record, 'ok');
        return value;
      } catch (err) {
        log.end(record, 'error', err);
        throw err;
      }
    };

  const proxy = new Proxy(port, {
    get(target, prop, receiver) {
      if (prop === 'callLog') return log;
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      if (hooks.methods && !hooks.methods.includes(prop)) return value.bind(target);
      let fn = wrapped.get(prop);
      if (!fn) {
        fn = wrap(prop, value as (...args: unknown[]) => unknown);
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
  return proxy as T & { readonly callLog: CallLog };
}

/** A fault for the first call that matches, then none. */
export function faultOnce(
  match: (call: CallInfo) => boolean,
  fault: Fault,
): (call: CallInfo) => Fault | undefined {
  let used = false;
  return (call) => {
    if (used || !match(call)) return undefined;
    used = true;
    return fault;
  };
}

/** A fault for the first `times` calls that match (e.g. throttling twice, then success). */
export function faultTimes(
  times: number,
  match: (call: CallInfo) => boolean,
  fault: Fault,
): (call: CallInfo) => Fault | undefined {
  let left = times;
  return (call) => {
    if (left <= 0 || !match(call)) return undefined;
    left--;
    return fault;
  };
}

/** An error shaped like an AWS SDK v3 service exception (name, $fault, $metadata), for fault injection. */
export function awsError(
  name: string,
  message = name,
  options: { status?: number; fault?: 'client' | 'server' } = {},
): Error {
  const status = options.status ?? (options.fault === 'server' ? 500 : 400);
  return Object.assign(new Error(message), {
    name,
    $fault: options.fault ?? (status >= 500 ? 'server' : 'client'),
    $metadata: { httpStatusCode: status },
  });
}
