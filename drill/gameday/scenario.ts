/**
 * One game day scenario at a time: its own service (PostgreSQL pair, record, alarms, state), a
 * writing client, a timeline fed as things happen (what the world did, what the alarms and the
 * bundled failover Lambda did, where the record points, what was announced), and afterwards the
 * figures measured from the client's acknowledgements and the databases themselves.
 */
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import type { PgNode } from '../../test/support/realdb/postgres.ts';
import type { Check } from '../scenario.ts';
import { Timeline, type TimelineEntry } from '../timeline.ts';
import { type Ack, type WriteFailure, WriterClient } from './client.ts';
import { type NodeId, nodeAddress, recordName } from './config.ts';
import type { GameDayWorld } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: Lambda results and log lines are JSON
type Json = any;

export interface Marker {
  /** Seconds since the scenario started. */
  readonly t: number;
  readonly kind: 'fault' | 'alarm' | 'decision' | 'dns' | 'action' | 'operator' | 'check';
  readonly label: string;
}

/** Writes acknowledged per second, by node, and failed attempts: what the report draws. */
export interface SecondBucket {
  readonly t: number;
  readonly acks: Readonly<Record<string, number>>;
  readonly failures: number;
}

export type Figures = Record<string, number | string | boolean | null | readonly number[]>;

export interface GameDayScenarioResult {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly serviceId: string;
  readonly passed: boolean;
  readonly checks: readonly Check[];
  /** Every figure measured, by name (units in the names). */
  readonly figures: Figures;
  readonly timeline: readonly TimelineEntry[];
  readonly markers: readonly Marker[];
  readonly series: readonly SecondBucket[];
  readonly durationSeconds: number;
  /** Acknowledged rows missing on the node that took over, by id. */
  readonly lostIds: readonly number[];
  readonly error?: string;
}

export interface GameDayScenario {
  /** kebab-case, what `npm run gameday -- <name>` takes. */
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  /** The service (one PostgreSQL pair) it runs on. Scenarios sharing one run in order on it. */
  readonly serviceId: string;
  run(s: ScenarioRun): Promise<void>;
}

/** What a scenario script works with. */
export class ScenarioRun {
  readonly timeline: Timeline;
  readonly client: WriterClient;
  readonly markers: Marker[] = [];
  readonly figures: Figures = {};
  readonly checks: Check[] = [];
  lostIds: number[] = [];
  private watching = false;
  private watcher: Promise<void> | undefined;
  /** Where the world's records stood when the scenario started, and how far the timeline has read them. */
  private readonly baseline: { deliveries: number; logs: number };
  private seen = { transitions: 0, deliveries: 0, notifications: 0 };
  private lastRecord: string | undefined;
  private clientSeen = { acks: 0, failures: 0, resolutions: 0 };
  private lastAckNode: string | undefined;
  private failing = false;

  constructor(
    readonly world: GameDayWorld,
    readonly serviceId: string,
    print: ((line: string) => void) | undefined,
    color: boolean,
  ) {
    this.timeline = new Timeline(Date.now(), print, color);
    const nodes = world.nodesOf(serviceId);
    this.client = new WriterClient({
      route53: world.clients.route53,
      hostedZoneId: world.zoneId,
      recordName: recordName(serviceId),
      nodes: new Map(
        (Object.entries(nodes) as [NodeId, PgNode][]).map(([nodeId, node]) => [
          nodeAddress(serviceId, nodeId),
          { nodeId, host: node.connection.host, port: node.port },
        ]),
      ),
      user: 'app',
      password: 'app',
      database: 'postgres',
    });
    // Only this service's automation events from now on.
    this.baseline = { deliveries: world.deliveries.length, logs: world.logs.length };
    this.seen = {
      transitions: world.transitions.length,
      deliveries: world.deliveries.length,
      notifications: world.notifications.length,
    };
  }

  get start(): number {
    return this.timeline.start;
  }

  node(nodeId: NodeId): PgNode {
    return this.world.nodesOf(this.serviceId)[nodeId];
  }

  /** Seconds since the scenario started. */
  t(at: number = Date.now()): number {
    return (at - this.start) / 1000;
  }

