/**
 * The readiness check's view of the live routing: for Route 53 the record set itself (values, TTL,
 * set identifier, alias), read by the router's own zone walks (Route53Router.liveRecords: one
 * paginated ListResourceRecordSets walk per hosted zone, zones one after the other); for ELB the
 * node the target group or listener sends traffic to (ElbRouter.current: one DescribeTargetHealth
 * or DescribeListeners per service), a few services at a time.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { type FailoverConfig, findService } from '../domain/config.ts';
import { UnknownServiceError } from '../domain/errors.ts';
import type { LiveRecord, LiveRouting, RoutingReadPort } from '../domain/readiness.ts';
import { ElbRouter } from './elb-router.ts';
import { Route53Router } from './route53-router.ts';

/** ELB Describe calls in flight at once (ELBv2 allows far more; this keeps a pass gentle). */
const ELB_CONCURRENCY = 4;

export interface AwsRoutingReaderProps {
  readonly config: FailoverConfig;
  /** Paced by the caller (lambdas/aws/pacing.ts) to stay inside the account's 5 requests/s. */
  readonly route53: Route53Client;
  readonly elb: ElasticLoadBalancingV2Client;
}

export class AwsRoutingReader implements RoutingReadPort {
  private readonly config: FailoverConfig;
  private readonly route53: Route53Router;
  private readonly elb: ElbRouter;

  constructor(props: AwsRoutingReaderProps) {
    this.config = props.config;
    this.route53 = new Route53Router({ services: props.config.services, client: props.route53 });
    this.elb = new ElbRouter({ services: props.config.services, client: props.elb });
  }

  async readAll(serviceIds: readonly string[]): Promise<ReadonlyMap<string, LiveRouting>> {
    const dns: string[] = [];
    const lb: { id: string; type: 'elbv2-target' | 'elbv2-weighted' }[] = [];
    for (const id of new Set(serviceIds)) {
      const service = findService(this.config, id);
      if (!service) throw new UnknownServiceError(id);
      if (service.router.type === 'route53') dns.push(id);
      else lb.push({ id, type: service.router.type });
    }
    const out = new Map<string, LiveRouting>();
    const [records] = await Promise.all([
      dns.length ? this.route53.liveRecords(dns) : new Map<string, ResourceRecordSet | undefined>(),
      (async () => {
        let next = 0;
        const worker = async () => {
          while (next < lb.length) {
            const s = lb[next++] as (typeof lb)[number];
            try {
              const node = await this.elb.current(s.id);
              out.set(s.id, { type: s.type, ...(node !== undefined ? { node } : {}) });
            } catch {
              // Unknown: absent from the answer.
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(ELB_CONCURRENCY, lb.length) }, worker));
      })(),
    ]);
    for (const [id, record] of records) {
      out.set(id, { type: 'route53', ...(record ? { record: toLiveRecord(record) } : {}) });
    }
    return out;
  }
}

export function toLiveRecord(r: ResourceRecordSet): LiveRecord {
  return {
    values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ''),
    ...(r.TTL !== undefined ? { ttlSeconds: r.TTL } : {}),
    ...(r.SetIdentifier !== undefined ? { setIdentifier: r.SetIdentifier } : {}),
    alias: r.AliasTarget !== undefined,
  };
}
