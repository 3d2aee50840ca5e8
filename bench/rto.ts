/**
 * The RTO model (lambdas/domain/rto.ts) for the sample configuration, whose nodes are probed by the
 * stack (a Healthy alarm of 2 x 10 s), against the same services with the signals AWS publishes
 * once a minute (a Route 53 health check, the target group's HealthyHostCount) as the baseline.
 */
import { join } from 'node:path';
import type { FailoverConfig, ServiceConfig } from '../lambdas/domain/config.ts';
import { parseConfig } from '../lambdas/domain/config.ts';
import { estimateRto, formatRto, type RtoEstimate } from '../lambdas/domain/rto.ts';
import { loadConfigFile } from '../lib/config-loader.ts';
import type { Figure } from './report.ts';

const PROJECT_ROOT = join(import.meta.dirname, '..');
const LOAD_BALANCER =
  'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/git-alb/0123456789abcdef';

/** The sample's services with the once-a-minute AWS health signals instead of the probe. */
export function withoutProbes(config: FailoverConfig): FailoverConfig {
  return parseConfig({
    ...config,
    services: config.services.map((s: ServiceConfig) => {
      const { probe: _defaults, ...service } = s;
      return {
        ...service,
        nodes: s.nodes.map(({ probe, ...node }, i) => ({
          ...node,
          health:
            s.router.type === 'route53'
              ? {
                  type: 'route53-health-check',
                  protocol: 'TCP',
                  // Route 53's checkers need an internet-reachable address (the RTO does not
                  // depend on which): a documentation one stands in for the private node.
                  host: `192.0.2.${10 + i}`,
                  port: probe?.port ?? 5432,
                }
              : {
                  type: 'target-group-health',
                  targetGroupArn: node.targetGroupArn,
                  loadBalancerArn: LOAD_BALANCER,
                },
        })),
      };
    }),
  });
}

export interface RtoResult {
  readonly sample: readonly RtoEstimate[];
  readonly baseline: readonly RtoEstimate[];
}

export function measureRto(): RtoResult {
  const sample = loadConfigFile(join(PROJECT_ROOT, 'config', 'failover.json'));
  return {
    sample: sample.services.map((s) => estimateRto(s)),
    baseline: withoutProbes(sample).services.map((s) => estimateRto(s)),
  };
}

export function rtoLines(r: RtoResult): string[] {
  return [
    'sample configuration (config/failover.json), probed nodes:',
    ...r.sample.map((e) => `  ${formatRto(e)}`),
    'baseline: the same services on AWS health signals published once a minute:',
    ...r.baseline.map((e) => `  ${formatRto(e)}`),
  ];
}

export function rtoFigures(r: RtoResult): Figure[] {
  const section = 'RTO model (worst case, s)';
  const dnsGoal = { op: '<=' as const, value: 45 };
  const lbGoal = { op: '<=' as const, value: 35 };
  const figures: Figure[] = [];
  for (const e of r.sample) {
    if (!e.total) continue;
    const dns = e.router === 'route53';
    const base = r.baseline.find((b) => b.serviceId === e.serviceId);
    figures.push({
      section,
      name: `${e.serviceId} (sample, ${dns ? 'DNS' : 'load balancer'}): ${e.detection?.basis.split(',')[0]}`,
      value: e.total.worst,
      unit: 's',
      ...(base?.total ? { baseline: { label: 'AWS health signal', value: base.total.worst } } : {}),
      goal: dns ? dnsGoal : lbGoal,
    });
  }
  return figures;
}
