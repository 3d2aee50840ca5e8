/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * A simulated Route 53 API that answers the SDK's own command objects, so the real Route53Router
 * (and everything above it) runs on it unchanged. It keeps the semantics of lambdas/testing/memory.ts
 * and adds the limits that matter when many services fail at once:
 *
 * - a change batch is atomic: a DELETE whose TTL and values do not exactly match the live record,
 *   or a CREATE of a record that exists, refuses the whole batch with InvalidChangeBatch;
 * - a rate limit per account (token bucket, 5 requests/s by default): beyond it, `Throttling`
 *   (HTTP 400, "Rate exceeded"), as Route 53 answers;
 * - one change in flight per hosted zone: while an accepted change is being processed, the next
 *   one gets PriorRequestNotComplete;
 * - ListResourceRecordSets in Route 53's order (labels reversed, then type), 300 per page;
 * - changes PENDING until `propagationMs`, then INSYNC.
 *
 * Time is virtual (a ManualClock): each call takes `latencyMs`, and is judged halfway through.
 * `withSdkRetries` wraps it with the SDK's standard retry behaviour, so a model can use the
 * retry settings the real clients use.
 */
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  PriorRequestNotComplete,
  type ResourceRecordSet,
  Route53ServiceException,
} from '@aws-sdk/client-route-53';
import { isThrottling, isTransient } from '../aws/errors.ts';
import type { FailoverConfig } from '../domain/config.ts';
import type { ManualClock } from './clock.ts';

export interface SimulatedRoute53Options {
  readonly clock: ManualClock;
  /** Token refill per second, for the whole account. @default 5 */
  readonly requestsPerSecond?: number;
  /** Tokens available at once. @default 5 */
  readonly burst?: number;
  /** One API call, request to response (ms). @default 100 */
  readonly latencyMs?: number;
  /** How long an accepted change keeps its zone busy: PriorRequestNotComplete meanwhile (ms). @default 500 */
  readonly zoneBusyMs?: number;
  /** PENDING to INSYNC (ms). @default 30000 */
  readonly propagationMs?: number;
}

export type Route53Operation = 'ChangeResourceRecordSets' | 'ListResourceRecordSets' | 'GetChange';

export interface AcceptedChange {
  readonly at: number;
  readonly zone: string;
  readonly changeId: string;
  /** Record names changed (DELETE and CREATE of one name count once). */
  readonly names: readonly string[];
  readonly resourceRecords: number;
}

export interface SimulatedRoute53Stats {
  readonly requests: Record<Route53Operation, number>;
  throttled: number;
  priorRequestNotComplete: number;
  invalidChangeBatch: number;
  readonly accepted: AcceptedChange[];
}

/** Route 53 caps a batch at 1,000 ResourceRecord elements. */
const MAX_RECORDS_PER_BATCH = 1000;
const MAX_LIST_ITEMS = 300;

export class SimulatedRoute53 {
  readonly stats: SimulatedRoute53Stats = {
    requests: { ChangeResourceRecordSets: 0, ListResourceRecordSets: 0, GetChange: 0 },
    throttled: 0,
    priorRequestNotComplete: 0,
    invalidChangeBatch: 0,
    accepted: [],
  };
  private readonly clock: ManualClock;
  private readonly rate: number;
  private readonly burst: number;
  private readonly latencyMs: number;
  private readonly zoneBusyMs: number;
  private readonly propagationMs: number;
  private readonly zones = new Map<string, Map<string, ResourceRecordSet>>();
  private readonly busyUntil = new Map<string, number>();
  private readonly changes = new Map<string, number>();
  private tokens: number;
  private refilledAt: number;
  private seq = 0;

  constructor(options: SimulatedRoute53Options) {
    this.clock = options.clock;
    this.rate = options.requestsPerSecond ?? 5;
    this.burst = options.burst ?? 5;
    this.latencyMs = options.latencyMs ?? 100;
    this.zoneBusyMs = options.zoneBusyMs ?? 500;
    this.propagationMs = options.propagationMs ?? 30_000;
    this.tokens = this.burst;
    this.refilledAt = this.clock.now();
  }

  /** A hosted zone holding each Route 53-routed service's record, pointing at its initial primary. */
  static fromConfig(config: FailoverConfig, options: SimulatedRoute53Options): SimulatedRoute53 {
    const sim = new SimulatedRoute53(options);
    for (const service of config.services) {
      const r = service.router;
      if (r.type !== 'route53') continue;
      const primary = service.nodes.find((n) => n.id === service.initialPrimary);
      sim.put(r.hostedZoneId, {
        Name: fqdn(r.recordName),
        Type: r.recordType,
        TTL: r.ttlSeconds,
        ResourceRecords: [{ Value: primary?.address ?? '' }],
      });
    }
    return sim;
  }

  /** Writes a record directly (an operator in the console): no API call, no limits. */
  put(zone: string, record: ResourceRecordSet): void {
    const records = this.zones.get(zone) ?? new Map<string, ResourceRecordSet>();
    records.set(key(record.Name ?? '', record.Type ?? ''), stored(record));
    this.zones.set(zone, records);
  }

