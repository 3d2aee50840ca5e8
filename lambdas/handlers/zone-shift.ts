/**
 * The zone-shift Lambda: an SQS event source mapping delivers the throttled traffic changes the
 * failover Lambda queued, up to hundreds per invocation (batching window), at most a couple of
 * invocations at a time. Thin: decode each message, run the zone shift, and report back the
 * messages to redeliver (partial batch response): every change not settled in this invocation
 * (still refused, outcome unknown, out of time, held by another attempt), and malformed ones,
 * which end in the dead-letter queue after a few receives.
 */

import { runZoneShift, type ZoneShiftDeps, type ZoneShiftItem } from '../app/zone-shift.ts';
import { InvalidInputError } from '../domain/errors.ts';
import type { Logger } from '../domain/ports.ts';
import { decodeQueuedShift } from '../domain/queued-shift.ts';
import { buildAwsPorts } from '../runtime/aws-ports.ts';
import { JsonLogger } from '../runtime/logger.ts';

export interface ZoneShiftHandlerResult {
  /** SQS partial batch response (ReportBatchItemFailures): these messages are delivered again. */
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

export type ZoneShiftHandler = (
  event: unknown,
  context?: { readonly awsRequestId?: string; readonly getRemainingTimeInMillis?: () => number },
) => Promise<ZoneShiftHandlerResult>;

interface SqsRecord {
  readonly messageId: string;
  readonly body: string;
}

function recordsOf(event: unknown): SqsRecord[] {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) throw new InvalidInputError('not an SQS event: Records is missing');
  return records.map((r, i) => {
    const { messageId, body } = (r ?? {}) as { messageId?: unknown; body?: unknown };
    if (typeof messageId !== 'string' || typeof body !== 'string') {
      throw new InvalidInputError(`not an SQS event: Records[${i}] has no messageId or body`);
    }
    return { messageId, body };
  });
}

export function makeZoneShiftHandler(
  deps: Omit<ZoneShiftDeps, 'invocationId' | 'remainingMs'>,
): ZoneShiftHandler {
  return async (event, context) => {
    const invocationId = context?.awsRequestId ?? 'zone-shifter';
    const logger: Logger =
      deps.logger instanceof JsonLogger ? deps.logger.child({ requestId: invocationId }) : deps.logger;
    try {
      const failures: string[] = [];
      const items: ZoneShiftItem[] = [];
      for (const record of recordsOf(event)) {
        const decoded = decodeQueuedShift(record.body);
        if (decoded.ok) items.push({ id: record.messageId, shift: decoded.shift });
        else {
          // Never acted on; redelivered until the queue dead-letters it, where the alarm sees it.
          logger.error('malformed zone-shift message', {
            messageId: record.messageId,
            problems: decoded.problems,
          });
          deps.metrics.add('ZoneShiftMalformed', 1, 'Count');
          failures.push(record.messageId);
        }
      }
      // The shifter stops starting rounds near the function timeout, handing back what is left.
      const remainingMs = context?.getRemainingTimeInMillis?.bind(context);
      const outcomes = items.length
        ? await runZoneShift(
            { ...deps, logger, invocationId, ...(remainingMs ? { remainingMs } : {}) },
            items,
          )
        : [];
      for (const o of outcomes) {
        if (o.outcome === 'deferred' || o.outcome === 'invalid') failures.push(o.id);
      }
      return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    } catch (err) {
      logger.error('zone shift invocation failed; SQS delivers the whole batch again', { error: err });
      throw err;
    } finally {
      deps.metrics.flush();
    }
  };
}

let production: ZoneShiftHandler | undefined;

/** The Lambda entry point, built once per execution environment (see failover.ts). */
export const handler: ZoneShiftHandler = async (event, context) => {
  production ??= makeZoneShiftHandler(buildAwsPorts('zone-shift'));
  return production(event, context);
};
