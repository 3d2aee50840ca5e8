import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { type FailoverConfig, findService } from '../domain/config.ts';
import { UnknownServiceError } from '../domain/errors.ts';
import type { TrafficPort } from '../domain/ports.ts';
import type { TrafficChange, TrafficShiftResult } from '../domain/types.ts';
import { ElbRouter } from './elb-router.ts';
import { Route53Router } from './route53-router.ts';

export interface TrafficRouterProps {
  readonly config: FailoverConfig;
  /** @default - a new Route53Client with the default providers */
  readonly route53?: Route53Client;
  /** @default - a new ElasticLoadBalancingV2Client with the default providers */
  readonly elb?: ElasticLoadBalancingV2Client;
  /** Waits between a hosted zone's batches while Route 53 is busy. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The TrafficPort over every router type: each service's change goes to its own router, Route 53
 * changes still batched per hosted zone across services. Results come back in input order.
 */
export class TrafficRouter implements TrafficPort {
  private readonly config: FailoverConfig;
  private readonly route53: Route53Router;
  private readonly elb: ElbRouter;

  constructor(props: TrafficRouterProps) {
    this.config = props.config;
    this.route53 = new Route53Router({
      services: props.config.services,
      ...(props.route53 ? { client: props.route53 } : {}),
      ...(props.sleep ? { sleep: props.sleep } : {}),
    });
    this.elb = new ElbRouter({
      services: props.config.services,
      ...(props.elb ? { client: props.elb } : {}),
    });
  }

  async shift(changes: readonly TrafficChange[]): Promise<readonly TrafficShiftResult[]> {
    const results: TrafficShiftResult[] = new Array(changes.length);
    const dns: { index: number; change: TrafficChange }[] = [];
    const lb: { index: number; change: TrafficChange }[] = [];
    changes.forEach((change, index) => {
      const service = findService(this.config, change.serviceId);
      if (!service) {
        results[index] = {
          serviceId: change.serviceId,
          status: 'failed',
          errorName: 'UnknownServiceError',
          message: new UnknownServiceError(change.serviceId).message,
          uncertain: false,
        };
      } else if (service.router.type === 'route53') dns.push({ index, change });
      else lb.push({ index, change });
    });
    const [dnsResults, lbResults] = await Promise.all([
      dns.length ? this.route53.shift(dns.map((d) => d.change)) : [],
      lb.length ? this.elb.shift(lb.map((d) => d.change)) : [],
    ]);
    dns.forEach((d, i) => {
      results[d.index] = dnsResults[i] as TrafficShiftResult;
    });
    lb.forEach((d, i) => {
      results[d.index] = lbResults[i] as TrafficShiftResult;
    });
    return results;
  }

  async current(serviceId: string): Promise<string | undefined> {
    const service = findService(this.config, serviceId);
    if (!service) throw new UnknownServiceError(serviceId);
    return service.router.type === 'route53' ? this.route53.current(serviceId) : this.elb.current(serviceId);
  }

  /** Route 53 services: one zone walk per hosted zone; ELB services: one read each, in parallel. */
  async currentAll(serviceIds: readonly string[]): Promise<ReadonlyMap<string, string | undefined>> {
    const dns: string[] = [];
    const lb: string[] = [];
    for (const id of new Set(serviceIds)) {
      const service = findService(this.config, id);
      if (!service) throw new UnknownServiceError(id);
      (service.router.type === 'route53' ? dns : lb).push(id);
    }
    const out = new Map(dns.length ? await this.route53.currentAll(dns) : []);
    await Promise.all(
      lb.map(async (id) => {
        try {
          out.set(id, await this.elb.current(id));
        } catch {
          // Unknown: absent from the answer.
        }
      }),
    );
    return out;
  }

  /** Route 53 `GetChange` for a changeId from `shift`; the workflow's verify step waits for INSYNC. */
  changeStatus(changeId: string): Promise<'PENDING' | 'INSYNC'> {
    return this.route53.changeStatus(changeId);
  }

  /** Route 53 services: a change id confirming the record holds `nodeId`'s value (Route53Router.confirmRecord). */
  async confirmRecord(serviceId: string, nodeId: string): Promise<string | undefined> {
    const service = findService(this.config, serviceId);
    if (!service) throw new UnknownServiceError(serviceId);
    return service.router.type === 'route53' ? this.route53.confirmRecord(serviceId, nodeId) : undefined;
  }

  /** Load-balancer health of a node (ELB-routed services only); undefined otherwise. */
  async targetHealth(serviceId: string, nodeId: string): Promise<string | undefined> {
    const service = findService(this.config, serviceId);
    if (!service) throw new UnknownServiceError(serviceId);
    return service.router.type === 'route53' ? undefined : this.elb.targetHealth(serviceId, nodeId);
  }
}
