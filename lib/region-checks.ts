/**
 * What a configuration needs from the region the stack is deployed to, checked at synth against
 * that region even when the stack is env-agnostic: `cdk deploy` of an env-agnostic stack deploys
 * to the CLI's default region (CDK_DEFAULT_REGION), so a mismatch fails there just the same, only
 * later (a Route 53 health-check alarm that never sees a datapoint, a load balancer the Lambdas
 * cannot reach).
 *
 * Works on the raw JSON as well as on a parsed configuration (the same field names), so the
 * problems it finds are reported together with the schema's.
 */
import type { ConfigProblem } from '../lambdas/domain/errors.ts';

/** Where the region came from, for the message: `-c region` or the CLI's default region. */
export type RegionSource = 'context' | 'default';

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The region field of an ARN (`arn:partition:service:region:account:resource`). */
function arnRegion(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 ? parts[3] : undefined;
}

export function regionProblems(config: unknown, region: string, source: RegionSource): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const where =
    source === 'context'
      ? `the stack's region ${region} (-c region)`
      : `the region cdk deploys this env-agnostic stack to, ${region} (CDK_DEFAULT_REGION, from AWS_REGION or the profile; pass -c region=... to choose another)`;
  const sameRegion = (path: string, arn: unknown, why: string) => {
    if (typeof arn !== 'string') return;
    const r = arnRegion(arn);
    if (r !== undefined && r !== region) {
      problems.push({
        path,
        message: `is in ${r}, not in ${where}: ${why}; deploy the stack to ${r} or name a resource in ${region}`,
        value: arn,
      });
    }
  };
  asArray(asObject(config)?.services).forEach((s, si) => {
    const service = asObject(s);
    if (!service) return;
    const router = asObject(service.router);
    const lbWhy = 'the Lambdas call Elastic Load Balancing in their own region';
    if (router?.type === 'elbv2-target')
      sameRegion(`services[${si}].router.targetGroupArn`, router.targetGroupArn, lbWhy);
    if (router?.type === 'elbv2-weighted')
      sameRegion(`services[${si}].router.listenerArn`, router.listenerArn, lbWhy);
    asArray(service.nodes).forEach((n, ni) => {
      const node = asObject(n);
      if (!node) return;
      if (router?.type === 'elbv2-weighted')
        sameRegion(`services[${si}].nodes[${ni}].targetGroupArn`, node.targetGroupArn, lbWhy);
      const health = asObject(node.health);
      if (health?.type === 'target-group-health') {
        sameRegion(
          `services[${si}].nodes[${ni}].health.targetGroupArn`,
          health.targetGroupArn,
          'ELB metrics are regional and the health alarm lives in the stack',
        );
      }
      if (health?.type === 'route53-health-check' && region !== 'us-east-1') {
        problems.push({
          path: `services[${si}].nodes[${ni}].health`,
          message: `a route53-health-check needs the stack in us-east-1 (Route 53 publishes HealthCheckStatus metrics only there), but ${where}; deploy the stack to us-east-1, or use the stack's node probe (health type "probe") or an "alarm" signal in ${region}`,
          value: health.type,
        });
      }
    });
  });
  return problems;
}
