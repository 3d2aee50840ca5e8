/**
 * Moves traffic by rewriting a Route 53 record, as a compare-and-swap.
 *
 * Route 53 applies a change batch atomically, and a DELETE whose TTL and values do not exactly
 * match the live record fails the whole batch with InvalidChangeBatch. So
 * `[DELETE <from exactly>, CREATE <to>]` succeeds only if the record still points at `from`: two
 * concurrent failovers cannot both win, and an operator's manual change is never overwritten.
 * (UPSERT would be last-writer-wins.)
 *
 * Route 53 allows about 5 requests/s per account and applies changes to one hosted zone serially
 * (PriorRequestNotComplete), so when many services fail together (an AZ event) all changes for
 * one zone go in one batch, one per IAM record-name group when the zone's names fill several
 * statements (lambdas/contract/route53-permissions.ts): a batch naming records of two groups
 * would match no statement and be denied.
 */
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { recordGroupKeys } from '../contract/route53-permissions.ts';
import type { NodeConfig, Route53RouterConfig, ServiceConfig } from '../domain/config.ts';
import { UnknownServiceError } from '../domain/errors.ts';
import type { TrafficChange, TrafficShiftResult } from '../domain/types.ts';
import { describeAwsError, isUncertain, rethrowAws } from './errors.ts';

/** Route 53 limits per ChangeResourceRecordSets request. */
export const MAX_RECORDS_PER_BATCH = 1000;
export const MAX_VALUE_CHARS_PER_BATCH = 32_000;
const MAX_COMMENT = 256;
/** ListResourceRecordSets returns at most 300 record sets per page. */
export const LIST_PAGE_SIZE = 300;
/** Refused batches resent after a read-back before splitting the rest in halves. */
export const MAX_RESEND_ROUNDS = 3;

export interface Route53RouterProps {
  /** Services to route; those with another router type are ignored. */
  readonly services: readonly ServiceConfig[];
  /** @default - a new Route53Client with the default providers */
  readonly client?: Route53Client;
  /** Waits between a zone's batches while Route 53 is busy with the previous one. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Extra sends of a zone's follow-up batch refused with PriorRequestNotComplete, after 0.5 s, 1 s
 * and 2 s (Route 53 is usually done with a batch within a second): at most 3.5 s per group, so a
 * zone of 7 groups stays well inside the zone shifter's 60 s timeout.
 */
export const FOLLOW_UP_BUSY_RETRIES = 3;
const FOLLOW_UP_FIRST_WAIT_MS = 500;

interface PlannedChange {
  readonly index: number;
  readonly serviceId: string;
  readonly router: Route53RouterConfig;
  readonly nodes: readonly NodeConfig[];
  readonly from: NodeConfig & { address: string };
  readonly to: NodeConfig & { address: string };
}

type Result = TrafficShiftResult;

export class Route53Router {
  private readonly client: Route53Client;
  private readonly services: ReadonlyMap<string, ServiceConfig & { router: Route53RouterConfig }>;
  /** Service id -> the IAM record-name group its changes must be batched within. */
  private readonly groupOf: ReadonlyMap<string, string>;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(props: Route53RouterProps) {
    this.client = props.client ?? new Route53Client({});
    this.groupOf = recordGroupKeys(props.services);
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.services = new Map(
      props.services
        .filter((s): s is ServiceConfig & { router: Route53RouterConfig } => s.router.type === 'route53')
        .map((s) => [s.id, s]),
    );
  }

