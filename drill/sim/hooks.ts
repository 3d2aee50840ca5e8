/**
 * The simulated hook Lambdas of a service with `hooks`: the database side of fence, unfence,
 * promote and demote on the drill's nodes. Idempotent per epoch, and a stale fencing token (an
 * epoch older than one the node obeyed) is refused, as the hook contract asks.
 */
import type { ServiceConfig } from '../../lambdas/domain/config.ts';
import type { HookPayload } from '../../lambdas/domain/workflow.ts';
import type { Timeline } from '../timeline.ts';
import type { Backend } from './backend.ts';
import type { SimModel } from './model.ts';
import type { HookFunction } from './workflow.ts';

/** One simulated node: health, fencing, replication lag, what its lag publisher does. */
export interface NodeSim {
  readonly id: string;
  up: boolean;
  fenced: boolean;
  /** Lag while replicating from a writing primary. */
  baseLag: number;
  /** True lag now; undefined while this node is the writer. */
  lag: number | undefined;
  ramp?: { from: number; to: number; start: number; end: number };
  publishing: boolean;
  /** Highest epoch a hook has obeyed on this node (the fencing token). */
  hookEpoch: number;
}

/** What the hooks act on and report to. */
export interface HookWorld {
  readonly clock: Backend['clock'];
  readonly model: SimModel;
  readonly nodes: ReadonlyMap<string, NodeSim>;
  readonly timeline: Timeline;
}

export class SimHooks {
  constructor(private readonly world: HookWorld) {}

  /** The service's hook functions by ARN, for the workflow executor. */
  functions(service: ServiceConfig): Map<string, HookFunction> {
    const hooks = new Map<string, HookFunction>();
    for (const arn of [service.hooks?.fence, service.hooks?.promote, service.hooks?.demote]) {
      if (arn) hooks.set(arn, (payload) => this.run(payload));
    }
    return hooks;
  }

  /** The database side of a hook: idempotent per epoch, and refuses a stale fencing token. */
  async run(payload: HookPayload): Promise<unknown> {
    await this.world.clock.sleep(
      this.world.clock.simulated ? (this.world.model.hookLatencyMs[payload.action] ?? 0) : 0,
    );
    const node = this.world.nodes.get(payload.node);
    if (!node) throw Object.assign(new Error(`no node ${payload.node}`), { name: 'UnknownNode' });
    if (payload.epoch < node.hookEpoch) {
      throw Object.assign(new Error(`epoch ${payload.epoch} is older than ${node.hookEpoch}: refused`), {
        name: 'StaleEpoch',
      });
    }
    const at = this.world.clock.now();
    // Fencing acts from outside (network isolation) and works on a dead node; promote and demote
    // need the database to answer.
    if (!node.up && (payload.action === 'promote' || payload.action === 'demote')) {
      this.world.timeline.add(
        at,
        'observed',
        `hook ${payload.action} ${node.id} fails: the node does not answer`,
      );
      throw Object.assign(new Error(`${node.id} does not answer (down)`), { name: 'NodeUnreachable' });
    }
    node.hookEpoch = payload.epoch;
    switch (payload.action) {
      case 'fence':
        node.fenced = true;
        this.world.timeline.add(
          at,
          'changed',
          `hook fence ${node.id} (epoch ${payload.epoch}): ${node.up ? 'read-only, no new writes' : 'isolated, can take no writes if it comes back'}`,
        );
        break;
      case 'unfence':
        node.fenced = false;
        this.world.timeline.add(
          at,
          'changed',
          `hook unfence ${node.id}: ${node.up ? 'takes writes again' : 'isolation lifted (it is still down)'}`,
        );
        break;
      case 'promote':
        node.fenced = false;
        this.world.timeline.add(
          at,
          'changed',
          `hook promote ${node.id} (epoch ${payload.epoch}): accepts writes`,
        );
        break;
      case 'demote':
        node.fenced = false;
        node.lag = 0;
        this.world.timeline.add(
          at,
          'changed',
          `hook demote ${node.id} (epoch ${payload.epoch}): replicates from the new primary`,
        );
        break;
    }
    return { ok: true, node: node.id, action: payload.action, epoch: payload.epoch };
  }
}
