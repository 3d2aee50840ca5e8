/**
 * `failover status [service]`: what an operator needs before touching anything. Every fact is read
 * in as few calls as the ports allow (one DescribeAlarms, one GetMetricData, one GetItem per
 * service), and the automatic-failover decision is replayed on those facts as if the primary had
 * failed now, so the operator sees whether automation would act or hold, and why.
 */
import { type FailoverConfig, healthAlarmName, type ServiceConfig } from '../lambdas/domain/config.ts';
import { currentState, decideAutoFailover, lagQueries } from '../lambdas/domain/decide.ts';
import { UnknownServiceError, UsageError } from '../lambdas/domain/errors.ts';
import { mapLimit } from '../lambdas/domain/map-limit.ts';
import {
  type AlarmSettings,
  estimateRto,
  type RtoEstimate,
  type TargetGroupHealthCheck,
} from '../lambdas/domain/rto.ts';
import type {
  AlarmStateValue,
  CandidateVerdict,
  HistoryEntry,
  LagSample,
  Lease,
  PauseRecord,
  StoredClusterState,
} from '../lambdas/domain/types.ts';
import type { CommandContext } from './context.ts';
import { durationText, secondsText, table, timeText } from './output.ts';
import { readinessSectionLines, statusReadiness } from './readiness-section.ts';

/** Lag datapoints older than this are not shown at all (the decision's own window is much shorter). */
export const STATUS_LAG_LOOKBACK_SECONDS = 900;
/** GetItem calls in flight at once for `status` over many services. */
const STATE_READ_CONCURRENCY = 8;

export interface NodeStatus {
  readonly id: string;
  readonly role: 'primary' | 'replica';
  readonly alarmName: string;
  readonly health: AlarmStateValue | 'UNKNOWN';
  readonly lagSeconds?: number;
  readonly lagAgeSeconds?: number;
  /** Replicas only: how automatic failover would judge this node now. */
  readonly verdict?: CandidateVerdict;
}

export type IfPrimaryFails =
  | { readonly action: 'failover'; readonly to: string; readonly lagSeconds: number }
  | { readonly action: 'hold'; readonly reason: string; readonly detail: string };

export interface ServiceStatus {
  readonly serviceId: string;
  readonly description?: string;
  readonly router: string;
  readonly primary: string;
  /** Set when the recorded primary is not a node of the service in the configuration. */
  readonly primaryNote?: string;
  readonly epoch: number;
  /**
   * Former primaries that must rejoin (be demoted or fenced, then `failover rejoin`) before they
   * can be promoted or take traffic again. Absent when none.
   */
  readonly needsRejoin?: readonly string[];
  /** False until the first write: the state is the configured initial primary at epoch 0. */
  readonly recorded: boolean;
  readonly paused: boolean;
  /** Who paused automatic failover, when (ms) and why; absent when not paused or not known. */
  readonly pause?: PauseRecord;
  readonly autoFailover: boolean;
  readonly dryRun: boolean;
  readonly maxLagSeconds: number;
  readonly maxLagAgeSeconds: number;
  readonly cooldownSeconds: number;
  /**
   * Where the router points, read live (`status <service>` only): a node, or null when it matches
   * no single node. Absent when not read, or when the read failed (`trafficReadError`).
   */
  readonly traffic?: string | null;
  /** Why the routing could not be read: where traffic points is unknown, not "no node". */
  readonly trafficReadError?: string;
  readonly trafficNote?: string;
  readonly lease?: Lease & { readonly live: boolean };
  readonly lastChange?: HistoryEntry;
  readonly lastChangeAt?: number;
  readonly cooldownEndsAt?: number;
  readonly nodes: readonly NodeStatus[];
  readonly ifPrimaryFailsNow: IfPrimaryFails;
  /** The recovery-time model for a failure of the current primary (lambdas/domain/rto.ts). */
  readonly rto: RtoEstimate;
  /** Why the model is incomplete, when the settings it needs could not be read. */
  readonly rtoNote?: string;
}

