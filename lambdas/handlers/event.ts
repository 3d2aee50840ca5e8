/**
 * The EventBridge event the failover Lambda accepts: `CloudWatch Alarm State Change` from
 * `aws.cloudwatch`. Only the fields the decision needs are checked; the rest (account, region,
 * alarm configuration, reasonData) is allowed and ignored. A malformed event is reported with
 * field paths, never thrown: the same event would fail the same way on every retry.
 */
import * as z from 'zod';
import { describeIssues } from '../domain/config.ts';
import type { Refused } from '../domain/parse-input.ts';
import type { AlarmTransition } from '../domain/types.ts';

/** EventBridge's maximum event size; anything larger did not come from EventBridge. */
export const MAX_EVENT_BYTES = 256 * 1024;

const alarmState = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/** CloudWatch writes `2019-10-02T17:04:40.989+0000`; EventBridge's `time` is `2019-10-02T17:04:40Z`. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
const timestamp = z
  .string()
  .regex(ISO_TIMESTAMP, 'must be an ISO 8601 timestamp with a time zone')
  .refine((s) => Number.isFinite(Date.parse(s)), 'must be a valid date');

export const alarmStateChangeEventSchema = z.object({
  id: z.string().min(1).max(256),
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: timestamp,
  detail: z.object({
    alarmName: z.string().min(1).max(255),
    state: z.object({ value: alarmState, timestamp }),
    previousState: z.object({ value: alarmState }),
  }),
});

export type AlarmStateChangeEvent = z.output<typeof alarmStateChangeEventSchema>;

export type ParsedAlarmEvent = { readonly ok: true; readonly transition: AlarmTransition } | Refused;

export function parseAlarmEvent(event: unknown): ParsedAlarmEvent {
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(event) ?? '', 'utf8');
  } catch (err) {
    return { ok: false, problems: [`(root): not serializable as JSON (${(err as Error).message})`] };
  }
  if (bytes > MAX_EVENT_BYTES) {
    return {
      ok: false,
      problems: [`(root): event is ${bytes} bytes, over the ${MAX_EVENT_BYTES} byte EventBridge limit`],
    };
  }
  const result = alarmStateChangeEventSchema.safeParse(event);
  if (!result.success) {
    return {
      ok: false,
      problems: describeIssues(result.error.issues, event),
    };
  }
  const e = result.data;
  return {
    ok: true,
    transition: {
      alarmName: e.detail.alarmName,
      state: e.detail.state.value,
      previousState: e.detail.previousState.value,
      timestamp: Date.parse(e.detail.state.timestamp),
      eventId: e.id,
    },
  };
}
