/**
 * Lease: the epoch compare-and-swap that makes this attempt the only one changing the service.
 * The lease names the target before any action runs, so a retry of this invocation (Lambda keeps
 * the request id) continues with the same node. Losing the race is an expected "no": another
 * attempt, most often a duplicate of the same event, is changing the service and will announce.
 */
import { LeaseConflictError, LeasePausedError } from '../../domain/errors.ts';
import { tokenAttemptFits } from '../../domain/node-actions.ts';
import type { ChangeContext } from './context.ts';
import type { FailoverDecision } from './plan.ts';

export type LeaseResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly message: string; readonly paused?: true };

/**
 * `unlessPaused`: the first lease of a change, before any node action: refused while the service
 * is paused, so a pause written after the decision read the state stops the change before it
 * fences or promotes anything. Renewals that undo or finish earlier work leave it off.
 */
export async function takeLease(
  ctx: ChangeContext,
  decision: FailoverDecision,
  options: { readonly unlessPaused?: boolean } = {},
): Promise<LeaseResult> {
  const target = decision.to;
  const { deps, service } = ctx;
  const now = deps.clock.now();
  let sequence: number;
  try {
    ({ sequence } = await deps.state.acquireLease({
      serviceId: service.id,
      expectedEpoch: decision.expectedEpoch,
      seedPrimary: service.initialPrimary,
      lease: {
        holder: deps.holderId,
        operation: 'auto-failover',
        acquiredAt: now,
        expiresAt: now + ctx.leaseSeconds * 1000,
        target,
        targetLagSeconds: decision.lagSeconds,
        invocation: ctx.attempt,
      },
      now,
      ...(options.unlessPaused ? { unlessPaused: true } : {}),
    }));
  } catch (err) {
    if (err instanceof LeasePausedError) {
      deps.logger.warn('lease not acquired: automatic failover was paused after the decision', {
        serviceId: service.id,
        expectedEpoch: decision.expectedEpoch,
        to: target,
      });
      deps.metrics.add('FailoverPausedBeforeLease', 1, 'Count', { serviceId: service.id });
      return { acquired: false, message: err.message, paused: true };
    }
    if (err instanceof LeaseConflictError) {
      deps.logger.info('lease not acquired: another operation won', {
        serviceId: service.id,
        expectedEpoch: decision.expectedEpoch,
        error: err.message,
      });
      deps.metrics.add('FailoverLeaseConflict', 1, 'Count', { serviceId: service.id });
      return { acquired: false, message: err.message };
    }
    // The write may have landed (a timeout): give the lease back so the retry is not fenced out.
    // Not when resuming: our lease names a target an earlier attempt may have promoted, and the
    // retry must find it.
    if (ctx.state.lease?.holder !== deps.holderId) await ctx.releaseQuietly('acquire failed');
    throw err;
  }
  if (!tokenAttemptFits(sequence)) {
    // Tokens of this attempt would not outrank an earlier attempt's: act on nothing.
    await ctx.releaseQuietly('lease sequence past the token space');
    return {
      acquired: false,
      message: `lease sequence ${sequence} at epoch ${decision.expectedEpoch} is past the fencing-token space`,
    };
  }
  ctx.leaseSequence = sequence;
  return { acquired: true };
}