interface RtoInputs {
  readonly alarms: ReadonlyMap<string, AlarmSettings>;
  readonly targetGroups: ReadonlyMap<string, TargetGroupHealthCheck>;
  readonly alarmsError?: string;
  readonly targetGroupsError?: string;
}

export async function runStatus(ctx: CommandContext, serviceId: string | undefined): Promise<number> {
  const { config, out } = ctx;
  const services = serviceId === undefined ? config.services : [requireService(config, serviceId)];
  const statuses = await collectStatus(ctx, services, { readTraffic: serviceId !== undefined });
  // One service: its readiness too (cli/readiness-section.ts); all of them: `failover check`.
  const readiness =
    serviceId !== undefined ? await statusReadiness(ctx, services[0] as ServiceConfig) : undefined;
  out.result({
    services: readiness ? statuses.map((s) => ({ ...s, readiness })) : statuses,
    at: timeText(ctx.clock.now()),
  });
  statuses.forEach((s, i) => {
    if (i > 0) out.text();
    for (const line of statusLines(s, ctx.clock.now())) out.text(line);
  });
  if (readiness) for (const line of readinessSectionLines(readiness)) out.text(line);
  if (serviceId === undefined) {
    out.text();
    out.text(
      'traffic: not read for all services (Route 53 allows 5 requests/s per account, shared with failovers); run status <service>',
    );
    out.text('readiness: run failover check (every service) or status <service>');
  }
  return 0;
}

export function requireService(config: FailoverConfig, serviceId: string): ServiceConfig {
  const service = config.services.find((s) => s.id === serviceId);
  if (!service) {
    throw new UsageError(
      `${new UnknownServiceError(serviceId).message} (configured: ${config.services.map((s) => s.id).join(', ')})`,
    );
  }
  return service;
}

export async function collectStatus(
  ctx: CommandContext,
  services: readonly ServiceConfig[],
  options: { readonly readTraffic: boolean },
): Promise<ServiceStatus[]> {
  const now = ctx.clock.now();
  const { services: ports } = ctx;
  const state = await ports.state();
  const alarmNames = services.flatMap((s) => s.nodes.map((n) => healthAlarmName(s, n)));
  const signals = services.flatMap((s) => s.nodes.map((n) => n.health));
  const existingAlarms = signals.flatMap((h) => (h.type === 'alarm' ? [h.alarmName] : []));
  const targetGroups = [
    ...new Set(signals.flatMap((h) => (h.type === 'target-group-health' ? [h.targetGroupArn] : []))),
  ];
  const [alarms, lag, stored, traffic, rtoInputs] = await Promise.all([
    ports.alarms.getStates(alarmNames),
    ports.lag.getLatest(
      services.flatMap((s) => lagQueries(s).map((q) => ({ key: `${s.id}/${q.key}`, metric: q.metric }))),
      now,
      STATUS_LAG_LOOKBACK_SECONDS,
    ),
    mapLimit(services, STATE_READ_CONCURRENCY, (s) => state.get(s.id)),
    // Route 53 allows 5 requests/s per account, shared with the failover Lambda: read the live
    // routing only when asked about one service, never for all of them at once.
    options.readTraffic
      ? Promise.all(
          services.map((s) =>
            ports.traffic.current(s.id).then(
              (node) => ({ node: node ?? null }),
              (err: unknown) => ({
                error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
              }),
            ),
          ),
        )
      : undefined,
    // The RTO model needs how existing alarms and target groups detect a failure. Nice to have:
    // a read that fails leaves the model incomplete and says why, it never fails the status.
    Promise.all([
      existingAlarms.length
        ? ports.alarmSettings(existingAlarms).then(
            (alarms) => ({ alarms }),
            (err: unknown) => ({ alarms: new Map<string, AlarmSettings>(), alarmsError: errorText(err) }),
          )
        : { alarms: new Map<string, AlarmSettings>() },
      targetGroups.length
        ? ports.targetGroupHealthChecks(targetGroups).then(
            (targetGroups) => ({ targetGroups }),
            (err: unknown) => ({
              targetGroups: new Map<string, TargetGroupHealthCheck>(),
              targetGroupsError: errorText(err),
            }),
          )
        : { targetGroups: new Map<string, TargetGroupHealthCheck>() },
    ]).then(([a, t]): RtoInputs => ({ ...a, ...t })),
  ]);
  return services.map((service, i) =>
    serviceStatus(service, stored[i] ?? undefined, alarms, lag, traffic?.[i], rtoInputs, now),
  );
}

