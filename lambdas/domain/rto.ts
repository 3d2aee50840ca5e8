/**
 * The recovery-time model: how long from a primary's failure until clients reach the new primary,
 * implied by each service's configuration, split the way the drill measures it:
 *
 *   detection (health signal + alarm evaluation) + event delivery + decision and shift request
 *   + traffic (the DNS TTL clients may still cache; none for a load balancer)
 *
 * Each part has a typical value (printed as the best case: the failure halfway through a period,
 * the fastest evaluation and delivery, half the TTL) and a worst value, in seconds, and says what it
 * rests on. Pure: the
 * settings of alarms that already exist (signal type 'alarm') are passed in by the caller (the
 * CLI reads them with DescribeAlarms); without them detection is unknown, never guessed.
 */
import type { HealthSignal, NodeConfig, ServiceConfig } from './config.ts';
import { PROBE_HEALTH_DATAPOINTS, probeAlarmPeriodSeconds } from './probe-config.ts';

export interface Span {
  readonly typical: number;
  readonly worst: number;
}

export interface RtoPart extends Span {
  /** What the numbers rest on, for humans. */
  readonly basis: string;
}

/** How an existing CloudWatch alarm evaluates (DescribeAlarms: Period, DatapointsToAlarm). */
export interface AlarmSettings {
  readonly periodSeconds: number;
  /** M of "M out of N"; EvaluationPeriods when DatapointsToAlarm is not set. */
  readonly datapointsToAlarm: number;
}

/** A target group's health check (DescribeTargetGroups), for 'target-group-health' signals. */
export interface TargetGroupHealthCheck {
  readonly intervalSeconds: number;
  readonly unhealthyThreshold: number;
}

export interface RtoOptions {
  /** Settings of alarms the stack does not create, by alarm name. */
  readonly alarms?: ReadonlyMap<string, AlarmSettings>;
  /** By target group ARN. @default ALB defaults: 30 s interval, 2 failures */
  readonly targetGroups?: ReadonlyMap<string, TargetGroupHealthCheck>;
  /** Which node fails. @default the service's initial primary */
  readonly nodeId?: string;
  /**
   * Decision and shift request: the failover handler takes 3 sequential round trips to the shift
   * request (`npm run bench`: ~50 ms at 25 ms per call). When hundreds of services fail at once,
   * the zone shifter's batch adds up to ~5 s.
   * @default { typical: 0.2, worst: 1 }
   */
  readonly decision?: Span;
}

export interface RtoEstimate {
  readonly serviceId: string;
  readonly nodeId: string;
  readonly router: ServiceConfig['router']['type'];
  readonly detection: RtoPart | undefined;
  readonly delivery: RtoPart;
  readonly decision: RtoPart;
  readonly traffic: RtoPart;
  /** Undefined when detection is unknown (an existing alarm whose settings were not given). */
  readonly total: Span | undefined;
}

/**
 * The alarms lib/health-alarms.ts creates: Route 53 and ELB publish HealthCheckStatus and
 * HealthyHostCount once a minute, so their alarms use one 60 s period (a shorter one would see
 * no datapoint most of the time and, treating missing data as breaching, fail over a healthy
 * primary). test/infra/rto-alarms.test.ts keeps the two in step.
 */
export const STACK_ALARM: AlarmSettings = { periodSeconds: 60, datapointsToAlarm: 1 };

/** CloudWatch evaluates an alarm shortly after a period's datapoint arrives. */
export const ALARM_EVALUATION_DELAY: Span = { typical: 5, worst: 10 };
/** EventBridge to the failover Lambda, asynchronous invoke, a cold start included in the worst case. */
export const EVENT_DELIVERY: Span = { typical: 0.5, worst: 2 };
export const DEFAULT_DECISION: Span = { typical: 0.2, worst: 1 };
/** Application Load Balancer target group defaults. */
export const ALB_HEALTH_CHECK_DEFAULTS: TargetGroupHealthCheck = {
  intervalSeconds: 30,
  unhealthyThreshold: 2,
};

export function estimateRto(service: ServiceConfig, options: RtoOptions = {}): RtoEstimate {
  const node = service.nodes.find((n) => n.id === (options.nodeId ?? service.initialPrimary));
  if (!node) throw new Error(`no node ${options.nodeId ?? service.initialPrimary} in service ${service.id}`);
  const detection = detectionOf(node.health, node, options);
  const delivery: RtoPart = { ...EVENT_DELIVERY, basis: 'EventBridge to the failover Lambda (async invoke)' };
  const d = options.decision ?? DEFAULT_DECISION;
  const decision: RtoPart = {
    ...d,
    basis: 'facts in one parallel round trip, lease, shift request (3 sequential round trips)',
  };
  const r = service.router;
  const traffic: RtoPart =
    r.type === 'route53'
      ? {
          typical: r.ttlSeconds / 2,
          worst: r.ttlSeconds,
          basis: `DNS TTL ${r.ttlSeconds} s: resolvers may serve the old answer until it expires`,
        }
      : {
          typical: 0,
          worst: 0,
          basis:
            r.type === 'elbv2-weighted'
              ? 'listener weights switch in one ModifyListener call: no DNS TTL'
              : 'target registration: no DNS TTL (the new target serves once the target group sees it healthy)',
        };
  const total =
    detection &&
    ([detection, delivery, decision, traffic] as const).reduce<Span>(
      (sum, p) => ({ typical: sum.typical + p.typical, worst: sum.worst + p.worst }),
      { typical: 0, worst: 0 },
    );
  return {
    serviceId: service.id,
    nodeId: node.id,
    router: r.type,
    detection,
    delivery,
    decision,
    traffic,
    total: total ? { typical: round(total.typical), worst: round(total.worst) } : undefined,
  };
}

