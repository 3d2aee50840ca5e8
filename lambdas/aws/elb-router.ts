/**
 * Moves traffic with an Application/Network Load Balancer, two ways:
 *
 * - `elbv2-target`: one target group whose only registered target is the primary. ELB has no
 *   conditional write, so the move is a read-compare-write like the weighted listener's: the
 *   registered targets are read first, and the move goes on only when exactly `from` is
 *   registered (otherwise a conflict, nothing changed). The new primary is registered first and
 *   the old one deregistered second, so there is never a moment with no target (at worst,
 *   briefly, two); if deregistration fails we roll back to the old target only, and if that fails
 *   too the result says which two targets are registered, for a human to repair.
 * - `elbv2-weighted`: a listener whose default action forwards to per-node target groups. One
 *   ModifyListener sets weight 1 on the new primary's group and 0 on the others, which ELB applies
 *   atomically.
 */
import {
  type Action,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RegisterTargetsCommand,
  type TargetDescription,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { NodeConfig, ServiceConfig } from '../domain/config.ts';
import { InvalidInputError, TransientAwsError, UnknownServiceError } from '../domain/errors.ts';
import type { TrafficChange, TrafficShiftResult } from '../domain/types.ts';
import { describeAwsError, isUncertain, rethrowAws } from './errors.ts';

type ElbService = ServiceConfig & { router: { type: 'elbv2-target' | 'elbv2-weighted' } };
type TargetRouter = Extract<ServiceConfig['router'], { type: 'elbv2-target' }>;
type WeightedRouter = Extract<ServiceConfig['router'], { type: 'elbv2-weighted' }>;
type Result = TrafficShiftResult;

export interface ElbRouterProps {
  /** Services to route; those with another router type are ignored. */
  readonly services: readonly ServiceConfig[];
  /** @default - a new ElasticLoadBalancingV2Client with the default providers */
  readonly client?: ElasticLoadBalancingV2Client;
}

/** Target states in which a target no longer receives new requests. */
const LEAVING_STATES = new Set(['draining', 'unhealthy.draining']);
const NOT_REGISTERED_REASONS = new Set(['Target.NotRegistered', 'Target.DeregistrationInProgress']);

export class ElbRouter {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly services: ReadonlyMap<string, ElbService>;

  constructor(props: ElbRouterProps) {
    this.client = props.client ?? new ElasticLoadBalancingV2Client({});
    this.services = new Map(
      props.services
        .filter(
          (s): s is ElbService => s.router.type === 'elbv2-target' || s.router.type === 'elbv2-weighted',
        )
        .map((s) => [s.id, s]),
    );
  }

  /** Services are independent resources, so they are shifted in parallel; results in input order. */
  async shift(changes: readonly TrafficChange[]): Promise<readonly Result[]> {
    const seen = new Set<string>();
    return Promise.all(
      changes.map((change) => {
        if (seen.has(change.serviceId)) {
          return failed(
            change,
            'InvalidInputError',
            `more than one change for ${change.serviceId} in one shift`,
          );
        }
        seen.add(change.serviceId);
        return this.shiftOne(change);
      }),
    );
  }

  /** The node traffic goes to now; undefined when none, several, or something that is not a node. */
  async current(serviceId: string): Promise<string | undefined> {
    const service = this.service(serviceId);
    if (service.router.type === 'elbv2-target') {
      const registered = (await this.describeTargets(service.router.targetGroupArn)).filter(isRegistered);
      const nodes = registered.map((d) => nodeForTarget(service, d.Target));
      // A target that is not one of our nodes also takes traffic: that is not "exactly one node".
      if (nodes.length !== 1 || !nodes[0]) return undefined;
      return nodes[0].id;
    }
    const action = await this.describeDefaultActions(service.router as WeightedRouter);
    return liveNode(service, action)?.id;
  }

  /**
   * Health of one node as the load balancer sees it (`healthy`, `initial`, `unhealthy`, ...), for
   * the workflow's verify step; undefined when the node is not registered.
   */
  async targetHealth(serviceId: string, nodeId: string): Promise<string | undefined> {
    const service = this.service(serviceId);
    const node = service.nodes.find((n) => n.id === nodeId);
    if (!node) throw new InvalidInputError(`unknown node ${JSON.stringify(nodeId)} in service ${serviceId}`);
    if (service.router.type === 'elbv2-target') {
      if (!node.target) return undefined;
      const [d] = await this.describeTargets(service.router.targetGroupArn, [toTarget(node)]);
      return d && isRegistered(d) ? d.TargetHealth?.State : undefined;
    }
    if (!node.targetGroupArn) return undefined;
    const states = (await this.describeTargets(node.targetGroupArn))
      .filter(isRegistered)
      .map((d) => d.TargetHealth?.State);
    // A node's own target group counts as healthy when any of its targets is.
    return states.includes('healthy') ? 'healthy' : states[0];
  }

  private service(serviceId: string): ElbService {
    const service = this.services.get(serviceId);
    if (!service) throw new UnknownServiceError(serviceId);
    return service;
  }

  private async shiftOne(change: TrafficChange): Promise<Result> {
    const service = this.services.get(change.serviceId);
    if (!service) {
      return failed(
        change,
        'UnknownServiceError',
        `no ELB-routed service ${JSON.stringify(change.serviceId)}`,
      );
    }
    const from = service.nodes.find((n) => n.id === change.from);
    const to = service.nodes.find((n) => n.id === change.to);
    if (!from || !to) {
      return failed(
        change,
        'InvalidInputError',
        `${change.serviceId} has no node ${!from ? change.from : change.to}`,
      );
    }
    if (from.id === to.id) {
      return failed(
        change,
        'InvalidInputError',
        `${change.serviceId}: from and to are the same node (${from.id})`,
      );
    }
    return service.router.type === 'elbv2-target'
      ? this.moveTarget(service, service.router as TargetRouter, change, from, to)
      : this.moveWeights(service, service.router as WeightedRouter, change, to);
  }

  /**
   * The compare half of the target move (ELB has no conditional write). Registering `to` and
   * deregistering `from` without looking would leave two nodes registered whenever traffic was not
   * on `from` (a human moved it, or an earlier attempt moved it elsewhere and died before its
   * commit). Go on only when exactly `from` is registered; exactly `to` is our own earlier attempt
   * (already shifted); `from` and `to` together is our own attempt that died between its two
   * calls, finished by deregistering `from`. Anything else is a conflict, nothing changed.
   */
  private async compareTargets(
    service: ElbService,
    tg: string,
    change: TrafficChange,
    from: NodeConfig,
    to: NodeConfig,
  ): Promise<Result | 'move'> {
    let registered: TargetHealthDescription[];
    try {
      registered = (await this.describeTargets(tg)).filter(isRegistered);
    } catch (err) {
      const cause = err instanceof TransientAwsError && err.cause !== undefined ? err.cause : err;
      const { errorName, message } = describeAwsError(cause);
      return failed(
        change,
        errorName,
        `reading target group ${tg} failed, nothing changed, traffic stays on ${from.id}: ${message}`,
      );
    }
    const nodes = registered.map((d) => nodeForTarget(service, d.Target));
    const ids = new Set(nodes.map((n) => n?.id));
    const only = (...wanted: string[]) =>
      nodes.length === wanted.length &&
      nodes.every((n) => n !== undefined) &&
      wanted.every((w) => ids.has(w));
    if (only(from.id)) return 'move';
    if (only(to.id)) return { serviceId: change.serviceId, status: 'shifted' };
    if (only(from.id, to.id)) return 'move';
    const [single] = nodes;
    const observed = nodes.length === 1 && single ? single.id : undefined;
    const seen = registered.map((d) => {
      const node = nodeForTarget(service, d.Target);
      return node ? `${node.id} (${label(d.Target ?? { Id: '?' })})` : label(d.Target ?? { Id: '?' });
    });
    return {
      serviceId: change.serviceId,
      status: 'conflict',
      ...(observed !== undefined ? { observed } : {}),
      message: `target group ${tg} has ${seen.length ? seen.join(', ') : 'no target'} registered, not exactly ${from.id} (${label(toTarget(from))}): nothing changed`,
    };
  }

  private async moveTarget(
    service: ElbService,
    router: TargetRouter,
    change: TrafficChange,
    from: NodeConfig,
    to: NodeConfig,
  ): Promise<Result> {
    if (!from.target || !to.target) {
      return failed(change, 'InvalidInputError', `${change.serviceId}: both nodes need a target`);
    }
    const tg = router.targetGroupArn;
    const oldTarget = toTarget(from);
    const newTarget = toTarget(to);
    const compared = await this.compareTargets(service, tg, change, from, to);
    if (compared !== 'move') return compared;
    try {
      await this.client.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [newTarget] }));
    } catch (err) {
      const { errorName, message } = describeAwsError(err);
      if (!isUncertain(err)) {
        return failed(
          change,
          errorName,
          `registering ${to.id} (${label(newTarget)}) failed, traffic stays on ${from.id}: ${message}`,
        );
      }
      // The registration may have happened. Stopping here would leave both targets registered
      // after a single timeout; ask the load balancer, and finish the move if it did.
      const read = await this.readBack(tg, newTarget);
      if ('readError' in read) {
        return failed(
          change,
          errorName,
          `registering ${to.id} (${label(newTarget)}) timed out (${message}) and reading the target group failed (${read.readError}); it may be registered next to ${from.id}`,
          true,
        );
      }
      if (!read.registered) {
        return failed(
          change,
          errorName,
          `registering ${to.id} (${label(newTarget)}) timed out and it is not registered, traffic stays on ${from.id}: ${message}`,
        );
      }
    }
    try {
      await this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [oldTarget] }));
      return { serviceId: change.serviceId, status: 'shifted' };
    } catch (err) {
      const deregisterError = describeAwsError(err);
      if (isUncertain(err)) {
        // The deregistration may have happened: rolling back the new target now could leave the
        // group with no target at all. Ask the load balancer which it was.
        const read = await this.readBack(tg, oldTarget);
        if ('readError' in read) {
          return failed(
            change,
            deregisterError.errorName,
            `${from.id} (${label(oldTarget)}) and ${to.id} (${label(newTarget)}) may both be registered in ${tg}: deregistering ${from.id} timed out (${deregisterError.message}) and reading the target group failed (${read.readError}); deregister one of them by hand`,
            true,
          );
        }
        if (!read.registered) return { serviceId: change.serviceId, status: 'shifted' };
      }
      return this.rollBackTarget(change, tg, from, oldTarget, to, newTarget, deregisterError);
    }
  }

  /** Deregistering the old target failed: take the new one out again, leaving traffic where it was. */
  private async rollBackTarget(
    change: TrafficChange,
    tg: string,
    from: NodeConfig,
    oldTarget: TargetDescription,
    to: NodeConfig,
    newTarget: TargetDescription,
    cause: { errorName: string; message: string },
  ): Promise<Result> {
    try {
      await this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [newTarget] }));
      return failed(
        change,
        cause.errorName,
        `deregistering ${from.id} (${label(oldTarget)}) failed (${cause.message}); rolled back: ${to.id} deregistered again, traffic stays on ${from.id}`,
      );
    } catch (rollbackErr) {
      return failed(
        change,
        cause.errorName,
        `${from.id} (${label(oldTarget)}) and ${to.id} (${label(newTarget)}) are both registered in ${tg}: deregistering ${from.id} failed (${cause.message}) and the rollback failed (${describeAwsError(rollbackErr).message}); deregister one of them by hand`,
        true,
      );
    }
  }

  private async moveWeights(
    service: ElbService,
    router: WeightedRouter,
    change: TrafficChange,
    to: NodeConfig,
  ): Promise<Result> {
    let action: Action | undefined;
    try {
      action = await this.describeDefaultActions(router);
    } catch (err) {
      const { errorName, message } = describeAwsError(err);
      return failed(change, errorName, `reading listener ${router.listenerArn} failed: ${message}`);
    }
    if (!action) {
      return failed(
        change,
        'UnsupportedListenerError',
        `listener ${router.listenerArn} must have exactly one default action, of type forward: refusing to replace other actions`,
      );
    }
    // ELB has no conditional write; this read is the compare half. Our own operations are
    // serialised by the state lease, so the window between read and write is only open to
    // out-of-band changes.
    const live = liveNode(service, action);
    if (live?.id === to.id) return { serviceId: change.serviceId, status: 'shifted' };
    if (live?.id !== change.from) {
      return {
        serviceId: change.serviceId,
        status: 'conflict',
        ...(live ? { observed: live.id } : {}),
        message: `listener ${router.listenerArn} forwards to ${live ? live.id : describeWeights(action)}, not ${change.from}`,
      };
    }
    const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig;
    try {
      // ModifyListener replaces the whole DefaultActions list. We only get here with exactly one
      // forward action, and carry its stickiness setting over; every node's group is listed with
      // weight 1 (new primary) or 0, so target groups outside the configuration are dropped.
      await this.client.send(
        new ModifyListenerCommand({
          ListenerArn: router.listenerArn,
          DefaultActions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: service.nodes.map((n) => ({
                  TargetGroupArn: n.targetGroupArn,
                  Weight: n.id === to.id ? 1 : 0,
                })),
                ...(stickiness ? { TargetGroupStickinessConfig: stickiness } : {}),
              },
            },
          ],
        }),
      );
      return { serviceId: change.serviceId, status: 'shifted' };
    } catch (err) {
      const { errorName, message } = describeAwsError(err);
      return failed(
        change,
        errorName,
        `ModifyListener on ${router.listenerArn} failed: ${message}`,
        isUncertain(err),
      );
    }
  }

  /**
   * After a (de)registration whose outcome is unknown: whether `target` is registered now. A read
   * that fails leaves it unknown, which the caller reports with the read's message.
   */
  private async readBack(
    targetGroupArn: string,
    target: TargetDescription,
  ): Promise<{ readonly registered: boolean } | { readonly readError: string }> {
    try {
      const [d] = await this.describeTargets(targetGroupArn, [target]);
      return { registered: d !== undefined && isRegistered(d) };
    } catch (err) {
      return { readError: describeAwsError(err).message };
    }
  }

  private async describeTargets(
    targetGroupArn: string,
    targets?: TargetDescription[],
  ): Promise<TargetHealthDescription[]> {
    try {
      const out = await this.client.send(
        new DescribeTargetHealthCommand({
          TargetGroupArn: targetGroupArn,
          ...(targets ? { Targets: targets } : {}),
        }),
      );
      return out.TargetHealthDescriptions ?? [];
    } catch (err) {
      rethrowAws('DescribeTargetHealth', err);
    }
  }

  /** The single forward default action, or undefined when the listener has anything else. */
  private async describeDefaultActions(router: WeightedRouter): Promise<Action | undefined> {
    let actions: Action[];
    try {
      const out = await this.client.send(
        new DescribeListenersCommand({ ListenerArns: [router.listenerArn] }),
      );
      actions = out.Listeners?.[0]?.DefaultActions ?? [];
    } catch (err) {
      rethrowAws('DescribeListeners', err);
    }
    const [only] = actions;
    return actions.length === 1 && only?.Type === 'forward' ? only : undefined;
  }
}

