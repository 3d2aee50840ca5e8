/**
 * The split-brain use case: the detector alarm of a service (two or more nodes Writable at once,
 * lib/node-probe.ts) went into ALARM. Every node except the recorded primary is fenced through the
 * service's fence action, with the current epoch's split-brain token; the topic hears of it either
 * way. A service without a fence action gets the announcement only.
 *
 * Idempotent: fencing a fenced node again is harmless, and the token is the same on a retry.
 *
 * The event is not trusted: the detector's state is read again first, and nobody is fenced unless
 * it is in ALARM now (invariant 6). EventBridge retries a delivery, and Lambda an invocation, for
 * up to an hour, long after the writers were sorted out; and an event can be forged by any rule
 * whose name falls under the stack's rule prefix (the invoke permission's source ARN).
 */
import type { FailoverConfig } from '../domain/config.ts';
import { currentState } from '../domain/decide.ts';
import { fencingToken, type NodeActionPort, type NodeActionResult } from '../domain/node-actions.ts';
import type { AlarmPort, Clock, Logger, NotifierPort, StatePort } from '../domain/ports.ts';
import { planSplitBrainFence, serviceOfSplitBrainAlarm } from '../domain/split-brain.ts';
import type { AlarmTransition } from '../domain/types.ts';

export interface SplitBrainDeps {
  readonly config: FailoverConfig;
  /** The detector's state now: a stale or forged event fences nobody. */
  readonly alarms: AlarmPort;
  readonly state: StatePort;
  readonly notifier: NotifierPort;
  readonly logger: Logger;
  readonly clock: Clock;
  /** @default - none: alarm only */
  readonly actions?: NodeActionPort;
}

export interface SplitBrainOutcome {
  readonly outcome: 'split-brain-fenced' | 'split-brain-alarm-only' | 'ignored';
  readonly serviceId?: string;
  readonly reason?: string;
  readonly keep?: string;
  readonly fenced?: readonly {
    readonly nodeId: string;
    readonly status: NodeActionResult['status'];
    readonly detail: string;
  }[];
}

/** True when the alarm is a split-brain detector: the failover handler dispatches it here. */
export function isSplitBrainAlarm(alarmName: string): boolean {
  return serviceOfSplitBrainAlarm(alarmName) !== undefined;
}

export async function runSplitBrain(
  deps: SplitBrainDeps,
  transition: AlarmTransition,
): Promise<SplitBrainOutcome> {
  const serviceId = serviceOfSplitBrainAlarm(transition.alarmName);
  const service = deps.config.services.find((s) => s.id === serviceId);
  if (!serviceId || !service) {
    deps.logger.warn('split-brain alarm of an unknown service ignored', { alarmName: transition.alarmName });
    return { outcome: 'ignored', reason: 'unknown-alarm' };
  }
  if (transition.state !== 'ALARM') {
    deps.logger.info('split-brain alarm left ALARM: nothing to do', { serviceId, state: transition.state });
    return { outcome: 'ignored', serviceId, reason: 'not-an-alarm-transition' };
  }
  const [alarms, stored] = await Promise.all([
    deps.alarms.getStates([transition.alarmName]),
    deps.state.get(serviceId),
  ]);
  const detector = alarms.get(transition.alarmName) ?? 'UNKNOWN';
  if (detector !== 'ALARM') {
    deps.logger.warn('split-brain event is stale: the detector is not in ALARM now', {
      serviceId,
      alarmName: transition.alarmName,
      detector,
      eventId: transition.eventId,
    });
    return { outcome: 'ignored', serviceId, reason: 'stale-event' };
  }
  const state = currentState(stored, service);
  const nodeIds = service.nodes.map((n) => n.id);
  const others = nodeIds.filter((n) => n !== state.primary);
  const canFence =
    deps.actions !== undefined && others.every((n) => deps.actions?.has(serviceId, n, 'fence'));
  const plan = planSplitBrainFence(serviceId, nodeIds, state.primary, canFence);
  const detectedAt = deps.clock.now();

  if (plan.action === 'hold') {
    deps.logger.error('split brain: two writers, not fenced', {
      serviceId,
      primary: state.primary,
      reason: plan.reason,
    });
    await deps.notifier.publish({
      kind: 'split-brain',
      serviceId,
      subject: `${serviceId}: SPLIT BRAIN, more than one node takes writes; not fenced (${plan.reason})`,
      detail: {
        serviceId,
        recordedPrimary: state.primary,
        epoch: state.epoch,
        reason: plan.reason,
        detectedAt,
      },
    });
    return { outcome: 'split-brain-alarm-only', serviceId, reason: plan.reason, keep: state.primary };
  }

  const actions = deps.actions as NodeActionPort;
  const timeoutMs = (service.hooks?.timeoutSeconds ?? 60) * 1000;
  const fenced = await Promise.all(
    plan.fence.map(async (nodeId) => {
      const result = await actions.run({
        serviceId,
        nodeId,
        role: 'fence',
        mode: 'split-brain',
        epoch: state.epoch,
        token: fencingToken(state.epoch, 'splitBrainFence'),
        timeoutMs,
      });
      return { nodeId, status: result.status, detail: result.detail };
    }),
  );
  const failed = fenced.filter((f) => f.status !== 'succeeded');
  (failed.length > 0 ? deps.logger.error : deps.logger.warn).call(
    deps.logger,
    'split brain: fenced the other writers',
    {
      serviceId,
      keep: plan.keep,
      fenced,
    },
  );
  await deps.notifier.publish({
    kind: 'split-brain',
    serviceId,
    subject: `${serviceId}: SPLIT BRAIN, kept ${plan.keep}; fenced ${fenced
      .map((f) => `${f.nodeId} (${f.status})`)
      .join(', ')}`,
    detail: { serviceId, recordedPrimary: plan.keep, epoch: state.epoch, fenced, detectedAt },
  });
  return { outcome: 'split-brain-fenced', serviceId, keep: plan.keep, fenced };
}
