/**
 * Partial outcomes inside multi-step traffic shifts, through the REAL adapters: automatic failover
 * (the Lambda entry point, with EventBridge's retries) over TrafficRouter -> ElbRouter /
 * Route53Router, whose SDK clients are stateful fakes that fail at every call site:
 *
 * - elbv2-target: the new target registered, then deregistering the old one fails (and so may the
 *   rollback), leaving both registered;
 * - elbv2-weighted: ModifyListener times out after ELB applied the new weights;
 * - route53: the change batch is applied but the answer is lost (timeout), and read-backs fail.
 *
 * Invariants are read from the fakes themselves (which targets are registered, which weights are
 * live, what the record says), not from what the adapters report.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { TrafficRouter } from '../../lambdas/aws/traffic-router.ts';
import type { FailoverConfig, ServiceConfig } from '../../lambdas/domain/config.ts';
import { makeHandler } from '../../lambdas/handlers/failover.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { configOf, elbTargetService, elbWeightedService, route53Service } from '../aws/fixtures.ts';
import { describePlans, exploreFaults, FaultInjector, type FaultPlan } from './support/faults.ts';
import { autoFailoverViolations, baseline } from './support/invariants.ts';
import { deliverPrimaryAlarm } from './support/lambda.ts';
import { recordFigures } from './support/results.ts';
import { FakeElb, FakeRoute53, SDK_KINDS } from './support/sdk-fakes.ts';

type RouterType = ServiceConfig['router']['type'];

const CONFIGS: Record<RouterType, FailoverConfig> = {
  'elbv2-target': configOf(
    elbTargetService('svc', { a: { id: 'i-0aaa', port: 5432 }, b: { id: 'i-0bbb', port: 5432 } }),
  ),
  'elbv2-weighted': configOf(elbWeightedService('svc', ['a', 'b'])),
  route53: configOf(route53Service('svc', { addresses: { a: '10.0.1.10', b: '10.0.2.10' } })),
};

/** Reviewed SDK call sites per router: a new call in an adapter fails the suite until listed. */
const KNOWN_SITES: Record<RouterType, readonly string[]> = {
  'elbv2-target': [
    // the compare read (exactly `from` registered), then register, deregister
    'elb.DescribeTargetHealth#1',
    'elb.RegisterTargets#1',
    'elb.DeregisterTargets#1',
    // rollback of the new target; the read-back after an uncertain call, or the retry's current()
    // (a retry under its own lease reads where traffic is before anything else)
    'elb.DeregisterTargets#2',
    'elb.DescribeTargetHealth#2',
    // a third read of the registered targets in one attempt, reached only along a path of faults
    // other than the first that opens the second one (everyPath)
    'elb.DescribeTargetHealth#3',
  ],
  'elbv2-weighted': ['elb.DescribeListeners#1', 'elb.ModifyListener#1', 'elb.DescribeListeners#2'],
  route53: ['route53.ChangeResourceRecordSets#1', 'route53.ListResourceRecordSets#1'],
};

interface World {
  readonly elb: FakeElb;
  readonly route53: FakeRoute53;
  live(): string | undefined;
}

function seed(service: ServiceConfig, elb: FakeElb, route53: FakeRoute53): World {
  const r = service.router;
  const primary = service.nodes.find((n) => n.id === service.initialPrimary)!;
  if (r.type === 'elbv2-target') {
    elb.register(r.targetGroupArn, { Id: primary.target!.id, Port: primary.target!.port });
    return {
      elb,
      route53,
      live: () => {
        const registered = [...(elb.targets.get(r.targetGroupArn)?.values() ?? [])];
        const nodes = registered.map((t) => service.nodes.find((n) => n.target?.id === t.Id));
        return nodes.length === 1 ? nodes[0]?.id : undefined;
      },
    };
  }
  if (r.type === 'elbv2-weighted') {
    elb.listeners.set(r.listenerArn, {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: service.nodes.map((n) => ({
          TargetGroupArn: n.targetGroupArn,
          Weight: n.id === primary.id ? 1 : 0,
        })),
      },
    });
    return {
      elb,
      route53,
      live: () => {
        const groups = elb.listeners.get(r.listenerArn)?.ForwardConfig?.TargetGroups ?? [];
        const liveGroups = groups.filter((g) => (g.Weight ?? 1) > 0);
        return liveGroups.length === 1
          ? service.nodes.find((n) => n.targetGroupArn === liveGroups[0]?.TargetGroupArn)?.id
          : undefined;
      },
    };
  }
  const id = `${r.recordName}. ${r.recordType}`;
  route53.records.set(id, { ttl: r.ttlSeconds, values: [primary.address!] });
  return {
    elb,
    route53,
    live: () => {
      const values = route53.records.get(id)?.values ?? [];
      return values.length === 1 ? service.nodes.find((n) => n.address === values[0])?.id : undefined;
    },
  };
}

async function run(type: RouterType, plans: readonly FaultPlan[]) {
  const config = CONFIGS[type];
  const service = config.services[0]!;
  const env = createMemoryEnvironment(config, { clock: { autoAdvance: false } });
  const injector = new FaultInjector(plans);
  const visit = (site: string) => injector.visit(site);
  const world = seed(service, new FakeElb(visit), new FakeRoute53(visit));
  const traffic = new TrafficRouter({
    config,
    route53: world.route53.client,
    elb: world.elb.client as ElasticLoadBalancingV2Client,
  });
  const handler = makeHandler({ ...env, traffic });
  const before = await baseline(env, service.id);
  const delivery = await deliverPrimaryAlarm(env, service.id, handler, () => {
    env.lag.put(service.id, 'b', 1, env.clock.now() - 5_000);
    world.elb.newInvocation();
    world.route53.newInvocation();
  });
  const violations = await autoFailoverViolations(env, service.id, before, delivery, { live: world.live });
  return { sites: injector.sites, result: { ...delivery, violations } };
}

