/**
 * The game day's automation comes out of a real `cdk synth` of the CDK app (bin/app.ts, with
 * bundling by the local esbuild, as `cdk deploy` does): the failover and workflow step Lambdas are the
 * bundled `index.mjs` + `config.json` asset directories of the cloud assembly, the alarms and the
 * EventBridge rule patterns are read from the synthesized templates (nested health stacks
 * included), and the state machine is the synthesized definition.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { registerCleanup } from '../../test/support/realdb/process.ts';
import { resolveTokens } from '../sim/state-machine.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is walked structurally
type Json = any;

/** One CloudWatch alarm as the template declares it (single-metric alarms only). */
export interface AlarmDefinition {
  readonly alarmName: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: string;
  readonly treatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
}

/** An EventBridge schedule rule's target. */
export interface Schedule {
  readonly functionId: string;
  readonly everySeconds: number;
  readonly input: Json;
}

/** A synthesized Lambda: its bundled asset directory and its environment as declared. */
export interface SynthesizedFunction {
  readonly logicalId: string;
  readonly assetDir: string;
  /** Environment variables; references to other resources are left as `{ Ref: id }` for the harness to bind. */
  readonly environment: Readonly<Record<string, Json>>;
}

export interface Synthesized {
  readonly outdir: string;
  readonly template: Json;
  readonly failover: SynthesizedFunction;
  readonly step: SynthesizedFunction;
  /** Every alarm of the stack and its nested stacks, by name. */
  readonly alarms: ReadonlyMap<string, AlarmDefinition>;
  /** The event patterns of the rules that target the failover function. */
  readonly failoverRulePatterns: readonly Json[];
  /** The state machine definition, tokens resolved to placeholder ARNs. */
  readonly stateMachine: { readonly definition: Json; readonly stepFunctionArn: string };
  /** Every DynamoDB table by logical id, its properties as declared (the harness creates them so). */
  readonly tables: Readonly<Record<string, Json>>;
  /** Every SQS queue's logical id. */
  readonly queues: readonly string[];
  /** Every Lambda function of the stack by logical id (the probe, the zone shifter, ...). */
  readonly functions: Readonly<Record<string, SynthesizedFunction>>;
  /** Scheduled rules (`rate(...)`) and the function each one invokes, with its input. */
  readonly schedules: readonly Schedule[];
  readonly synthMs: number;
  /** Removes the cloud assembly. */
  dispose(): void;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
const CDK = join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk');

/**
 * `cdk synth -c config=<file> -o <dir>` with the project's pinned CDK CLI, in a child process (the
 * game day's probe keeps publishing meanwhile), then the cloud assembly read back.
 */
export async function synthesize(config: FailoverConfig): Promise<Synthesized> {
  const started = performance.now();
  const outdir = mkdtempSync(join(tmpdir(), 'failover-gameday-cdk-'));
  const configFile = join(outdir, 'gameday-config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const assembly = join(outdir, 'cdk.out');
  // Removed at the end, and also on exit or Ctrl-C (the realdb cleanup registry runs on signals).
  const unregister = registerCleanup(() => rmSync(outdir, { recursive: true, force: true }));
  const dispose = () => {
    rmSync(outdir, { recursive: true, force: true });
    unregister();
  };
  try {
    // Environment-agnostic, as `cdk synth` runs without credentials: account and region stay
    // CloudFormation pseudo parameters, resolved here as a deployment to moto's would resolve them.
    await run(CDK, ['synth', '--quiet', '--no-notices', '-c', `config=${configFile}`, '-o', assembly]);
    return { ...readAssembly(assembly), outdir, synthMs: performance.now() - started, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (c: Buffer) => {
      output = (output + c.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const stop = () => child.kill('SIGTERM');
    const unregister = registerCleanup(stop);
    child.once('error', (err) => {
      unregister();
      reject(new Error(`${command} could not be started: ${err.message}`, { cause: err }));
    });
    child.once('close', (code) => {
      unregister();
      if (code === 0) resolvePromise();
      else reject(new Error(`cdk synth failed (exit ${code}):\n${output}`));
    });
  });
}

type Assembly = Omit<Synthesized, 'outdir' | 'synthMs' | 'dispose'>;

/** The stack's template, its nested templates, and the asset directories of a cloud assembly. */
export function readAssembly(assembly: string): Assembly {
  const manifest = JSON.parse(readFileSync(join(assembly, 'manifest.json'), 'utf8'));
  const stacks = Object.values(manifest.artifacts as Record<string, Json>).filter(
    (a) => a.type === 'aws:cloudformation:stack',
  );
  if (stacks.length !== 1)
    throw new Error(`expected one stack in the cloud assembly, found ${stacks.length}`);
  const template = JSON.parse(readFileSync(join(assembly, stacks[0].properties.templateFile), 'utf8'));
  const resources = template.Resources as Record<string, Json>;

  const fn = (logicalId: string): SynthesizedFunction => {
    const r = resources[logicalId];
    if (r?.Type !== 'AWS::Lambda::Function')
      throw new Error(`no Lambda function ${logicalId} in the template`);
    const hash = String(r.Properties.Code?.S3Key).replace(/\.zip$/, '');
    return {
      logicalId,
      assetDir: join(assembly, `asset.${hash}`),
      environment: r.Properties.Environment?.Variables ?? {},
    };
  };

  const alarms = new Map<string, AlarmDefinition>();
  for (const file of readdirSync(assembly).filter((f) => f.endsWith('.template.json'))) {
    const t = JSON.parse(readFileSync(join(assembly, file), 'utf8'));
    for (const r of Object.values((t.Resources ?? {}) as Record<string, Json>)) {
      if (r.Type !== 'AWS::CloudWatch::Alarm') continue;
      const alarm = alarmDefinition(r.Properties);
      if (alarm) alarms.set(alarm.alarmName, alarm);
    }
  }

  // The failover function is what the alarm rules target.
  const rules = Object.values(resources).filter(
    (r: Json) =>
      r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.source?.includes('aws.cloudwatch'),
  );
  const targets = new Set(
    rules.flatMap((r: Json) => (r.Properties.Targets ?? []).map((t: Json) => t.Arn?.['Fn::GetAtt']?.[0])),
  );
  if (targets.size !== 1)
    throw new Error(`expected the alarm rules to target one function, found ${[...targets].join(', ')}`);
  const failoverId = [...targets][0] as string;

  const machines = Object.values(resources).filter(
    (r: Json) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definitionString = (machines[0] as Json).Properties.DefinitionString;
  const definition = JSON.parse(resolveTokens(definitionString));
  // The step Lambda is what the step Tasks name as their Resource (the node-action function and
  // the hooks go through `lambda:invoke` with a FunctionName instead).
  const stepArns = new Set(
    Object.values(definition.States as Record<string, Json>)
      .filter((st) => st.Type === 'Task' && String(st.Resource).startsWith('arn:aws:lambda:'))
      .map((st) => st.Resource as string),
  );
  if (stepArns.size !== 1)
    throw new Error(`expected one step Lambda in the state machine, found ${stepArns.size}`);
  const stepFunctionArn = [...stepArns][0] as string;
  const stepId = stepFunctionArn.split(':').at(-1) as string;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const functions = Object.fromEntries(ofType('AWS::Lambda::Function').map(([id]) => [id, fn(id)]));
  const schedules: Schedule[] = ofType('AWS::Events::Rule').flatMap(([, r]) => {
    const every = rateSeconds(r.Properties.ScheduleExpression);
    if (every === undefined || r.Properties.State === 'DISABLED') return [];
    return (r.Properties.Targets ?? []).flatMap((t: Json) => {
      const id = t.Arn?.['Fn::GetAtt']?.[0];
      return functions[id]
        ? [{ functionId: id, everySeconds: every, input: t.Input ? JSON.parse(t.Input) : {} }]
        : [];
    });
  });

  return {
    template,
    failover: fn(failoverId),
    step: fn(stepId),
    alarms,
    failoverRulePatterns: rules.map((r: Json) => resolvePseudo(r.Properties.EventPattern)),
    stateMachine: { definition, stepFunctionArn },
    tables: Object.fromEntries(ofType('AWS::DynamoDB::Table').map(([id, r]) => [id, r.Properties])),
    queues: ofType('AWS::SQS::Queue').map(([id]) => id),
    functions,
    schedules,
  };
}

/** `{ Ref: 'AWS::AccountId' }` and `{ Ref: 'AWS::Region' }` as CloudFormation resolves them in moto's account. */
function resolvePseudo(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolvePseudo);
  if (value && typeof value === 'object') {
    if (value.Ref === 'AWS::AccountId') return ACCOUNT;
    if (value.Ref === 'AWS::Region') return REGION;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolvePseudo(v)]));
  }
  return value;
}

/** `rate(1 minute)` -> 60; undefined for anything else (cron expressions are not run here). */
function rateSeconds(expression: unknown): number | undefined {
  const m =
    typeof expression === 'string' ? /^rate\((\d+) (second|minute|hour|day)s?\)$/.exec(expression) : null;
  if (!m) return undefined;
  const unit = { second: 1, minute: 60, hour: 3600, day: 86400 }[m[2] as 'second'];
  return Number(m[1]) * unit;
}

/** A single-metric alarm's evaluation settings; undefined for what this harness cannot evaluate. */
function alarmDefinition(p: Json): AlarmDefinition | undefined {
  if (typeof p.AlarmName !== 'string' || typeof p.MetricName !== 'string') return undefined;
  if (typeof p.Namespace !== 'string' || p.Dimensions?.some((d: Json) => typeof d.Value !== 'string')) {
    return undefined;
  }
  return {
    alarmName: p.AlarmName,
    namespace: p.Namespace,
    metricName: p.MetricName,
    dimensions: Object.fromEntries((p.Dimensions ?? []).map((d: Json) => [d.Name, d.Value])),
    statistic: p.Statistic ?? p.ExtendedStatistic,
    periodSeconds: p.Period,
    evaluationPeriods: p.EvaluationPeriods,
    datapointsToAlarm: p.DatapointsToAlarm ?? p.EvaluationPeriods,
    threshold: p.Threshold,
    comparison: p.ComparisonOperator,
    treatMissingData: p.TreatMissingData ?? 'missing',
  };
}
