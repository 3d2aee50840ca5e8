/**
 * The wire format of a QueuedShift on the zone-shift queue: versioned JSON, validated by the
 * consumer field by field (a malformed message is reported with its field paths, never acted on).
 */
import * as z from 'zod';
import { formatPath } from './config.ts';
import type { QueuedShift } from './types.ts';

export const QUEUED_SHIFT_VERSION = 1;

function buildSchema() {
  const alarmState = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
  const id = z.string().min(1).max(256);
  return z.strictObject({
    v: z.literal(QUEUED_SHIFT_VERSION),
    serviceId: id,
    from: id,
    to: id,
    expectedEpoch: z.number().int().min(0),
    holder: id,
    transition: z.strictObject({
      alarmName: z.string().min(1).max(255),
      state: alarmState,
      previousState: alarmState,
      timestamp: z.number().finite(),
      eventId: id,
    }),
    lagSeconds: z.number().finite().min(0),
    queuedAt: z.number().finite(),
    reason: z.string().max(256),
    token: id.optional(),
  });
}

let schema: ReturnType<typeof buildSchema> | undefined;

/**
 * Built on first use: the failover Lambda only encodes, so its cold start does not pay for
 * constructing the schema (zod builds are a measurable part of module init, see BENCHMARKS.md).
 */
export function queuedShiftSchema(): ReturnType<typeof buildSchema> {
  schema ??= buildSchema();
  return schema;
}

export function encodeQueuedShift(shift: QueuedShift): string {
  const { serviceId, from, to, expectedEpoch, holder, transition, lagSeconds, queuedAt, reason, token } =
    shift;
  return JSON.stringify({
    v: QUEUED_SHIFT_VERSION,
    serviceId,
    from,
    to,
    expectedEpoch,
    holder,
    transition: {
      alarmName: transition.alarmName,
      state: transition.state,
      previousState: transition.previousState,
      timestamp: transition.timestamp,
      eventId: transition.eventId,
    },
    lagSeconds,
    queuedAt,
    reason: reason.slice(0, 256),
    ...(token !== undefined ? { token } : {}),
  });
}

export type DecodedQueuedShift =
  | { readonly ok: true; readonly shift: QueuedShift }
  | { readonly ok: false; readonly problems: readonly string[] };

export function decodeQueuedShift(body: string): DecodedQueuedShift {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return { ok: false, problems: [`(root): not JSON (${(err as Error).message})`] };
  }
  const parsed = queuedShiftSchema().safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`),
    };
  }
  const { v: _version, ...shift } = parsed.data;
  return { ok: true, shift };
}
