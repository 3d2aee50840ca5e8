/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * The readiness check's extra ports in memory, over a MemoryTraffic:
 * - routing: a Route 53 service's record is the node traffic points at, with the configured TTL,
 *   unless a test changed it (`setRecord`: another TTL, several values, an alias, or deleted);
 *   ELB services answer the node traffic points at, as ElbRouter.current does;
 * - resources: every resource the configured actions name exists, until `remove`;
 * - store: the last recorded verdict per service, written only when it changes.
 * `fail(...)` makes the next reads of a port throw (throttling), to test `unknown`.
 */
import { type FailoverConfig, findService } from '../domain/config.ts';
import { UnknownServiceError } from '../domain/errors.ts';
import {
  type LiveRecord,
  type LiveRouting,
  type ReadinessStorePort,
  type ResourcePort,
  type ResourceRef,
  type ResourceStatus,
  type RoutingReadPort,
  readinessResourceRefs,
  resourceKey,
} from '../domain/readiness.ts';
import type { MemoryTraffic } from './memory.ts';

export class MemoryRouting implements RoutingReadPort {
  private readonly records = new Map<string, LiveRecord | undefined>();
  private failures: Error[] = [];
  /** serviceIds of every readAll, in order: one entry is one pass. */
  readonly reads: (readonly string[])[] = [];

  constructor(
    private readonly config: FailoverConfig,
    private readonly traffic: MemoryTraffic,
  ) {}

  async readAll(serviceIds: readonly string[]): Promise<ReadonlyMap<string, LiveRouting>> {
    this.reads.push([...serviceIds]);
    const failure = this.failures.shift();
    if (failure) throw failure;
    const out = new Map<string, LiveRouting>();
    for (const id of serviceIds) {
      const service = findService(this.config, id);
      if (!service) throw new UnknownServiceError(id);
      const node = this.traffic.pointsAt(id);
      if (service.router.type !== 'route53') {
        out.set(id, { type: service.router.type, ...(node !== undefined ? { node } : {}) });
        continue;
      }
      if (this.records.has(id)) {
        const record = this.records.get(id);
        out.set(id, { type: 'route53', ...(record ? { record } : {}) });
        continue;
      }
      const address = service.nodes.find((n) => n.id === node)?.address;
      out.set(id, {
        type: 'route53',
        ...(address
          ? { record: { values: [address], ttlSeconds: service.router.ttlSeconds, alias: false } }
          : {}),
      });
    }
    return out;
  }

  /** Replaces a Route 53 service's live record (undefined: deleted) until `resetRecord`. */
  setRecord(serviceId: string, record: LiveRecord | undefined): void {
    this.records.set(serviceId, record);
  }

  /** The record follows the traffic again, with the configured TTL. */
  resetRecord(serviceId: string): void {
    this.records.delete(serviceId);
  }

  /** The next read throws `error`. */
  failNext(error: Error): void {
    this.failures.push(error);
  }
}

export class MemoryResources implements ResourcePort {
  private readonly status = new Map<string, ResourceStatus>();
  readonly checks: (readonly ResourceRef[])[] = [];

  constructor(config: FailoverConfig) {
    for (const ref of readinessResourceRefs(config.services))
      this.status.set(resourceKey(ref), { exists: true });
  }

  async check(refs: readonly ResourceRef[]): Promise<ReadonlyMap<string, ResourceStatus>> {
    this.checks.push([...refs]);
    const out = new Map<string, ResourceStatus>();
    for (const ref of refs) out.set(resourceKey(ref), this.status.get(resourceKey(ref)) ?? { exists: false });
    return out;
  }

  /** The resource is gone (or, with `detail`, exists but cannot be used, e.g. terminated). */
  remove(ref: ResourceRef, detail?: string): void {
    this.status.set(resourceKey(ref), { exists: false, ...(detail ? { detail } : {}) });
  }

  restore(ref: ResourceRef): void {
    this.status.set(resourceKey(ref), { exists: true });
  }
}

export class MemoryReadinessStore implements ReadinessStorePort {
  readonly verdicts = new Map<string, { status: 'ready' | 'not-ready'; at: number }>();
  writes = 0;

  async previous(serviceId: string) {
    return this.verdicts.get(serviceId)?.status;
  }

  async record(serviceId: string, status: 'ready' | 'not-ready', at: number): Promise<void> {
    this.verdicts.set(serviceId, { status, at });
    this.writes++;
  }
}
