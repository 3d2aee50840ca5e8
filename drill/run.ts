/**
 * Runs drill scenarios: builds one configuration holding every selected scenario's service (a
 * small fleet, validated by the real schema), synthesizes the stack for it once, then runs each
 * scenario in a fresh world on its own clock and collects its outcome.
 */
import { type FailoverConfig, parseConfig } from '../lambdas/domain/config.ts';
import { measureRecovery } from './measure.ts';
import type { Scenario, ScenarioOutcome, ScenarioResources } from './scenario.ts';
import type { Backend } from './sim/backend.ts';
import { simulatedBackend } from './sim/backend.ts';
import { VirtualClock } from './sim/clock.ts';
import { DEFAULT_MODEL, describeModel, type SimModel } from './sim/model.ts';
import { type SynthesizedStack, synthesizeStack } from './sim/stack.ts';
import { World } from './sim/world.ts';
import { Timeline } from './timeline.ts';

/** t=0 of every simulated scenario: a fixed instant, so every run prints the same timeline. */
export const SIMULATED_START = Date.UTC(2025, 5, 2, 9, 0, 0);

/** The resources of the simulation: one hosted zone, one ALB listener with a target group per node. */
export function simulatedResources(scenario: Scenario): ScenarioResources {
  const nodes = Object.keys(scenario.nodes);
  return {
    hostedZoneId: 'Z0DRILLEXAMPLE',
    zoneName: 'example.com',
    elb: {
      listenerArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/${scenario.serviceId}/0123456789abcdef/fedcba9876543210`,
      targetGroupArns: Object.fromEntries(
        nodes.map((id, i) => [
          id,
          `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${id}/${String(i + 1).padStart(16, 'a')}`,
        ]),
      ),
    },
  };
}

/** Where scenarios run: the simulation, or real AWS APIs at an endpoint (see aws-backend.ts). */
export interface Environment {
  readonly kind: 'simulated' | 'endpoint';
  readonly endpoint?: string;
  resources(scenarios: readonly Scenario[]): Promise<ReadonlyMap<string, ScenarioResources>>;
  /** The validated configuration adjusted to the environment (e.g. moto's hosted zone ids). */
  adjust(config: FailoverConfig, resources: ReadonlyMap<string, ScenarioResources>): FailoverConfig;
  backend(
    config: FailoverConfig,
    scenario: Scenario,
    model: SimModel,
  ): Promise<{ backend: Backend; start: number }>;
  close(): Promise<void>;
}

export function simulatedEnvironment(): Environment {
  return {
    kind: 'simulated',
    async resources(scenarios) {
      return new Map(scenarios.map((s) => [s.name, simulatedResources(s)]));
    },
    adjust: (config) => config,
    async backend(config, _scenario, model) {
      const clock = new VirtualClock(SIMULATED_START);
      return { backend: simulatedBackend(config, clock, model.route53PropagationMs), start: SIMULATED_START };
    },
    async close() {},
  };
}

export interface DrillOptions {
  readonly scenarios: readonly Scenario[];
  /** @default the simulation */
  readonly environment?: Environment;
  readonly model?: SimModel;
  /** Where timeline lines go as they happen. @default nowhere */
  readonly print?: (line: string) => void;
  readonly color?: boolean;
}

export interface DrillReport {
  readonly generatedAt: string;
  readonly mode: 'simulated' | 'endpoint';
  readonly endpoint?: string;
  /** The simulation's assumptions (latencies, alarm tuning, DNS). */
  readonly model: Record<string, string>;
  readonly config: FailoverConfig;
  readonly synthMs: number;
  readonly wallMs: number;
  readonly scenarios: readonly ScenarioOutcome[];
  readonly passed: boolean;
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const started = performance.now();
  const environment = options.environment ?? simulatedEnvironment();
  const model = options.model ?? DEFAULT_MODEL;
  const print = options.print ?? (() => {});
  const color = options.color ?? false;
  try {
    const resources = await environment.resources(options.scenarios);
    const validated = parseConfig({
      stackName: 'FailoverDrill',
      services: options.scenarios.map((s) => s.service(resources.get(s.name)!)),
    });
    print(
      `synthesizing the stack for ${validated.services.length} service(s) (the state machine and the EventBridge rules run as deployed)...`,
    );
    // The stack validates the configuration again, so it gets the validated one; the handlers get
    // it adjusted to the environment (an endpoint's own resource ids).
    const stack = synthesizeStack(validated);
    const config = environment.adjust(validated, resources);
    print(`synthesized in ${(stack.synthMs / 1000).toFixed(1)} s`);
    const outcomes: ScenarioOutcome[] = [];
    for (const scenario of options.scenarios) {
      outcomes.push(await runScenario({ scenario, config, stack, environment, model, print, color }));
    }
    return {
      generatedAt: new Date().toISOString(),
      mode: environment.kind,
      ...(environment.endpoint ? { endpoint: environment.endpoint } : {}),
      model: environment.kind === 'simulated' ? describeModel(model) : endpointModel(model),
      config,
      synthMs: Math.round(stack.synthMs),
      wallMs: Math.round(performance.now() - started),
      scenarios: outcomes,
      passed: outcomes.every((o) => o.passed),
    };
  } finally {
    await environment.close();
  }
}

function endpointModel(model: SimModel): Record<string, string> {
  const all = describeModel(model);
  return {
    'health alarm': all['health alarm'] ?? '',
    'event delivery': `${model.eventDeliveryMs} ms from the alarm state change to the failover Lambda (invoked in-process)`,
    'API latency': 'measured: real calls to the endpoint',
    'lag metric': all['lag metric'] ?? '',
  };
}

interface ScenarioRunOptions {
  readonly scenario: Scenario;
  readonly config: FailoverConfig;
  readonly stack: SynthesizedStack;
  readonly environment: Environment;
  readonly model: SimModel;
  readonly print: (line: string) => void;
  readonly color: boolean;
}

export async function runScenario(options: ScenarioRunOptions): Promise<ScenarioOutcome> {
  const { scenario, config, stack, environment, model, print, color } = options;
  const wallStart = performance.now();
  const { backend, start } = await environment.backend(config, scenario, model);
  try {
    print('');
    print(`${color ? '\x1b[1m' : ''}== ${scenario.name}: ${scenario.title}${color ? '\x1b[0m' : ''}`);
    print(`   ${scenario.summary}`);
    const timeline = new Timeline(start, print, color);
    const world = new World({ scenario, config, backend, stack, model, timeline, start });
    await world.prepare();
    await world.run();

    const { state, traffic } = backend.ports;
    const stored = await state.get(world.service.id);
    const outcome = {
      name: scenario.name,
      title: scenario.title,
      summary: scenario.summary,
      serviceId: world.service.id,
      nodes: world.service.nodes.map((n) => n.id),
      router: {
        type: world.service.router.type,
        ...(world.service.router.type === 'route53'
          ? { ttlSeconds: world.service.router.ttlSeconds, record: world.service.router.recordName }
          : {}),
      },
      maxLagSeconds: world.service.policy.maxLagSeconds,
      cooldownSeconds: world.service.policy.cooldownSeconds,
      durationSeconds: scenario.durationSeconds,
      ...(stored ? { state: stored } : {}),
      primary: stored?.primary ?? world.service.initialPrimary,
      epoch: stored?.epoch ?? 0,
      traffic: await traffic.current(world.service.id),
      history: [...(await state.history(world.service.id, 50))],
      // In the order they started (concurrent duplicates finish out of order).
      invocations: [...world.invocations]
        .sort((a, b) => a.start - b.start)
        .map(({ start: _s, end: _e, transitionAt: _t, calls: _c, ...summary }) => summary),
      executions: world.executions,
      notifications: world.notifications.map((n) => ({
        at: n.at,
        kind: n.notification.kind,
        subject: n.notification.subject,
      })),
      trafficChanges: world.trafficChanges.map(({ at, from, to }) => ({ at, from, to })),
      events: world.deliveredEvents,
      ...(() => {
        const recovery = measureRecovery(world);
        return recovery ? { recovery } : {};
      })(),
      ...(() => {
        const nodeActions = world.nodeActionsOutcome();
        return nodeActions ? { nodeActions } : {};
      })(),
      // What happened so far (the checks read it); the final timeline adds their verdicts.
      timeline: timeline.sorted(),
      series: world.series,
      lagDatapoints: Object.fromEntries(world.lagDatapoints),
      markers: world.markers,
      checks: [] as ScenarioOutcome['checks'],
      passed: false,
      wallMs: 0,
    } satisfies ScenarioOutcome;
    const checks = scenario.checks(outcome);
    for (const c of checks) {
      timeline.add(backend.clock.now(), 'check', `${c.ok ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`);
    }
    const final: ScenarioOutcome = {
      ...outcome,
      timeline: timeline.sorted(),
      checks,
      passed: checks.every((c) => c.ok),
      wallMs: Math.round(performance.now() - wallStart),
    };
    for (const line of summaryLines(final)) print(line);
    return final;
  } finally {
    await backend.close();
  }
}

/** RTO split and RPO bound, as printed after each scenario. */
export function summaryLines(o: ScenarioOutcome): string[] {
  const lines: string[] = [];
  const r = o.recovery;
  if (r) {
    lines.push(
      `   RTO ${(r.totalMs / 1000).toFixed(1)} s from the ${r.from} to every client on the new primary: ${r.phases
        .map((p) => `${p.name} ${(p.ms / 1000).toFixed(p.ms < 10_000 ? 2 : 1)} s`)
        .join(' + ')}`,
    );
    lines.push(`   RPO bound ${r.rpoSeconds === undefined ? 'unknown' : `${r.rpoSeconds} s`}: ${r.rpoNote}`);
  } else {
    lines.push('   no role change: nothing to recover to (see the holds above)');
  }
  lines.push(
    `   ${o.passed ? 'PASSED' : 'FAILED'} ${o.checks.filter((c) => c.ok).length}/${o.checks.length} checks, ${o.durationSeconds} simulated s in ${(o.wallMs / 1000).toFixed(1)} s`,
  );
  return lines;
}

/** The outcome of scenario `name` in `report`; throws when that scenario did not run. */
export function outcomeOf(report: DrillReport, name: string): ScenarioOutcome {
  const o = report.scenarios.find((s) => s.name === name);
  if (!o) throw new Error(`scenario ${name} did not run`);
  return o;
}
