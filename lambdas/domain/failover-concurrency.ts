/**
 * How many failover Lambda invocations may run at once (its reserved concurrency).
 *
 * A correlated failure (an Availability Zone or Region event) raises one alarm event per failed
 * primary at the same moment, and an invocation can run a service's fence and promote actions for
 * tens of seconds. Events beyond the concurrency are throttled: Lambda keeps them in its async queue
 * and retries them with backoff (within the rule's one-hour event age), so they are delayed, never
 * lost, but each wave of actions adds its run time to the recovery of the services still waiting.
 * So the default grows with the fleet: one execution per service, at least MIN_FAILOVER_CONCURRENCY
 * (retries and the split-brain and rejoin events share the function) and at most
 * DEFAULT_FAILOVER_CONCURRENCY_CAP, because a reservation is taken from the account's pool whether
 * or not it is used (Lambda keeps 100 of the account's quota unreserved; the default quota is
 * 1,000), and the Route 53 changes of the fleet go through the zone shifter's per-zone batches
 * anyway. `failoverConcurrency` in the configuration overrides it, up to MAX_FAILOVER_CONCURRENCY.
 *
 * Pure: no AWS SDK, no environment.
 */

/** Never fewer: retried events, split-brain and rejoin events use the same function. */
export const MIN_FAILOVER_CONCURRENCY = 10;
/** The derived default stops here; a larger fleet that needs more sets `failoverConcurrency`. */
export const DEFAULT_FAILOVER_CONCURRENCY_CAP = 100;
/** The largest value accepted; the account's concurrency quota must exceed it by 100 (Lambda keeps those unreserved). */
export const MAX_FAILOVER_CONCURRENCY = 1000;

/** The derived default for `serviceCount` protected services. */
export function defaultFailoverConcurrency(serviceCount: number): number {
  return Math.min(DEFAULT_FAILOVER_CONCURRENCY_CAP, Math.max(MIN_FAILOVER_CONCURRENCY, serviceCount));
}

/** The configured value, else the default for the configuration's services. */
export function failoverConcurrency(config: {
  readonly failoverConcurrency?: number | undefined;
  readonly services: readonly unknown[];
}): number {
  return config.failoverConcurrency ?? defaultFailoverConcurrency(config.services.length);
}
