/**
 * Runs game day scenarios in one world (harness.ts): each on its own service, one after the other,
 * scenarios that share a service in the order given (primary-returns continues from primary-crash).
 */
import { type GameDayWorld, type ProbeFactory, startGameDay } from './harness.ts';
import { type GameDayScenario, type GameDayScenarioResult, ScenarioRun } from './scenario.ts';

export interface GameDayReport {
  readonly generatedAt: string;
  readonly passed: boolean;
  readonly wallMs: number;
  readonly synthMs: number;
  /** How the world was built, in words, for the report. */
  readonly setup: Readonly<Record<string, string>>;
  readonly scenarios: readonly GameDayScenarioResult[];
}

export interface RunGameDayOptions {
  readonly scenarios: readonly GameDayScenario[];
  /** The probe to run when the stack schedules none of its own. @default none: refuse */
  readonly probe?: ProbeFactory;
  /** Timeline lines as they happen. */
  readonly print?: (line: string) => void;
  /** Progress of the setup. */
  readonly log?: (line: string) => void;
  readonly color?: boolean;
  /** Called with the world once it runs (tests, Ctrl-C handling). */
  readonly onWorld?: (world: GameDayWorld) => void;
}

export async function runGameDay(options: RunGameDayOptions): Promise<GameDayReport> {
  const started = Date.now();
  const serviceIds = [...new Set(options.scenarios.map((s) => s.serviceId))];
  const world = await startGameDay({
    serviceIds,
    ...(options.probe ? { probe: options.probe } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  options.onWorld?.(world);
  const results: GameDayScenarioResult[] = [];
  try {
    for (const scenario of options.scenarios) {
      options.print?.(`\n${scenario.name}: ${scenario.title}`);
      const s = new ScenarioRun(world, scenario.serviceId, options.print, options.color ?? false);
      let error: string | undefined;
      try {
        await scenario.run(s);
      } catch (err) {
        error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        s.check('scenario ran to the end', false, error.split('\n')[0] ?? error);
      } finally {
        await s.end();
      }
      results.push({
        name: scenario.name,
        title: scenario.title,
        summary: scenario.summary,
        serviceId: scenario.serviceId,
        passed: error === undefined && s.checks.length > 0 && s.checks.every((c) => c.ok),
        checks: s.checks,
        figures: s.figures,
        timeline: s.timeline.sorted(),
        markers: s.markers,
        series: s.series(),
        durationSeconds: Math.round(s.t()),
        lostIds: s.lostIds,
        ...(error ? { error } : {}),
      });
    }
  } finally {
    await world.stop();
  }
  return {
    generatedAt: new Date().toISOString(),
    passed: results.every((r) => r.passed),
    wallMs: Date.now() - started,
    synthMs: Math.round(world.synthesized.synthMs),
    setup: {
      databases:
        'PostgreSQL 15 primary + streaming replica per scenario (initdb, pg_basebackup -R), 127.0.0.1, own ports',
      aws: `moto_server at ${world.moto.endpoint}: Route 53, CloudWatch, DynamoDB, SNS, SQS`,
      automation:
        'stack synthesized with bundling; bundled failover Lambda and workflow step Lambda in their own execution environments (worker threads); synthesized alarms evaluated over the probe datapoints in moto; EventBridge delivery through the synthesized rule patterns; synthesized state machine under aws-local-stepfunctions',
      client:
        'one transaction per row, 50 rows/s, follows the Route 53 CNAME (TTL honoured), reconnects on failure',
    },
    scenarios: results,
  };
}
