/**
 * Every step after Prepare trusts nothing in the `plan` it is handed: the step Lambda can be
 * invoked directly by anyone allowed to, with any payload. Before a step acts, the plan is checked
 * against the bundled configuration, and the state table must show the lease this plan took:
 *
 * - forward steps and the traffic rollback (checkCatchUp, shiftTraffic, checkVerify, commit,
 *   rollbackTraffic): the lease is held by `plan.holder` for `plan.mode`, unexpired, at
 *   `plan.expectedEpoch` (the commit produces `plan.epoch`); a retried commit may find its own
 *   change already committed at `plan.epoch`, and rollbackTraffic runs (to refuse, moving
 *   nothing) once the epoch moved on;
 * - confirmCommit (the Commit step failed): this plan's change is the latest in the record, so
 *   the commit landed and only its answers were lost; otherwise it refuses and the Catch rolls back;
 * - recordDemote, notify (after the commit): the change at `plan.epoch` is in the record, made by
 *   `plan.holder`, to `plan.to`;
 * - rollbackFinish / rollbackFailed: the lease is still recorded for `plan.holder` at
 *   `plan.expectedEpoch` (expired or not: a rollback must be able to finish late), or this plan's
 *   own change is the one committed (its answer was lost), or, on a retry after the lease was
 *   released, nobody holds it at that epoch (and, for rollbackFailed, the service is already
 *   paused).
 *
 * So a forged plan can neither shift traffic between configured nodes without a live operation,
 * nor pause an idle service, nor release another operation's lease. What remains (someone who can
 * invoke the function acting "as" a running execution, within its own plan) is closed by denying
 * direct invocation: see docs/operating.md for the example SCP / permissions boundary.
 */
import { actionForRole } from '../../domain/action-config.ts';
import { findService } from '../../domain/config.ts';
import { InvalidInputError, LeaseLostError } from '../../domain/errors.ts';
import type { StoredClusterState } from '../../domain/types.ts';
import type { WorkflowPlan } from '../../domain/workflow.ts';
import type { WorkflowDeps } from './deps.ts';
import type { ExecutionState, StepName } from './execution-state.ts';

type Requirement =
  | 'live-lease'
  | 'live-or-committed'
  | 'live-unless-moved'
  | 'just-committed'
  | 'committed'
  | 'rollback';

const REQUIREMENT: Record<Exclude<StepName, 'prepare'>, Requirement> = {
  checkCatchUp: 'live-lease',
  shiftTraffic: 'live-lease',
  checkVerify: 'live-lease',
  rollbackTraffic: 'live-unless-moved',
  commit: 'live-or-committed',
  confirmCommit: 'just-committed',
  recordDemote: 'committed',
  notify: 'committed',
  rollbackFinish: 'rollback',
  rollbackFailed: 'rollback',
};

/** What is wrong with the plan given the bundled configuration; empty when it is one Prepare could have made. */
export function planProblems(deps: Pick<WorkflowDeps, 'config'>, plan: WorkflowPlan): string[] {
  const service = findService(deps.config, plan.serviceId);
  if (!service) return [`plan.serviceId: not a configured service, got: ${JSON.stringify(plan.serviceId)}`];
  const problems: string[] = [];
  const nodes = new Set(service.nodes.map((n) => n.id));
  for (const field of ['from', 'to'] as const) {
    if (!nodes.has(plan[field]))
      problems.push(`plan.${field}: not a node of ${service.id}, got: ${JSON.stringify(plan[field])}`);
  }
  if (plan.from === plan.to)
    problems.push(`plan.to: must differ from plan.from, got: ${JSON.stringify(plan.to)}`);
  if (plan.epoch !== plan.expectedEpoch + 1)
    problems.push(`plan.epoch: must be plan.expectedEpoch + 1, got: ${plan.epoch} and ${plan.expectedEpoch}`);
  const expected: [keyof WorkflowPlan, number][] = [
    ['pollIntervalSeconds', service.switchover.pollIntervalSeconds],
    ['catchUpTimeoutSeconds', service.switchover.catchUpTimeoutSeconds],
    ['verifyTimeoutSeconds', service.switchover.verifyTimeoutSeconds],
  ];
  for (const [field, value] of expected) {
    if (plan[field] !== value)
      problems.push(`plan.${field}: the configuration says ${value}, got: ${plan[field]}`);
  }
  if (problems.length > 0) return problems;
  // A hook is the configured function (a `lambda` action) or, for a built-in action, the stack's
  // node-action function; a role without an action has no hook.
  const roles = [
    ['fence', plan.from],
    ['promote', plan.to],
    ['demote', plan.from],
  ] as const;
  for (const [role, node] of roles) {
    const action = actionForRole(service, node, role);
    const hook = plan.hooks[role];
    if (!action && hook !== undefined)
      problems.push(`plan.hooks.${role}: ${service.id} has no ${role} action, got: ${JSON.stringify(hook)}`);
    else if (action && hook === undefined)
      problems.push(`plan.hooks.${role}: the configured ${role} action is missing`);
    else if (action?.type === 'lambda' && hook !== action.functionArn)
      problems.push(
        `plan.hooks.${role}: the configuration says ${action.functionArn}, got: ${JSON.stringify(hook)}`,
      );
  }
  return problems;
}

