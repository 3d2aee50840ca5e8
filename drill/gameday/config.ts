/**
 * The configuration the game day deploys, as an operator would write it: one service per scenario
 * (so scenarios never see each other's state, alarms or datapoints), each a PostgreSQL primary and a
 * streaming replica behind a Route 53 CNAME with a 5 s TTL, health and lag from the stack's probe,
 * and the built-in `postgres` node actions.
 *
 * Node addresses: on one machine every PostgreSQL listens on 127.0.0.1 with its own port. The
 * record's values are per-node host names (`db-a.<service>.nodes.gameday.test`) that the game day
 * maps to 127.0.0.1:<port> (see client.ts), as /etc/hosts and a fixed port would on real hosts.
 */
import { type FailoverConfig, parseConfig } from '../../lambdas/domain/config.ts';

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

/** The game day's configuration for these services, validated exactly as `cdk synth` validates it. */
export function gameDayConfig(
  hostedZoneId: string,
  secretArn: string,
  services: readonly ServiceSpec[],
): FailoverConfig {
  // Node probes complete the service's probe defaults when parsed (the input type cannot say so).
  const input = {
    stackName: 'FailoverGameDay',
    // The game day runs every enabled schedule against moto; its scenarios count notifications, and
    // the readiness check has its own moto suite (test/wire/readiness.test.ts).
    readiness: { enabled: false },
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
      // The stack's PostgreSQL probe: health and lag of every node come from it (no health or lag
      // block needed). Subnets and security groups are placeholders: here the probe runs on this
      // machine, next to the databases. Plain TCP: the local servers have no certificates.
      probe: {
        kind: 'postgres',
        subnets: ['subnet-0a1b2c3d4e5f60708'],
        securityGroups: ['sg-0a1b2c3d4e5f60708'],
        intervalSeconds: PROBE_INTERVAL_SECONDS,
        timeoutSeconds: 2,
        database: 'postgres',
        secretArn,
        tls: 'disable',
      },
      // The built-in SQL actions, on the probe's connection: pg_promote() to promote, read-only plus
      // ended sessions to fence and demote.
      actions: {
        fence: { type: 'postgres' },
        promote: { type: 'postgres' },
        demote: { type: 'postgres' },
      },
      nodes: s.nodes.map((n) => ({
        id: n.nodeId,
        address: nodeAddress(s.serviceId, n.nodeId),
        probe: { host: '127.0.0.1', port: n.port },
      })),
      policy: POLICY,
      switchover: { pollIntervalSeconds: 1, catchUpTimeoutSeconds: 30 },
    })),
  };
  return parseConfig(input);
}