  /** The live record (a copy), or undefined. */
  get(zone: string, name: string, type: string): ResourceRecordSet | undefined {
    const record = this.zones.get(zone)?.get(key(name, type));
    return record && structuredClone(record);
  }

  /** The same signature as Route53Client.send, for the commands the router uses. */
  send = async (command: unknown): Promise<unknown> => {
    await this.clock.sleep(this.latencyMs / 2);
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: this.handle(command) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await this.clock.sleep(this.latencyMs - this.latencyMs / 2);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  };

  private handle(command: unknown): unknown {
    const operation = operationOf(command);
    this.stats.requests[operation]++;
    if (!this.takeToken()) {
      this.stats.throttled++;
      throw new Route53ServiceException({
        name: 'Throttling',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: this.metadata(400),
      });
    }
    const input = (command as { input: Record<string, unknown> }).input;
    switch (operation) {
      case 'ChangeResourceRecordSets':
        return this.change(input as unknown as ChangeResourceRecordSetsCommand['input']);
      case 'ListResourceRecordSets':
        return this.list(input as unknown as ListResourceRecordSetsCommand['input']);
      case 'GetChange':
        return this.getChange(String(input.Id));
    }
  }

  private takeToken(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private zone(id: string | undefined): Map<string, ResourceRecordSet> {
    const zone = this.zones.get(String(id).replace(/^\/hostedzone\//, ''));
    if (!zone) {
      throw new NoSuchHostedZone({
        message: `No hosted zone found with ID: ${id}`,
        $metadata: this.metadata(404),
      });
    }
    return zone;
  }

  private change(input: ChangeResourceRecordSetsCommand['input']): unknown {
    const zoneId = String(input.HostedZoneId).replace(/^\/hostedzone\//, '');
    const live = this.zone(zoneId);
    const now = this.clock.now();
    if ((this.busyUntil.get(zoneId) ?? 0) > now) {
      this.stats.priorRequestNotComplete++;
      throw new PriorRequestNotComplete({
        message: 'The request was rejected because Route 53 was still processing a prior request.',
        $metadata: this.metadata(400),
      });
    }
    const changes: Change[] = input.ChangeBatch?.Changes ?? [];
    const resourceRecords = changes.reduce(
      (n, c) => n + (c.ResourceRecordSet?.ResourceRecords?.length ?? 0),
      0,
    );
    if (resourceRecords > MAX_RECORDS_PER_BATCH) {
      this.refuse([`Number of records limit of ${MAX_RECORDS_PER_BATCH} exceeded.`]);
    }
    // Judged as a whole against a working copy: all or nothing.
    const working = new Map(live);
    const problems: string[] = [];
    for (const c of changes) {
      const rrs: ResourceRecordSet = c.ResourceRecordSet ?? { Name: '', Type: 'A' };
      const k = key(rrs.Name ?? '', rrs.Type ?? '');
      const label = `[name='${fqdn(rrs.Name ?? '').toLowerCase()}', type='${rrs.Type}']`;
      const existing = working.get(k);
      if (c.Action === 'DELETE') {
        if (!existing) problems.push(`Tried to delete resource record set ${label} but it was not found`);
        else if (!sameRecord(existing, rrs))
          problems.push(
            `Tried to delete resource record set ${label} but the values provided do not match the current values`,
          );
        else working.delete(k);
      } else if (c.Action === 'CREATE') {
        if (existing) problems.push(`Tried to create resource record set ${label} but it already exists`);
        else working.set(k, stored(rrs));
      } else {
        working.set(k, stored(rrs));
      }
    }
    if (problems.length > 0) this.refuse(problems);
    this.zones.set(zoneId, working);
    this.busyUntil.set(zoneId, now + this.zoneBusyMs);
    const changeId = `/change/C${String(++this.seq).padStart(8, '0')}`;
    this.changes.set(changeId, now);
    this.stats.accepted.push({
      at: now,
      zone: zoneId,
      changeId,
      names: [...new Set(changes.map((c) => fqdn(c.ResourceRecordSet?.Name ?? '').toLowerCase()))],
      resourceRecords,
    });
    return {
      ChangeInfo: {
        Id: changeId,
        Status: 'PENDING',
        SubmittedAt: new Date(now),
        Comment: input.ChangeBatch?.Comment,
      },
    };
  }

  private refuse(messages: string[]): never {
    this.stats.invalidChangeBatch++;
    throw new InvalidChangeBatch({
      message: `[${messages.join(', ')}]`,
      messages,
      $metadata: this.metadata(400),
    });
  }

  private list(input: ListResourceRecordSetsCommand['input']): unknown {
    const zone = this.zone(input.HostedZoneId);
    const sorted = [...zone.values()].sort(compareRecords);
    const max = Math.min(MAX_LIST_ITEMS, Math.max(1, Number(input.MaxItems ?? MAX_LIST_ITEMS)));
    // The first record at or after (name, type); without a type, the first of that name or later.
    const start = input.StartRecordName
      ? sorted.findIndex(
          (r) => compareRecords(r, { Name: input.StartRecordName, Type: input.StartRecordType ?? '' }) >= 0,
        )
      : 0;
    const from = start < 0 ? sorted.length : start;
    const page = sorted.slice(from, from + max);
    const next = sorted[from + max];
    return {
      ResourceRecordSets: page.map((r) => structuredClone(r)),
      IsTruncated: next !== undefined,
      MaxItems: max,
      ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type } : {}),
    };
  }

  private getChange(id: string): unknown {
    const at = this.changes.get(id);
    if (at === undefined) {
      throw new Route53ServiceException({
        name: 'NoSuchChange',
        $fault: 'client',
        message: `A change with the specified change ID does not exist: ${id}`,
        $metadata: this.metadata(404),
      });
    }
    const status = this.clock.now() >= at + this.propagationMs ? 'INSYNC' : 'PENDING';
    return { ChangeInfo: { Id: id, Status: status, SubmittedAt: new Date(at) } };
  }

  private metadata(httpStatusCode: number) {
    return { httpStatusCode, requestId: `sim-${++this.seq}`, attempts: 1, totalRetryDelay: 0 };
  }
}

export interface SdkRetryOptions {
  /** The client's maxAttempts (the project's clients use 3). */
  readonly maxAttempts: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

/**
 * The SDK's standard retry strategy around `send`: transient errors (throttling, which includes
 * PriorRequestNotComplete, 5xx, timeouts) are retried up to maxAttempts, after a full-jitter
 * backoff of random x min(20 s, base x 2^retry), base 1,000 ms for throttling and 50 ms otherwise
 * (@smithy/core util-retry, 2026 defaults). The adaptive mode's client-side rate limiter is not
 * modelled: each Lambda has its own client, so it barely acts across a fleet of invocations.
 */
export function withSdkRetries<T extends { send: (command: never) => Promise<unknown> }>(
  client: T,
  options: SdkRetryOptions,
): { send: (command: unknown) => Promise<unknown>; readonly attempts: { count: number; retries: number } } {
  const random = options.random ?? Math.random;
  const attempts = { count: 0, retries: 0 };
  return {
    attempts,
    send: async (command: unknown) => {
      for (let attempt = 1; ; attempt++) {
        attempts.count++;
        try {
          return await client.send(command as never);
        } catch (err) {
          if (attempt >= options.maxAttempts || !isTransient(err)) {
            const meta = (err as { $metadata?: Record<string, unknown> }).$metadata;
            if (meta) meta.attempts = attempt;
            throw err;
          }
          const base = isThrottling(err) ? 1_000 : 50;
          attempts.retries++;
          await options.sleep(Math.floor(random() * Math.min(20_000, base * 2 ** (attempt - 1))));
        }
      }
    },
  };
}

/** A deterministic PRNG (mulberry32) for reproducible simulations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function operationOf(command: unknown): Route53Operation {
  if (command instanceof ChangeResourceRecordSetsCommand) return 'ChangeResourceRecordSets';
  if (command instanceof ListResourceRecordSetsCommand) return 'ListResourceRecordSets';
  if (command instanceof GetChangeCommand) return 'GetChange';
  throw new Error(`SimulatedRoute53 does not implement ${(command as object)?.constructor?.name ?? command}`);
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** As Route 53 keeps and returns it: the name fully qualified, with a trailing dot. */
function stored(record: ResourceRecordSet): ResourceRecordSet {
  return { ...structuredClone(record), Name: fqdn(record.Name ?? '') };
}

function key(name: string, type: string): string {
  return `${fqdn(name).toLowerCase()} ${type}`;
}

/** Route 53 lists names with their labels reversed: com.example.www. */
function listOrder(name: string): string {
  return fqdn(name).toLowerCase().replace(/\.$/, '').split('.').reverse().join('.');
}

function compareRecords(
  a: { readonly Name?: string | undefined; readonly Type?: string | undefined },
  b: { readonly Name?: string | undefined; readonly Type?: string | undefined },
): number {
  const an = listOrder(a.Name ?? '');
  const bn = listOrder(b.Name ?? '');
  if (an !== bn) return an < bn ? -1 : 1;
  const at = a.Type ?? '';
  const bt = b.Type ?? '';
  return at < bt ? -1 : at > bt ? 1 : 0;
}

/** DELETE must name the live record exactly: TTL and the same set of values. */
function sameRecord(live: ResourceRecordSet, wanted: ResourceRecordSet): boolean {
  const values = (r: ResourceRecordSet) => (r.ResourceRecords ?? []).map((v) => v.Value ?? '').sort();
  const a = values(live);
  const b = values(wanted);
  return (
    live.TTL === wanted.TTL &&
    live.SetIdentifier === wanted.SetIdentifier &&
    a.length === b.length &&
    a.every((v, i) => v === b[i])
  );
}