/** Every service, for its initial primary. */
export function estimateRtos(services: readonly ServiceConfig[], options: Omit<RtoOptions, 'nodeId'> = {}) {
  return services.map((s) => estimateRto(s, options));
}

function detectionOf(signal: HealthSignal, node: NodeConfig, options: RtoOptions): RtoPart | undefined {
  switch (signal.type) {
    case 'route53-health-check': {
      // Unhealthy after `failureThreshold` failed checks in a row; the failure lands somewhere
      // inside an interval, so up to one more interval in the worst case.
      const checks = signal.failureThreshold * signal.requestIntervalSeconds;
      const alarm = alarmStage(STACK_ALARM);
      return {
        typical: round(checks + signal.requestIntervalSeconds / 2 + alarm.typical),
        worst: round(checks + signal.requestIntervalSeconds + alarm.worst),
        basis: `Route 53 health check ${signal.failureThreshold} x ${signal.requestIntervalSeconds} s, then HealthCheckStatus (1-minute metric) alarm ${describeAlarm(STACK_ALARM)}`,
      };
    }
    case 'target-group-health': {
      const hc = options.targetGroups?.get(signal.targetGroupArn) ?? ALB_HEALTH_CHECK_DEFAULTS;
      const checks = hc.unhealthyThreshold * hc.intervalSeconds;
      const alarm = alarmStage(STACK_ALARM);
      return {
        typical: round(checks + hc.intervalSeconds / 2 + alarm.typical),
        worst: round(checks + hc.intervalSeconds + alarm.worst),
        basis: `target group health check ${hc.unhealthyThreshold} x ${hc.intervalSeconds} s${
          options.targetGroups?.has(signal.targetGroupArn) ? '' : ' (ALB defaults assumed)'
        }, then HealthyHostCount (1-minute metric) alarm ${describeAlarm(STACK_ALARM)}`,
      };
    }
    case 'probe': {
      if (!node.probe) return undefined;
      // The probe samples at the end of each interval (timeoutSeconds before it ends), so a
      // failure counts in the period it happens in, unless it falls in the last timeoutSeconds.
      const period = probeAlarmPeriodSeconds(node.probe);
      const a: AlarmSettings = { periodSeconds: period, datapointsToAlarm: PROBE_HEALTH_DATAPOINTS };
      const alarm = alarmStage(a);
      return {
        typical: alarm.typical,
        worst: round(alarm.worst + node.probe.timeoutSeconds),
        basis: `${node.probe.kind} probe every ${node.probe.intervalSeconds} s (timeout ${node.probe.timeoutSeconds} s), Healthy alarm ${describeAlarm(a)}`,
      };
    }
    case 'alarm': {
      const settings = options.alarms?.get(signal.alarmName);
      if (!settings) return undefined;
      const alarm = alarmStage(settings);
      return {
        ...alarm,
        basis: `existing alarm ${signal.alarmName} (${describeAlarm(settings)}) for ${node.id}; plus whatever feeds its metric`,
      };
    }
  }
}

/** M datapoints of P seconds: the failure starts somewhere in the first period (typically halfway). */
function alarmStage(a: AlarmSettings): Span {
  return {
    typical: round((a.datapointsToAlarm - 0.5) * a.periodSeconds + ALARM_EVALUATION_DELAY.typical),
    worst: round(a.datapointsToAlarm * a.periodSeconds + ALARM_EVALUATION_DELAY.worst),
  };
}

function describeAlarm(a: AlarmSettings): string {
  return `${a.datapointsToAlarm} x ${a.periodSeconds} s`;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** One line per service, e.g. for `failover status` and the drill. */
export function formatRto(e: RtoEstimate): string {
  const part = (name: string, p: RtoPart | undefined) =>
    p === undefined ? `${name} unknown` : `${name} ${p.typical}-${p.worst} s`;
  const head = e.total
    ? `RTO ~${e.total.typical} s best case, <= ${e.total.worst} s worst case`
    : 'RTO unknown (existing alarm: pass its period and datapoints)';
  return `${e.serviceId} (${e.nodeId} fails, ${e.router}): ${head} = ${[
    part('detection', e.detection),
    part('event', e.delivery),
    part('decision', e.decision),
    part(e.router === 'route53' ? 'DNS TTL' : 'traffic', e.traffic),
  ].join(' + ')}`;
}
