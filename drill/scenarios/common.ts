/**
 * Building blocks for scenario services: nodes watched by a CloudWatch alarm each, named as the
 * stack names the health alarms it creates (`failover-<service>-<node>-health`, so the drill's
 * timeline shows the names a deployed stack has; evaluated by the simulated CloudWatch), lag published as
 * `Drill/Replication ReplicationLagSeconds` every 10 s.
 */
import { stackHealthAlarmName } from '../../lambdas/domain/config.ts';
import type {
  Check,
  Driver,
  Scenario,
  ScenarioOutcome,
  ScenarioResources,
  ServiceInput,
} from '../scenario.ts';

type NodeInput = ServiceInput['nodes'][number];
type PolicyInput = NonNullable<ServiceInput['policy']>;

export const LAG_NAMESPACE = 'Drill/Replication';

function node(serviceId: string, id: string, extra: Partial<NodeInput>): NodeInput {
  return {
    id,
    ...extra,
    health: { type: 'alarm', alarmName: stackHealthAlarmName(serviceId, id) },
    lag: {
      namespace: LAG_NAMESPACE,
      metricName: 'ReplicationLagSeconds',
      dimensions: { Service: serviceId, Node: id },
      periodSeconds: 10,
    },
  };
}

export interface DnsServiceOptions {
  readonly id: string;
  readonly description: string;
  /** Node id -> IPv4 address (the record value while it is primary). First is the initial primary. */
  readonly nodes: Readonly<Record<string, string>>;
  readonly record: string;
  readonly ttlSeconds?: number;
  readonly policy?: PolicyInput;
  /** Fence, promote and demote hooks (simulated Lambdas acting on the nodes). */
  readonly hooks?: boolean;
  /**
   * Fence, promote and demote node actions (`lambda` kind, whole ARNs in the stack's account),
   * which the failover Lambda's role-change engine runs; the drill runs them on MemoryNodeActions.
   */
  readonly actions?: boolean;
  readonly switchover?: ServiceInput['switchover'];
}

export function hookArn(serviceId: string, action: 'fence' | 'promote' | 'demote'): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:${serviceId}-${action}`;
}

/** A Route 53-routed service: an A record whose value is the primary's address. */
export function dnsService(options: DnsServiceOptions, resources: ScenarioResources): ServiceInput {
  const ids = Object.keys(options.nodes);
  return {
    id: options.id,
    description: options.description,
    initialPrimary: ids[0]!,
    router: {
      type: 'route53',
      hostedZoneId: resources.hostedZoneId,
      zoneName: resources.zoneName,
      recordName: `${options.record}.${resources.zoneName}`,
      recordType: 'A',
      ttlSeconds: options.ttlSeconds ?? 15,
    },
    nodes: ids.map((id) => node(options.id, id, { address: options.nodes[id]! })),
    policy: options.policy ?? {},
    ...(options.switchover ? { switchover: options.switchover } : {}),
    ...(options.hooks
      ? {
          hooks: {
            fence: hookArn(options.id, 'fence'),
            promote: hookArn(options.id, 'promote'),
            demote: hookArn(options.id, 'demote'),
            timeoutSeconds: 60,
          },
        }
      : {}),
    ...(options.actions
      ? {
          actions: {
            fence: { type: 'lambda', functionArn: hookArn(options.id, 'fence'), timeoutSeconds: 30 },
            promote: { type: 'lambda', functionArn: hookArn(options.id, 'promote'), timeoutSeconds: 60 },
            demote: { type: 'lambda', functionArn: hookArn(options.id, 'demote'), timeoutSeconds: 30 },
          },
        }
      : {}),
  };
}

/** A scenario's service routed by a DNS record (dnsService): its id, router and service. */
export function onDnsRecord(options: DnsServiceOptions): Pick<Scenario, 'serviceId' | 'router' | 'service'> {
  return { serviceId: options.id, router: 'route53', service: (resources) => dnsService(options, resources) };
}

/** A scenario's service behind an ALB listener (weightedService): its id, router and service. */
export function behindAlb(
  options: WeightedServiceOptions,
): Pick<Scenario, 'serviceId' | 'router' | 'service'> {
  return {
    serviceId: options.id,
    router: 'elbv2-weighted',
    service: (resources) => weightedService(options, resources),
  };
}

export interface WeightedServiceOptions {
  readonly id: string;
  readonly description: string;
  readonly nodes: readonly string[];
  readonly policy?: PolicyInput;
}

/** An ALB-routed service: the listener forwards 100% to the primary's own target group. */
export function weightedService(options: WeightedServiceOptions, resources: ScenarioResources): ServiceInput {
  const elb = resources.elb;
  if (!elb) throw new Error(`service ${options.id} needs a listener and target groups`);
  return {
    id: options.id,
    description: options.description,
    initialPrimary: options.nodes[0]!,
    router: { type: 'elbv2-weighted', listenerArn: elb.listenerArn },
    nodes: options.nodes.map((id) => {
      const targetGroupArn = elb.targetGroupArns[id];
      if (!targetGroupArn) throw new Error(`no target group for ${options.id}/${id}`);
      return node(options.id, id, { targetGroupArn });
    }),
    policy: options.policy ?? {},
  };
}

/** A named check: `ok` with what was seen, so a failure says what happened instead. */
export function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

export function holdsOf(o: ScenarioOutcome): { reason: string; at: number }[] {
  return o.invocations
    .filter((i) => i.result?.outcome === 'held')
    .map((i) => ({ reason: String(i.result?.reason), at: i.at }));
}

export function notificationKinds(o: ScenarioOutcome): string[] {
  return o.notifications.map((n) => n.kind);
}

export function count<T>(items: readonly T[], pred: (t: T) => boolean): number {
  return items.filter(pred).length;
}

/** The reasons of every hold, in order, joined for a check's detail. */
export function holdReasons(o: ScenarioOutcome): string {
  return holdsOf(o)
    .map((h) => h.reason)
    .join(', ');
}

/** `node` is the recorded primary at `epoch`. */
export function primaryAt(o: ScenarioOutcome, node: string, epoch: number): Check {
  return check(
    `${node} is the primary at epoch ${epoch}`,
    o.primary === node && o.epoch === epoch,
    `primary ${o.primary}, epoch ${o.epoch}`,
  );
}

/**
 * The nodes' actions never left two writers: checked every second and after every action, and
 * only `writer` accepts writes at the end.
 */
export function neverTwoWriters(o: ScenarioOutcome, writer: string): Check {
  const writers = o.nodeActions;
  return check(
    'never two writers (checked every second and after every action)',
    writers !== undefined &&
      writers.maxWriters <= 1 &&
      writers.splitBrain.length === 0 &&
      writers.writerChecks >= o.durationSeconds &&
      writers.writersAtEnd.join() === writer,
    writers
      ? `at most ${writers.maxWriters} writer(s) over ${writers.writerChecks} checks; writers at the end: ${writers.writersAtEnd.join(', ')}`
      : 'no node actions',
  );
}

/** The usual pair at t=0: db-a the primary, db-b its replica `lagSeconds` behind. */
export function replicaBehind(lagSeconds: number): Scenario['nodes'] {
  return { 'db-a': {}, 'db-b': { lagSeconds } };
}

/** What happens when, in order: each entry waits until its second, then acts. */
export type Timeline = readonly (readonly [seconds: number, act: (d: Driver) => unknown])[];

/** A scenario script that plays `timeline`. */
export function scripted(timeline: Timeline): Scenario['run'] {
  return async (d) => {
    for (const [seconds, act] of timeline) {
      await d.at(seconds);
      await act(d);
    }
  };
}
