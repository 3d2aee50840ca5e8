/**
 * The automatic-failover decision: given the facts gathered at one instant (alarm states, newest
 * lag datapoints, the stored cluster state) decide whether to promote a replica, and which one.
 *
 * Pure: no AWS SDK, no environment, no clock (`now` is an argument). An expected "no" is a
 * `hold` with a reason, never an exception.
 */
import {
  healthAlarmName,
  type LagMetric,
  type NodeConfig,
  nodePriority,
  type ServiceConfig,
} from './config.ts';
import { probeLagBytesMetric } from './probe-config.ts';
import { durationText, secondsText } from './text.ts';
import type {
  AlarmStateValue,
  AlarmTransition,
  CandidateAssessment,
  CandidateVerdict,
  ClusterState,
  Decision,
  HoldReason,
  LagSample,
  StoredClusterState,
} from './types.ts';

/** The health facts a role-change decision reads, as the adapters return them. */
export interface HealthFacts {
  /** By alarm name, as DescribeAlarms returned them; an absent alarm is unknown, never healthy. */
  readonly alarms: ReadonlyMap<string, AlarmStateValue>;
  /** Newest lag datapoint by node id; undefined or absent when CloudWatch had none. */
  readonly lag: ReadonlyMap<string, LagSample | undefined>;
}

export interface DecisionInput extends HealthFacts {
  readonly service: ServiceConfig;
  readonly transition: AlarmTransition;
  readonly state: ClusterState;
  /** Epoch milliseconds. */
  readonly now: number;
}

/**
 * A lag datapoint stamped further than this into the future comes from a skewed clock: it says
 * nothing reliable about the replica, so it counts as stale.
 */
export const MAX_LAG_FUTURE_SKEW_SECONDS = 60;

/** The state of a service that has never been written: the configured primary at epoch 0. */
/**
 * A replica's lag in bytes rides in the same lag map as the seconds, under `<nodeId>#bytes`
 * (its LagSample.lagSeconds holds bytes): gathered only for services with policy.maxLagBytes and a
 * probe that measures bytes (see lagQueries).
 */
export const LAG_BYTES_KEY_SUFFIX = '#bytes';

/** The lag metrics a decision about `service` reads, keyed by node id (and `<id>#bytes`). */
export function lagQueries(service: ServiceConfig): { key: string; metric: LagMetric }[] {
  return service.nodes.flatMap((n) => {
    const seconds = { key: n.id, metric: n.lag };
    if (service.policy.maxLagBytes === undefined) return [seconds];
    const bytes =
      n.probe?.kind === 'postgres'
        ? probeLagBytesMetric(service.id, n.id, n.probe.intervalSeconds)
        : undefined;
    return bytes ? [seconds, { key: `${n.id}${LAG_BYTES_KEY_SUFFIX}`, metric: bytes }] : [seconds];
  });
}

export function initialState(service: ServiceConfig): ClusterState {
  return { serviceId: service.id, primary: service.initialPrimary, epoch: 0, paused: false };
}

/**
 * The state to decide on: the stored item, with the configured initial primary where no role
 * change was recorded yet (no item, or an item a pause wrote, which never records a primary).
 */
export function currentState(stored: StoredClusterState | undefined, service: ServiceConfig): ClusterState {
  if (stored === undefined) return initialState(service);
  return { ...stored, primary: stored.primary ?? service.initialPrimary };
}

