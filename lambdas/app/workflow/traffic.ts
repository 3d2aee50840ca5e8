/**
 * Moving traffic, forward and back. Every move is the router's compare-and-swap: a move whose
 * `from` no longer matches comes back as a conflict, never as a blind overwrite. That also makes
 * a retried move safe: if the first attempt applied, the retry reports a conflict that already
 * observes the destination, which counts as done.
 */
import {
  RollbackRefusedError,
  TrafficConflictError,
  TrafficShiftError,
  TransientAwsError,
} from '../../domain/errors.ts';
import type { TrafficShiftResult } from '../../domain/types.ts';
import type { WorkflowDeps } from './deps.ts';
import type { ExecutionState, RollbackTrafficStep, ShiftStep } from './execution-state.ts';

/** Error names a router reports for a failed change that is worth retrying (throttling, 5xx). */
const RETRYABLE_SHIFT_ERRORS = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServiceError',
  'TransientAwsError',
]);

interface Move {
  readonly serviceId: string;
  readonly from: string;
  readonly to: string;
}

type MoveOutcome = { readonly done: true; readonly changeId?: string; readonly detail: string };

/** One compare-and-swap move; throws a named error for everything but "done". */
async function move(deps: WorkflowDeps, change: Move, operation: string): Promise<MoveOutcome> {
  const [result] = (await deps.traffic.shift([change])) as [TrafficShiftResult | undefined];
  if (!result)
    throw new TrafficShiftError(change.serviceId, `${operation}: the router returned no result`, true);
  switch (result.status) {
    case 'shifted':
      return {
        done: true,
        ...(result.changeId !== undefined ? { changeId: result.changeId } : {}),
        detail: `traffic moved ${change.from} -> ${change.to}`,
      };
    case 'conflict':
      if (result.observed === change.to) {
        return { done: true, detail: `traffic already on ${change.to} (an earlier attempt applied)` };
      }
      throw new TrafficConflictError(change.serviceId, result.observed);
    case 'failed': {
      if (result.uncertain) {
        // The change may have applied: read back instead of guessing.
        const current = await deps.traffic.current(change.serviceId);
        if (current === change.to) {
          return { done: true, detail: `traffic on ${change.to} after an uncertain ${result.errorName}` };
        }
        if (current === change.from) throw new TransientAwsError(operation, { cause: describe(result) });
        throw new TrafficShiftError(
          change.serviceId,
          `${operation} uncertain (${result.errorName}: ${result.message}) and traffic now points at ${current ?? 'no single node'}`,
          true,
        );
      }
      if (RETRYABLE_SHIFT_ERRORS.has(result.errorName)) {
        throw new TransientAwsError(operation, { cause: describe(result) });
      }
      throw new TrafficShiftError(
        change.serviceId,
        `${operation} failed: ${result.errorName}: ${result.message}`,
        false,
      );
    }
  }
}

function describe(result: Extract<TrafficShiftResult, { status: 'failed' }>): Error {
  return Object.assign(new Error(result.message), { name: result.errorName });
}

export async function shiftTraffic(deps: WorkflowDeps, state: ExecutionState): Promise<ShiftStep> {
  const { plan } = state;
  const outcome = await move(
    deps,
    { serviceId: plan.serviceId, from: plan.from, to: plan.to },
    'traffic shift',
  );
  deps.logger.info('traffic shifted', {
    serviceId: plan.serviceId,
    holder: plan.holder,
    from: plan.from,
    to: plan.to,
    changeId: outcome.changeId,
    detail: outcome.detail,
  });
  return {
    status: 'shifted',
    at: deps.clock.now(),
    ...(outcome.changeId !== undefined ? { changeId: outcome.changeId } : {}),
    detail: outcome.detail,
  };
}

/**
 * Puts traffic back on the old primary if it left. Reads where it points rather than trusting
 * how far the forward path got: a shift that failed "uncertainly" may still have applied.
 */
export async function rollbackTraffic(
  deps: WorkflowDeps,
  state: ExecutionState,
): Promise<RollbackTrafficStep> {
  const { plan } = state;
  const [current, stored] = await Promise.all([
    deps.traffic.current(plan.serviceId),
    deps.state.get(plan.serviceId),
  ]);
  const log = { serviceId: plan.serviceId, holder: plan.holder, from: plan.from, to: plan.to, current };
  // The Commit step can fail after its write landed (its answer lost, its read-back failing until
  // the retries ran out). The record then names the new primary: moving traffic back would leave
  // the record and the traffic disagreeing, and the demote/unfence after it would make two writers.
  const epoch = stored?.epoch ?? 0;
  if (epoch !== plan.expectedEpoch) {
    const committedByUs =
      stored?.epoch === plan.epoch && stored.primary === plan.to && stored.lastChange?.actor === plan.holder;
    deps.logger.error('rollback refused: the record moved on', { ...log, epoch, primary: stored?.primary });
    throw new RollbackRefusedError(
      plan.serviceId,
      committedByUs
        ? `${plan.serviceId}: the change to ${plan.to} was already committed (epoch ${plan.epoch}) by this execution; traffic left on ${current ?? 'no single node'}, nothing rolled back`
        : `${plan.serviceId}: the record moved on to epoch ${epoch} (primary ${stored?.primary}) since this execution started at epoch ${plan.expectedEpoch}; traffic left on ${current ?? 'no single node'}, nothing rolled back`,
    );
  }
  if (current === plan.from) {
    deps.logger.info('rollback: traffic never left the old primary', log);
    return { traffic: 'unchanged', detail: `traffic still on ${plan.from}` };
  }
  if (current !== plan.to) {
    throw new TrafficShiftError(
      plan.serviceId,
      `traffic points at ${current ?? 'no single node'}, neither ${plan.from} nor ${plan.to}: not moving it blindly`,
      false,
    );
  }
  const outcome = await move(
    deps,
    { serviceId: plan.serviceId, from: plan.to, to: plan.from },
    'rollback shift',
  );
  deps.logger.info('rollback: traffic restored', { ...log, detail: outcome.detail });
  return { traffic: 'restored', detail: `traffic moved back ${plan.to} -> ${plan.from}` };
}
