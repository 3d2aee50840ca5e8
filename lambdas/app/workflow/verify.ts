/**
 * The verify check, run in a loop like the catch-up check: the new primary is healthy, the router
 * points at it, and clients really reach it:
 * - Route 53: a change carrying the new value is INSYNC on every name server. The shift's own
 *   change id when it has one; otherwise (a shift that applied and was retried, read back after
 *   an uncertain failure, or settled by the SDK's own retry) the record's value is confirmed by a
 *   no-op compare-and-swap whose change is waited for instead. Its id is kept in `$.verify`.
 * - ELB: the load balancer reports the new target `healthy`.
 * Until `plan.verifyTimeoutSeconds`, then the workflow rolls back.
 */
import { VerificationFailedError } from '../../domain/errors.ts';
import { assessVerification, type VerifyInput } from '../../domain/workflow.ts';
import { nodeAlarms, serviceOf, type WorkflowDeps } from './deps.ts';
import { afterCheck, type ExecutionState, loopProgress, type VerifyStep } from './execution-state.ts';

export async function checkVerify(deps: WorkflowDeps, state: ExecutionState): Promise<VerifyStep> {
  const { plan } = state;
  const service = serviceOf(deps.config, plan.serviceId);
  const now = deps.clock.now();
  const progress = loopProgress(state.verify, now, plan.verifyTimeoutSeconds);
  let changeId = state.verify?.changeId ?? state.shift?.changeId;
  const route53 = service.router.type === 'route53';
  const [alarms, current, delivery] = await Promise.all([
    nodeAlarms(deps, service, [plan.to]),
    deps.traffic.current(plan.serviceId),
    (async (): Promise<VerifyInput['delivery']> => {
      if (!route53) {
        return { router: 'elb', targetHealth: await deps.changes.targetHealth(plan.serviceId, plan.to) };
      }
      // The confirmation is a compare-and-swap on the new value: it writes nothing new, and it
      // fails (no id) when the record does not hold exactly that value.
      changeId ??= await deps.changes.confirmRecord(plan.serviceId, plan.to);
      return {
        router: 'route53',
        changeStatus: changeId === undefined ? undefined : await deps.changes.changeStatus(changeId),
      };
    })(),
  ]);
  const assessment = assessVerification({
    plan,
    targetAlarm: alarms.get(plan.to) ?? 'UNKNOWN',
    current,
    delivery,
    deadline: progress.deadline,
    now,
  });
  const log = {
    serviceId: plan.serviceId,
    holder: plan.holder,
    to: plan.to,
    checks: progress.checks + 1,
    changeId,
  };
  if (assessment.status === 'failed') {
    deps.logger.warn('verification failed', { ...log, detail: assessment.detail });
    throw new VerificationFailedError(assessment.detail);
  }
  deps.logger.info('verification checked', { ...log, status: assessment.status, detail: assessment.detail });
  return {
    status: assessment.status,
    ...afterCheck(progress),
    ...(changeId !== undefined ? { changeId } : {}),
    detail: assessment.detail,
  };
}
