/**
 * A traffic router whose shift hangs before it reaches the real one, until the test thaws it: a
 * Lambda invocation frozen mid-call while it holds the lease. The in-memory and moto races both
 * use it to show the stale holder can neither commit nor move traffic back.
 */
import type { TrafficPort } from '../../lambdas/domain/ports.ts';

export interface StalledTraffic {
  /** Shifts through `traffic` once thawed; reads go straight through. */
  readonly traffic: TrafficPort;
  /** True once a shift has reached the freeze. */
  readonly frozen: () => boolean;
  /** Lets the held shift (and any later one) through. */
  readonly thaw: () => void;
}

export function stalledTraffic(traffic: TrafficPort): StalledTraffic {
  let thaw: () => void = () => {};
  const thawed = new Promise<void>((resolve) => {
    thaw = resolve;
  });
  let froze = false;
  return {
    traffic: {
      shift: async (changes) => {
        froze = true;
        await thawed;
        return traffic.shift(changes);
      },
      current: (id) => traffic.current(id),
    },
    frozen: () => froze,
    thaw: () => thaw(),
  };
}
