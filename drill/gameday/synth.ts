/**
 * The game day's automation comes out of a real synthesis of the CDK app, with bundling (the local
 * esbuild, as `cdk synth` and `cdk deploy` do): the failover and workflow step Lambdas are the
 * bundled `index.mjs` + `config.json` asset directories of the cloud assembly, the alarms and the
 * EventBridge rule patterns are read from the synthesized templates (nested health stacks
 * included), and the state machine is the synthesized definition.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';
import { resolveTokens } from '../../test/workflow/harness.ts';

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
  /** The state table's key schema (the harness creates the table exactly so). */
  readonly table: Json;
  readonly synthMs: number;
  /** Removes the cloud assembly. */
  dispose(): void;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export function synthesize(config: FailoverConfig): Synthesized {
  const started = performance.now();
  const outdir = mkdtempSync(join(tmpdir(), 'failover-gameday-cdk-'));
  const app = new App({ outdir });
  const stack = new FailoverStack(app, 'GameDay', { config, env: { account: ACCOUNT, region: REGION } });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Json;
  const resources = template.Resources as Record<string, Json>;

  const fn = (logicalId: string): SynthesizedFunction => {
    const r = resources[logicalId];
    if (r?.Type !== 'AWS::Lambda::Function') throw new Error(`no Lambda function ${logicalId} in the template`);
    const hash = String(r.Properties.Code?.S3Key).replace(/\.zip$/, '');
    return {
      logicalId,
      assetDir: join(outdir, `asset.${hash}`),
      environment: r.Properties.Environment?.Variables ?? {},
    };
  };
  const failoverId = stack.getLogicalId(stack.automation.failoverFunction.node.defaultChild as CfnFunction);
  const stepId = stack.getLogicalId(stack.workflow.stepFunction.node.defaultChild as CfnFunction);

  const alarms = new Map<string, AlarmDefinition>();
  for (const file of readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
    const t = JSON.parse(readFileSync(join(outdir, file), 'utf8'));
    for (const r of Object.values((t.Resources ?? {}) as Record<string, Json>)) {
      if (r.Type !== 'AWS::CloudWatch::Alarm') continue;
      const alarm = alarmDefinition(r.Properties);
      if (alarm) alarms.set(alarm.alarmName, alarm);
    }
  }

  const failoverRulePatterns = Object.values(resources)
    .filter(
      (r: Json) =>
        r.Type === 'AWS::Events::Rule' &&
        (r.Properties.Targets ?? []).some((t: Json) => t.Arn?.['Fn::GetAtt']?.[0] === failoverId),
    )
    .map((r: Json) => r.Properties.EventPattern);

  const machines = Object.values(resources).filter((r: Json) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definition = JSON.parse(resolveTokens((machines[0] as Json).Properties.DefinitionString));

  const tables = Object.values(resources).filter((r: Json) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1) throw new Error(`expected one DynamoDB table, found ${tables.length}`);

  return {
    outdir,
    template,
    failover: fn(failoverId),
    step: fn(stepId),
    alarms,
    failoverRulePatterns,
    stateMachine: { definition, stepFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stepId}` },
    table: (tables[0] as Json).Properties,
    synthMs: performance.now() - started,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
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
