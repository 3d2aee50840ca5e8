/**
 * Watches a port from the outside: every call, with its arguments, its result or error, and when
 * it started and settled on the drill clock. The drill narrates its timeline from these (what the
 * real code changed, and when) without reaching into the code under test.
 */

export interface ObservedCall {
  readonly port: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly start: number;
  readonly end: number;
  readonly result?: unknown;
  readonly error?: unknown;
}

export type CallSink = (call: ObservedCall) => void;

/** A proxy of `port` that reports each settled method call to `sink`. */
export function observe<T extends object>(
  port: T,
  name: string,
  clock: { now(): number },
  sink: CallSink,
): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let fn = cache.get(prop);
      if (!fn) {
        fn = async (...args: unknown[]) => {
          const start = clock.now();
          try {
            const result = await (value as (...a: unknown[]) => unknown).apply(target, args);
            sink({ port: name, method: prop, args, start, end: clock.now(), result });
            return result;
          } catch (error) {
            sink({ port: name, method: prop, args, start, end: clock.now(), error });
            throw error;
          }
        };
        cache.set(prop, fn);
      }
      return fn;
    },
  });
}