  /** One ChangeResourceRecordSets per hosted zone; results in input order. Never throws for one service. */
  async shift(changes: readonly TrafficChange[]): Promise<readonly Result[]> {
    const results: Result[] = new Array(changes.length);
    const byZone = new Map<string, PlannedChange[]>();
    const seen = new Set<string>();
    changes.forEach((change, index) => {
      const planned = this.plan(change, index, seen);
      if ('status' in planned) {
        results[index] = planned;
        return;
      }
      const zone = planned.router.hostedZoneId;
      byZone.set(zone, [...(byZone.get(zone) ?? []), planned]);
    });
    await Promise.all(
      [...byZone.entries()].map(async ([zone, planned]) => {
        // Batches for one zone are applied serially by Route 53 anyway; sending them in parallel
        // would only earn PriorRequestNotComplete.
        const byGroup = new Map<string, PlannedChange[]>();
        for (const p of planned) {
          const group = this.groupOf.get(p.serviceId) ?? zone;
          byGroup.set(group, [...(byGroup.get(group) ?? []), p]);
        }
        let sent = 0;
        for (const group of byGroup.values()) {
          for (const batch of chunkBatches(group)) {
            for (const r of await this.applyFollowUp(zone, batch, sent++)) results[r.index] = r.result;
          }
        }
      }),
    );
    return results;
  }

  /** The node the record points at now; undefined when it is missing or matches no node (or several values). */
  async current(serviceId: string): Promise<string | undefined> {
    const service = this.services.get(serviceId);
    if (!service) throw new UnknownServiceError(serviceId);
    const record = await this.readRecord(service.router);
    return matchNode(service.router, service.nodes, record)?.id;
  }

  /** PENDING until every Route 53 authoritative server has the change, then INSYNC. */
  async changeStatus(changeId: string): Promise<'PENDING' | 'INSYNC'> {
    try {
      const out = await this.client.send(new GetChangeCommand({ Id: changeId }));
      return out.ChangeInfo?.Status === 'INSYNC' ? 'INSYNC' : 'PENDING';
    } catch (err) {
      rethrowAws('GetChange', err);
    }
  }

