/**
 * Announce: what the on-call hears, and the outcomes that go with it. One builder per message so
 * the automatic path, the zone shifter and the rejoin say the same things the same way.
 */
import type { MetricsPort, Notification } from '../../domain/ports.ts';
import type {
  AlarmTransition,
  Decision,
  FencedVerdict,
  HoldReason,
  TrafficShiftResult,
} from '../../domain/types.ts';
import type { AutomationPorts } from '../ports.ts';
import type { ChangeContext } from './context.ts';
import { describe } from './context.ts';
import type { FailoverOutcome } from './deps.ts';
import type { FailoverDecision } from './plan.ts';

/**
 * An auto-failover normally finishes in about a second; EventBridge duplicates arrive within
 * seconds of each other. A lease younger than this is a duplicate's attempt in flight (held
 * quietly); an older one is stuck or crashed, and the hold is announced.
 */
export const IN_FLIGHT_QUIET_MS = 30_000;

/** Holds the on-call must hear about: the primary is down and nothing was done. */
export const NOTIFIED_HOLDS: ReadonlySet<HoldReason> = new Set<HoldReason>([
  'paused',
  'auto-failover-disabled',
  'cooldown',
  'operation-in-progress',
  'no-healthy-candidate',
  'lag-unknown',
  'lag-stale',
  'lag-over-budget',
]);

/** `quiet`: a concurrent attempt won the lease race; it announces, so this one does not. */
export async function hold(
  ctx: ChangeContext,
  reason: HoldReason,
  detail: string,
  decision?: Decision,
  quiet = false,
): Promise<FailoverOutcome> {
  const { service, state, deps } = ctx;
  const lease = state.lease;
  // A young auto-failover lease is a duplicate event's attempt in flight: it will announce. An
  // old one may belong to a crashed attempt, and then nothing else would tell anyone.
  const inFlightDuplicate =
    reason === 'operation-in-progress' &&
    lease?.operation === 'auto-failover' &&
    ctx.decidedAt - lease.acquiredAt < IN_FLIGHT_QUIET_MS;
  if (NOTIFIED_HOLDS.has(reason) && !quiet && !inFlightDuplicate) {
    await deps.notifier.publish(
      failoverHeldNotification({
        failover: 'automatic',
        serviceId: service.id,
        primary: state.primary,
        epoch: state.epoch,
        reason,
        detail,
        alarmName: ctx.transition.alarmName,
        eventId: ctx.transition.eventId,
        candidates: decision?.candidates ?? [],
        ...(state.needsRejoin?.length ? { needsRejoin: state.needsRejoin } : {}),
      }),
    );
  }
  return {
    outcome: 'held',
    serviceId: service.id,
    from: state.primary,
    reason,
    detail,
    epoch: state.epoch,
    timings: ctx.timings(),
  };
}

/**
 * The notice that a failover of a down primary was held: the failover Lambda's own ('automatic')
 * or one the zone shifter decided again ('queued'). Fields given are kept in the detail as given.
 */
export function failoverHeldNotification(input: {
  readonly failover: 'automatic' | 'queued';
  readonly serviceId: string;
  readonly primary: string;
  readonly epoch: number;
  readonly reason: string;
  readonly detail: string;
  readonly alarmName?: string;
  readonly eventId: string;
  readonly candidates?: Decision['candidates'];
  readonly needsRejoin?: readonly string[];
}): Notification {
  const { failover, ...detail } = input;
  return {
    kind: 'failover-held',
    serviceId: input.serviceId,
    subject: `${input.serviceId}: primary ${input.primary} is down, ${failover} failover held (${input.reason})`,
    detail,
  };
}

/**
 * The recorded primary is not in the configuration (a node was renamed or removed while it was
 * primary): every event would hold on it, so it is announced loudly, once per recorded primary.
 */
export async function primaryNotConfigured(ctx: ChangeContext, detail: string): Promise<FailoverOutcome> {
  const { deps, service, state } = ctx;
  const note = `primary-not-configured:${state.primary}`;
  const first = await deps.state.noteOnce(service.id, note, service.initialPrimary);
  deps.logger.error('the recorded primary is not in the configuration', {
    serviceId: service.id,
    primary: state.primary,
    epoch: state.epoch,
    announced: first,
  });
  deps.metrics.add('FailoverConfigMismatch', 1, 'Count', { serviceId: service.id });
  if (first) {
    await deps.notifier.publish({
      kind: 'config-mismatch',
      serviceId: service.id,
      subject: `${service.id}: ACTION NEEDED, the recorded primary ${state.primary} is not in the configuration: automatic failover is off for this service`,
      detail: {
        serviceId: service.id,
        primary: state.primary,
        epoch: state.epoch,
        configuredNodes: service.nodes.map((n) => n.id),
        detail,
        action: `deploy a configuration that has node ${state.primary}, or record the real primary with a manual failover`,
      },
    });
  }
  return {
    outcome: 'held',
    serviceId: service.id,
    from: state.primary,
    reason: 'primary-not-configured',
    detail,
    epoch: state.epoch,
    timings: ctx.timings(),
  };
}