  /** A timeline entry and a marker on the chart (`short`, or the text itself, as its label). */
  mark(
    kind: Marker['kind'],
    text: string,
    at: number = Date.now(),
    entry: TimelineEntry['kind'] = 'world',
    short: string = text,
  ): void {
    this.markers.push({ t: this.t(at), kind, label: short });
    this.timeline.add(at, entry, text);
  }

  check(name: string, ok: boolean, detail: string): void {
    this.checks.push({ name, ok, detail });
    this.timeline.add(Date.now(), 'check', `${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
  }

  /** Starts watching the automation (alarms, deliveries, notifications, the record) and the client. */
  begin(): void {
    this.client.start();
    this.watching = true;
    this.watcher = this.watch();
  }

  async end(): Promise<void> {
    await this.client.stop();
    await this.world.settle();
    this.watching = false;
    await this.watcher;
    await this.poll();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Polls `check` every 100 ms until it returns a value (not undefined or false), or returns undefined after `timeoutMs`. */
  async waitFor<T>(
    check: () => T | undefined | Promise<T | undefined>,
    timeoutMs: number,
  ): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A check that throws (a node not answering yet) is a check that is not true yet.
      const value = await Promise.resolve()
        .then(check)
        .catch(() => undefined);
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) return undefined;
      await this.sleep(100);
    }
  }

  /** The failover Lambda's results for this service, in order. */
  outcomes(): Json[] {
    return this.world.deliveries
      .slice(this.baseline.deliveries)
      .filter((d) => d.result?.serviceId === this.serviceId || d.alarmName.includes(`-${this.serviceId}-`))
      .map((d) => d.result ?? { outcome: 'error', reason: d.error });
  }

  /** The failover Lambda's structured log lines for this service with this message. */
  logLines(message: string): Json[] {
    return this.world.logs
      .slice(this.baseline.logs)
      .map((l) => l.line)
      .filter((l) => l.message === message && l.serviceId === this.serviceId);
  }

  notifications(): GameDayWorld['notifications'] {
    return this.world.notifications.filter((n) => n.serviceId === this.serviceId);
  }

  acksAfter(nodeId: string, at: number): Ack[] {
    return this.client.acks.filter((a) => a.nodeId === nodeId && a.at > at);
  }

  /** Ids acknowledged by `from` that `on` does not have. */
  async missingOn(on: PgNode, acks: readonly Ack[]): Promise<number[]> {
    if (acks.length === 0) return [];
    const ids = acks.map((a) => a.id);
    const rows = await on.sql<{ id: string }>(
      'SELECT id::text AS id FROM gameday_writes WHERE id = ANY($1::bigint[])',
      [ids],
    );
    const present = new Set(rows.map((r) => Number(r.id)));
    return ids.filter((id) => !present.has(id));
  }

  /** The current value of the service's record, read through the Route 53 API. */
  async recordValue(): Promise<string | undefined> {
    const fqdn = `${recordName(this.serviceId)}.`;
    const out = await this.world.clients.route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: this.world.zoneId,
        StartRecordName: fqdn,
        MaxItems: 10,
      }),
    );
    return out.ResourceRecordSets?.find((r) => r.Name === fqdn)?.ResourceRecords?.[0]?.Value?.replace(
      /\.$/,
      '',
    );
  }

  /** Which node the record points at. */
  async recordNode(): Promise<string | undefined> {
    const value = await this.recordValue();
    return (['db-a', 'db-b'] as const).find((n) => nodeAddress(this.serviceId, n) === value);
  }

  series(): SecondBucket[] {
    const end = Math.ceil(this.t());
    const buckets: { acks: Record<string, number>; failures: number }[] = Array.from(
      { length: end + 1 },
      () => ({
        acks: {},
        failures: 0,
      }),
    );
    for (const a of this.client.acks) {
      const b = buckets[Math.floor(this.t(a.at))];
      if (b) b.acks[a.nodeId] = (b.acks[a.nodeId] ?? 0) + 1;
    }
    for (const f of this.client.failures as WriteFailure[]) {
      const b = buckets[Math.floor(this.t(f.at))];
      if (b) b.failures++;
    }
    return buckets.map((b, t) => ({ t, ...b }));
  }

  private async watch(): Promise<void> {
    while (this.watching) {
      await this.poll().catch(() => undefined);
      await this.sleep(200);
    }
  }

  private async poll(): Promise<void> {
    const w = this.world;
    for (const t of w.transitions.slice(this.seen.transitions)) {
      if (t.alarmName.includes(`-${this.serviceId}-`)) {
        this.markers.push({ t: this.t(t.at), kind: 'alarm', label: `${shortAlarm(t.alarmName)} ${t.to}` });
        this.timeline.add(t.at, 'observed', `alarm ${t.alarmName} ${t.from} -> ${t.to} (${t.reason})`);
      }
    }
    this.seen.transitions = w.transitions.length;
    for (const d of w.deliveries.slice(this.seen.deliveries)) {
      const r = d.result;
      if (r?.serviceId !== this.serviceId && !d.alarmName.includes(`-${this.serviceId}-`)) continue;
      const text = r
        ? `failover Lambda (bundled, attempt ${d.attempt}) ${r.outcome}${r.to ? ` -> ${r.to}` : ''}${r.reason ? `: ${r.reason}` : ''}${r.detail ? ` (${r.detail})` : ''} in ${d.finishedAt - d.at} ms`
        : `failover Lambda (bundled, attempt ${d.attempt}) threw ${d.error}`;
      this.timeline.add(d.finishedAt, 'decided', text);
      this.markers.push({
        t: this.t(d.finishedAt),
        kind: 'decision',
        label: r ? `${r.outcome}${r.reason ? ` (${r.reason})` : ''}` : 'error',
      });
    }
    this.seen.deliveries = w.deliveries.length;
    await w.drainNotifications();
    for (const n of w.notifications.slice(this.seen.notifications)) {
      if (n.serviceId !== this.serviceId) continue;
      this.timeline.add(n.receivedAt, 'announced', `SNS ${n.kind ?? ''}: ${n.subject ?? ''}`);
    }
    this.seen.notifications = w.notifications.length;
    this.observeClient();
    const value = await this.recordValue();
    if (value !== this.lastRecord) {
      if (this.lastRecord !== undefined) {
        this.markers.push({ t: this.t(), kind: 'dns', label: `record -> ${value?.split('.')[0]}` });
        this.timeline.add(Date.now(), 'changed', `Route 53 ${recordName(this.serviceId)} CNAME -> ${value}`);
      }
      this.lastRecord = value;
    }
  }

  /** The client's view: the first acknowledgement by a node, the first failure of a streak. */
  private observeClient(): void {
    const c = this.client;
    const events: { at: number; text: string }[] = [];
    for (const r of c.resolutions.slice(this.clientSeen.resolutions)) {
      events.push({
        at: r.at,
        text: `client resolved ${recordName(this.serviceId)} -> ${r.nodeId ?? r.value} (TTL ${r.ttlSeconds} s)`,
      });
    }
    const acks = c.acks.slice(this.clientSeen.acks);
    const failures = c.failures.slice(this.clientSeen.failures);
    this.clientSeen = { acks: c.acks.length, failures: c.failures.length, resolutions: c.resolutions.length };
    const merged = [
      ...acks.map((a) => ({ at: a.at, ack: a, failure: undefined })),
      ...failures.map((f) => ({ at: f.at, ack: undefined, failure: f })),
    ].sort((x, y) => x.at - y.at);
    for (const e of merged) {
      if (e.ack) {
        if (e.ack.nodeId !== this.lastAckNode || this.failing) {
          events.push({ at: e.at, text: `client: row ${e.ack.id} acknowledged by ${e.ack.nodeId}` });
        }
        this.lastAckNode = e.ack.nodeId;
        this.failing = false;
      } else if (e.failure && !this.failing) {
        this.failing = true;
        events.push({
          at: e.at,
          text: `client: row ${e.failure.id} failed on ${e.failure.nodeId ?? '(no connection)'}: ${e.failure.error}`,
        });
      }
    }
    for (const e of events) this.timeline.add(e.at, 'observed', e.text);
  }
}

function shortAlarm(name: string): string {
  return name.replace(/^gameday-[^-]+-/, '').replace(/-healthy$/, '');
}
