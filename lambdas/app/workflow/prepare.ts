/**
 * First step: validate the input, check the preconditions, choose the node to promote, and take
 * the lease with the same epoch compare-and-swap automatic failover uses, so the two never run at
 * once. Nothing has changed when this step fails.
 */
import { healthAlarmName } from '../../domain/config.ts';
import { currentState } from '../../domain/decide.ts';
import { LeaseConflictError, PreconditionFailedError } from '../../domain/errors.ts';
import { tokenAttemptFits } from '../../domain/node-actions.ts';
import { durationText, secondsText } from '../../domain/text.ts';
import type { CandidateAssessment } from '../../domain/types.ts';
import {
  parseWorkflowRequest,
  planWorkflow,
  type WorkflowPlan,
  withTokenAttempt,
} from '../../domain/workflow.ts';
import { LAG_LOOKBACK_SECONDS, serviceOf, type WorkflowDeps } from './deps.ts';

export interface PrepareEvent {
  /** The StartExecution input, unvalidated. */
  readonly input: unknown;
  /** `$$.Execution.Name`: the lease holder, unique per execution. */
  readonly executionName: string;
  /** The stack's node-action function (runs the built-in action kinds), when it has one. */
  readonly actionFunctionArn?: string;
}

/** What a dry run reports: the plan's nodes and judgement, without running it. */
export interface DryRunResult
  extends Pick<
    WorkflowPlan,
    'serviceId' | 'mode' | 'from' | 'to' | 'primaryHealthy' | 'candidates' | 'warnings'
  > {
  readonly outcome: 'dry-run';
  readonly epoch: number;
  readonly detail: string;
}

export interface AlreadyPrimaryResult {
  readonly outcome: 'already-primary';
  readonly serviceId: string;
  readonly primary: string;
  readonly epoch: number;
  readonly detail: string;
}

export type PrepareOutput =
  | { readonly outcome: 'proceed'; readonly plan: WorkflowPlan }
  | { readonly outcome: 'dry-run'; readonly result: DryRunResult }
  | { readonly outcome: 'already-primary'; readonly result: AlreadyPrimaryResult };

export async function prepare(deps: WorkflowDeps, event: PrepareEvent): Promise<PrepareOutput> {
  const request = parseWorkflowRequest(event.input);
  const service = serviceOf(deps.config, request.serviceId);
  const now = deps.clock.now();
  const holder = event.executionName;

  // One round trip: every fact the preconditions need, read in parallel.
  const [alarms, lag, stored, live] = await Promise.all([
    deps.alarms.getStates(service.nodes.map((n) => healthAlarmName(service, n))),
    deps.lag.getLatest(
      service.nodes.map((n) => ({ key: n.id, metric: n.lag })),
      now,
      LAG_LOOKBACK_SECONDS,
    ),
    deps.state.get(service.id),
    deps.traffic.current(service.id),
  ]);
  const state = currentState(stored, service);
  const decision = planWorkflow({
    service,
    request,
    state,
    alarms,
    lag,
    holder,
    now,
    live: { node: live },
    ...(event.actionFunctionArn ? { actionFunctionArn: event.actionFunctionArn } : {}),
  });
  const log = { serviceId: service.id, mode: request.mode, holder, reason: request.reason };

  switch (decision.outcome) {
    case 'refused':
      deps.logger.warn('workflow refused', { ...log, error: decision.error, detail: decision.detail });
      deps.metrics.add('WorkflowRefused', 1, 'Count', { serviceId: service.id, mode: request.mode });
      if (decision.error === 'LeaseConflictError') {
        throw new LeaseConflictError(service.id, state.epoch, { detail: decision.detail });
      }
      throw new PreconditionFailedError(decision.detail);
    case 'already-primary':
      deps.logger.info('workflow not needed', { ...log, outcome: decision.outcome, detail: decision.detail });
      return {
        outcome: 'already-primary',
        result: {
          outcome: 'already-primary',
          serviceId: decision.serviceId,
          primary: decision.primary,
          epoch: decision.epoch,
          detail: decision.detail,
        },
      };
    case 'dry-run': {
      const plan = decision.plan;
      const target = plan.candidates.find((c) => c.nodeId === plan.to);
      const detail = dryRunDetail(plan, target);
      deps.logger.info('workflow dry run', {
        ...log,
        from: plan.from,
        to: plan.to,
        detail,
        warnings: plan.warnings,
      });
      return {
        outcome: 'dry-run',
        result: {
          outcome: 'dry-run',
          serviceId: plan.serviceId,
          mode: plan.mode,
          from: plan.from,
          to: plan.to,
          epoch: plan.expectedEpoch,
          primaryHealthy: plan.primaryHealthy,
          candidates: plan.candidates,
          warnings: plan.warnings,
          detail,
        },
      };
    }
    case 'proceed': {
      // A retried Prepare (Lambda timeout after the write) renews its own lease: the holder may.
      // Every lease write counts (LeaseGrant.sequence), and the hook calls' tokens carry that
      // count: this attempt outranks every earlier one at the epoch, their rollbacks and late
      // calls included.
      const grant = await deps.state.acquireLease({
        serviceId: service.id,
        expectedEpoch: decision.plan.expectedEpoch,
        seedPrimary: service.initialPrimary,
        lease: {
          holder,
          operation: decision.plan.mode,
          acquiredAt: now,
          expiresAt: decision.plan.leaseExpiresAt,
        },
        now,
      });
      if (!tokenAttemptFits(grant.sequence)) {
        await deps.state.releaseLease(service.id, holder);
        throw new PreconditionFailedError(
          `${service.id} has had ${grant.sequence} leases at epoch ${decision.plan.expectedEpoch}: fencing tokens no longer order attempts; nothing changed`,
        );
      }
      const plan = withTokenAttempt(decision.plan, grant.sequence);
      deps.logger.info('workflow started', {
        ...log,
        from: plan.from,
        to: plan.to,
        expectedEpoch: plan.expectedEpoch,
        leaseExpiresAt: plan.leaseExpiresAt,
        candidates: plan.candidates,
        warnings: plan.warnings,
      });
      return { outcome: 'proceed', plan };
    }
  }
}

function dryRunDetail(plan: WorkflowPlan, target: CandidateAssessment | undefined): string {
  const lag =
    target?.lagSeconds === undefined
      ? 'lag unknown'
      : `lag ${secondsText(target.lagSeconds)} (${target.verdict})`;
  const wait =
    plan.mode === 'switchover'
      ? 'wait for lag 0'
      : plan.force
        ? 'proceed on the known lag (force)'
        : 'wait for lag within the budget';
  const steps = [
    plan.hooks.fence ? `fence ${plan.from}` : undefined,
    `${wait} on ${plan.to} (${lag}, up to ${durationText(plan.catchUpTimeoutSeconds)})`,
    plan.hooks.promote ? `promote ${plan.to}` : undefined,
    `move traffic ${plan.from} -> ${plan.to}`,
    'verify',
    plan.hooks.demote ? `demote ${plan.from}` : undefined,
    `commit epoch ${plan.epoch}`,
  ].filter((s) => s !== undefined);
  return `would ${steps.join(', ')}; nothing changed`;
}
