/**
 * One role change's context: the dependencies, what was read, the node actions that ran and the
 * timings, so each step (one per file) reads as what it does.
 */
import type { ServiceConfig } from '../../domain/config.ts';
import {
  fencingToken,
  type NodeActionMode,
  type NodeActionPort,
  type NodeActionResult,
  type NodeActionRole,
  type TokenStep,
} from '../../domain/node-actions.ts';
import type { AlarmTransition, ClusterState, RecordedAction } from '../../domain/types.ts';
import {
  AUTO_FENCE_BOUND_MS,
  DEFAULT_LEASE_SECONDS,
  defaultActionTimeoutMs,
  type FailoverTimings,
  type RoleChangeDeps,
} from './deps.ts';
import { NO_NODE_ACTIONS } from './no-actions.ts';

export class ChangeContext {
  readonly leaseSeconds: number;
  readonly actions: NodeActionPort;
  /** Every node action that ran, in order: kept in the history and the announcement. */
  readonly recorded: RecordedAction[] = [];
  private actionsMs = 0;
  private shiftRequestedAt: number | undefined;
  shiftMs: number | undefined;
  /**
   * The sequence of the last lease this invocation wrote (LeaseGrant.sequence): the attempt part
   * of every token it sends, so its calls outrank every call of an earlier attempt at the epoch.
   * 0 before any lease write (only the closing steps, which ignore it, run without one).
   */
  leaseSequence = 0;

  constructor(
    readonly deps: RoleChangeDeps,
    readonly service: ServiceConfig,
    readonly transition: AlarmTransition,
    /** The state as read before the decision (with our own lease, when resuming). */
    readonly state: ClusterState,
    readonly startedAt: number,
    readonly decidedAt: number,
    /** Which attempt under this holder this invocation is (Lambda retries keep the request id). */
    readonly attempt: number,
  ) {
    this.leaseSeconds = deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    this.actions = deps.actions ?? NO_NODE_ACTIONS;
  }

  /** Whether the service's node has an action for `role` (no action: the step is skipped). */
  has(nodeId: string, role: NodeActionRole): boolean {
    return this.actions.has(this.service.id, nodeId, role);
  }

  /** Whether this service changes roles with actions at all (otherwise: the traffic-only path). */
  get withActions(): boolean {
    return this.service.nodes.some((n) => this.has(n.id, 'promote') || this.has(n.id, 'fence'));
  }

  /**
   * Runs one action with the token for `step` of the change that produces `epoch`, records it
   * and counts its run time apart from the automation's own. A throw (a programming error, or the
   * adapter's) is recorded as a failure: a role change never dies half-way on an action.
   */
  async runAction(
    nodeId: string,
    role: NodeActionRole,
    step: TokenStep,
    epoch: number,
    mode: NodeActionMode,
  ): Promise<NodeActionResult> {
    const { deps, service } = this;
    const configured = (deps.actionTimeoutMs ?? defaultActionTimeoutMs)(service, nodeId, role);
    const timeoutMs =
      mode === 'auto-failover' && role === 'fence' ? Math.min(configured, AUTO_FENCE_BOUND_MS) : configured;
    const token = fencingToken(epoch, step, this.leaseSequence);
    const started = deps.clock.now();
    let result: NodeActionResult;
    try {
      result = await this.actions.run({ serviceId: service.id, nodeId, role, mode, epoch, token, timeoutMs });
    } catch (err) {
      result = {
        status: 'failed',
        kind: 'unknown',
        detail: `the ${role} action threw: ${describe(err)}`,
        durationMs: deps.clock.now() - started,
      };
    }
    this.actionsMs += deps.clock.now() - started;
    this.recorded.push({
      role,
      nodeId,
      token,
      status: result.status,
      kind: result.kind,
      detail: result.detail,
      ...(result.outputTail !== undefined ? { outputTail: result.outputTail } : {}),
      durationMs: result.durationMs,
    });
    deps.logger.info('node action ran', { serviceId: service.id, nodeId, role, mode, token, ...result });
    deps.metrics.add('NodeAction', 1, 'Count', { serviceId: service.id, role, status: result.status });
    return result;
  }

  /** Marks the moment the traffic-shift request goes out (for the overhead measure). */
  shiftRequested(): void {
    this.shiftRequestedAt ??= this.deps.clock.now();
  }

  timings(): FailoverTimings {
    const detectionMs = Math.max(0, this.startedAt - this.transition.timestamp);
    const elapsed = this.deps.clock.now() - this.startedAt;
    return {
      detectionMs,
      decisionMs: this.decidedAt - this.startedAt,
      ...(this.recorded.length > 0 ? { actionsMs: this.actionsMs } : {}),
      ...(this.shiftRequestedAt !== undefined
        ? { overheadMs: Math.max(0, this.shiftRequestedAt - this.decidedAt - this.actionsMs) }
        : {}),
      ...(this.shiftMs !== undefined ? { shiftMs: this.shiftMs } : {}),
      totalMs: detectionMs + elapsed,
    };
  }

  /** Releasing is an optimisation (the lease expires anyway); its failure must not mask the real error. */
  async releaseQuietly(why: string): Promise<void> {
    try {
      await this.deps.state.releaseLease(this.service.id, this.deps.holderId);
    } catch (err) {
      this.deps.logger.warn('lease release failed; it will expire', {
        serviceId: this.service.id,
        why,
        error: describe(err),
      });
    }
  }

  /** Stops automatic changes of this service until an operator resumes it (after a failure a human must read). */
  async pauseQuietly(why: string): Promise<boolean> {
    try {
      await this.deps.state.setPaused(this.service.id, true, {
        by: `failover Lambda (${this.deps.holderId})`,
        at: this.deps.clock.now(),
        reason: `automatic failover stopped itself: ${why}`,
      });
      return true;
    } catch (err) {
      this.deps.logger.error('could not pause the service after a failed role change', {
        serviceId: this.service.id,
        why,
        error: describe(err),
      });
      return false;
    }
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
