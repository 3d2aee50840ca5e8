/**
 * The wire format of a QueuedShift on the zone-shift queue: versioned JSON, validated by the
 * consumer field by field (a malformed message is reported with its field paths, never acted on).
 */
import * as z from 'zod';
import { formatPath } from './config.ts';
import type { Refused } from './parse-input.ts';
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
    // The target was promoted before the shift was throttled: the shifter must send the change as
    // queued (never re-decide onto a node nobody promoted) and keep the actions in the history.
    promoted: z
      .strictObject({
        fenced: z.enum(['yes', 'no', 'unknown']),
        actions: z
          .array(
            z.strictObject({
              role: z.enum(['fence', 'unfence', 'promote', 'demote']),
              nodeId: id,
              token: z.number().int().min(0),
              status: z.enum(['succeeded', 'failed', 'timed-out']),
              kind: z.string().max(MAX_ACTION_TEXT),
              detail: z.string().max(MAX_ACTION_TEXT),
              outputTail: z.string().max(MAX_ACTION_TEXT).optional(),
              durationMs: z.number().finite().min(0),
            }),
          )
          .max(MAX_QUEUED_ACTIONS),
      })
      .optional(),
  });
}

/**
 * A queued change's recorded actions are few (a fence, at most two promotes and their undoing), the
 * latest ones kept, and their text is cut to this length: even escaped character by character, a
 * message stays below SQS's 256 KB (test/domain/queued-shift.test.ts).
 */
export const MAX_QUEUED_ACTIONS = 12;
export const MAX_ACTION_TEXT = 500;

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
  const {
    serviceId,
    from,
    to,
    expectedEpoch,
    holder,
    transition,
    lagSeconds,
    queuedAt,
    reason,
    token,
    promoted,
  } = shift;
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
    ...(promoted !== undefined
      ? {
          promoted: {
            fenced: promoted.fenced,
            actions: promoted.actions.slice(-MAX_QUEUED_ACTIONS).map((a) => ({
              role: a.role,
              nodeId: a.nodeId,
              token: a.token,
              status: a.status,
              kind: a.kind.slice(0, MAX_ACTION_TEXT),
              detail: a.detail.slice(0, MAX_ACTION_TEXT),
              ...(a.outputTail !== undefined ? { outputTail: a.outputTail.slice(-MAX_ACTION_TEXT) } : {}),
              durationMs: a.durationMs,
            })),
          },
        }
      : {}),
  });
}

export type DecodedQueuedShift = { readonly ok: true; readonly shift: QueuedShift } | Refused;

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
