/**
 * The readiness use case: gather the facts every service's failover depends on, in as few reads
 * as the ports allow, and judge them (lambdas/domain/readiness.ts). `checkReadiness` is what
 * `failover check` runs; `runScheduledReadiness` is what the stack's scheduled Lambda runs: the
 * same judgement, plus a `Ready` metric per service (and a `CheckFailing` one per check only while
 * it fails), and a notification when a service stops being ready or becomes ready again.
 *
 * Reads per pass: one DescribeAlarms per 100 alarms, one GetMetricData per 500 lag queries, one
 * GetItem per service, the routing (Route 53: one paced zone walk per hosted zone; ELB: one
 * Describe call per service) and the action resources (see the adapters).
 */
import { healthAlarmName, type ServiceConfig } from '../domain/config.ts';
import { lagQueries } from '../domain/decide.ts';
import { mapLimit } from '../domain/map-limit.ts';
import type { Notification } from '../domain/ports.ts';
import {
  evaluateReadiness,
  type Fact,
  READINESS_LAG_LOOKBACK_SECONDS,
  type ReadinessStorePort,
  type ResourcePort,
  type RoutingReadPort,
  readinessResourceRefs,
  type ServiceReadiness,
} from '../domain/readiness.ts';
import type { StoredClusterState } from '../domain/types.ts';
import type { AutomationPorts } from './ports.ts';

export interface ReadinessDeps extends Pick<AutomationPorts, 'alarms' | 'lag' | 'state' | 'clock'> {
  readonly routing: RoutingReadPort;
  readonly resources: ResourcePort;
}

/** GetItem calls in flight at once. */
const STATE_READ_CONCURRENCY = 8;

export const READINESS_METRICS = {
  /** The verdict: 1 ready, 0 not ready; dimension ServiceId. Absent for a pass that could not tell. */
  ready: 'Ready',
  /**
   * 1 for each check that fails (dimensions ServiceId and Check), published only while it fails:
   * CloudWatch bills a custom metric by the hours it receives data, so a fleet that is ready pays
   * for one metric per service, not one per service and check. Which checks failed, with their
   * reasons, is also in the not-ready notification and the pass's log line.
   */
  checkFailing: 'CheckFailing',
  /** Services not ready in this pass (no dimensions): the readiness alarm watches it. */
  notReadyServices: 'NotReadyServices',
  /** Services whose readiness could not be told in this pass (a read failed). */
  unknownServices: 'UnknownServices',
} as const;

export async function checkReadiness(
  deps: ReadinessDeps,
  services: readonly ServiceConfig[],
): Promise<ServiceReadiness[]> {
  const now = deps.clock.now();
  const ids = services.map((s) => s.id);
  const alarmNames = services.flatMap((s) => s.nodes.map((n) => healthAlarmName(s, n)));
  const lagKeys = services.flatMap((s) =>
    lagQueries(s).map((q) => ({ key: `${s.id}/${q.key}`, metric: q.metric })),
  );
  const refs = readinessResourceRefs(services);
  const [alarms, lag, states, routing, resources] = await Promise.all([
    fact(() => deps.alarms.getStates(alarmNames)),
    fact(() => deps.lag.getLatest(lagKeys, now, READINESS_LAG_LOOKBACK_SECONDS)),
    mapLimit(services, STATE_READ_CONCURRENCY, (s) => fact(() => deps.state.get(s.id))),
    fact(() => deps.routing.readAll(ids)),
    refs.length ? fact(() => deps.resources.check(refs)) : fact(async () => new Map()),
  ]);
  return services.map((service, i) => {
    const lagOf = lag.ok
      ? ({
          ok: true,
          value: new Map(lagQueries(service).map((q) => [q.key, lag.value.get(`${service.id}/${q.key}`)])),
        } as const)
      : lag;
    const live = routing.ok ? routing.value.get(service.id) : undefined;
    return evaluateReadiness({
      service,
      state: states[i] as Fact<StoredClusterState | undefined>,
      alarms,
      lag: lagOf,
      routing: routing.ok
        ? live
          ? { ok: true, value: live }
          : { ok: false, error: 'the router could not be read for this service (throttled or denied)' }
        : routing,
      resources,
      now,
    });
  });
}