function leaseProblem(
  state: StoredClusterState | undefined,
  plan: WorkflowPlan,
  now: number,
  live: boolean,
): string | undefined {
  const lease = state?.lease;
  if (!state || !lease) return 'no lease is held';
  if (lease.holder !== plan.holder) return `the lease is held by ${lease.holder}`;
  if (lease.operation !== plan.mode) return `the lease is for a ${lease.operation}, not a ${plan.mode}`;
  if (state.epoch !== plan.expectedEpoch) return `the epoch is ${state.epoch}, not ${plan.expectedEpoch}`;
  if (live && lease.expiresAt <= now)
    return `the lease expired at ${new Date(lease.expiresAt).toISOString()}`;
  return undefined;
}

function committedByPlan(state: StoredClusterState | undefined, plan: WorkflowPlan): boolean {
  const change = state?.lastChange;
  return (
    state?.epoch === plan.epoch &&
    state.primary === plan.to &&
    change?.epoch === plan.epoch &&
    change.actor === plan.holder
  );
}

/** Throws InvalidInputError (plan) or LeaseLostError (state) when the step must not run; reads the state once. */
export async function guardStep(
  deps: WorkflowDeps,
  step: Exclude<StepName, 'prepare'>,
  execution: ExecutionState,
): Promise<void> {
  const { plan } = execution;
  const problems = planProblems(deps, plan);
  if (problems.length > 0)
    throw new InvalidInputError(`${step}: the plan does not match the configuration`, problems);
  const now = deps.clock.now();
  const requirement = REQUIREMENT[step];
  const state = await deps.state.get(plan.serviceId);
  const refuse = (why: string): never => {
    deps.logger.warn('workflow step refused', { step, serviceId: plan.serviceId, holder: plan.holder, why });
    throw new LeaseLostError(plan.serviceId, plan.holder, { refusing: `${step} (${why})` });
  };
  switch (requirement) {
    case 'live-lease': {
      const problem = leaseProblem(state, plan, now, true);
      if (problem) refuse(problem);
      return;
    }
    case 'live-unless-moved': {
      // rollbackTraffic refuses by itself, moving nothing, once the epoch is not the plan's.
      if (state && state.epoch !== plan.expectedEpoch) return;
      const problem = leaseProblem(state, plan, now, true);
      if (problem) refuse(problem);
      return;
    }
    case 'live-or-committed': {
      const problem = leaseProblem(state, plan, now, true);
      if (problem && !committedByPlan(state, plan)) refuse(problem);
      return;
    }
    case 'just-committed': {
      // Only this plan's change as the latest one: a change that followed it may have moved the
      // roles again, and demoting our old primary then is not ours to do.
      if (committedByPlan(state, plan)) return;
      refuse(
        `the commit did not land: the record shows primary ${state?.primary ?? 'none'} at epoch ${state?.epoch ?? 0}, not ${plan.to} at ${plan.epoch} by ${plan.holder}`,
      );
      return;
    }
    case 'committed': {
      if (committedByPlan(state, plan)) return;
      if (state && state.epoch > plan.epoch) {
        // Another change followed ours: look it up in the history.
        const entries = await deps.state.history(plan.serviceId, state.epoch - plan.epoch + 1);
        const ours = entries.find((e) => e.epoch === plan.epoch);
        if (ours && ours.actor === plan.holder && ours.to === plan.to) return;
      }
      refuse(`no change at epoch ${plan.epoch} by ${plan.holder} to ${plan.to} is recorded`);
      return;
    }
    case 'rollback': {
      const problem = leaseProblem(state, plan, now, false);
      // Our own commit landed but its answer was lost: the rollback must still report and pause.
      if (!problem || committedByPlan(state, plan)) return;
      // A retry after this rollback released the lease changes nothing new.
      const released = state !== undefined && !state.lease && state.epoch === plan.expectedEpoch;
      if (released && (step === 'rollbackFinish' || state.paused)) return;
      refuse(problem);
    }
  }
}
