/**
 * The automatic-failover use case: one CloudWatch alarm transition in, one outcome out. A policy
 * of the role-change engine (./role-change/): gather the facts, decide, and hand a failover to
 * the engine (lease -> fence -> promote -> shift -> verify -> commit -> announce).
 *
 * Idempotent under EventBridge's at-least-once, retried delivery: a duplicate either loses the
 * lease race, or arrives after the commit and sees that the alarm no longer watches the primary.
 * Expected "no"s return an outcome; errors worth retrying (gathering facts, a throttled shift, a
 * throttled commit) throw, so Lambda retries the invocation under the same request id, and the
 * retry resumes under its own lease. With a shift queue, a throttled shift is instead handed,
 * still leased, to the zone shifter (zone-shift.ts).
 */
import {
  type FailoverConfig,
  healthAlarmName,
  type NodeConfig,
  type ServiceConfig,
} from '../domain/config.ts';
import { currentState, decideAutoFailover, lagQueries } from '../domain/decide.ts';
import type { AlarmTransition, ClusterState } from '../domain/types.ts';
import { dryRun, hold, primaryNotConfigured } from './role-change/announce.ts';
import { ChangeContext } from './role-change/context.ts';
import type { FailoverOutcome, RoleChangeDeps } from './role-change/deps.ts';
import { runRoleChange } from './role-change/engine.ts';
import { announceOwnCommit } from './role-change/own-commit.ts';
import { planAutoFailover } from './role-change/plan.ts';
import { runRejoin } from './role-change/rejoin.ts';
import { resumeIntoHold, resumeShifted } from './role-change/resume.ts';

export {
  addFailoverMetrics,
  failedOverNotification,
  IN_FLIGHT_QUIET_MS,
  NOTIFIED_HOLDS,
} from './role-change/announce.ts';
export {
  DEFAULT_LEASE_SECONDS,
  type FailoverOutcome,
  type FailoverTimings,
  type OutcomeKind,
} from './role-change/deps.ts';
export { isRetryableShiftError } from './role-change/shift.ts';

export type AutoFailoverDeps = RoleChangeDeps;

interface AlarmTarget {
  readonly service: ServiceConfig;
  readonly node: NodeConfig;
}

const alarmIndexes = new WeakMap<FailoverConfig, ReadonlyMap<string, AlarmTarget>>();

/** Health alarm name -> the node it watches; built once per configuration object. */
export function alarmIndex(config: FailoverConfig): ReadonlyMap<string, AlarmTarget> {
  let index = alarmIndexes.get(config);
  if (!index) {
    const built = new Map<string, AlarmTarget>();
    for (const service of config.services) {
      for (const node of service.nodes) built.set(healthAlarmName(service, node), { service, node });
    }
    index = built;
    alarmIndexes.set(config, index);
  }
  return index;
}

/** The window in which the newest lag datapoint is looked for: older ones are stale anyway. */
export function lagLookbackSeconds(service: ServiceConfig): number {
  const period = Math.max(...service.nodes.map((n) => n.lag.periodSeconds));
  return service.policy.maxLagAgeSeconds + period + 60;
}

/** The facts one decision reads, in one parallel round trip. */
export async function gatherFacts(deps: RoleChangeDeps, service: ServiceConfig, now: number) {
  const [alarms, lag, stored] = await Promise.all([
    deps.alarms.getStates(service.nodes.map((n) => healthAlarmName(service, n))),
    deps.lag.getLatest(lagQueries(service), now, lagLookbackSeconds(service)),
    deps.state.get(service.id),
  ]);
  return { alarms, lag, state: currentState(stored, service) };
}