function serviceStatus(
  service: ServiceConfig,
  stored: StoredClusterState | undefined,
  alarms: ReadonlyMap<string, AlarmStateValue>,
  lagByKey: ReadonlyMap<string, LagSample | undefined>,
  traffic: { node: string | null } | { error: string } | undefined,
  rtoInputs: RtoInputs,
  now: number,
): ServiceStatus {
  const state = currentState(stored, service);
  const lag = new Map(lagQueries(service).map((q) => [q.key, lagByKey.get(`${service.id}/${q.key}`)]));
  const primary = service.nodes.find((n) => n.id === state.primary);
  // Replay the automatic decision as if the primary's alarm had just fired: would it act?
  const primaryAlarm = primary ? healthAlarmName(service, primary) : undefined;
  const decision = decideAutoFailover({
    service,
    transition: {
      alarmName: primaryAlarm ?? '(none)',
      state: 'ALARM',
      previousState: 'OK',
      timestamp: now,
      eventId: 'failover-cli-status',
    },
    alarms: primaryAlarm ? new Map([...alarms, [primaryAlarm, 'ALARM']]) : alarms,
    lag,
    state,
    now,
  });
  const verdicts = new Map(decision.candidates.map((c) => [c.nodeId, c]));
  const nodes: NodeStatus[] = service.nodes.map((n) => {
    const c = verdicts.get(n.id);
    const sample = lag.get(n.id);
    const usable = sample !== undefined && Number.isFinite(sample.lagSeconds);
    return {
      id: n.id,
      role: n.id === state.primary ? 'primary' : 'replica',
      alarmName: healthAlarmName(service, n),
      health: alarms.get(healthAlarmName(service, n)) ?? 'UNKNOWN',
      ...(usable
        ? { lagSeconds: sample.lagSeconds, lagAgeSeconds: Math.round((now - sample.timestamp) / 100) / 10 }
        : {}),
      ...(c ? { verdict: c.verdict } : {}),
    };
  });
  const cooldownEndsAt =
    state.lastChangeAt !== undefined ? state.lastChangeAt + service.policy.cooldownSeconds * 1000 : undefined;
  const trafficFields =
    traffic === undefined
      ? {}
      : 'error' in traffic
        ? {
            trafficReadError: traffic.error,
            trafficNote: `could not read the routing (${traffic.error}): where traffic points is unknown; check the credentials (route53:ListResourceRecordSets, elasticloadbalancing:Describe*) and --region, then run status again`,
          }
        : {
            traffic: traffic.node,
            ...(traffic.node !== state.primary
              ? {
                  trafficNote:
                    traffic.node === null
                      ? 'the router matches no single node'
                      : `traffic is on ${traffic.node}, but the recorded primary is ${state.primary}: repair before any operation`,
                }
              : {}),
          };
  return {
    serviceId: service.id,
    ...(service.description ? { description: service.description } : {}),
    router: routerText(service),
    primary: state.primary,
    ...(primary
      ? {}
      : {
          primaryNote: `the recorded primary ${state.primary} is not a node of ${service.id} in the configuration (nodes: ${service.nodes
            .map((n) => n.id)
            .join(
              ', ',
            )}): automatic failover holds and the workflow refuses until the record or the configuration is fixed`,
        }),
    epoch: state.epoch,
    ...(state.needsRejoin?.length ? { needsRejoin: [...state.needsRejoin] } : {}),
    // A pause alone records no primary: the state is still the configured initial one.
    recorded: stored?.primary !== undefined,
    paused: state.paused,
    ...(state.paused && state.pause ? { pause: state.pause } : {}),
    autoFailover: service.policy.autoFailover,
    dryRun: service.policy.dryRun,
    maxLagSeconds: service.policy.maxLagSeconds,
    maxLagAgeSeconds: service.policy.maxLagAgeSeconds,
    cooldownSeconds: service.policy.cooldownSeconds,
    ...trafficFields,
    ...(state.lease ? { lease: { ...state.lease, live: state.lease.expiresAt > now } } : {}),
    ...(state.lastChange ? { lastChange: state.lastChange } : {}),
    ...(state.lastChangeAt !== undefined ? { lastChangeAt: state.lastChangeAt } : {}),
    ...(cooldownEndsAt !== undefined && cooldownEndsAt > now ? { cooldownEndsAt } : {}),
    nodes,
    ifPrimaryFailsNow:
      decision.action === 'failover'
        ? { action: 'failover', to: decision.to, lagSeconds: decision.lagSeconds }
        : { action: 'hold', reason: decision.reason, detail: decision.detail },
    rto: estimateRto(service, {
      ...(primary ? { nodeId: primary.id } : {}),
      alarms: rtoInputs.alarms,
      targetGroups: rtoInputs.targetGroups,
    }),
    ...rtoNote(service, rtoInputs),
  };
}