export async function dryRun(ctx: ChangeContext, decision: FailoverDecision): Promise<FailoverOutcome> {
  const { service, deps } = ctx;
  await deps.notifier.publish({
    kind: 'failover-held',
    serviceId: service.id,
    subject: `${service.id}: dry run, would fail over from ${decision.from} to ${decision.to}`,
    detail: {
      serviceId: service.id,
      dryRun: true,
      from: decision.from,
      to: decision.to,
      lagSeconds: decision.lagSeconds,
      epoch: decision.expectedEpoch,
      alarmName: ctx.transition.alarmName,
      eventId: ctx.transition.eventId,
      candidates: decision.candidates,
    },
  });
  return {
    outcome: 'dry-run',
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason: 'dry-run',
    epoch: decision.expectedEpoch,
    timings: ctx.timings(),
  };
}

/** A human must look. `paused`: automatic changes of the service are paused until they do. */
export async function needsAttention(
  ctx: ChangeContext,
  decision: FailoverDecision,
  reason: string,
  detail: string,
  options: { readonly paused?: boolean; readonly fenced?: FencedVerdict } = {},
): Promise<FailoverOutcome> {
  const { deps, service } = ctx;
  reportNeedsAttention(deps, decision, reason, detail, {
    paused: options.paused ?? false,
    actions: ctx.recorded,
  });
  await deps.notifier.publish(
    needsAttentionNotification({
      decision,
      reason,
      detail,
      eventId: ctx.transition.eventId,
      holder: deps.holderId,
      ...(options.paused ? { paused: true } : {}),
      ...(options.fenced ? { fenced: options.fenced } : {}),
      actions: ctx.recorded,
    }),
  );
  return {
    outcome: 'needs-attention',
    serviceId: service.id,
    from: decision.from,
    to: decision.to,
    reason,
    detail,
    epoch: decision.expectedEpoch,
    timings: ctx.timings(),
  };
}

/** After a committed change the record is durable; a lost announcement must not undo or hide it. */
export async function announceCommitted(ctx: ChangeContext, notification: Notification): Promise<void> {
  await publishQuietly(ctx.deps, notification, 'role change committed but the announcement failed');
}

/**
 * An announcement of something already done (or given up): one that fails must not undo or hide
 * it, so the failure is logged with the whole notification and counted, never thrown.
 */
export async function publishQuietly(
  ports: Pick<AutomationPorts, 'notifier' | 'logger' | 'metrics'>,
  notification: Notification,
  failureMessage = 'announcement failed',
): Promise<void> {
  try {
    await ports.notifier.publish(notification);
  } catch (err) {
    ports.logger.error(failureMessage, {
      serviceId: notification.serviceId,
      kind: notification.kind,
      error: describe(err),
      notification,
    });
    ports.metrics.add('NotificationFailed', 1, 'Count', { serviceId: notification.serviceId });
  }
}

type ReportPorts = Pick<AutomationPorts, 'logger' | 'metrics'>;

/** The log line and count of a change a human must look at (its page: needsAttentionNotification). */
export function reportNeedsAttention(
  ports: ReportPorts,
  decision: FailoverDecision,
  reason: string,
  detail: string,
  logged: Readonly<Record<string, unknown>> = {},
): void {
  ports.logger.error('failover needs a human', {
    serviceId: decision.serviceId,
    reason,
    detail,
    from: decision.from,
    to: decision.to,
    ...logged,
  });
  ports.metrics.add('FailoverNeedsAttention', 1, 'Count', { serviceId: decision.serviceId });
}

/** The log line and count of a traffic swap that found traffic elsewhere (its page: trafficConflictNotification). */
export function reportTrafficConflict(
  ports: ReportPorts,
  decision: FailoverDecision,
  result: Extract<TrafficShiftResult, { status: 'conflict' }>,
  logged: Readonly<Record<string, unknown>> = {},
): void {
  ports.metrics.add('FailoverConflict', 1, 'Count', { serviceId: decision.serviceId });
  ports.logger.warn('traffic was not where the state says: not moving it', {
    serviceId: decision.serviceId,
    expected: decision.from,
    observed: result.observed,
    message: result.message,
    ...logged,
  });
}

