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
import type {
  AlarmPort,
  Clock,
  LagPort,
  Logger,
  MetricsPort,
  NotifierPort,
  StatePort,
  TrafficPort,
} from '../../domain/ports.ts';
import type { AlarmStateValue, LagSample } from '../../domain/types.ts';

/** Route 53 `GetChange`: the verify step waits for INSYNC. TrafficRouter implements it. */
export interface ChangeStatusPort {
  changeStatus(changeId: string): Promise<'PENDING' | 'INSYNC'>;
}

export interface WorkflowDeps {
  readonly config: FailoverConfig;
  readonly alarms: AlarmPort;
  readonly lag: LagPort;
  readonly state: StatePort;
  readonly traffic: TrafficPort;
  readonly notifier: NotifierPort;
  /** When absent, verification relies on health and the router's read-back alone. */
  readonly changes?: ChangeStatusPort;
  readonly logger: Logger;
  readonly metrics: MetricsPort;
  readonly clock: Clock;
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