export function decideAutoFailover(input: DecisionInput): Decision {
  const { service, transition, alarms, state, now } = input;
  const policy = service.policy;
  const candidates = assessCandidates(input);
  const hold = (reason: HoldReason, detail: string): Decision => ({
    action: 'hold',
    serviceId: service.id,
    reason,
    detail,
    candidates,
  });

  if (transition.state !== 'ALARM') {
    return hold(
      'not-an-alarm-transition',
      `alarm ${transition.alarmName} went ${transition.previousState} -> ${transition.state}, not into ALARM`,
    );
  }
  const primary = service.nodes.find((n) => n.id === state.primary);
  if (!primary) {
    // Not a quiet "not the primary's alarm": every event would hold this way until a human
    // reconciles the record and the configuration, so the caller announces it (once).
    return hold(
      'primary-not-configured',
      `the recorded primary ${state.primary} is not a node of ${service.id} in the configuration; refusing to act on ${transition.alarmName} until the record or the configuration is fixed`,
    );
  }
  const primaryAlarm = healthAlarmName(service, primary);
  if (transition.alarmName !== primaryAlarm) {
    return hold(
      'not-primary-alarm',
      `alarm ${transition.alarmName} does not watch the current primary ${primary.id} (its alarm is ${primaryAlarm})`,
    );
  }
  const confirmed = alarms.get(primaryAlarm);
  if (confirmed !== 'ALARM') {
    return hold(
      'primary-healthy',
      confirmed === undefined
        ? `alarm ${primaryAlarm} was not found by DescribeAlarms: the event cannot be confirmed`
        : `alarm ${primaryAlarm} is ${confirmed} now: the event is stale`,
    );
  }
  if (state.paused) {
    return hold('paused', `automatic failover of ${service.id} is paused by an operator`);
  }
  if (!policy.autoFailover) {
    return hold('auto-failover-disabled', `policy.autoFailover is false for ${service.id}`);
  }
  if (state.lease && state.lease.expiresAt > now) {
    return hold(
      'operation-in-progress',
      `${state.lease.operation} by ${state.lease.holder} holds the lease for ${durationText((state.lease.expiresAt - now) / 1000)} more`,
    );
  }
  if (state.lastChangeAt !== undefined && now < state.lastChangeAt + policy.cooldownSeconds * 1000) {
    return hold(
      'cooldown',
      `last role change was ${durationText((now - state.lastChangeAt) / 1000)} ago, inside the ${durationText(
        policy.cooldownSeconds,
      )} cooldown`,
    );
  }

  const best = rankEligible(candidates)[0];
  if (best) {
    return {
      action: 'failover',
      serviceId: service.id,
      from: primary.id,
      to: best.nodeId,
      expectedEpoch: state.epoch,
      // Eligible implies a finite, non-negative lag (see assessNode).
      lagSeconds: best.lagSeconds as number,
      candidates,
    };
  }

  const healthy = candidates.filter((c) => c.verdict !== 'unhealthy' && c.verdict !== 'needs-rejoin');
  if (healthy.length === 0) {
    return hold(
      'no-healthy-candidate',
      `no replica is positively OK: ${candidates
        .map((c) => `${c.nodeId} ${c.verdict === 'needs-rejoin' ? 'needs-rejoin' : c.alarmState}`)
        .join(', ')}`,
    );
  }
  const over = healthy.filter((c) => c.verdict === 'lag-over-budget');
  if (over.length > 0) {
    return hold(
      'lag-over-budget',
      `lag over the ${secondsText(policy.maxLagSeconds)}${
        policy.maxLagBytes === undefined ? '' : ` / ${policy.maxLagBytes} bytes`
      } budget: ${over.map((c) => `${c.nodeId} ${secondsText(c.lagSeconds ?? 0)}`).join(', ')}`,
    );
  }
  const stale = healthy.filter((c) => c.verdict === 'lag-stale');
  if (stale.length > 0) {
    return hold(
      'lag-stale',
      `newest lag datapoint outside the ${durationText(policy.maxLagAgeSeconds)} window: ${stale
        .map((c) => `${c.nodeId} ${ageText(c.lagAgeSeconds)}`)
        .join(', ')}`,
    );
  }
  return hold('lag-unknown', `no usable lag datapoint for ${healthy.map((c) => c.nodeId).join(', ')}`);
}

/** Every node except the recorded primary, in configuration order. */
export function assessCandidates(input: Omit<DecisionInput, 'transition'>): CandidateAssessment[] {
  return input.service.nodes.filter((n) => n.id !== input.state.primary).map((n) => assessNode(input, n));
}

/** A lag datapoint the rules can judge, with its age. */
export interface LagReading {
  readonly lagSeconds: number;
  readonly lagAgeSeconds: number;
  /** When it was measured (epoch ms). */
  readonly timestamp: number;
}

