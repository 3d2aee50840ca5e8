/**
 * Never bundled into a Lambda (lambdas/testing/README.md; checked by test/infra/bundling.test.ts).
 *
 * Node actions in memory, for tests, the drill, the benchmark and the property run: every node
 * of the configuration has a small model (up or down, writable or read-only, fenced or not, the
 * highest fencing token it has seen), and every action changes that model as the real action
 * would change the node:
 *
 *   fence   -> read-only and fenced          unfence -> fenced cleared; writable again if primary
 *   promote -> primary, writable, unfenced   demote  -> replica, read-only, unfenced
 *
 * The token contract of lambdas/domain/node-actions.ts is enforced: a node refuses (fails) any
 * call whose token is lower than the highest it has seen. The check happens when the action
 * takes effect, so a late answer (a promote that lands after its own rollback's demote) is
 * refused, as the contract promises.
 *
 * Scripted behaviour per node and role, consumed in order: a failure, a timeout (the action never
 * answers; optionally it lands later, with `deliverLate()`), or a delay: a hung action, which
 * reached the node. A node that is down is unreachable: its calls time out after the request's
 * `timeoutMs`, change nothing, and say so (`error.unreachable`).
 * `calls` records every call with its token and what came of it.
 */
import type { FailoverConfig } from '../domain/config.ts';
import type {
  NodeActionPort,
  NodeActionRequest,
  NodeActionResult,
  NodeActionRole,
} from '../domain/node-actions.ts';

export interface MemoryNode {
  /** Down: the node answers nothing (crashed, partitioned). */
  up: boolean;
  /** Believes it is the primary (a crashed primary still does when it comes back). */
  primary: boolean;
  /** Accepts writes: a primary that is not fenced. */
  writable: boolean;
  fenced: boolean;
  /** The highest fencing token this node has seen; lower ones are refused. */
  highestToken: number;
}

/** What the next call of one role on one node does instead of the default (succeed at once). */
export type ScriptedAnswer =
  | { readonly status: 'failed'; readonly detail?: string }
  /** Never answers within the timeout. `landsLater`: it takes effect at `deliverLate()`. */
  | { readonly status: 'timed-out'; readonly landsLater?: boolean }
  /** Succeeds after this long (ms of the injected sleep); longer than the timeout is a timeout. */
  | { readonly status: 'slow'; readonly delayMs: number };

export type NodeActionCallOutcome = NodeActionResult['status'] | 'refused-token';

export interface NodeActionCall {
  readonly request: NodeActionRequest;
  readonly at: number;
  outcome: NodeActionCallOutcome;
  /** True when the action changed the node (now, or later for a late answer). */
  applied: boolean;
}

export interface MemoryNodeActionsOptions {
  readonly clock: { now(): number };
  /** Waits in (virtual) time: `ManualClock.sleep`. @default no waiting */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Which services have which actions. A service not listed has none (`has` is false: the
   * engine takes its no-action path). @default every service has all four roles
   */
  readonly roles?: Readonly<Record<string, readonly NodeActionRole[]>>;
  /** How long every successful action takes (ms). @default 0 */
  readonly durationMs?: number;
}

export const MEMORY_ACTION_KIND = 'memory';

export class MemoryNodeActions implements NodeActionPort {
  readonly calls: NodeActionCall[] = [];
  private readonly nodes = new Map<string, MemoryNode>();
  private readonly scripts = new Map<string, ScriptedAnswer[]>();
  private readonly late: { call: NodeActionCall; key: string }[] = [];
  private readonly roles: ReadonlyMap<string, ReadonlySet<NodeActionRole>>;

  constructor(
    private readonly config: FailoverConfig,
    private readonly options: MemoryNodeActionsOptions,
  ) {
    const all: NodeActionRole[] = ['fence', 'unfence', 'promote', 'demote'];
    this.roles = new Map(
      config.services.map((s) => [s.id, new Set(options.roles ? (options.roles[s.id] ?? []) : all)]),
    );
    for (const s of config.services) {
      for (const n of s.nodes) {
        const primary = n.id === s.initialPrimary;
        this.nodes.set(key(s.id, n.id), {
          up: true,
          primary,
          writable: primary,
          fenced: false,
          highestToken: 0,
        });
      }
    }
  }

  has(serviceId: string, _nodeId: string, role: NodeActionRole): boolean {
    return this.roles.get(serviceId)?.has(role) ?? false;
  }

