/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * What the workflow's verify step reads beyond where traffic points, in memory, over MemoryTraffic:
 * - Route 53 propagation. Change `C<n>` is the n-th call MemoryTraffic recorded. A change stays
 *   PENDING for `pendingPolls` GetChange polls of it, then turns INSYNC, and with it every earlier
 *   change of the zone (Route 53 applies a zone's changes in order). `nameServers()` is what the
 *   name servers answer: the routing as of the newest INSYNC change, so a test can check what
 *   clients were really sent to when the workflow committed.
 * - ELB target health: `healthy` for a registered target unless a test says otherwise.
 */
import type { ChangeStatusPort } from '../app/workflow/deps.ts';
import { findService } from '../domain/config.ts';
import type { MemoryTraffic } from './memory.ts';

export interface MemoryChangesOptions {
  /** GetChange polls a change answers PENDING before INSYNC; 'never' = the name servers never sync. @default 0 */
  readonly pendingPolls?: number | 'never';
}

export class MemoryChanges implements ChangeStatusPort {
  /** Every GetChange, in order. */
  readonly polls: string[] = [];
  /** Every confirmRecord, in order (`<service> <node>`). */
  readonly confirms: string[] = [];
  private readonly pollsOf = new Map<string, number>();
  private readonly health = new Map<string, string | undefined>();
  /** Index (1-based) of the newest INSYNC call. */
  private insync = 0;

  constructor(
    private readonly traffic: MemoryTraffic,
    private readonly options: MemoryChangesOptions = {},
  ) {}

  async changeStatus(changeId: string): Promise<'PENDING' | 'INSYNC'> {
    this.polls.push(changeId);
    const n = indexOf(changeId);
    if (n === undefined || n > this.traffic.calls.length) {
      throw Object.assign(new Error(`No change with the id ${changeId}`), { name: 'NoSuchChange' });
    }
    if (n <= this.insync) return 'INSYNC';
    const polled = (this.pollsOf.get(changeId) ?? 0) + 1;
    this.pollsOf.set(changeId, polled);
    const pending = this.options.pendingPolls ?? 0;
    if (pending === 'never' || polled <= pending) return 'PENDING';
    this.insync = n;
    return 'INSYNC';
  }

  async confirmRecord(serviceId: string, nodeId: string): Promise<string | undefined> {
    this.confirms.push(`${serviceId} ${nodeId}`);
    return this.traffic.confirm(serviceId, nodeId);
  }

  async targetHealth(serviceId: string, nodeId: string): Promise<string | undefined> {
    const key = `${serviceId}/${nodeId}`;
    if (this.health.has(key)) return this.health.get(key);
    const router = findService(this.traffic.config, serviceId)?.router;
    // One target group per node (weighted): always registered. One shared group: only the primary.
    if (router?.type === 'elbv2-weighted') return 'healthy';
    return this.traffic.pointsAt(serviceId) === nodeId ? 'healthy' : undefined;
  }

  /** The load balancer's verdict on a node from now on (`initial`, `unhealthy`, ...; undefined = not registered). */
  setTargetHealth(serviceId: string, nodeId: string, state: string | undefined): void {
    this.health.set(`${serviceId}/${nodeId}`, state);
  }

  /** Where the name servers send clients: the routing as of the newest INSYNC change. */
  nameServers(serviceId: string): string | undefined {
    let node = findService(this.traffic.config, serviceId)?.initialPrimary;
    this.traffic.calls.slice(0, this.insync).forEach((call) => {
      if (!call.applied) return;
      for (const c of call.changes) if (c.serviceId === serviceId) node = c.to;
    });
    return node;
  }
}

function indexOf(changeId: string): number | undefined {
  const m = /^C(\d+)$/.exec(changeId);
  return m ? Number(m[1]) : undefined;
}
