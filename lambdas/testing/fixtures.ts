/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * Small, valid configurations for tests, the drill and benchmarks. Everything goes through the
 * real schema (`parseConfig`), so defaults and cross-checks are the ones production sees.
 */
import { type FailoverConfig, type FailoverConfigInput, parseConfig } from '../domain/config.ts';

type ServiceInput = FailoverConfigInput['services'][number];
type PolicyInput = NonNullable<ServiceInput['policy']>;

export interface Route53ServiceOptions {
  readonly id?: string;
  /** Node ids, in priority order unless `priorities` says otherwise. @default ['a', 'b'] */
  readonly nodes?: readonly string[];
  readonly priorities?: readonly (number | undefined)[];
  /** @default first node */
  readonly initialPrimary?: string;
  readonly policy?: PolicyInput;
  /** Services sharing a zone id are changed in one atomic batch by the in-memory router. @default Z0000000000TEST */
  readonly hostedZoneId?: string;
  /** Index used to make record names and addresses unique across services. @default 0 */
  readonly index?: number;
}

/** A Route 53-routed service whose nodes use `alarm` health signals named `<service>-<node>-health`. */
export function route53Service(options: Route53ServiceOptions = {}): ServiceInput {
  const index = options.index ?? 0;
  const id = options.id ?? `svc-${index}`;
  const nodes = options.nodes ?? ['a', 'b'];
  return {
    id,
    initialPrimary: options.initialPrimary ?? nodes[0] ?? 'a',
    router: {
      type: 'route53',
      hostedZoneId: options.hostedZoneId ?? 'Z0000000000TEST',
      zoneName: 'example.com',
      recordName: `${id}.example.com`,
      recordType: 'A',
      ttlSeconds: 15,
    },
    nodes: nodes.map((nodeId, i) => ({
      id: nodeId,
      ...(options.priorities?.[i] !== undefined ? { priority: options.priorities[i] } : {}),
      address: `10.${Math.floor(index / 250) % 250}.${index % 250}.${i + 1}`,
      health: { type: 'alarm' as const, alarmName: `${id}-${nodeId}-health` },
      lag: {
        namespace: 'Test/Replication',
        metricName: 'LagSeconds',
        dimensions: { Service: id, Node: nodeId },
        periodSeconds: 10,
      },
    })),
    policy: options.policy ?? {},
  };
}

/** A validated configuration holding the given services (default: one two-node Route 53 service). */
export function testConfig(services: readonly ServiceInput[] = [route53Service()]): FailoverConfig {
  return parseConfig({ services });
}
