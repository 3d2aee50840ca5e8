/**
 * One scenario's simulated world around the real code:
 *
 *   nodes (health, fencing, replication lag, evolving each simulated second)
 *     -> health probes every alarm period -> CloudWatch-style alarm evaluation
 *     -> `CloudWatch Alarm State Change` event -> the stack's EventBridge rule patterns
 *     -> the REAL failover handler (asynchronous invocation: duplicates, retries)
 *   lag publisher every metric period -> datapoints the LagPort reads (with their ages)
 *   operator -> the REAL state machine (aws-local-stepfunctions) -> the REAL step handler
 *     -> simulated hook Lambdas that fence, promote and demote the nodes
 *   a service with node actions (`services[].actions`) -> the failover Lambda's role-change
 *     engine runs them on MemoryNodeActions (lambdas/testing/node-actions.ts); who accepts
 *     writes is checked every simulated second and after every action
 *
 * Every port call of the real code is timed (modelled latency in the simulation) and observed,
 * which is what the timeline narrates: observed, decided, changed, announced.
 */
import { createHash } from 'node:crypto';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import {
  type FailoverConfig,
  findService,
  healthAlarmName,
  type ServiceConfig,
} from '../../lambdas/domain/config.ts';
import { LeaseConflictError } from '../../lambdas/domain/errors.ts';
import type { CommitRequest, Logger, Notification } from '../../lambdas/domain/ports.ts';
import type { HistoryEntry, TrafficChange, TrafficShiftResult } from '../../lambdas/domain/types.ts';
import type { WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { type FailoverHandlerResult, makeHandler } from '../../lambdas/handlers/failover.ts';
import { type CallInfo, instrument } from '../../lambdas/testing/instrument.ts';
import { MemoryMetrics } from '../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../lambdas/testing/node-actions.ts';
import type {
  DeliveredEvent,
  Driver,
  ExecutionSummary,
  InvocationSummary,
  Marker,
  NodeActionsOutcome,
  Scenario,
  SeriesSample,
} from '../scenario.ts';
import type { Timeline } from '../timeline.ts';
import { type AlarmStateChangeEvent, alarmStateChangeEvent, SimAlarm } from './alarm.ts';
import type { Backend, DrillPorts } from './backend.ts';
import { type NodeSim, SimHooks } from './hooks.ts';
import type { SimModel } from './model.ts';
import {
  describeOutput,
  errorText,
  holderText,
  type NarrationContext,
  narrateDecision,
  narrateOutcome,
  narrateStep,
  round,
  routerText,
  shiftText,
  short,
} from './narration.ts';
import { type ObservedCall, observe } from './observe.ts';
import { Priority, Scheduler } from './scheduler.ts';
import { DRILL_ACCOUNT, DRILL_REGION, matchesPattern, type SynthesizedStack } from './stack.ts';
import { WorkflowExecutor } from './workflow.ts';
import { WriterWatch } from './writers.ts';

interface EventFault {
  readonly duplicates?: number;
  readonly spacingMs?: number;
  readonly delayMs?: number;
}

export interface DnsChange {
  readonly changeId: string;
  readonly from: string;
  readonly to: string;
  readonly shiftEnd: number;
  insyncAt?: number;
  convergedAt?: number;
}

export interface InvocationRecord extends InvocationSummary {
  readonly start: number;
  readonly end: number;
  readonly transitionAt: number;
  readonly calls: readonly ObservedCall[];
}

export interface WorldOptions {
  readonly scenario: Scenario;
  readonly config: FailoverConfig;
  readonly backend: Backend;
  readonly stack: SynthesizedStack;
  readonly model: SimModel;
  readonly timeline: Timeline;
  /** Epoch ms of t=0. */
  readonly start: number;
}

const SAMPLE_MS = 1000;

export class World {
  readonly service: ServiceConfig;
  readonly scheduler: Scheduler;
  readonly nodes = new Map<string, NodeSim>();
  readonly alarms = new Map<string, SimAlarm>();
  readonly metrics = new MemoryMetrics();
  readonly invocations: InvocationRecord[] = [];
  readonly executions: ExecutionSummary[] = [];
  readonly notifications: { at: number; notification: Notification }[] = [];
  readonly trafficChanges: { at: number; start: number; end: number; from: string; to: string }[] = [];
  readonly dnsChanges: DnsChange[] = [];
  readonly crashes: { nodeId: string; at: number }[] = [];
  readonly series: SeriesSample[] = [];
  readonly lagDatapoints = new Map<string, { t: number; lag: number }[]>();
  readonly markers: Marker[] = [];
  readonly logs: { at: number; level: string; message: string; data?: Record<string, unknown> }[] = [];
  readonly delivered: DeliveredEvent[] = [];
  /** The raw events behind `delivered`, in the same order. */
  readonly deliveredEvents: AlarmStateChangeEvent[] = [];
  /** Every commit the real code made (observed at the state port). */
  readonly commits: CommitRequest[] = [];
  /** Where the router points, as the world knows it (updated by every observed shift). */
  routedTo: string;
  /** The nodes as their actions see them: only for a service configured with `actions`. */
  readonly actions?: MemoryNodeActions;
  private readonly writers?: WriterWatch;
  private readonly eventsById = new Map<string, AlarmStateChangeEvent>();
  private readonly faults = new Map<string, EventFault>();
  private readonly end: number;
  private readonly ports: DrillPorts;
  private readonly clock: Backend['clock'];
  private readonly workflow: WorkflowExecutor;
  private ids = 0;

  constructor(private readonly options: WorldOptions) {
    const { scenario, config, backend, start } = options;
    const service = findService(config, scenario.serviceId);
    if (!service) throw new Error(`scenario ${scenario.name}: its service is not in the drill configuration`);
    this.service = service;
    this.clock = backend.clock;
    this.ports = backend.ports;
    this.scheduler = new Scheduler(this.clock);
    this.end = start + scenario.durationSeconds * 1000;
    this.routedTo = scenario.before?.primary ?? service.initialPrimary;
    for (const node of service.nodes) {
      const startAs = scenario.nodes[node.id] ?? {};
      const baseLag = startAs.lagSeconds ?? 0;
      this.nodes.set(node.id, {
        id: node.id,
        up: startAs.up ?? true,
        fenced: false,
        baseLag,
        lag: node.id === this.routedTo ? undefined : baseLag,
        publishing: true,
        hookEpoch: 0,
      });
      this.alarms.set(
        node.id,
        new SimAlarm(
          healthAlarmName(service, node),
          {
            namespace: 'Drill/Health',
            name: 'HealthCheckStatus',
            dimensions: { Service: service.id, Node: node.id },
          },
          options.model.alarm,
          'OK',
          start,
        ),
      );
      this.lagDatapoints.set(node.id, []);
    }
    if (service.actions) {
      this.actions = new MemoryNodeActions(config, {
        clock: this.clock,
        sleep: (ms) => this.clock.sleep(ms),
        roles: { [service.id]: ['fence', 'unfence', 'promote', 'demote'] },
        durationMs: this.clock.simulated ? ACTION_MS : 0,
      });
      for (const node of this.nodes.values()) if (!node.up) this.actions.setUp(service.id, node.id, false);
      this.writers = new WriterWatch(this.actions, this.nodes, this.narration, this.clock);
    }
    this.workflow = new WorkflowExecutor({
      stack: options.stack,
      deps: this.workflowDeps(),
      clock: this.clock,
      hooks: new SimHooks({
        clock: this.clock,
        model: options.model,
        nodes: this.nodes,
        timeline: options.timeline,
      }).functions(service),
      wait: (ms) => this.scheduler.runUntil(this.clock.now() + ms),
      stepOverheadMs: this.clock.simulated ? options.model.stepOverheadMs : 0,
      onStep: (record) => narrateStep(this.narration, record),
    });
  }

  private get t0(): number {
    return this.options.start;
  }

  /** Epoch ms of t=0. */
  get startedAt(): number {
    return this.options.start;
  }

  private get timeline(): Timeline {
    return this.options.timeline;
  }

  private get narration(): NarrationContext {
    return { timeline: this.timeline, markers: this.markers, t0: this.t0, service: this.service };
  }

  /** Seeds the steady state before t=0 and schedules the world's periodic activity. */
  async prepare(): Promise<void> {
    const { model, scenario } = this.options;
    const alarmPeriod = model.alarm.periodSeconds * 1000;
    for (const alarm of this.alarms.values()) {
      await this.options.backend.setAlarmState(alarm.name, 'OK', 'steady state before the drill');
      // The periods before t=0 were healthy: the first evaluations see no missing data.
      for (let i = model.alarm.evaluationPeriods; i >= 1; i--) alarm.record(this.t0 - i * alarmPeriod, 1);
    }
    if (scenario.before) await this.seedEarlierChange(scenario.before);

    this.scheduler.every(this.t0, SAMPLE_MS, this.end + 1, Priority.world, (at) => this.evolve(at));
    this.scheduler.every(this.t0, alarmPeriod, this.end, Priority.probe, (at) => this.probe(at));
    const lagPeriods = new Set(this.service.nodes.map((n) => n.lag.periodSeconds));
    for (const period of lagPeriods) {
      this.scheduler.every(this.t0, period * 1000, this.end, Priority.probe, (at) =>
        this.publishLag(at, period),
      );
    }
    const lagNow = [...this.nodes.values()]
      .filter((n) => n.lag !== undefined)
      .map((n) => `${n.id} lag ${n.lag} s`)
      .join(', ');
    this.timeline.add(
      this.t0,
      'world',
      `${this.service.id}: primary ${this.routedTo}, traffic ${routerText(this.service)} -> ${this.routedTo}; replicas: ${lagNow}`,
    );
  }

  /** The earlier role change a scenario starts after, written through the real ports. */
  private async seedEarlierChange(before: NonNullable<Scenario['before']>): Promise<void> {
    const { state, traffic } = this.ports;
    const at = this.t0 - before.secondsAgo * 1000;
    const holder = 'drill-setup';
    const from = this.service.initialPrimary;
    await state.acquireLease({
      serviceId: this.service.id,
      expectedEpoch: 0,
      seedPrimary: from,
      lease: { holder, operation: 'auto-failover', acquiredAt: at, expiresAt: at + 60_000 },
      now: at,
    });
    // An environment may already route to the earlier primary (an endpoint creates it that way).
    if ((await traffic.current(this.service.id)) !== before.primary) {
      const [shift] = await traffic.shift([{ serviceId: this.service.id, from, to: before.primary }]);
      if (shift?.status !== 'shifted') {
        throw new Error(`drill setup: could not move traffic: ${JSON.stringify(shift)}`);
      }
    }
    const history: HistoryEntry = {
      serviceId: this.service.id,
      epoch: 1,
      at,
      operation: 'auto-failover',
      from,
      to: before.primary,
      reason: before.reason,
      lagSeconds: 0,
      actor: holder,
    };
    await state.commit({
      serviceId: this.service.id,
      expectedEpoch: 0,
      holder,
      newPrimary: before.primary,
      at,
      history,
    } satisfies CommitRequest);
  }

  async run(): Promise<void> {
    await this.options.scenario.run(this.driver());
    await this.scheduler.runUntil(this.end);
  }

  // -------------------------------------------------------------------------------------------
  // The world moving
  // -------------------------------------------------------------------------------------------

  private evolve(at: number): void {
    const dt = SAMPLE_MS / 1000;
    const writer = this.nodes.get(this.routedTo);
    for (const node of this.nodes.values()) {
      if (node.id === this.routedTo) {
        node.lag = undefined;
        continue;
      }
      if (!node.up || node.lag === undefined) continue;
      if (!writer?.up) continue; // nothing new arrives: the lag at the crash is what is lost
      if (writer.fenced) {
        const before = node.lag;
        node.lag = Math.max(0, round(node.lag - this.options.model.catchUpRate * dt));
        if (before > 0 && node.lag === 0) {
          this.timeline.add(at, 'world', `${node.id} applied its backlog: lag 0 (${writer.id} is fenced)`);
        }
        continue;
      }
      if (node.ramp) {
        const { from, to, start, end } = node.ramp;
        node.lag = at >= end ? to : round(from + ((to - from) * (at - start)) / (end - start));
        if (at >= end) {
          node.baseLag = to;
          delete node.ramp;
        }
      } else node.lag = node.baseLag;
    }
    this.sample(at);
    this.writers?.check(at);
  }

  /** What the node actions did, for the outcome (undefined: the service has none). */
  nodeActionsOutcome(): NodeActionsOutcome | undefined {
    return this.writers?.outcome();
  }

  private sample(at: number): void {
    const nodes: Record<string, { up: boolean; alarm: string; lag?: number; fenced: boolean }> = {};
    for (const node of this.nodes.values()) {
      nodes[node.id] = {
        up: node.up,
        alarm: this.alarms.get(node.id)?.state.value ?? 'OK',
        ...(node.lag !== undefined && node.up ? { lag: node.lag } : {}),
        fenced: node.fenced,
      };
    }
    this.series.push({
      t: (at - this.t0) / 1000,
      nodes,
      routedTo: this.routedTo,
      clients: this.clientsAt(at),
    });
  }

  private clientsAt(at: number): string {
    const pending = this.dnsChanges.find(
      (c) => c.to === this.routedTo && (c.convergedAt === undefined || c.convergedAt > at),
    );
    return pending ? 'converging' : this.routedTo;
  }

  private async probe(at: number): Promise<void> {
    const { model } = this.options;
    for (const node of this.nodes.values()) {
      const alarm = this.alarms.get(node.id)!;
      alarm.record(at, node.up ? 1 : 0);
    }
    this.scheduler.at(at + model.alarm.evaluationDelayMs, Priority.evaluate, (evalAt) =>
      this.evaluateAlarms(at + model.alarm.periodSeconds * 1000, evalAt),
    );
  }

  private async evaluateAlarms(periodEnd: number, at: number): Promise<void> {
    for (const node of this.nodes.values()) {
      const alarm = this.alarms.get(node.id)!;
      const change = alarm.evaluate(periodEnd, at);
      if (!change) continue;
      await this.options.backend.setAlarmState(
        alarm.name,
        change.current.value,
        change.current.reason,
        change.current.reasonData,
      );
      const breaching = change.current.value === 'ALARM';
      this.timeline.add(
        at,
        'observed',
        `alarm ${alarm.name}: ${change.previous.value} -> ${change.current.value} (${
          breaching
            ? `${this.options.model.alarm.datapointsToAlarm} of ${this.options.model.alarm.evaluationPeriods} health datapoints below 1`
            : 'health datapoint back at 1'
        })`,
      );
      const id = this.uuid('event');
      const event = alarmStateChangeEvent(alarm, change, {
        account: DRILL_ACCOUNT,
        region: DRILL_REGION,
        id,
        metricId: this.uuid('metric'),
        description: `Health of ${this.service.id}/${node.id}`,
      });
      this.publish(event, node.id, at);
    }
  }

  private publishLag(at: number, periodSeconds: number): void {
    for (const config of this.service.nodes) {
      if (config.lag.periodSeconds !== periodSeconds) continue;
      const node = this.nodes.get(config.id)!;
      if (!node.up || !node.publishing || node.lag === undefined) continue;
      const value = node.lag;
      this.lagDatapoints.get(node.id)!.push({ t: (at - this.t0) / 1000, lag: value });
      // The datapoint is stamped when measured and readable once CloudWatch has ingested it.
      this.scheduler.at(at + this.options.model.lagIngestionMs, Priority.probe, () =>
        this.options.backend.putLag(config.lag, value, at),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // EventBridge and the failover Lambda
  // -------------------------------------------------------------------------------------------

  private publish(event: AlarmStateChangeEvent, nodeId: string, at: number): void {
    this.eventsById.set(event.id, event);
    if (!this.options.stack.eventPatterns.some((p) => matchesPattern(p, event))) {
      this.timeline.add(at, 'observed', `event ${short(event.id)} matches no rule: not delivered`);
      return;
    }
    const fault = this.faults.get(nodeId);
    this.faults.delete(nodeId);
    const copies = 1 + (fault?.duplicates ?? 0);
    const deliverAt = at + this.options.model.eventDeliveryMs + (fault?.delayMs ?? 0);
    this.scheduler.at(deliverAt, Priority.deliver, async () => {
      this.deliveredEvents.push(event);
      this.delivered.push({
        eventId: event.id,
        alarmName: event.detail.alarmName,
        nodeId,
        state: event.detail.state.value,
        previousState: event.detail.previousState.value,
      });
      await Promise.all(
        Array.from({ length: copies }, async (_, k) => {
          await this.clock.sleep(k * (fault?.spacingMs ?? 0));
          await this.invoke(event, { attempt: 1, copy: k + 1, requestId: this.uuid('request') });
        }),
      );
    });
  }

  private async invoke(
    event: AlarmStateChangeEvent,
    attempt: { attempt: number; copy: number; requestId: string },
  ): Promise<void> {
    const start = this.clock.now();
    const calls: ObservedCall[] = [];
    const label =
      attempt.copy > 1
        ? ` (duplicate delivery #${attempt.copy})`
        : attempt.attempt > 1
          ? ` (retry ${attempt.attempt - 1})`
          : '';
    this.timeline.add(
      start,
      'observed',
      `event ${short(event.id)} (${event.detail.alarmName} ${event.detail.previousState.value} -> ${
        event.detail.state.value
      }) invokes the failover Lambda${label}`,
    );
    const ports = this.observedPorts((call) => {
      calls.push(call);
      this.narrateCall(call);
    });
    let decided: 'failover' | 'hold' | undefined;
    const logger = this.logger((entry) => {
      if (entry.message === 'failover decision') decided = entry.data?.action as 'failover' | 'hold';
    });
    const actions = this.writers?.port();
    const handler = makeHandler({
      config: this.options.config,
      ...ports,
      ...(actions ? { actions } : {}),
      logger,
      metrics: this.metrics,
      clock: this.clock,
    });
    let result: FailoverHandlerResult | undefined;
    let error: string | undefined;
    try {
      result = await handler(structuredClone(event), { awsRequestId: attempt.requestId });
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const end = this.clock.now();
    const transitionAt = Date.parse(event.detail.state.timestamp.replace('+0000', 'Z'));
    this.invocations.push({
      at: (start - this.t0) / 1000,
      endAt: (end - this.t0) / 1000,
      start,
      end,
      transitionAt,
      eventId: event.id,
      requestId: attempt.requestId,
      alarmName: event.detail.alarmName,
      transition: `${event.detail.previousState.value}->${event.detail.state.value}`,
      attempt: attempt.attempt,
      copy: attempt.copy,
      ...(result ? { result } : {}),
      ...(error ? { error } : {}),
      calls,
    });
    narrateOutcome(this.narration, start, end, result, error, decided);
    if (error !== undefined) {
      const delay = this.options.model.asyncRetryDelaysMs[attempt.attempt - 1];
      if (attempt.attempt <= this.options.stack.asyncRetryAttempts && delay !== undefined) {
        this.timeline.add(end, 'observed', `Lambda retries the invocation in ${delay / 1000} s`);
        this.scheduler.at(end + delay, Priority.deliver, () =>
          this.invoke(event, { ...attempt, attempt: attempt.attempt + 1 }),
        );
      } else {
        this.timeline.add(end, 'observed', 'retries exhausted: the event goes to the dead-letter queue');
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Ports: modelled latency, then observation
  // -------------------------------------------------------------------------------------------

  private latency(port: string, call: CallInfo): number {
    if (!this.clock.simulated) return 0;
    const { model } = this.options;
    if (port === 'traffic' && call.method === 'shift') {
      const changes = call.args[0] as readonly TrafficChange[];
      const types = changes.map((c) => findService(this.options.config, c.serviceId)?.router.type);
      return types.includes('route53') ? model.shiftLatencyMs.route53 : model.shiftLatencyMs.elb;
    }
    return model.latencyMs[port]?.[call.method] ?? 0;
  }

  private observedPorts(sink: (call: ObservedCall) => void): DrillPorts {
    const wrap = <T extends object>(port: T, name: string): T =>
      observe(
        instrument(port, name, { sleep: this.clock.sleep, latencyMs: (call) => this.latency(name, call) }),
        name,
        this.clock,
        sink,
      );
    const p = this.ports;
    return {
      alarms: wrap(p.alarms, 'alarms'),
      lag: wrap(p.lag, 'lag'),
      state: wrap(p.state, 'state'),
      traffic: wrap(p.traffic, 'traffic'),
      notifier: wrap(p.notifier, 'notifier'),
      changes: wrap(p.changes, 'changes'),
    };
  }

  private logger(onEntry?: (entry: { message: string; data?: Record<string, unknown> }) => void): Logger {
    const push = (level: string) => (message: string, data?: Record<string, unknown>) => {
      this.logs.push({ at: this.clock.now(), level, message, ...(data ? { data } : {}) });
      onEntry?.({ message, ...(data ? { data } : {}) });
      if (message === 'failover decision' && data?.serviceId === this.service.id)
        narrateDecision(this.narration, this.clock.now(), data);
    };
    return { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
  }

  private narrateCall(call: ObservedCall): void {
    const at = call.end;
    if (call.port === 'traffic' && call.method === 'shift' && call.result) {
      const changes = call.args[0] as readonly TrafficChange[];
      (call.result as readonly TrafficShiftResult[]).forEach((r, i) => {
        const change = changes[i];
        if (!change || r.serviceId !== this.service.id) return;
        if (r.status === 'shifted') {
          const moved = this.routedTo !== change.to;
          this.routedTo = change.to;
          if (!moved) {
            this.timeline.add(at, 'observed', `traffic already on ${change.to} (an earlier attempt applied)`);
            return;
          }
          this.trafficChanges.push({
            at: (at - this.t0) / 1000,
            start: call.start,
            end: call.end,
            from: change.from,
            to: change.to,
          });
          this.timeline.add(
            at,
            'changed',
            `traffic ${change.from} -> ${change.to}: ${shiftText(this.service, change)}`,
          );
          if (r.changeId !== undefined)
            this.trackDns({ changeId: r.changeId, from: change.from, to: change.to, shiftEnd: at });
        } else if (r.status === 'conflict') {
          if (r.observed !== undefined) this.routedTo = r.observed;
          this.timeline.add(at, 'observed', `compare-and-swap refused: ${r.message}`);
        } else {
          this.timeline.add(at, 'observed', `traffic shift failed: ${r.errorName}: ${r.message}`);
        }
      });
      return;
    }
    if (call.port === 'state') {
      const req = call.args[0] as { serviceId?: string } | string;
      const serviceId = typeof req === 'string' ? req : req?.serviceId;
      if (serviceId !== this.service.id) return;
      if (call.method === 'acquireLease') {
        const r = req as { expectedEpoch: number; lease: { holder: string; operation: string } };
        if (call.error === undefined) {
          this.timeline.add(
            at,
            'changed',
            `lease taken at epoch ${r.expectedEpoch} by ${r.lease.operation} ${holderText(r.lease.holder)}`,
          );
        } else if (call.error instanceof LeaseConflictError) {
          this.timeline.add(at, 'observed', `lease refused by the conditional write: ${call.error.message}`);
        }
      } else if (call.method === 'commit' && call.error === undefined) {
        const r = call.args[0] as CommitRequest;
        this.commits.push(r);
        this.timeline.add(
          at,
          'changed',
          `epoch ${r.expectedEpoch} -> ${r.expectedEpoch + 1}: ${r.newPrimary} recorded as primary, history written (lag at promotion ${
            r.history.lagSeconds === undefined ? 'unknown' : `${r.history.lagSeconds} s`
          }${r.history.forced ? ', forced' : ''})`,
        );
      } else if (call.method === 'setPaused' && call.error === undefined) {
        this.timeline.add(at, 'changed', `automatic failover ${call.args[1] ? 'paused' : 'resumed'}`);
      }
      return;
    }
    if (call.port === 'notifier' && call.method === 'publish' && call.error === undefined) {
      const n = call.args[0] as Notification;
      if (n.serviceId !== this.service.id) return;
      this.notifications.push({ at: (at - this.t0) / 1000, notification: n });
      this.timeline.add(at, 'announced', `SNS ${n.kind}: "${n.subject}"`);
    }
  }

  /** Route 53: poll GetChange each second until INSYNC, then wait out the TTL for the clients. */
  private trackDns(change: DnsChange): void {
    this.dnsChanges.push(change);
    const r = this.service.router;
    const ttlMs = r.type === 'route53' ? r.ttlSeconds * 1000 : 0;
    const poll = async (at: number) => {
      const status = await this.ports.changes.changeStatus(change.changeId);
      if (status !== 'INSYNC') {
        this.scheduler.at(at + 1000, Priority.world, poll);
        return;
      }
      change.insyncAt = at;
      this.timeline.add(
        at,
        'observed',
        `Route 53 change ${change.changeId} INSYNC: every name server answers ${change.to}`,
      );
      this.scheduler.at(at + ttlMs, Priority.world, (convergedAt) => {
        change.convergedAt = convergedAt;
        this.timeline.add(
          convergedAt,
          'observed',
          `TTL ${ttlMs / 1000} s passed: every client's cached answer now points at ${change.to}`,
        );
      });
    };
    this.scheduler.at(change.shiftEnd + 1000, Priority.world, poll);
  }

  // -------------------------------------------------------------------------------------------
  // The workflow and its hooks
  // -------------------------------------------------------------------------------------------

  private workflowDeps(): WorkflowDeps {
    const ports = this.observedPorts((call) => this.narrateCall(call));
    return {
      config: this.options.config,
      ...ports,
      logger: this.logger(),
      metrics: this.metrics,
      clock: this.clock,
    };
  }

  async startWorkflow(request: Omit<WorkflowRequestInput, 'serviceId'>): Promise<ExecutionSummary> {
    const input: WorkflowRequestInput = { serviceId: this.service.id, ...request };
    const start = this.clock.now();
    this.timeline.add(
      start,
      'operator',
      `operator starts the workflow: ${input.mode}${input.to ? ` to ${input.to}` : ''}${input.force ? ' with force' : ''} ("${input.reason}")`,
    );
    this.markers.push({
      t: (start - this.t0) / 1000,
      kind: 'workflow',
      label: `operator: ${input.mode}${input.force ? ' (force)' : ''}`,
    });
    const result = await this.workflow.run(input);
    const summary: ExecutionSummary = {
      name: result.name,
      request: input,
      at: (result.start - this.t0) / 1000,
      endAt: (result.end - this.t0) / 1000,
      status: result.status,
      ...(result.status === 'SUCCEEDED'
        ? { output: result.output }
        : { error: result.error, cause: result.cause }),
      steps: result.steps.map((s) => ({
        step: s.step,
        at: (s.start - this.t0) / 1000,
        endAt: (s.end - this.t0) / 1000,
        ok: s.error === undefined,
        ...(s.error ? { detail: `${s.error.name}: ${errorText(s.error.message)}` } : {}),
      })),
    };
    this.executions.push(summary);
    this.timeline.add(
      result.end,
      'decided',
      result.status === 'SUCCEEDED'
        ? `workflow ${result.name} SUCCEEDED: ${describeOutput(result.output)}`
        : `workflow ${result.name} FAILED with ${result.error}: ${result.cause}`,
    );
    this.markers.push({
      t: (result.end - this.t0) / 1000,
      kind: 'workflow',
      label:
        result.status === 'SUCCEEDED'
          ? `workflow done: ${String(result.output?.outcome)}`
          : `workflow failed: ${result.error}`,
    });
    return summary;
  }

  // -------------------------------------------------------------------------------------------
  // The driver scenario scripts use
  // -------------------------------------------------------------------------------------------

  driver(): Driver {
    const node = (id: string): NodeSim => {
      const n = this.nodes.get(id);
      if (!n) throw new Error(`scenario ${this.options.scenario.name}: no node ${id}`);
      return n;
    };
    const now = () => this.clock.now();
    return {
      serviceId: this.service.id,
      at: (seconds) => this.scheduler.runUntil(this.t0 + seconds * 1000),
      crash: (id, options) => {
        const n = node(id);
        n.up = false;
        if (this.actions && !options?.actionsReach) this.actions.setUp(this.service.id, id, false);
        this.crashes.push({ nodeId: id, at: now() });
        this.timeline.add(now(), 'world', `${id} crashes: health probes fail, no writes, no lag datapoints`);
        this.markers.push({ t: (now() - this.t0) / 1000, kind: 'fault', label: `${id} crashes` });
      },
      recover: (id, options) => {
        const n = node(id);
        n.up = true;
        n.fenced = this.actions?.node(this.service.id, id).fenced ?? false;
        this.actions?.setUp(this.service.id, id, true);
        if (id !== this.routedTo) {
          n.baseLag = options?.lagSeconds ?? n.baseLag;
          n.lag = n.baseLag;
        }
        this.timeline.add(
          now(),
          'world',
          `${id} is back${id === this.routedTo ? '' : ` as a replica of ${this.routedTo}, ${n.lag} s behind`}`,
        );
      },
      setLag: (id, lagSeconds, options) => {
        const n = node(id);
        if (options?.overSeconds) {
          n.ramp = {
            from: n.lag ?? n.baseLag,
            to: lagSeconds,
            start: now(),
            end: now() + options.overSeconds * 1000,
          };
          this.timeline.add(
            now(),
            'world',
            `${id}'s replication falls behind: lag heading for ${lagSeconds} s over ${options.overSeconds} s`,
          );
        } else {
          n.baseLag = lagSeconds;
          n.lag = lagSeconds;
          this.timeline.add(now(), 'world', `${id}'s lag is ${lagSeconds} s`);
        }
      },
      stopLagPublisher: (id) => {
        node(id).publishing = false;
        this.timeline.add(now(), 'world', `${id}'s lag publisher stops`);
      },
      scriptAction: (id, role, answer) => {
        node(id);
        if (!this.actions)
          throw new Error(`scenario ${this.options.scenario.name}: its service has no node actions`);
        this.actions.script(this.service.id, id, role, answer);
      },
      note: (text) => this.timeline.add(now(), 'world', text),
      nextEvent: (id, fault) => {
        node(id);
        this.faults.set(id, fault);
      },
      redeliver: async (eventId) => {
        const event = this.eventsById.get(eventId);
        if (!event) throw new Error(`no event ${eventId}`);
        this.timeline.add(now(), 'world', `EventBridge delivers event ${short(eventId)} again, late`);
        await this.invoke(event, { attempt: 1, copy: 1, requestId: this.uuid('request') });
      },
      events: this.delivered,
      startWorkflow: (request) => this.startWorkflow(request),
    };
  }

  /** A deterministic UUID-shaped id: the same scenario always produces the same ids. */
  private uuid(kind: string): string {
    const h = createHash('sha256')
      .update(`${this.options.scenario.name}:${kind}:${this.ids++}`)
      .digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** How long each simulated node action takes. */
const ACTION_MS = 1000;
