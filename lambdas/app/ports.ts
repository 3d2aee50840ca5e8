/**
 * The ports the use cases here read and write through, as one set: the failover Lambda, the zone
 * shifter, the workflow's steps and the readiness check are wired from the same adapters
 * (lambdas/runtime/aws-ports.ts in AWS, lambdas/testing/ in memory).
 */
import type { FailoverConfig } from '../domain/config.ts';
import type {
  AlarmPort,
  Clock,
  LagPort,
  Logger,
  MetricsPort,
  NotifierPort,
  StatePort,
  TrafficPort,
} from '../domain/ports.ts';

export interface AutomationPorts {
  readonly config: FailoverConfig;
  readonly alarms: AlarmPort;
  readonly lag: LagPort;
  readonly state: StatePort;
  readonly traffic: TrafficPort;
  readonly notifier: NotifierPort;
  readonly logger: Logger;
  readonly metrics: MetricsPort;
  readonly clock: Clock;
}
