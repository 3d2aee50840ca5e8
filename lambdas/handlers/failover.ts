/**
 * The failover Lambda: EventBridge delivers `CloudWatch Alarm State Change` events for the nodes'
 * health alarms (asynchronously: a thrown error is retried, twice by default, then dead-lettered).
 *
 * Thin: validate the event, run the use case, return plain JSON, flush metrics. A malformed event
 * is ignored with its problems (a retry would fail the same way); a transient AWS error throws.
 */
import { randomUUID } from 'node:crypto';
import { type AutoFailoverDeps, type FailoverOutcome, runAutoFailover } from '../app/auto-failover.ts';
import { isSplitBrainAlarm, runSplitBrain, type SplitBrainOutcome } from '../app/split-brain.ts';
import { alarmStateSourceOfEvent } from '../domain/alarm-source.ts';
import type { Logger, NotifierPort } from '../domain/ports.ts';
import { failoverLeaseSeconds } from '../domain/role-change-budget.ts';
import { buildAwsPorts } from '../runtime/aws-ports.ts';
import { JsonLogger } from '../runtime/logger.ts';
import { parseAlarmEvent } from './event.ts';

export interface FailoverHandlerDeps extends Omit<AutoFailoverDeps, 'holderId'> {
  /** Lease holder when the context carries no request id. @default crypto.randomUUID */
  readonly newHolderId?: () => string;
}

/** The part of the Lambda context the handler uses. */
export interface InvocationContext {
  readonly awsRequestId?: string;
}

export type FailoverHandlerResult = FailoverOutcome & {
  readonly problems?: readonly string[];
  /** Set when the event was a split-brain detector's alarm (lambdas/app/split-brain.ts). */
  readonly splitBrain?: SplitBrainOutcome;
};

export type FailoverHandler = (event: unknown, context?: InvocationContext) => Promise<FailoverHandlerResult>;

export function makeHandler(deps: FailoverHandlerDeps): FailoverHandler {
  return async (event, context) => {
    // The request id is unique per invocation and kept across EventBridge's retries of it.
    const holderId = context?.awsRequestId ?? deps.newHolderId?.() ?? randomUUID();
    const base: Logger =
      deps.logger instanceof JsonLogger ? deps.logger.child({ requestId: holderId }) : deps.logger;
    // A state someone set with SetAlarmState (not CloudWatch's evaluation) can still be acted on,
    // but every log line, the decision included, and every announcement of this invocation say so.
    const stateSource = alarmStateSourceOfEvent(event);
    const manual = stateSource.source === 'manual';
    const logger = manual ? markedLogger(base, stateSource.reason) : base;
    const notifier = manual ? markedNotifier(deps.notifier, stateSource.reason) : deps.notifier;
    try {
      const parsed = parseAlarmEvent(event);
      if (!parsed.ok) {
        logger.warn('invalid event ignored', { problems: parsed.problems, eventId: eventIdOf(event) });
        deps.metrics.add('FailoverIgnored', 1, 'Count', { reason: 'invalid-event' });
        return { outcome: 'ignored', reason: 'invalid-event', problems: parsed.problems };
      }
      if (isSplitBrainAlarm(parsed.transition.alarmName)) {
        const splitBrain = await runSplitBrain({ ...deps, logger, notifier }, parsed.transition);
        logger.info('split-brain invocation finished', { ...splitBrain, eventId: parsed.transition.eventId });
        return {
          outcome: splitBrain.outcome === 'ignored' ? 'ignored' : 'needs-attention',
          ...(splitBrain.serviceId ? { serviceId: splitBrain.serviceId } : {}),
          reason: splitBrain.reason ?? splitBrain.outcome,
          splitBrain,
        };
      }
      if (manual) deps.metrics.add('AlarmStateSetByHand', 1, 'Count', {});
      const outcome = await runAutoFailover({ ...deps, logger, notifier, holderId }, parsed.transition);
      logger.info('failover invocation finished', { ...outcome, eventId: parsed.transition.eventId });
      return outcome;
    } catch (err) {
      logger.error('failover invocation failed; EventBridge retries it, then dead-letters it', {
        error: err,
        eventId: eventIdOf(event),
      });
      throw err;
    } finally {
      deps.metrics.flush();
    }
  };
}

let production: FailoverHandler | undefined;

/**
 * The Lambda entry point. Built on the first invocation of an execution environment (clients,
 * configuration, environment checked once), then reused while the environment stays warm. A
 * failed build is not cached: it throws, names what is missing, and the next invocation tries again.
 */
export const handler: FailoverHandler = async (event, context) => {
  if (!production) {
    const ports = buildAwsPorts('failover');
    // The same derivation as the function's timeout at synth: the lease outlives the invocation.
    production = makeHandler({ ...ports, leaseSeconds: failoverLeaseSeconds(ports.config) });
  }
  return production(event, context);
};

const MANUAL = 'set by hand (SetAlarmState), not by CloudWatch evaluating the alarm';

function markedLogger(logger: Logger, reason: string | undefined): Logger {
  const mark = (data?: Record<string, unknown>) => ({
    ...data,
    alarmStateSource: 'manual',
    alarmState: MANUAL,
    ...(reason !== undefined ? { alarmStateReason: reason } : {}),
  });
  return {
    debug: (m, d) => logger.debug(m, mark(d)),
    info: (m, d) => logger.info(m, mark(d)),
    warn: (m, d) => logger.warn(m, mark(d)),
    error: (m, d) => logger.error(m, mark(d)),
  };
}

function markedNotifier(notifier: NotifierPort, reason: string | undefined): NotifierPort {
  return {
    ...notifier,
    publish: (n) =>
      notifier.publish({
        ...n,
        subject: `[alarm set by hand] ${n.subject}`,
        detail: {
          ...n.detail,
          alarmStateSource: 'manual',
          alarmState: MANUAL,
          ...(reason !== undefined ? { alarmStateReason: reason } : {}),
        },
      }),
  };
}

function eventIdOf(event: unknown): string | undefined {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, 256) : undefined;
}
