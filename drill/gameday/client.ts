/**
 * The application: writes numbered rows, one transaction per row, to whatever the service's Route 53
 * record points at, as a real client would:
 * - it reads the record through the Route 53 API (ListResourceRecordSets on moto_server) and keeps
 *   the answer for the record's TTL, like a resolver cache, so a failover reaches it only after the
 *   TTL ran out;
 * - on any failure (refused connection, timeout, a read-only server, a dropped session) it drops
 *   the connection, waits a little, and connects again to what the record says then;
 * - every acknowledged row is recorded with its id, the time of the acknowledgement and the node
 *   that acknowledged it; a row whose commit was not acknowledged is recorded as a failure (it may
 *   or may not have committed: the server can commit and die before answering).
 *
 * On one machine every node is 127.0.0.1 with its own port. The record is a CNAME whose value is a
 * per-node host name (`db-a.<service>.nodes.gameday.test`); `nodes` maps each name to
 * 127.0.0.1:<port>, as /etc/hosts and a fixed port would on real hosts.
 */
import { ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import pg from 'pg';

export interface NodeEndpoint {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
}

export interface Ack {
  readonly id: number;
  /** Epoch ms the commit was acknowledged. */
  readonly at: number;
  readonly nodeId: string;
}

export interface WriteFailure {
  readonly id: number;
  readonly at: number;
  readonly nodeId: string | undefined;
  readonly error: string;
}

export interface Resolution {
  readonly at: number;
  readonly value: string | undefined;
  readonly nodeId: string | undefined;
  readonly ttlSeconds: number;
}

export interface WriterClientOptions {
  readonly route53: Route53Client;
  readonly hostedZoneId: string;
  readonly recordName: string;
  /** Record value (a node's host name) -> where that node listens. */
  readonly nodes: ReadonlyMap<string, NodeEndpoint>;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Rows per second the client tries to write. @default 50 */
  readonly ratePerSecond?: number;
  /** Gives up on a connection attempt after this long. @default 1000 */
  readonly connectTimeoutMs?: number;
  /** Gives up on one INSERT after this long (a frozen server never answers). @default 2000 */
  readonly queryTimeoutMs?: number;
  /** Pause before reconnecting after a failure. @default 100 */
  readonly reconnectDelayMs?: number;
}

export const WRITES_TABLE = 'gameday_writes';

/** The DDL the game day runs on each service's primary before the client starts. */
export const WRITES_DDL = `CREATE TABLE IF NOT EXISTS ${WRITES_TABLE} (id bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp())`;

export class WriterClient {
  readonly acks: Ack[] = [];
  readonly failures: WriteFailure[] = [];
  readonly resolutions: Resolution[] = [];
  private nextId = 1;
  private running = false;
  private loop: Promise<void> | undefined;
  private cached: { value: string | undefined; until: number } | undefined;
  private connection: { client: pg.Client; nodeId: string } | undefined;

  constructor(private readonly options: WriterClientOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.drop();
  }

  /** Acknowledged rows per node. */
  acksBy(nodeId: string): Ack[] {
    return this.acks.filter((a) => a.nodeId === nodeId);
  }

  private async run(): Promise<void> {
    const interval = 1000 / (this.options.ratePerSecond ?? 50);
    let due = Date.now();
    while (this.running) {
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      due = Math.max(due + interval, Date.now() - interval);
      const id = this.nextId++;
      let nodeId: string | undefined;
      try {
        const conn = await this.connect();
        nodeId = conn.nodeId;
        await conn.client.query(`INSERT INTO ${WRITES_TABLE} (id) VALUES ($1)`, [id]);
        this.acks.push({ id, at: Date.now(), nodeId });
      } catch (err) {
        this.failures.push({ id, at: Date.now(), nodeId, error: describe(err) });
        this.drop();
        await sleep(this.options.reconnectDelayMs ?? 100);
      }
    }
  }

  private async connect(): Promise<{ client: pg.Client; nodeId: string }> {
    if (this.connection) return this.connection;
    const value = await this.resolve();
    if (value === undefined) throw new Error(`${this.options.recordName} has no value`);
    const endpoint = this.options.nodes.get(value);
    if (!endpoint) throw new Error(`${this.options.recordName} points at ${value}, which no node answers to`);
    const client = new pg.Client({
      host: endpoint.host,
      port: endpoint.port,
      user: this.options.user,
      password: this.options.password,
      database: this.options.database,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 1000,
      query_timeout: this.options.queryTimeoutMs ?? 2000,
      application_name: 'gameday-client',
    });
    // A server that dies under an idle connection emits 'error' on the client: handled by dropping it.
    client.on('error', () => this.drop());
    try {
      await client.connect();
    } catch (err) {
      void client.end().catch(() => undefined);
      throw err;
    }
    this.connection = { client, nodeId: endpoint.nodeId };
    return this.connection;
  }

  /** The record's value, from the cache while its TTL runs, else from the Route 53 API. */
  private async resolve(): Promise<string | undefined> {
    const now = Date.now();
    if (this.cached && now < this.cached.until) return this.cached.value;
    const fqdn = this.options.recordName.endsWith('.')
      ? this.options.recordName
      : `${this.options.recordName}.`;
    const out = await this.options.route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: this.options.hostedZoneId,
        StartRecordName: fqdn,
        MaxItems: 10,
      }),
    );
    const record = (out.ResourceRecordSets ?? []).find((r) => r.Name === fqdn);
    const value = record?.ResourceRecords?.[0]?.Value?.replace(/\.$/, '');
    const ttlSeconds = record?.TTL ?? 0;
    this.cached = { value, until: now + ttlSeconds * 1000 };
    const previous = this.resolutions.at(-1);
    if (previous?.value !== value) {
      this.resolutions.push({
        at: now,
        value,
        nodeId: value === undefined ? undefined : this.options.nodes.get(value)?.nodeId,
        ttlSeconds,
      });
    }
    return value;
  }

  private drop(): void {
    const conn = this.connection;
    this.connection = undefined;
    if (!conn) return;
    // end() waits for the server to answer; a frozen server never does, so do not wait for it.
    void conn.client.end().catch(() => undefined);
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}`.slice(0, 200);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
