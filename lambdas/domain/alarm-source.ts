/**
 * Whether an alarm's new state came from CloudWatch evaluating it or from someone calling
 * `SetAlarmState`. The EventBridge event carries the state's `reason` and `reasonData`: metric
 * evaluation writes "Threshold Crossed: ..." (or "Insufficient Data: ...") with a JSON
 * `reasonData` of the evaluated datapoints; a composite alarm's reason names the alarms that
 * triggered it and its `reasonData` lists them. SetAlarmState writes the caller's free text and
 * no `reasonData` unless the caller adds one. A caller who copies CloudWatch's wording is not
 * caught: this marks the ordinary manual use (a game day, a careless test), the SCP stops abuse. Anyone who can call SetAlarmState on a primary's
 * alarm can cause a real failover, so the decision log and the notification say so; the guardrail
 * that stops it is an SCP (docs/operating.md).
 *
 * Pure: no AWS SDK, no clock, no environment.
 */

/** `unknown`: the event carries no reason (CloudWatch always writes one; SetAlarmState requires one). */
export type AlarmStateSource = 'metric-evaluation' | 'composite-evaluation' | 'manual' | 'unknown';

function parsedObject(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Classifies a state change from its `detail.state.reason` and `detail.state.reasonData`. */
export function alarmStateSource(reason: unknown, reasonData: unknown): AlarmStateSource {
  if (typeof reason !== 'string') return 'unknown';
  const data = parsedObject(reasonData);
  const text = reason;
  // Not reasonData's presence: SetAlarmState may carry one, and evaluation events are not all
  // reproduced with it (test fixtures, older events); the reason's wording is what CloudWatch fixes.
  if (/^(Threshold Crossed|Insufficient Data)\b/.test(text)) return 'metric-evaluation';
  if (data !== undefined && Array.isArray(data.triggeringAlarms)) return 'composite-evaluation';
  return 'manual';
}

/** `alarmStateSource` of an EventBridge `CloudWatch Alarm State Change` event of any shape. */
export function alarmStateSourceOfEvent(event: unknown): { source: AlarmStateSource; reason?: string } {
  const state = (event as { detail?: { state?: { reason?: unknown; reasonData?: unknown } } } | null)?.detail
    ?.state;
  const reason = typeof state?.reason === 'string' ? state.reason.slice(0, 1024) : undefined;
  return {
    source: alarmStateSource(state?.reason, state?.reasonData),
    ...(reason !== undefined ? { reason } : {}),
  };
}