  /**
   * A change id that goes INSYNC only when the name servers answer with `nodeId`'s address, for a
   * shift whose own id is unknown (applied and retried, read back after an uncertain failure,
   * settled by the SDK's retry). One atomic batch [DELETE <nodeId's value exactly>, CREATE <the
   * same>]: a compare-and-swap that changes nothing, refused (undefined) unless the record holds
   * exactly that value. Route 53 applies a zone's changes in order, so this change is INSYNC only
   * once every earlier change of the zone, the shift included, has propagated.
   */
  async confirmRecord(serviceId: string, nodeId: string): Promise<string | undefined> {
    const service = this.services.get(serviceId);
    if (!service) throw new UnknownServiceError(serviceId);
    const node = service.nodes.find((n) => n.id === nodeId);
    if (!node?.address) throw new UnknownServiceError(`${serviceId}/${nodeId}`);
    const planned = { router: service.router, from: node, to: node } as PlannedChange;
    try {
      const out = await this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: service.router.hostedZoneId,
          ChangeBatch: {
            Comment: `failover: confirm ${serviceId} on ${nodeId}`.slice(0, MAX_COMMENT),
            Changes: toChanges(planned),
          },
        }),
      );
      return out.ChangeInfo?.Id;
    } catch (err) {
      if (isSwapMismatch(err)) return undefined;
      rethrowAws('ChangeResourceRecordSets', err);
    }
  }

  private plan(change: TrafficChange, index: number, seen: Set<string>): PlannedChange | Result {
    const invalid = (errorName: string, message: string): Result => ({
      serviceId: change.serviceId,
      status: 'failed',
      errorName,
      message,
      uncertain: false,
    });
    const service = this.services.get(change.serviceId);
    if (!service) {
      return invalid('UnknownServiceError', `no route53-routed service ${JSON.stringify(change.serviceId)}`);
    }
    // Two changes for one record in one batch would contradict each other.
    if (seen.has(change.serviceId)) {
      return invalid('InvalidInputError', `more than one change for ${change.serviceId} in one shift`);
    }
    seen.add(change.serviceId);
    const from = service.nodes.find((n) => n.id === change.from);
    const to = service.nodes.find((n) => n.id === change.to);
    if (!from?.address || !to?.address) {
      return invalid(
        'InvalidInputError',
        `${change.serviceId} has no node with an address for ${!from?.address ? change.from : change.to}`,
      );
    }
    if (from.id === to.id) {
      return invalid('InvalidInputError', `${change.serviceId}: from and to are the same node (${from.id})`);
    }
    return {
      index,
      serviceId: service.id,
      router: service.router,
      nodes: service.nodes,
      from: from as PlannedChange['from'],
      to: to as PlannedChange['to'],
    };
  }

  /**
   * The n-th batch of one shift to a zone. After the first, Route 53 may still be busy with the
   * previous one (PriorRequestNotComplete, beyond what the SDK's own retries wait for): wait for
   * the zone and send again, a bounded number of times, instead of failing the whole group.
   */
  private async applyFollowUp(
    zone: string,
    batch: readonly PlannedChange[],
    n: number,
  ): Promise<{ index: number; result: Result }[]> {
    // Route 53 applies one batch per zone at a time: sent right behind the previous one, this batch
    // would earn PriorRequestNotComplete and the SDK's throttling backoff (1-3 s, jittered).
    if (n > 0) await this.sleep(FOLLOW_UP_FIRST_WAIT_MS);
    for (let attempt = 0; ; attempt++) {
      const out = await this.applyBatch(zone, batch);
      const busy = out.every(
        (r) => r.result.status === 'failed' && /^PriorRequestNotComplete/.test(r.result.errorName),
      );
      if (n === 0 || !busy || attempt >= FOLLOW_UP_BUSY_RETRIES) return out;
      await this.sleep(FOLLOW_UP_FIRST_WAIT_MS * 2 ** attempt);
    }
  }

  private async applyBatch(
    zone: string,
    batch: readonly PlannedChange[],
    round = 0,
  ): Promise<{ index: number; result: Result }[]> {
    try {
      const out = await this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone,
          ChangeBatch: {
            Comment: comment(batch),
            Changes: batch.flatMap(toChanges),
          },
        }),
      );
      const changeId = out.ChangeInfo?.Id;
      return batch.map((p) => ({
        index: p.index,
        result: { serviceId: p.serviceId, status: 'shifted', ...(changeId ? { changeId } : {}) },
      }));
    } catch (err) {
      if (isSwapMismatch(err)) {
        if (batch.length === 1 && batch[0]) {
          const only = batch[0];
          return [{ index: only.index, result: await this.resolveMismatch(only, err) }];
        }
        return this.isolateMismatch(zone, batch, err, round);
      }
      const { errorName, message } = describeAwsError(err);
      const uncertain = isUncertain(err);
      return batch.map((p) => ({
        index: p.index,
        result: { serviceId: p.serviceId, status: 'failed', errorName, message, uncertain },
      }));
    }
  }

  /**
   * A refused batch of several services: the error does not reliably say which DELETE failed, and
   * one service's conflict must not block the others. Read the batch's records back in one walk of
   * the zone (pages from the first of its names to the last, never one call per record: Route 53
   * allows 5 requests/s), settle those that no longer hold their `from` value exactly, and send the
   * rest again as one batch. When the read-back fails or explains nothing, or after
   * MAX_RESEND_ROUNDS, the batch is split in halves, each sent on its own: k conflicts among n
   * changes cost O(k log n) requests, never n sequential ones.
   */
  private async isolateMismatch(
    zone: string,
    batch: readonly PlannedChange[],
    err: unknown,
    round: number,
  ): Promise<{ index: number; result: Result }[]> {
    if (round >= MAX_RESEND_ROUNDS) return this.splitBatch(zone, batch, round);
    const records = await this.readZoneIfAble(
      zone,
      batch.map((p) => p.router),
    );
    if (!records) return this.splitBatch(zone, batch, round);
    const settled: { index: number; result: Result }[] = [];
    const again: PlannedChange[] = [];
    for (const p of batch) {
      const k = recordKey(p.router.recordName, p.router.recordType);
      if (!records.has(k)) again.push(p);
      else {
        const record = records.get(k);
        if (holdsExactly(p.router, record, p.from.address)) again.push(p);
        else settled.push({ index: p.index, result: explainMismatch(p, record, err) });
      }
    }
    // Every record still holds its old value: something else refused the batch. Do not loop.
    if (again.length === batch.length) return this.splitBatch(zone, batch, round);
    if (again.length > 0) settled.push(...(await this.applyBatch(zone, again, round + 1)));
    return settled;
  }

  /** Halves sent one after the other (one zone takes one change at a time anyway). */
  private async splitBatch(
    zone: string,
    batch: readonly PlannedChange[],
    round: number,
  ): Promise<{ index: number; result: Result }[]> {
    const middle = Math.ceil(batch.length / 2);
    const out: { index: number; result: Result }[] = [];
    for (const half of [batch.slice(0, middle), batch.slice(middle)]) {
      if (half.length > 0)
        out.push(...(await this.applyBatch(zone, half, Math.max(round, MAX_RESEND_ROUNDS))));
    }
    return out;
  }

  /**
   * Where traffic points for many services, in as few reads as Route 53 allows: one
   * ListResourceRecordSets walk per hosted zone, zones one after the other. A service whose zone
   * could not be read (throttled past the SDK's retries) is absent from the answer: unknown.
   */
  async currentAll(serviceIds: readonly string[]): Promise<ReadonlyMap<string, string | undefined>> {
    const records = await this.liveRecords(serviceIds);
    const out = new Map<string, string | undefined>();
    for (const [id, record] of records) {
      const s = this.services.get(id) as ServiceConfig & { router: Route53RouterConfig };
      out.set(id, matchNode(s.router, s.nodes, record)?.id);
    }
    return out;
  }

  /**
   * The live record set of each service (undefined: it does not exist), by the same zone walks as
   * `currentAll`; a service whose zone could not be read is absent. The readiness check compares it
   * with what the swap's DELETE names (value and TTL).
   */
  async liveRecords(
    serviceIds: readonly string[],
  ): Promise<ReadonlyMap<string, ResourceRecordSet | undefined>> {
    const byZone = new Map<string, (ServiceConfig & { router: Route53RouterConfig })[]>();
    for (const id of new Set(serviceIds)) {
      const service = this.services.get(id);
      if (!service) throw new UnknownServiceError(id);
      const zone = service.router.hostedZoneId;
      byZone.set(zone, [...(byZone.get(zone) ?? []), service]);
    }
    const out = new Map<string, ResourceRecordSet | undefined>();
    for (const [zone, services] of byZone) {
      const records = await this.readZoneIfAble(
        zone,
        services.map((s) => s.router),
      );
      if (!records) continue;
      for (const s of services) {
        const k = recordKey(s.router.recordName, s.router.recordType);
        if (records.has(k)) out.set(s.id, records.get(k));
      }
    }
    return out;
  }

  /**
   * The live record sets of some records in one zone, by one paginated ListResourceRecordSets walk
   * in Route 53's order (labels reversed, then type). Each page starts at the first record not yet
   * settled, so records between them are skipped, and a record the walk passed without seeing does
   * not exist (undefined in the answer). Pages are read one after the other; at most one page per
   * record asked for. Throws when a page cannot be read.
   */
  /** readZone for callers that carry on without the records (undefined) when the walk fails. */
  private async readZoneIfAble(
    zone: string,
    routers: readonly Route53RouterConfig[],
  ): Promise<ReadonlyMap<string, ResourceRecordSet | undefined> | undefined> {
    try {
      return await this.readZone(zone, routers);
    } catch {
      return undefined;
    }
  }

  private async readZone(
    zone: string,
    routers: readonly Route53RouterConfig[],
  ): Promise<ReadonlyMap<string, ResourceRecordSet | undefined>> {
    const pending = [
      ...new Map(
        routers.map((r) => [
          recordKey(r.recordName, r.recordType),
          { name: r.recordName, type: r.recordType },
        ]),
      ),
    ].sort(([, a], [, b]) => compareRecordOrder(a, b));
    const found = new Map<string, ResourceRecordSet | undefined>();
    while (pending.length > 0) {
      const [, first] = pending[0]!;
      let out: ListResourceRecordSetsCommandOutput;
      try {
        out = await this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: zone,
            StartRecordName: fqdn(first.name),
            StartRecordType: first.type,
            MaxItems: LIST_PAGE_SIZE,
          }),
        );
      } catch (err) {
        rethrowAws('ListResourceRecordSets', err);
      }
      const page = out.ResourceRecordSets ?? [];
      for (const r of page) {
        const k = recordKey(r.Name ?? '', r.Type ?? '');
        if (r.SetIdentifier === undefined && !found.has(k) && pending.some(([pk]) => pk === k))
          found.set(k, r);
      }
      const last = page.at(-1);
      const before = pending.length;
      // Everything up to the page's last record has been seen; all of it when the listing ended.
      while (pending.length > 0) {
        const [k, next] = pending[0]!;
        const passed =
          !out.IsTruncated ||
          (last !== undefined &&
            compareRecordOrder(next, { name: last.Name ?? '', type: last.Type ?? '' }) <= 0);
        if (!passed) break;
        if (!found.has(k)) found.set(k, undefined);
        pending.shift();
      }
      // No progress means Route 53's order and ours disagree on a name: leave the rest unread.
      if (last === undefined || pending.length === before) break;
    }
    return found;
  }

  /** The swap failed: read the record back and say what it points at. Never retried blindly. */
  private async resolveMismatch(p: PlannedChange, err: unknown): Promise<Result> {
    const { message: awsMessage } = describeAwsError(err);
    let record: ResourceRecordSet | undefined;
    try {
      record = await this.readRecord(p.router);
    } catch (readErr) {
      return {
        serviceId: p.serviceId,
        status: 'conflict',
        message: `${describeRecord(p.router)} did not match ${p.from.id} (${p.from.address}) and could not be read back (${describeAwsError(readErr).message}): ${awsMessage}`,
      };
    }
    return explainMismatch(p, record, err);
  }

  private async readRecord(router: Route53RouterConfig): Promise<ResourceRecordSet | undefined> {
    const name = fqdn(router.recordName);
    try {
      const out = await this.client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: router.hostedZoneId,
          StartRecordName: name,
          StartRecordType: router.recordType,
          MaxItems: 1,
        }),
      );
      // The listing starts at the name but returns the next record when ours does not exist.
      return out.ResourceRecordSets?.find(
        (r) => sameName(r.Name ?? '', name) && r.Type === router.recordType,
      );
    } catch (err) {
      rethrowAws('ListResourceRecordSets', err);
    }
  }
}

