import type { Scenario } from '../scenario.ts';
import { duplicateAndStaleEvents } from './duplicate-and-stale-events.ts';
import { flappingPrimary } from './flapping-primary.ts';
import { forcedFailover } from './forced-failover.ts';
import { plannedFailback } from './planned-failback.ts';
import { primaryCrash } from './primary-crash.ts';
import { primaryReturns } from './primary-returns.ts';
import { promoteFails } from './promote-fails.ts';
import { replicaLagging } from './replica-lagging.ts';
import { severalReplicas } from './several-replicas.ts';

/** Every scenario, in the order `npm run drill` runs them. */
export const SCENARIOS: readonly Scenario[] = [
  primaryCrash,
  replicaLagging,
  flappingPrimary,
  duplicateAndStaleEvents,
  plannedFailback,
  forcedFailover,
  severalReplicas,
  primaryReturns,
  promoteFails,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
