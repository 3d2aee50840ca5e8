/**
 * What the workflow steps need. The step Lambda wires the AWS adapters; tests and the drill wire
 * the in-memory environment (lambdas/testing/memory.ts).
 */
import {
  type FailoverConfig,
  findService,
  healthAlarmName,
  type ServiceConfig,
} from '../../domain/config.ts';
import { UnknownServiceError } from '../../domain/errors.ts';
import type { AlarmStateValue, LagSample } from '../../domain/types.ts';
import type { AutomationPorts } from '../ports.ts';

/**
 * What the verify step asks the router beyond where traffic points. TrafficRouter implements it.
 * - Route 53: the name servers must answer with the new address (`GetChange` INSYNC) before the
 *   change is committed and the old primary demoted.
 * - ELB: the load balancer must see the new target `healthy`, not merely registered.
 */
export interface ChangeStatusPort {
  /** Route 53 `GetChange`: PENDING until every authoritative name server has the change. */
  changeStatus(changeId: string): Promise<'PENDING' | 'INSYNC'>;
  /**
   * Route 53: a change id to wait for when the shift has none (an applied shift retried, read back
   * after an uncertain failure, or settled by the SDK's own retry): a no-op compare-and-swap that
   * deletes and re-creates the record with `nodeId`'s exact value in one atomic batch. Route 53
   * applies a zone's changes in order, so that change is INSYNC only once the name servers also
   * have the shift before it. Undefined when the record does not hold exactly that value.
   */
  confirmRecord(serviceId: string, nodeId: string): Promise<string | undefined>;
  /** ELB: the node's target health as the load balancer sees it (`healthy`, `initial`, `unhealthy`, ...); undefined when not registered. */
  targetHealth(serviceId: string, nodeId: string): Promise<string | undefined>;
}

export interface WorkflowDeps extends AutomationPorts {
  /** Route 53 change status and ELB target health for the verify step (TrafficRouter in AWS). */
  readonly changes: ChangeStatusPort;
}

/**
 * How far back to look for a lag datapoint. Long on purpose: a forced failover records the last
 * known lag even when the replica stopped publishing it a while ago; freshness is judged by the
 * domain rules, not by what the query happens to return.
 */
export const LAG_LOOKBACK_SECONDS = 3600;

export function serviceOf(config: FailoverConfig, serviceId: string): ServiceConfig {
  const service = findService(config, serviceId);
  if (!service) throw new UnknownServiceError(serviceId);
  return service;
}

export function nodeOf(service: ServiceConfig, nodeId: string) {
  const node = service.nodes.find((n) => n.id === nodeId);
  if (!node) throw new UnknownServiceError(`${service.id}/${nodeId}`);
  return node;
}

/** One DescribeAlarms for the given nodes' health alarms. */
export async function nodeAlarms(
  deps: WorkflowDeps,
  service: ServiceConfig,
  nodeIds: readonly string[],
): Promise<Map<string, AlarmStateValue | 'UNKNOWN'>> {
  const names = nodeIds.map((id) => healthAlarmName(service, nodeOf(service, id)));
  const states = await deps.alarms.getStates(names);
  return new Map(nodeIds.map((id, i) => [id, states.get(names[i] as string) ?? 'UNKNOWN']));
}

/** One GetMetricData for the given nodes' lag, keyed by node id. */
export async function nodeLag(
  deps: WorkflowDeps,
  service: ServiceConfig,
  nodeIds: readonly string[],
  now: number,
): Promise<ReadonlyMap<string, LagSample | undefined>> {
  return deps.lag.getLatest(
    nodeIds.map((id) => ({ key: id, metric: nodeOf(service, id).lag })),
    now,
    LAG_LOOKBACK_SECONDS,
  );
}