export interface ScheduledReadinessDeps
  extends ReadinessDeps,
    Pick<AutomationPorts, 'notifier' | 'metrics' | 'logger'> {
  readonly services: readonly ServiceConfig[];
  readonly store: ReadinessStorePort;
}

export interface ScheduledReadinessResult {
  readonly ready: number;
  readonly notReady: readonly string[];
  readonly unknown: readonly string[];
  /** Services announced this pass: became not ready, or ready again. */
  readonly announced: readonly string[];
}

/**
 * One scheduled pass over every service. A verdict that could not be told (`unknown`) is neither
 * recorded nor announced: a throttled read must not page anyone, nor hide a real loss.
 */
export async function runScheduledReadiness(deps: ScheduledReadinessDeps): Promise<ScheduledReadinessResult> {
  const results = await checkReadiness(deps, deps.services);
  const now = deps.clock.now();
  const announced: string[] = [];
  for (const r of results) {
    for (const c of r.checks) {
      if (c.status !== 'fail') continue;
      deps.metrics.add(READINESS_METRICS.checkFailing, 1, 'Count', {
        ServiceId: r.serviceId,
        Check: c.check,
      });
    }
    if (r.status !== 'unknown') {
      deps.metrics.add(READINESS_METRICS.ready, r.status === 'ready' ? 1 : 0, 'Count', {
        ServiceId: r.serviceId,
      });
    }
    const log = r.status === 'ready' ? deps.logger.info : deps.logger.warn;
    log.call(deps.logger, 'readiness', {
      serviceId: r.serviceId,
      status: r.status,
      failed: r.checks.filter((c) => c.status !== 'pass'),
    });
  }
  deps.metrics.add(
    READINESS_METRICS.notReadyServices,
    results.filter((r) => r.status === 'not-ready').length,
    'Count',
  );
  deps.metrics.add(
    READINESS_METRICS.unknownServices,
    results.filter((r) => r.status === 'unknown').length,
    'Count',
  );

  const problems: string[] = [];
  for (const r of results) {
    if (r.status === 'unknown') continue;
    try {
      const before = await deps.store.previous(r.serviceId);
      if (before === r.status) continue;
      if (before !== undefined || r.status === 'not-ready') {
        await deps.notifier.publish(readinessNotification(r, before));
        announced.push(r.serviceId);
      }
      await deps.store.record(r.serviceId, r.status, now);
    } catch (err) {
      deps.logger.error('readiness transition not recorded or announced', {
        serviceId: r.serviceId,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
      problems.push(r.serviceId);
    }
  }
  deps.metrics.flush();
  if (problems.length > 0) {
    // Fail the invocation (Lambda Errors is alarmed): a lost "not ready" notice must be loud.
    throw new Error(`readiness transitions not recorded or announced for: ${problems.join(', ')}`);
  }
  return {
    ready: results.filter((r) => r.status === 'ready').length,
    notReady: results.filter((r) => r.status === 'not-ready').map((r) => r.serviceId),
    unknown: results.filter((r) => r.status === 'unknown').map((r) => r.serviceId),
    announced,
  };
}

function readinessNotification(r: ServiceReadiness, before: 'ready' | 'not-ready' | undefined): Notification {
  const failed = r.checks.filter((c) => c.status === 'fail');
  if (r.status === 'not-ready') {
    const first = failed[0];
    return {
      kind: 'not-ready',
      serviceId: r.serviceId,
      subject: `NOT READY ${r.serviceId}: a failover would not work (${failed.map((c) => c.check).join(', ')})${
        first && first.status === 'fail' && first.reasons[0] ? `: ${first.reasons[0]}` : ''
      }`,
      detail: { serviceId: r.serviceId, status: r.status, previous: before ?? null, checks: r.checks },
    };
  }
  return {
    kind: 'ready',
    serviceId: r.serviceId,
    subject: `Ready again: ${r.serviceId} passes every readiness check`,
    detail: { serviceId: r.serviceId, status: r.status, previous: before ?? null, checks: r.checks },
  };
}

async function fact<T>(read: () => Promise<T>): Promise<Fact<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}