/** Why a DELETE-exact did not match `record`; a record already on the target is a success. */
function explainMismatch(p: PlannedChange, record: ResourceRecordSet | undefined, err: unknown): Result {
  const { message: awsMessage } = describeAwsError(err);
  const node = matchNode(p.router, p.nodes, record);
  if (node?.id === p.to.id) {
    // Already on the target: our own earlier attempt was applied (the SDK retried a request
    // that timed out after it was sent, or a re-invoked handler runs again). The desired state
    // holds, so this is a success, not a conflict to report.
    return { serviceId: p.serviceId, status: 'shifted' };
  }
  const values = recordValues(record);
  const observed = node?.id ?? (values.length ? values.join(',') : undefined);
  const why =
    node?.id === p.from.id
      ? `points at ${p.from.id} but its TTL or other settings differ from the configuration (ttl ${record?.TTL}, expected ${p.router.ttlSeconds})`
      : record
        ? `points at ${observed}, not ${p.from.id} (${p.from.address})`
        : `does not exist (expected ${p.from.id}, ${p.from.address})`;
  return {
    serviceId: p.serviceId,
    status: 'conflict',
    ...(observed !== undefined ? { observed } : {}),
    message: `${describeRecord(p.router)} ${why}: ${awsMessage}`,
  };
}

