/**
 * The verify check, run in a loop like the catch-up check: the new primary is healthy, the
 * router points at it, and the Route 53 change (when there is one) is INSYNC on every name server.
 */
import { VerificationFailedError } from '../../domain/errors.ts';
import { assessVerification } from '../../domain/workflow.ts';
import { nodeAlarms, serviceOf, type WorkflowDeps } from './deps.ts';
import type { ExecutionState, VerifyStep } from './execution-state.ts';

export async function checkVerify(deps: WorkflowDeps, state: ExecutionState): Promise<VerifyStep> {
  const { plan } = state;
  const service = serviceOf(deps.config, plan.serviceId);
  const now = deps.clock.now();
  const progress = state.verify ?? {
    startedAt: now,
    deadline: now + plan.verifyTimeoutSeconds * 1000,
    checks: 0,
  };
  const changeId = state.shift?.changeId;
  const [alarms, current, changeStatus] = await Promise.all([
    nodeAlarms(deps, service, [plan.to]),
    deps.traffic.current(plan.serviceId),
    changeId !== undefined && deps.changes ? deps.changes.changeStatus(changeId) : Promise.resolve(undefined),
  ]);
  const assessment = assessVerification({
    plan,
    targetAlarm: alarms.get(plan.to) ?? 'UNKNOWN',
    current,
    changeStatus,
    deadline: progress.deadline,
    now,
  });
  const log = { serviceId: plan.serviceId, holder: plan.holder, to: plan.to, checks: progress.checks + 1 };
  if (assessment.status === 'failed') {
    deps.logger.warn('verification failed', { ...log, detail: assessment.detail });
    throw new VerificationFailedError(assessment.detail);
  }
  deps.logger.info('verification checked', { ...log, status: assessment.status, detail: assessment.detail });
  return {
    status: assessment.status,
    startedAt: progress.startedAt,
    deadline: progress.deadline,
    checks: progress.checks + 1,
    detail: assessment.detail,
  };
}
