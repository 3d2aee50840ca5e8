/**
 * Where the drill's ports live. The simulated backend keeps them in memory with AWS semantics
 * (lambdas/testing/memory.ts, plus Route 53 change propagation here); the endpoint backend
 * (aws-backend.ts) uses the project's real AWS adapters against an endpoint such as moto_server.
 * The scenario driver, the handlers and the state machine are the same for both.
 */
import type { ChangeStatusPort, WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { type FailoverConfig, findService, type LagMetric } from '../../lambdas/domain/config.ts';
import type { TrafficPort } from '../../lambdas/domain/ports.ts';
import type { AlarmStateValue, TrafficChange, TrafficShiftResult } from '../../lambdas/domain/types.ts';
import { createMemoryEnvironment, type MemoryTraffic } from '../../lambdas/testing/memory.ts';
import type { DrillClock, VirtualClock } from './clock.ts';

/** The ports the drill's scenarios drive, as the workflow's steps read them. */
export type DrillPorts = Pick<WorkflowDeps, 'alarms' | 'lag' | 'state' | 'traffic' | 'notifier' | 'changes'>;

export interface Backend {
  readonly kind: 'simulated' | 'endpoint';
  readonly clock: DrillClock;
  readonly ports: DrillPorts;
  /** CloudWatch's evaluation result: the alarm's state as DescribeAlarms will report it (SetAlarmState on an endpoint). */
  setAlarmState(
    alarmName: string,
    value: AlarmStateValue,
    reason: string,
    reasonData?: string,
  ): Promise<void>;
  /** One datapoint of a node's lag metric (PutMetricData on an endpoint). */
  putLag(metric: LagMetric, lagSeconds: number, timestamp: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * MemoryTraffic plus what the in-memory router leaves out: Route 53 changes have ids that stay
 * PENDING until they propagate (GetChange), and ELB changes have no change id, as with the real
 * adapters.
 */
export class SimRouting implements TrafficPort, ChangeStatusPort {
  private readonly insyncAt = new Map<string, number>();
  private seq = 0;

  constructor(
    private readonly inner: MemoryTraffic,
    private readonly config: FailoverConfig,
    private readonly clock: { now(): number },
    private readonly propagationMs: number,
  ) {}

  async shift(changes: readonly TrafficChange[]): Promise<readonly TrafficShiftResult[]> {
    const results = await this.inner.shift(changes);
    return results.map((r) => {
      if (r.status !== 'shifted') return r;
      const service = findService(this.config, r.serviceId);
      if (service?.router.type !== 'route53') return { serviceId: r.serviceId, status: 'shifted' };
      // A read-back of an earlier attempt's change has no id of its own: nothing new to track.
      if (r.changeId === undefined) return r;
      const id = `C${String(++this.seq).padStart(4, '0')}DRILL`;
      this.insyncAt.set(id, this.clock.now() + this.propagationMs);
      return { ...r, changeId: id };
    });
  }

  current(serviceId: string): Promise<string | undefined> {
    return this.inner.current(serviceId);
  }

  /** The no-op compare-and-swap on the record's value: a change that propagates like any other. */
  async confirmRecord(serviceId: string, nodeId: string): Promise<string | undefined> {
    if (this.inner.confirm(serviceId, nodeId) === undefined) return undefined;
    const id = `C${String(++this.seq).padStart(4, '0')}DRILL`;
    this.insyncAt.set(id, this.clock.now() + this.propagationMs);
    return id;
  }

  /** The drill models no load-balancer health checks: a registered target is healthy. */
  async targetHealth(serviceId: string, nodeId: string): Promise<string | undefined> {
    const router = findService(this.config, serviceId)?.router;
    if (router?.type === 'elbv2-weighted') return 'healthy';
    return this.inner.pointsAt(serviceId) === nodeId ? 'healthy' : undefined;
  }

  async changeStatus(changeId: string): Promise<'PENDING' | 'INSYNC'> {
    const at = this.insyncAt.get(changeId);
    if (at === undefined) {
      throw Object.assign(new Error(`No change with the id ${changeId}`), { name: 'NoSuchChange' });
    }
    return this.clock.now() >= at ? 'INSYNC' : 'PENDING';
  }
}

export function simulatedBackend(
  config: FailoverConfig,
  clock: VirtualClock,
  route53PropagationMs: number,
): Backend {
  const env = createMemoryEnvironment(config, { clock: clock.manual });
  const routing = new SimRouting(env.traffic, config, clock, route53PropagationMs);
  return {
    kind: 'simulated',
    clock,
    ports: {
      alarms: env.alarms,
      lag: env.lag,
      state: env.state,
      traffic: routing,
      notifier: env.notifier,
      changes: routing,
    },
    async setAlarmState(alarmName, value) {
      env.alarms.set(alarmName, value);
    },
    async putLag(metric, lagSeconds, timestamp) {
      env.lag.putMetric(metric, lagSeconds, timestamp);
    },
    async close() {},
  };
}