/** Only the reads this service's signals depend on. */
function rtoNote(service: ServiceConfig, inputs: RtoInputs): { rtoNote?: string } {
  const kinds = new Set(service.nodes.map((n) => n.health.type));
  const notes = [
    kinds.has('alarm') && inputs.alarmsError
      ? `existing alarm settings not read: ${inputs.alarmsError}`
      : undefined,
    kinds.has('target-group-health') && inputs.targetGroupsError
      ? `target group health checks not read (ALB defaults assumed): ${inputs.targetGroupsError}`
      : undefined,
  ].filter((n) => n !== undefined);
  return notes.length ? { rtoNote: notes.join('; ') } : {};
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** `~48 s best case, <= 97 s worst case (detection 40-85 s, event 0.5-2 s, decision 0.2-1 s, DNS TTL 7.5-15 s)`. */
export function rtoText(e: RtoEstimate): string {
  const part = (name: string, p: { typical: number; worst: number } | undefined) =>
    p === undefined ? `${name} unknown` : `${name} ${p.typical}-${p.worst} s`;
  const parts = [
    part('detection', e.detection),
    part('event', e.delivery),
    part('decision', e.decision),
    e.router === 'route53' ? part('DNS TTL', e.traffic) : 'no DNS TTL',
  ].join(', ');
  return e.total
    ? `~${e.total.typical} s best case, <= ${e.total.worst} s worst case (${parts})`
    : `unknown: no period and datapoints for the existing health alarm (${parts})`;
}

function routerText(service: ServiceConfig): string {
  const r = service.router;
  switch (r.type) {
    case 'route53':
      return `route53 ${r.recordName} ${r.recordType} (TTL ${r.ttlSeconds} s)`;
    case 'elbv2-target':
      return `elbv2-target ${r.targetGroupArn.split(':').pop()}`;
    case 'elbv2-weighted':
      return `elbv2-weighted ${r.listenerArn.split(':').pop()}`;
  }
}

export function statusLines(s: ServiceStatus, now: number): string[] {
  const lines: string[] = [];
  lines.push(`${s.serviceId}${s.description ? `  ${s.description}` : ''}`);
  lines.push(`  router       ${s.router}`);
  const traffic =
    s.trafficReadError !== undefined
      ? ', traffic UNKNOWN (the routing could not be read)'
      : s.traffic === undefined
        ? ''
        : `, traffic on ${s.traffic ?? 'no single node'}`;
  lines.push(
    `  primary      ${s.primary} (epoch ${s.epoch}${s.recorded ? '' : ', initial: nothing recorded yet'})${traffic}`,
  );
  if (s.primaryNote) lines.push(`  !            ${s.primaryNote}`);
  if (s.trafficNote) lines.push(`  !            ${s.trafficNote}`);
  for (const node of s.needsRejoin ?? []) {
    lines.push(
      `  !            ${node} NEEDS REJOIN: a former primary, never promoted or given traffic until it rejoined; demote it to a replica of ${s.primary}, then run failover rejoin ${s.serviceId} ${node}`,
    );
  }
  const automatic = !s.autoFailover
    ? 'off (policy.autoFailover is false)'
    : s.paused
      ? `PAUSED ${s.pause ? `by ${s.pause.by} at ${timeText(s.pause.at)}: ${s.pause.reason}` : 'by an operator'} (failover resume to allow it again)`
      : `on${s.dryRun ? ' (dry run: decides and reports only)' : ''}`;
  lines.push(`  automatic    ${automatic}`);
  lines.push(
    `  budget       lag <= ${secondsText(s.maxLagSeconds)}, datapoint <= ${durationText(s.maxLagAgeSeconds)} old; cooldown ${durationText(s.cooldownSeconds)}${
      s.cooldownEndsAt !== undefined
        ? ` (in cooldown for ${durationText((s.cooldownEndsAt - now) / 1000)})`
        : ''
    }`,
  );
  lines.push(
    `  lease        ${
      s.lease
        ? `${s.lease.operation} ${s.lease.holder} ${
            s.lease.live
              ? `until ${timeText(s.lease.expiresAt)} (${durationText((s.lease.expiresAt - now) / 1000)} left)`
              : `expired ${timeText(s.lease.expiresAt)} (free)`
          }`
        : 'none'
    }`,
  );
  const c = s.lastChange;
  lines.push(
    `  last change  ${
      c
        ? `${timeText(c.at)} ${c.operation} ${c.from} -> ${c.to} (epoch ${c.epoch}${
            c.lagSeconds !== undefined ? `, lag ${secondsText(c.lagSeconds)}` : ''
          }${c.forced ? ', FORCED' : ''}) by ${c.actor}: ${c.reason}`
        : 'none'
    }`,
  );
  lines.push(
    ...table(
      ['node', 'role', 'health', 'lag', 'verdict'],
      s.nodes.map((n) => [
        n.id,
        n.role,
        n.health,
        n.lagSeconds === undefined
          ? n.role === 'primary'
            ? '-'
            : `no datapoint in ${durationText(STATUS_LAG_LOOKBACK_SECONDS)}`
          : `${secondsText(n.lagSeconds)} (${durationText(n.lagAgeSeconds ?? 0)} old)`,
        n.verdict ?? '-',
      ]),
      '  ',
    ),
  );
  lines.push(`  RTO model    if ${s.rto.nodeId} fails: ${rtoText(s.rto)}`);
  if (s.rtoNote) lines.push(`  !            ${s.rtoNote}`);
  const f = s.ifPrimaryFailsNow;
  const primary = s.nodes.find((n) => n.role === 'primary');
  if (primary?.health === 'ALARM') {
    // Not a what-if: the primary is failing, and this is what automatic failover does about it.
    lines.push(
      `  ${s.primary} is FAILING NOW (alarm ${primary.alarmName} in ALARM): ${
        f.action === 'failover'
          ? `automatic failover moves it to ${f.to} (lag ${secondsText(f.lagSeconds)}); if the primary does not change within a minute, read the failover Lambda's decision log`
          : `automatic failover HOLDS (${f.reason}): ${f.detail}`
      }`,
    );
  } else {
    lines.push(
      `  if ${s.primary} failed now: ${
        f.action === 'failover'
          ? `automatic failover to ${f.to} (lag ${secondsText(f.lagSeconds)})`
          : `automatic failover would HOLD (${f.reason}): ${f.detail}`
      }`,
    );
  }
  return lines;
}
