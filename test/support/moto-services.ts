/**
 * Route 53-routed database services as the moto suites' operators write them (the wire suites,
 * the moto races): health alarms `<label>-<service>-<node>-health`, lag under
 * `<Label>/Replication`, and a hosted-zone id placeholder that `scene.ports()` replaces with the
 * zone moto created. One builder, so the suites differ only where their scenario does.
 */
import type { FailoverConfigInput, LagMetric } from '../../lambdas/domain/config.ts';

type ServiceInput = FailoverConfigInput['services'][number];

/** What names a suite's alarms, metrics and zone: `wire` -> `wire-...-health`, `Wire/Replication`. */
export type MotoLabel = 'wire' | 'race';

export const motoAlarmName = (label: MotoLabel, service: string, node: string) =>
  `${label}-${service}-${node}-health`;

/** A lag metric as the configuration file states it (the statistic may be left to the default). */
export type MotoLagMetric = Omit<LagMetric, 'statistic'> & { readonly statistic?: LagMetric['statistic'] };

export interface MotoLagOptions {
  readonly periodSeconds: number;
  /** @default - the configuration's default statistic */
  readonly statistic?: 'Maximum';
}

export function motoLagMetric(
  label: MotoLabel,
  service: string,
  node: string,
  lag: MotoLagOptions,
): MotoLagMetric {
  return {
    namespace: `${label[0]?.toUpperCase()}${label.slice(1)}/Replication`,
    metricName: 'ReplicationLagSeconds',
    dimensions: { Service: service, Node: node },
    ...(lag.statistic ? { statistic: lag.statistic } : {}),
    periodSeconds: lag.periodSeconds,
  };
}

export interface MotoDbServiceOptions {
  readonly label: MotoLabel;
  readonly id: string;
  /** The A record traffic moves on, e.g. `db.wire.example.com`; its parent is the zone. */
  readonly record: string;
  /** Node id -> address, the first node the initial primary. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly lag: MotoLagOptions;
  /** Policy, hooks, switchover settings: whatever the suite's scenario needs. */
  readonly rest?: Partial<Omit<ServiceInput, 'id' | 'initialPrimary' | 'router' | 'nodes'>>;
}

/** A Route 53-routed service with alarm health signals and lag metrics, TTL 15 s. */
export function motoDbService(options: MotoDbServiceOptions): ServiceInput {
  const { label, id } = options;
  const nodes = Object.keys(options.addresses);
  return {
    id,
    initialPrimary: nodes[0] ?? 'a',
    router: {
      type: 'route53',
      hostedZoneId: `Z0000${label.toUpperCase()}PLACEHOLDER`,
      zoneName: options.record.slice(options.record.indexOf('.') + 1),
      recordName: options.record,
      recordType: 'A',
      ttlSeconds: 15,
    },
    nodes: nodes.map((node) => ({
      id: node,
      address: options.addresses[node] ?? '',
      health: { type: 'alarm' as const, alarmName: motoAlarmName(label, id, node) },
      lag: motoLagMetric(label, id, node, options.lag),
    })),
    ...options.rest,
  };
}
