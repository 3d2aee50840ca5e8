/**
 * The configuration the game day deploys, as an operator would write it: one service per scenario
 * (so scenarios never see each other's state, alarms or datapoints), each a PostgreSQL primary and a
 * streaming replica behind a Route 53 CNAME with a 5 s TTL, health and lag from the stack's probe.
 *
 * Node addresses: on one machine every PostgreSQL listens on 127.0.0.1 with its own port. The
 * record's values are per-node host names (`db-a.<service>.nodes.gameday.test`) that the game day
 * maps to 127.0.0.1:<port> (see client.ts), as /etc/hosts and a fixed port would on real hosts.
 */
import { PROBE_DIMENSIONS, PROBE_METRICS, PROBE_NAMESPACE } from '../../lambdas/contract/metrics.ts';
import { type FailoverConfig, type FailoverConfigInput, parseConfig } from '../../lambdas/domain/config.ts';
import type { AlarmDefinition } from './synth.ts';

export const ZONE_NAME = 'gameday.test';
export const NODE_IDS = ['db-a', 'db-b'] as const;
export type NodeId = (typeof NODE_IDS)[number];

/** What the probe and the SQL actions need to reach one node. */
export interface NodeSpec {
  readonly nodeId: NodeId;
  readonly port: number;
}

export interface ServiceSpec {
  readonly serviceId: string;
  readonly nodes: readonly NodeSpec[];
}

export const POLICY = {
  autoFailover: true,
  /** Longer than any scenario: one failover per service, never a flap back. */
  cooldownSeconds: 600,
  dryRun: false,
  /** The recovery-point budget the replica-lagging scenario exceeds on purpose. */
  maxLagSeconds: 5,
  maxLagAgeSeconds: 30,
} as const;

export const TTL_SECONDS = 5;
/** The probe's interval (issue default 10 s, down to 5). */
export const PROBE_INTERVAL_SECONDS = 5;

export function recordName(serviceId: string): string {
  return `${serviceId}.${ZONE_NAME}`;
}

export function nodeAddress(serviceId: string, nodeId: string): string {
  return `${nodeId}.${serviceId}.nodes.${ZONE_NAME}`;
}

export function healthAlarm(serviceId: string, nodeId: string): string {
  return `gameday-${serviceId}-${nodeId}-healthy`;
}

/** The game day's configuration for these services, validated exactly as `cdk synth` validates it. */
export function gameDayConfig(
  hostedZoneId: string,
  secretArn: string,
  services: readonly ServiceSpec[],
): FailoverConfig {
  const input: FailoverConfigInput = {
    stackName: 'FailoverGameDay',
    services: services.map((s) => ({
      id: s.serviceId,
      description: `game day: PostgreSQL primary and streaming replica on 127.0.0.1 (${s.nodes.map((n) => `${n.nodeId}:${n.port}`).join(', ')})`,
      initialPrimary: 'db-a',
      router: {
        type: 'route53',
        hostedZoneId,
        zoneName: ZONE_NAME,
        recordName: recordName(s.serviceId),
        recordType: 'CNAME',
        ttlSeconds: TTL_SECONDS,
      },
      // The built-in SQL actions: pg_promote() to promote, read-only plus ended sessions to fence
      // and demote. The superuser's credentials are in Secrets Manager (moto), never in the config.
      actions: {
        fence: { type: 'postgres' },
        promote: { type: 'postgres' },
        demote: { type: 'postgres' },
      },
      nodes: s.nodes.map((n) => ({
        id: n.nodeId,
        address: nodeAddress(s.serviceId, n.nodeId),
        // Plain TCP: the local servers have no certificates (a deployment keeps the default, TLS on).
        sql: { host: '127.0.0.1', port: n.port, database: 'postgres', secretArn, tls: false },
        health: { type: 'alarm', alarmName: healthAlarm(s.serviceId, n.nodeId) },
        lag: {
          namespace: PROBE_NAMESPACE,
          metricName: PROBE_METRICS.replicationLagSeconds,
          dimensions: { [PROBE_DIMENSIONS.service]: s.serviceId, [PROBE_DIMENSIONS.node]: n.nodeId },
          statistic: 'Maximum',
          periodSeconds: 10,
        },
      })),
      policy: POLICY,
      switchover: { pollIntervalSeconds: 1, catchUpTimeoutSeconds: 30 },
    })),
  };
  return parseConfig(input);
}

/**
 * The health alarm of a node whose signal is an existing alarm (`health.type: 'alarm'`): the stack
 * creates nothing for it, so the game day creates it as the probe's health alarm is specified:
 * `Healthy` at 10 s, 2 of 2 datapoints below 1, missing data breaching.
 */
export function probeHealthAlarms(config: FailoverConfig): AlarmDefinition[] {
  return config.services.flatMap((s) =>
    s.nodes.flatMap((n) =>
      n.health.type === 'alarm'
        ? [
            {
              alarmName: n.health.alarmName,
              namespace: PROBE_NAMESPACE,
              metricName: PROBE_METRICS.healthy,
              dimensions: { [PROBE_DIMENSIONS.service]: s.id, [PROBE_DIMENSIONS.node]: n.id },
              statistic: 'Minimum',
              periodSeconds: 10,
              evaluationPeriods: 2,
              datapointsToAlarm: 2,
              threshold: 1,
              comparison: 'LessThanThreshold',
              treatMissingData: 'breaching' as const,
            },
          ]
        : [],
    ),
  );
}
