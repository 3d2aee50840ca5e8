/**
 * Shift traffic: the router's compare-and-swap from the old primary to the target. The port
 * promises not to throw for one service's failure; if it does anyway, the change may have applied.
 * A change the router throttled goes to the zone shifter, still leased, when there is a queue.
 */
import type { FencedVerdict, TrafficShiftResult } from '../../domain/types.ts';
import type { ChangeContext } from './context.ts';
import { describe } from './context.ts';
import type { FailoverOutcome } from './deps.ts';
import type { FailoverDecision } from './plan.ts';

/**
 * SDK error names (and our own) that mean "try again later": the SDK's throttling, timeout and
 * server-fault classes. A shift that failed this way changed nothing, so a retry is safe.
 */
const RETRYABLE_ERROR =
  /^(TransientAwsError|Throttl\w*|\w*ThrottledException|TooManyRequestsException|RequestLimitExceeded|PriorRequestNotComplete\w*|SlowDown|TimeoutError|RequestTimeout\w*|ServiceUnavailable\w*|InternalFailure|InternalError|InternalServerError|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE)$/;

export function isRetryableShiftError(errorName: string): boolean {
  return RETRYABLE_ERROR.test(errorName);
}

export async function shiftTraffic(
  ctx: ChangeContext,
  decision: FailoverDecision,
): Promise<TrafficShiftResult> {
  const { deps, service } = ctx;
  const start = deps.clock.now();
  ctx.shiftRequested();
  let result: TrafficShiftResult;
  try {
    const results = await deps.traffic.shift([
      { serviceId: service.id, from: decision.from, to: decision.to },
    ]);
    result = results.find((r) => r.serviceId === service.id) ?? {
      serviceId: service.id,
      status: 'failed',
      errorName: 'MissingResult',
      message: 'the traffic router returned no result for this service',
      uncertain: true,
    };
  } catch (err) {
    result = {
      serviceId: service.id,
      status: 'failed',
      errorName: err instanceof Error ? err.name : 'Error',
      message: err instanceof Error ? err.message : String(err),
      uncertain: true,
    };
  }
  ctx.shiftMs = deps.clock.now() - start;
  deps.metrics.add('FailoverShiftMs', ctx.shiftMs, 'Milliseconds', { serviceId: service.id });
  deps.logger.info('traffic shift answered', { serviceId: service.id, result });
  return result;
}

/** After an uncertain answer: which node the router points at now, or the read error. */
export async function readBack(
  ctx: ChangeContext,
): Promise<{ readonly observed?: string; readonly error?: unknown }> {
  try {
    const observed = await ctx.deps.traffic.current(ctx.service.id);
    return observed === undefined ? {} : { observed };
  } catch (error) {
    return { error };
  }
}

/**
 * Hands a throttled change to the zone shifter under this lease. Undefined when the queue
 * refused it too: the caller falls back to its own retry. When the target was already promoted,
 * the queued change says so: the shifter must send it as is, never re-decide onto another node.
 */
export async function enqueueShift(
  ctx: ChangeContext,
  decision: FailoverDecision,
  result: Extract<TrafficShiftResult, { status: 'failed' }>,
  promoted: { readonly fenced: FencedVerdict } | undefined,
): Promise<FailoverOutcome | undefined> {
  const { deps, service, transition } = ctx;
  const queue = deps.shiftQueue;
  if (!queue) return undefined;
  try {
    await queue.enqueue({
      serviceId: service.id,
      from: decision.from,
      to: decision.to,
      expectedEpoch: decision.expectedEpoch,
      holder: deps.holderId,
      transition,
      lagSeconds: decision.lagSeconds,
      queuedAt: deps.clock.now(),
      reason: result.errorName,
      ...(promoted ? { promoted: { actions: [...ctx.recorded], fenced: promoted.fenced } } : {}),
    });
  } catch (err) {
    deps.logger.warn('traffic shift could not be queued either', {
      serviceId: service.id,
      errorName: result.errorName,
      error: describe(err),
    });
    return undefined;
  }
  deps.logger.info('traffic shift throttled: queued for the zone shifter under this lease', {
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    epoch: decision.expectedEpoch,
    errorName: result.errorName,
    promoted: promoted !== undefined,
  });
  deps.metrics.add('FailoverQueued', 1, 'Count', { serviceId: service.id, errorName: result.errorName });
  return {
    outcome: 'queued',
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason: 'shift-queued',
    detail: `${result.errorName}: ${result.message}${promoted ? ` (${decision.to} already promoted)` : ''}`,
    epoch: decision.expectedEpoch,
    timings: ctx.timings(),
  };
}