export async function runAutoFailover(
  deps: AutoFailoverDeps,
  transition: AlarmTransition,
): Promise<FailoverOutcome> {
  const { clock, logger, metrics } = deps;
  const startedAt = clock.now();
  const target = alarmIndex(deps.config).get(transition.alarmName);
  if (!target) {
    // Retrying cannot help: the rule matched an alarm this configuration does not know.
    logger.warn('alarm is not a health alarm of any configured node', {
      alarmName: transition.alarmName,
      eventId: transition.eventId,
    });
    metrics.add('FailoverIgnored', 1, 'Count', { reason: 'unknown-alarm' });
    return {
      outcome: 'ignored',
      reason: 'unknown-alarm',
      detail: `no node is watched by ${transition.alarmName}`,
    };
  }
  const service = target.service;
  const { alarms, lag, state } = await gatherFacts(deps, service, startedAt);
  const now = clock.now();
  // Our own lease (Lambda keeps the request id when it retries an invocation) does not fence us:
  // the retry of a crashed attempt resumes instead of waiting for its own lease to expire.
  const ownLease = state.lease?.holder === deps.holderId;
  const view: ClusterState = ownLease ? { ...state, lease: undefined } : state;
  if (ownLease) logger.info('resuming under our own lease', { serviceId: service.id, lease: state.lease });
  const attempt = ownLease ? (state.lease?.invocation ?? 1) + 1 : 1;
  const node = target.node.id;
  if (!ownLease) {
    // Our earlier attempt may have committed (answer and read-back lost) and thrown unannounced.
    const own = await announceOwnCommit(
      new ChangeContext(deps, service, transition, state, startedAt, clock.now(), attempt),
      state,
    );
    if (own) return own;
  }
  if (
    transition.state === 'OK' &&
    state.needsRejoin?.includes(node) &&
    node !== state.primary &&
    alarms.get(transition.alarmName) === 'OK'
  ) {
    // A former primary came back: demote it with the current epoch before anything else.
    reportDecision(deps, transition, state, service, 'rejoin', 'former-primary-ok', {
      node,
      needsRejoin: state.needsRejoin,
    });
    return runRejoin(
      new ChangeContext(deps, service, transition, state, startedAt, clock.now(), attempt),
      node,
    );
  }
  const decision = decideAutoFailover({ service, transition, alarms, lag, state: view, now });
  const ctx = new ChangeContext(deps, service, transition, state, startedAt, clock.now(), attempt);

  reportDecision(
    deps,
    transition,
    state,
    service,
    decision.action,
    decision.action === 'hold' ? decision.reason : 'eligible-replica',
    {
      ...(decision.action === 'hold'
        ? { reason: decision.reason, detail: decision.detail }
        : { to: decision.to, lagSeconds: decision.lagSeconds }),
      candidates: decision.candidates,
      ...(state.needsRejoin?.length ? { needsRejoin: state.needsRejoin } : {}),
      dryRun: service.policy.dryRun,
    },
  );

  // An automatic failover's lease left by an attempt that died: ours (Lambda's retry keeps the
  // request id: the same event, decided when it was fresh), or another invocation's that expired
  // (its retries may be spent), taken over only by an event that itself calls for a failover: an
  // event that asks for nothing changes nothing.
  const leftOver =
    state.lease?.operation === 'auto-failover' &&
    state.lease.target !== undefined &&
    (ownLease || (state.lease.expiresAt < now && decision.action === 'failover'));
  if (leftOver) {
    // Traffic already on the target that lease names: that attempt promoted it (traffic never
    // moves before the promotion succeeded) and died before recording it. Whatever the fresh
    // decision, that change is finished (the old primary fenced again, then committed, or paged
    // when the facts no longer allow it): undoing it or choosing anew would demote or bypass the
    // node that takes the writes.
    const finished = await resumeShifted(ctx, decision);
    if (finished) return finished;
  }
  if (decision.action === 'hold') {
    if (ownLease) {
      // An earlier attempt under this request id may have moved traffic, or promoted a target,
      // and died before recording it. A failover decision finds that out by itself; a hold would
      // leave it unsaid.
      const leftOver = await resumeIntoHold(ctx, decision);
      if (leftOver) return leftOver;
    }
    if (decision.reason === 'primary-not-configured') return primaryNotConfigured(ctx, decision.detail);
    return hold(ctx, decision.reason, decision.detail, decision);
  }
  if (service.policy.dryRun) return dryRun(ctx, decision);
  // A left-over lease of another invocation (its retries spent) may name a target it promoted.
  return runRoleChange(
    ctx,
    planAutoFailover(decision, state, deps.holderId, leftOver ? { target: state.lease?.target } : undefined),
  );
}

/** Every decision, a rejoin and a hold included, is logged with the facts it stood on and counted. */
function reportDecision(
  deps: AutoFailoverDeps,
  transition: AlarmTransition,
  state: ClusterState,
  service: ServiceConfig,
  action: string,
  reason: string,
  logged: Readonly<Record<string, unknown>>,
): void {
  deps.logger.info('failover decision', {
    serviceId: service.id,
    eventId: transition.eventId,
    alarmName: transition.alarmName,
    transition: `${transition.previousState}->${transition.state}`,
    primary: state.primary,
    epoch: state.epoch,
    action,
    ...logged,
  });
  deps.metrics.add('FailoverDecision', 1, 'Count', { serviceId: service.id, action, reason });
}