describe.each<RouterType>(['elbv2-target', 'elbv2-weighted', 'route53'])(
  'automatic failover over the real %s adapter, SDK faults at every call',
  (type) => {
    it('keeps every invariant through partial shifts, and lists every SDK call site', async () => {
      const { sites, clean, runs } = await exploreFaults((plans) => run(type, plans), {
        kindsFor: () => SDK_KINDS,
        everyPath: true,
      });
      expect(clean.outcome).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', epoch: 1 });
      expect([...sites].sort()).toEqual([...KNOWN_SITES[type]].sort());
      const violations = runs.flatMap((r) =>
        r.result.violations.map((v) => `${describePlans(r.plans)}: ${v}`),
      );
      expect(violations).toEqual([]);
      // Any single one-off fault is absorbed: the adapter reads back, or the retry moves traffic.
      const notAbsorbed = runs
        .filter((r) => r.plans.length === 1 && r.plans[0]?.persistence === 'once')
        .filter((r) => r.result.outcome?.outcome !== 'failed-over')
        .map((r) => `${describePlans(r.plans)}: ${r.result.outcome?.outcome ?? 'dead-lettered'}`);
      expect(notAbsorbed).toEqual([]);

      if (process.env.RELIABILITY_DEBUG)
        for (const r of runs)
          console.log(
            type,
            describePlans(r.plans),
            '=>',
            r.result.outcome?.outcome,
            r.result.outcome?.reason,
            r.result.thrown.join(','),
          );
      const outcomes = new Map<string, number>();
      for (const r of runs) {
        const key = r.result.outcome?.outcome ?? 'dead-lettered';
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      recordFigures(`faults-adapter-${type}`, {
        label: `SDK faults in the ${type} adapter`,
        tried: runs.length,
        violations: violations.length,
        detail: `${sites.length} SDK call sites x ${SDK_KINDS.join('/')}, chained; outcomes: ${[...outcomes]
          .sort()
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
        order: type === 'elbv2-target' ? 13 : type === 'elbv2-weighted' ? 14 : 15,
      });
    });
  },
);

describe('automatic failover over the real elbv2-target adapter when traffic is already on another node', () => {
  // An earlier attempt moved a -> c and died before its commit (or a human moved it): the state
  // still names a. The retried failover picks b. Without the compare read, c and b both ended
  // registered: traffic on two nodes.
  const config = configOf(
    elbTargetService('svc', {
      a: { id: 'i-0aaa', port: 5432 },
      b: { id: 'i-0bbb', port: 5432 },
      c: { id: 'i-0ccc', port: 5432 },
    }),
  );
  const service = config.services[0]!;
  const tg = (service.router as { targetGroupArn: string }).targetGroupArn;

  async function runElsewhere(plans: readonly FaultPlan[]) {
    const env = createMemoryEnvironment(config, { clock: { autoAdvance: false } });
    const injector = new FaultInjector(plans);
    const elb = new FakeElb((site) => injector.visit(site));
    elb.register(tg, { Id: 'i-0ccc', Port: 5432 });
    const traffic = new TrafficRouter({ config, elb: elb.client as ElasticLoadBalancingV2Client });
    const handler = makeHandler({ ...env, traffic });
    const before = env.notifier.published.length;
    const delivery = await deliverPrimaryAlarm(env, service.id, handler, () => {
      env.lag.put(service.id, 'b', 1, env.clock.now() - 5_000);
      env.lag.put(service.id, 'c', 1, env.clock.now() - 5_000);
      elb.newInvocation();
    });
    const violations: string[] = [];
    const registered = [...(elb.targets.get(tg)?.values() ?? [])].map((t) => t.Id).sort();
    if (registered.join() !== 'i-0ccc')
      violations.push(`registered after the run: ${registered.join(', ') || 'none'}`);
    if ((env.state.snapshot(service.id)?.epoch ?? 0) !== 0) violations.push('a role change was recorded');
    const told = env.notifier.published.slice(before).some((n) => n.kind === 'failover-failed');
    if (!told && delivery.thrown.length !== delivery.attempts) violations.push('nobody was told');
    return { sites: injector.sites, result: { ...delivery, violations } };
  }

  it('refuses (conflict, reported) under every SDK fault, never leaving two nodes registered', async () => {
    const { clean, runs } = await exploreFaults(runElsewhere, { kindsFor: () => SDK_KINDS });
    expect(clean.outcome).toMatchObject({ outcome: 'conflict' });
    const violations = [clean, ...runs.map((r) => r.result)].flatMap((r, i) =>
      r.violations.map((v) => `${i === 0 ? 'clean' : describePlans(runs[i - 1]!.plans)}: ${v}`),
    );
    expect(violations).toEqual([]);
    recordFigures('faults-adapter-elbv2-target-elsewhere', {
      label: 'elbv2-target with traffic already on another node',
      tried: runs.length + 1,
      violations: violations.length,
      detail:
        'state names a, c registered, failover to b; every SDK call site x throttle/server-error/timeout',
      order: 13.5,
    });
  });
});