/**
 * The datapoint read as the rules judge it: only a finite, non-negative value with a finite
 * timestamp counts. Anything else is no datapoint: lag unknown, never zero.
 */
export function lagReading(sample: LagSample | undefined, now: number): LagReading | undefined {
  if (
    sample === undefined ||
    !Number.isFinite(sample.lagSeconds) ||
    sample.lagSeconds < 0 ||
    !Number.isFinite(sample.timestamp)
  )
    return undefined;
  return {
    lagSeconds: sample.lagSeconds,
    lagAgeSeconds: (now - sample.timestamp) / 1000,
    timestamp: sample.timestamp,
  };
}

function assessNode(input: Omit<DecisionInput, 'transition'>, node: NodeConfig): CandidateAssessment {
  const { service, alarms, lag, now } = input;
  const policy = service.policy;
  const alarmState = alarms.get(healthAlarmName(service, node)) ?? 'UNKNOWN';
  const priority = nodePriority(service, node.id);
  const reading = lagReading(lag.get(node.id), now);
  const lagSeconds = reading?.lagSeconds;
  const lagAgeSeconds = reading?.lagAgeSeconds;

  let verdict: CandidateVerdict;
  // Invariant 9: a former primary is no candidate until it rejoined (demoted or fenced with the
  // current epoch), however healthy and fresh it looks.
  if (input.state.needsRejoin?.includes(node.id)) verdict = 'needs-rejoin';
  else if (alarmState !== 'OK') verdict = 'unhealthy';
  else if (lagSeconds === undefined || lagAgeSeconds === undefined) verdict = 'lag-unknown';
  else if (lagAgeSeconds > policy.maxLagAgeSeconds || lagAgeSeconds < -MAX_LAG_FUTURE_SKEW_SECONDS)
    verdict = 'lag-stale';
  else if (lagSeconds > policy.maxLagSeconds) verdict = 'lag-over-budget';
  else verdict = bytesVerdict(input, node);

  return {
    nodeId: node.id,
    alarmState,
    ...(lagSeconds !== undefined ? { lagSeconds } : {}),
    ...(lagAgeSeconds !== undefined ? { lagAgeSeconds } : {}),
    priority,
    verdict,
  };
}

/** The eligible candidates, best first: the order in which promotion is tried. */
export function rankEligible(candidates: readonly CandidateAssessment[]): CandidateAssessment[] {
  return candidates.filter((c) => c.verdict === 'eligible').sort(compareEligible);
}

/**
 * policy.maxLagBytes: a replica must also be positively within the budget in bytes (unknown or
 * stale bytes refuse it, like unknown seconds).
 */
function bytesVerdict(input: Omit<DecisionInput, 'transition'>, node: NodeConfig): CandidateVerdict {
  const max = input.service.policy.maxLagBytes;
  if (max === undefined) return 'eligible';
  const sample = input.lag.get(`${node.id}${LAG_BYTES_KEY_SUFFIX}`);
  if (
    !sample ||
    !Number.isFinite(sample.lagSeconds) ||
    sample.lagSeconds < 0 ||
    !Number.isFinite(sample.timestamp)
  ) {
    return 'lag-unknown';
  }
  const age = (input.now - sample.timestamp) / 1000;
  if (age > input.service.policy.maxLagAgeSeconds || age < -MAX_LAG_FUTURE_SKEW_SECONDS) return 'lag-stale';
  return sample.lagSeconds > max ? 'lag-over-budget' : 'eligible';
}

/** Least data loss first; then the operator's preference; then a stable tie-break. */
function compareEligible(a: CandidateAssessment, b: CandidateAssessment): number {
  return (
    (a.lagSeconds as number) - (b.lagSeconds as number) ||
    a.priority - b.priority ||
    (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
  );
}

function ageText(ageSeconds: number | undefined): string {
  if (ageSeconds === undefined) return 'age unknown';
  return ageSeconds < 0 ? `${durationText(-ageSeconds)} in the future` : `${durationText(ageSeconds)} old`;
}
