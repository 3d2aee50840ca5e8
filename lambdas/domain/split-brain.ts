/**
 * Split brain: two nodes of one service taking writes at once. The probe's `Writable` metric
 * feeds a metric-math alarm per service (the sum of Writable over its nodes >= 2); on that alarm
 * the failover Lambda fences every writer that is not the recorded primary.
 *
 * Pure: no AWS SDK, no clock.
 */

export interface SplitBrainVerdict {
  readonly splitBrain: boolean;
  /** Nodes that reported Writable 1, sorted. */
  readonly writers: readonly string[];
}

/** The same rule the alarm evaluates: two or more writers. */
export function detectSplitBrain(writable: ReadonlyMap<string, number | undefined>): SplitBrainVerdict {
  const writers = [...writable]
    .filter(([, w]) => w === 1)
    .map(([id]) => id)
    .sort();
  return { splitBrain: writers.length >= 2, writers };
}

/** The alarm name of a service's split-brain detector (lib/node-probe.ts creates it). */
export function splitBrainAlarmName(serviceId: string): string {
  return `failover-${serviceId}-split-brain`;
}

/** Which service a split-brain alarm name belongs to, or undefined for any other alarm. */
export function serviceOfSplitBrainAlarm(alarmName: string): string | undefined {
  const m = /^failover-(.+)-split-brain$/.exec(alarmName);
  return m?.[1];
}

export type SplitBrainPlan =
  | {
      readonly action: 'fence';
      readonly serviceId: string;
      readonly keep: string;
      readonly fence: readonly string[];
    }
  | { readonly action: 'hold'; readonly serviceId: string; readonly reason: string };

/**
 * Whom to fence: every node of the service except the recorded primary. The Writable figures are
 * not consulted: by the time the alarm fires they may be a period old, and fencing a node that is
 * already read-only is harmless, while missing a writer is not.
 */
export function planSplitBrainFence(
  serviceId: string,
  nodeIds: readonly string[],
  recordedPrimary: string,
  hasFenceAction: boolean,
): SplitBrainPlan {
  if (!nodeIds.includes(recordedPrimary)) {
    return {
      action: 'hold',
      serviceId,
      reason: `the recorded primary ${recordedPrimary} is not a node of ${serviceId}`,
    };
  }
  if (!hasFenceAction) {
    return { action: 'hold', serviceId, reason: `${serviceId} has no fence action: alarm only` };
  }
  return {
    action: 'fence',
    serviceId,
    keep: recordedPrimary,
    fence: nodeIds.filter((n) => n !== recordedPrimary),
  };
}