/** Route 53 returns names fully qualified, with a trailing dot. */
export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** Route 53 escapes some characters in names as \ooo (octal), e.g. `*` as \052. */
function normalizeName(name: string): string {
  return name
    .replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)))
    .toLowerCase()
    .replace(/\.$/, '');
}

function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}

function recordKey(name: string, type: string): string {
  return `${normalizeName(name)} ${type}`;
}

/** ListResourceRecordSets orders names with their labels reversed (com.example.www). */
function listOrder(name: string): string {
  return normalizeName(name).split('.').reverse().join('.');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRecordOrder(
  a: { readonly name: string; readonly type: string },
  b: { readonly name: string; readonly type: string },
): number {
  return compareText(listOrder(a.name), listOrder(b.name)) || compareText(a.type, b.type);
}

/** The record is the plain one the DELETE names: exactly this one value and the configured TTL. */
function holdsExactly(
  router: Route53RouterConfig,
  record: ResourceRecordSet | undefined,
  address: string,
): boolean {
  const values = recordValues(record);
  return (
    record !== undefined &&
    record.SetIdentifier === undefined &&
    record.AliasTarget === undefined &&
    record.TTL === router.ttlSeconds &&
    values.length === 1 &&
    normalizeValue(router, values[0]!) === normalizeValue(router, address)
  );
}

function normalizeValue(router: Route53RouterConfig, value: string): string {
  return router.recordType === 'CNAME' ? normalizeName(value) : value.toLowerCase();
}

function recordValues(record: ResourceRecordSet | undefined): string[] {
  return (record?.ResourceRecords ?? []).map((r) => r.Value ?? '');
}

function matchNode(
  router: Route53RouterConfig,
  nodes: readonly NodeConfig[],
  record: ResourceRecordSet | undefined,
): NodeConfig | undefined {
  const values = recordValues(record);
  const [value] = values;
  if (values.length !== 1 || value === undefined) return undefined;
  const wanted = normalizeValue(router, value);
  return nodes.find((n) => n.address !== undefined && normalizeValue(router, n.address) === wanted);
}

function toChanges(p: PlannedChange): Change[] {
  const record = (address: string): ResourceRecordSet => ({
    Name: fqdn(p.router.recordName),
    Type: p.router.recordType,
    TTL: p.router.ttlSeconds,
    ResourceRecords: [{ Value: address }],
  });
  return [
    { Action: 'DELETE', ResourceRecordSet: record(p.from.address) },
    { Action: 'CREATE', ResourceRecordSet: record(p.to.address) },
  ];
}

function comment(batch: readonly PlannedChange[]): string {
  const text = `failover: ${batch.map((p) => `${p.serviceId} ${p.from.id}->${p.to.id}`).join('; ')}`;
  return text.length > MAX_COMMENT ? `${text.slice(0, MAX_COMMENT - 3)}...` : text;
}

/** Splits one zone's changes so that no request exceeds Route 53's record and character limits. */
function chunkBatches(planned: readonly PlannedChange[]): PlannedChange[][] {
  const batches: PlannedChange[][] = [];
  let current: PlannedChange[] = [];
  let records = 0;
  let chars = 0;
  for (const p of planned) {
    const pRecords = 2;
    const pChars = p.from.address.length + p.to.address.length;
    if (
      current.length &&
      (records + pRecords > MAX_RECORDS_PER_BATCH || chars + pChars > MAX_VALUE_CHARS_PER_BATCH)
    ) {
      batches.push(current);
      current = [];
      records = 0;
      chars = 0;
    }
    current.push(p);
    records += pRecords;
    chars += pChars;
  }
  if (current.length) batches.push(current);
  return batches;
}

/** Route 53 says InvalidChangeBatch; moto_server says InvalidInput for the same mismatched DELETE. */
function isSwapMismatch(err: unknown): boolean {
  const name = err !== null && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
  return name === 'InvalidChangeBatch' || name === 'InvalidInput';
}

function describeRecord(router: Route53RouterConfig): string {
  return `record ${fqdn(router.recordName)} ${router.recordType} in ${router.hostedZoneId}`;
}