/** The log line and metrics of a committed automatic failover (its announcement: failedOverNotification). */
export function reportFailedOver(
  ports: ReportPorts,
  decision: FailoverDecision,
  epoch: number,
  timings: Parameters<typeof addFailoverMetrics>[2],
  logged: Readonly<Record<string, unknown>> = {},
): void {
  ports.logger.info('failed over', {
    serviceId: decision.serviceId,
    from: decision.from,
    to: decision.to,
    epoch,
    lagSeconds: decision.lagSeconds,
    ...logged,
    timings,
  });
  addFailoverMetrics(ports.metrics, decision, timings);
}

/** The metrics of a committed automatic failover, direct or through the zone shifter. */
export function addFailoverMetrics(
  metrics: MetricsPort,
  decision: FailoverDecision,
  timings: { readonly totalMs: number; readonly detectionMs?: number; readonly overheadMs?: number },
): void {
  const dims = { serviceId: decision.serviceId };
  metrics.add('FailoverCompleted', 1, 'Count', dims);
  if (Number.isFinite(decision.lagSeconds)) {
    metrics.add('FailoverLagAtPromotion', decision.lagSeconds, 'Seconds', dims);
  }
  if (timings.detectionMs !== undefined) {
    metrics.add('FailoverDetectionMs', timings.detectionMs, 'Milliseconds', dims);
  }
  if (timings.overheadMs !== undefined) {
    metrics.add('FailoverOverheadMs', timings.overheadMs, 'Milliseconds', dims);
  }
  metrics.add('FailoverTotalMs', timings.totalMs, 'Milliseconds', dims);
}

/** The announcement of a committed automatic failover, direct or through the zone shifter. */
export function failedOverNotification(input: {
  readonly decision: FailoverDecision;
  readonly epoch: number;
  readonly reason: string;
  readonly transition: AlarmTransition;
  readonly timings: unknown;
  readonly actor: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}): Notification {
  const { decision, transition } = input;
  return {
    kind: 'failover',
    serviceId: decision.serviceId,
    subject: `${decision.serviceId}: failed over from ${decision.from} to ${decision.to} (lag ${decision.lagSeconds} s)`,
    detail: {
      serviceId: decision.serviceId,
      from: decision.from,
      to: decision.to,
      epoch: input.epoch,
      lagSecondsAtPromotion: decision.lagSeconds,
      reason: input.reason,
      alarmName: transition.alarmName,
      eventId: transition.eventId,
      timings: input.timings,
      candidates: decision.candidates,
      actor: input.actor,
      ...input.extra,
    },
  };
}

/**
 * The page for a change that could not be settled: what the on-call reads. One builder for the
 * single-service path and the zone shifter, so both say the same thing the same way.
 */
export function needsAttentionNotification(input: {
  readonly decision: FailoverDecision;
  readonly reason: string;
  readonly detail: string;
  readonly eventId: string;
  readonly holder: string;
  readonly paused?: boolean;
  readonly fenced?: FencedVerdict;
  readonly actions?: readonly unknown[];
}): Notification {
  const { decision, reason, detail, paused } = input;
  return {
    kind: 'failover-failed',
    serviceId: decision.serviceId,
    subject: `${decision.serviceId}: automatic failover from ${decision.from} to ${decision.to} needs attention (${reason})${paused ? ', service paused' : ''}`,
    detail: {
      serviceId: decision.serviceId,
      from: decision.from,
      to: decision.to,
      reason,
      detail,
      epoch: decision.expectedEpoch,
      eventId: input.eventId,
      holder: input.holder,
      ...(paused ? { paused: true } : {}),
      ...(input.fenced ? { fenced: input.fenced } : {}),
      ...(input.actions?.length ? { actions: input.actions } : {}),
    },
  };
}

/** The page for a traffic compare-and-swap that found traffic elsewhere: nothing was overwritten. */
export function trafficConflictNotification(input: {
  readonly decision: FailoverDecision;
  readonly observed: string | undefined;
  readonly message: string;
  readonly eventId: string;
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly paused?: boolean;
}): Notification {
  const { decision, observed, paused } = input;
  return {
    kind: 'failover-failed',
    serviceId: decision.serviceId,
    subject: `${decision.serviceId}: failover to ${decision.to} refused, traffic is on ${observed ?? 'an unknown target'}, not ${decision.from}${paused ? ', service paused' : ''}`,
    detail: {
      serviceId: decision.serviceId,
      from: decision.from,
      to: decision.to,
      observed: observed ?? null,
      message: input.message,
      epoch: decision.expectedEpoch,
      eventId: input.eventId,
      action: 'check which node serves traffic and takes writes, then record it with a manual failover',
      ...input.extra,
    },
  };
}