  async run(request: NodeActionRequest): Promise<NodeActionResult> {
    const k = key(request.serviceId, request.nodeId);
    const node = this.nodes.get(k);
    if (!node) throw new Error(`no node ${request.serviceId}/${request.nodeId} in the configuration`);
    if (!this.has(request.serviceId, request.nodeId, request.role)) {
      throw new Error(`no ${request.role} action for ${request.serviceId}/${request.nodeId}`);
    }
    const started = this.options.clock.now();
    const script = this.scripts.get(`${k}/${request.role}`)?.shift();
    const call: NodeActionCall = { request, at: started, outcome: 'succeeded', applied: false };
    this.calls.push(call);
    const result = (
      status: NodeActionResult['status'],
      detail: string,
      error?: NodeActionResult['error'],
    ): NodeActionResult => ({
      status,
      kind: MEMORY_ACTION_KIND,
      detail,
      durationMs: this.options.clock.now() - started,
      ...(error ? { error } : {}),
    });
    const unreachable = (detail: string): NodeActionResult['error'] => ({
      name: 'NodeUnreachable',
      message: detail,
      retryable: false,
      uncertain: false,
      unreachable: true,
    });

    // A hung action: it reached the node, which did not finish it in time.
    const timeout = async (landsLater: boolean): Promise<NodeActionResult> => {
      await this.sleep(request.timeoutMs);
      call.outcome = 'timed-out';
      if (landsLater) this.late.push({ call, key: k });
      return result(
        'timed-out',
        `${request.role} of ${request.nodeId} did not answer within ${request.timeoutMs} ms`,
      );
    };
    if (!node.up) {
      // A down node: the call never reaches it (no connection), and times out.
      await this.sleep(request.timeoutMs);
      call.outcome = 'timed-out';
      const detail = `${request.nodeId} is unreachable: ${request.role} got no connection within ${request.timeoutMs} ms`;
      return result('timed-out', detail, unreachable(detail));
    }
    if (script?.status === 'timed-out') return timeout(script.landsLater ?? false);
    if (script?.status === 'slow' && script.delayMs > request.timeoutMs) return timeout(true);
    await this.sleep(script?.status === 'slow' ? script.delayMs : (this.options.durationMs ?? 0));
    if (script?.status === 'failed') {
      call.outcome = 'failed';
      return result('failed', script.detail ?? `${request.role} of ${request.nodeId} failed (scripted)`);
    }
    if (!node.up) {
      call.outcome = 'timed-out';
      const detail = `${request.nodeId} went down during ${request.role}`;
      return result('timed-out', detail, unreachable(detail));
    }
    const refusal = this.apply(node, call);
    if (refusal) return result('failed', refusal);
    return result('succeeded', `${request.role} of ${request.nodeId} with token ${request.token}`);
  }

  /** Queues what the next call of `role` on the node does (calls consume answers in order). */
  script(serviceId: string, nodeId: string, role: NodeActionRole, answer: ScriptedAnswer): void {
    const k = `${key(serviceId, nodeId)}/${role}`;
    const list = this.scripts.get(k) ?? [];
    list.push(answer);
    this.scripts.set(k, list);
  }

  /** The node's model (live object: tests may read it; change it through the methods below). */
  node(serviceId: string, nodeId: string): Readonly<MemoryNode> {
    const node = this.nodes.get(key(serviceId, nodeId));
    if (!node) throw new Error(`no node ${serviceId}/${nodeId} in the configuration`);
    return node;
  }

  /** The node crashes (down) or comes back (up) as it was: a crashed primary returns writable. */
  setUp(serviceId: string, nodeId: string, up: boolean): void {
    (this.node(serviceId, nodeId) as MemoryNode).up = up;
  }

  /** Nodes that are up and accept writes. More than one is split brain. */
  writers(serviceId: string): string[] {
    const service = this.config.services.find((s) => s.id === serviceId);
    return (service?.nodes ?? [])
      .filter((n) => {
        const m = this.nodes.get(key(serviceId, n.id));
        return m?.up === true && m.writable;
      })
      .map((n) => n.id);
  }

  /** Actions that timed out but were still running land now, each checked against the node's token. */
  deliverLate(): NodeActionCall[] {
    const landed = this.late.splice(0);
    for (const { call, key: k } of landed) {
      const node = this.nodes.get(k);
      if (node?.up) this.apply(node, call);
    }
    return landed.map((l) => l.call);
  }

  /** Calls for one service (and role), in order. */
  callsFor(serviceId: string, role?: NodeActionRole): NodeActionCall[] {
    return this.calls.filter(
      (c) => c.request.serviceId === serviceId && (role === undefined || c.request.role === role),
    );
  }

  private async sleep(ms: number): Promise<void> {
    if (ms > 0 && this.options.sleep) await this.options.sleep(ms);
  }

  /** Applies the call's effect unless its token is stale; returns why it was refused. */
  private apply(node: MemoryNode, call: NodeActionCall): string | undefined {
    const { token, role, nodeId } = call.request;
    if (token < node.highestToken) {
      call.outcome = 'refused-token';
      return `${nodeId} refused ${role}: token ${token} is lower than ${node.highestToken}`;
    }
    node.highestToken = token;
    call.applied = true;
    switch (role) {
      case 'fence':
        node.fenced = true;
        node.writable = false;
        break;
      case 'unfence':
        node.fenced = false;
        node.writable = node.primary;
        break;
      case 'promote':
        node.primary = true;
        node.fenced = false;
        node.writable = true;
        break;
      case 'demote':
        node.primary = false;
        node.fenced = false;
        node.writable = false;
        break;
    }
    return undefined;
  }
}

function key(serviceId: string, nodeId: string): string {
  return `${serviceId}/${nodeId}`;
}