function failed(change: TrafficChange, errorName: string, message: string, uncertain = false): Result {
  return { serviceId: change.serviceId, status: 'failed', errorName, message, uncertain };
}

function toTarget(node: NodeConfig): TargetDescription {
  const t = node.target;
  return {
    Id: t?.id,
    ...(t?.port !== undefined ? { Port: t.port } : {}),
    ...(t?.availabilityZone !== undefined ? { AvailabilityZone: t.availabilityZone } : {}),
  };
}

function label(t: TargetDescription): string {
  return t.Port !== undefined ? `${t.Id}:${t.Port}` : `${t.Id}`;
}

function isRegistered(d: TargetHealthDescription): boolean {
  const state = d.TargetHealth?.State ?? '';
  if (LEAVING_STATES.has(state)) return false;
  return !(state === 'unused' && NOT_REGISTERED_REASONS.has(d.TargetHealth?.Reason ?? ''));
}

function nodeForTarget(service: ElbService, target: TargetDescription | undefined): NodeConfig | undefined {
  return service.nodes.find(
    (n) =>
      n.target !== undefined &&
      n.target.id === target?.Id &&
      (n.target.port === undefined || target?.Port === undefined || n.target.port === target.Port),
  );
}

/** Target groups in a forward action with their weights; a plain TargetGroupArn forwards everything. */
function weights(action: Action): { arn: string; weight: number }[] {
  const groups = action.ForwardConfig?.TargetGroups;
  if (groups?.length) {
    return groups.map((g) => ({ arn: g.TargetGroupArn ?? '', weight: g.Weight ?? 1 }));
  }
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: 1 }] : [];
}

function liveNode(service: ElbService, action: Action | undefined): NodeConfig | undefined {
  if (!action) return undefined;
  const live = weights(action).filter((w) => w.weight > 0);
  if (live.length !== 1) return undefined;
  return service.nodes.find((n) => n.targetGroupArn === live[0]?.arn);
}

function describeWeights(action: Action): string {
  const w = weights(action);
  return w.length ? w.map((g) => `${g.arn}=${g.weight}`).join(', ') : 'nothing';
}
