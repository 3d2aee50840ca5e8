/**
 * After the commit, the old primary's demote ran (or failed): record what came of it. This is past
 * the point of no return (commit.ts): nothing here rolls back, and this step's own failure only
 * leaves the result as the commit wrote it (the old primary still marked needs-rejoin after an
 * operator failover: the safe side).
 *
 * - Demote succeeded: the old primary replicates from the new one. After an operator failover the
 *   commit marked it needs-rejoin; the mark is cleared (StatePort.markRejoined, a `rejoin` history
 *   entry at the new epoch).
 * - Demote failed: the old primary is still fenced (switchover, or a failover that fenced it) and
 *   not replicating. The result says so and asks a human to re-attach it; after an operator
 *   failover it stays marked needs-rejoin.
 */
import { InvalidInputError, RejoinConflictError } from '../../domain/errors.ts';
import type { HistoryEntry } from '../../domain/types.ts';
import { needsRejoinWarning } from './commit.ts';
import type { WorkflowDeps } from './deps.ts';
import { caught, type ExecutionState, type WorkflowResult } from './execution-state.ts';

export async function recordDemote(deps: WorkflowDeps, state: ExecutionState): Promise<WorkflowResult> {
  const { plan, result } = state;
  if (!result)
    throw new InvalidInputError('recordDemote: no committed result in the state', ['result: missing']);
  const log = { serviceId: plan.serviceId, holder: plan.holder, node: plan.from };
  if (state.demoteError) {
    deps.logger.error('demote of the old primary failed after the commit', {
      ...log,
      error: caught(state.demoteError),
    });
    deps.metrics.add('WorkflowDemoteFailed', 1, 'Count', { serviceId: plan.serviceId, mode: plan.mode });
    return {
      ...result,
      demoteFailed: true,
      warnings: [
        ...result.warnings,
        `demote of ${plan.from} failed after the change to ${plan.to} was committed (${caught(state.demoteError)}): ${
          plan.hooks.fence ? 'it is still fenced but' : 'it may still take writes and is'
        } not replicating from ${plan.to}; re-attach it by hand`,
      ],
    };
  }
  if (!result.needsRejoin?.includes(plan.from)) return result;

  const history: HistoryEntry = {
    serviceId: plan.serviceId,
    epoch: plan.epoch,
    at: deps.clock.now(),
    operation: 'rejoin',
    from: plan.from,
    to: plan.from,
    reason: `former primary ${plan.from} demoted to a replica of ${plan.to} by the ${plan.mode} that replaced it (epoch ${plan.epoch})`,
    actor: plan.holder,
  };
  try {
    await deps.state.markRejoined({
      serviceId: plan.serviceId,
      nodeId: plan.from,
      expectedEpoch: plan.epoch,
      history,
    });
  } catch (err) {
    if (!(err instanceof RejoinConflictError)) throw err;
    const now = await deps.state.get(plan.serviceId);
    // A retry whose first attempt applied (or an operator's `failover rejoin` in between): the
    // mark is gone at our epoch. Otherwise the epoch moved on and the newer state governs the node.
    if (now?.epoch !== plan.epoch || now.needsRejoin?.includes(plan.from)) {
      deps.logger.warn('demoted old primary not recorded as rejoined: the state moved', {
        ...log,
        error: err.message,
      });
      return result;
    }
  }
  deps.logger.info('old primary demoted and rejoined', log);
  const warning = needsRejoinWarning(plan);
  const { needsRejoin: _marked, ...rest } = result;
  const still = result.needsRejoin.filter((n) => n !== plan.from);
  return {
    ...rest,
    ...(still.length > 0 ? { needsRejoin: still } : {}),
    warnings: result.warnings.filter((w) => w !== warning),
  };
}
