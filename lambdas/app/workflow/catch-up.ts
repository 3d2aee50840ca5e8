/**
 * The catch-up check, run in a loop by the state machine (check, Choice, Wait SecondsPath
 * pollIntervalSeconds, check again) until the replica is ready or the deadline passes.
 */
import { CatchUpTimeoutError } from '../../domain/errors.ts';
import { assessCatchUp } from '../../domain/workflow.ts';
import { nodeAlarms, nodeLag, serviceOf, type WorkflowDeps } from './deps.ts';
import { afterCheck, type CatchUpStep, type ExecutionState, loopProgress } from './execution-state.ts';

export async function checkCatchUp(deps: WorkflowDeps, state: ExecutionState): Promise<CatchUpStep> {
  const { plan } = state;
  const service = serviceOf(deps.config, plan.serviceId);
  const now = deps.clock.now();
  // The first check runs right after the fence: it starts the clock and the "measured after the
  // fence" window, so the timeout covers catching up, not the fence hook.
  const progress = loopProgress(state.catchUp, now, plan.catchUpTimeoutSeconds);
  const [alarms, lag] = await Promise.all([
    nodeAlarms(deps, service, [plan.to]),
    nodeLag(deps, service, [plan.to], now),
  ]);
  const assessment = assessCatchUp({
    plan,
    service,
    targetAlarm: alarms.get(plan.to) ?? 'UNKNOWN',
    sample: lag.get(plan.to),
    progress,
    now,
  });
  const log = { serviceId: plan.serviceId, holder: plan.holder, to: plan.to, checks: progress.checks + 1 };
  if (assessment.status === 'timed-out') {
    deps.logger.warn('catch-up timed out', { ...log, detail: assessment.detail });
    throw new CatchUpTimeoutError(assessment.detail);
  }
  deps.logger.info('catch-up checked', { ...log, status: assessment.status, detail: assessment.detail });
  const base = { ...afterCheck(progress), detail: assessment.detail };
  if (assessment.status === 'waiting') return { status: 'waiting', ...base };
  return {
    status: 'ready',
    ...base,
    ...(assessment.lagSeconds !== undefined ? { lagSeconds: assessment.lagSeconds } : {}),
    ...(assessment.lagAgeSeconds !== undefined ? { lagAgeSeconds: assessment.lagAgeSeconds } : {}),
    forced: assessment.forced,
  };
}
