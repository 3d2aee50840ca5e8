/**
 * The deployable stack, synthesized by the project's own CDK constructs for the drill's
 * configuration, and the parts of it the drill runs for real:
 * - the switchover state machine's definition (Amazon States Language), executed by
 *   aws-local-stepfunctions with its Tasks bound to the real step handler;
 * - the EventBridge rules' event patterns, which decide which alarm events reach the failover
 *   handler, and the handler's asynchronous-invocation retry count.
 * Bundling is skipped (no esbuild run): only the template matters here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';
import { type Json, LOCAL_ACCOUNT, LOCAL_REGION, stateMachineOf } from './state-machine.ts';

export type { Json };

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const DRILL_ACCOUNT = LOCAL_ACCOUNT;
export const DRILL_REGION = LOCAL_REGION;

export interface SynthesizedStack {
  /** The state machine definition with CloudFormation tokens resolved to literal ARNs. */
  readonly definition: Json;
  /** The ARN standing for the workflow step Lambda in the definition. */
  readonly stepFunctionArn: string;
  /** Event patterns of the rules that target the failover Lambda. */
  readonly eventPatterns: readonly Json[];
  /** Lambda's retries of a failed asynchronous invocation (EventInvokeConfig). */
  readonly asyncRetryAttempts: number;
  /** Wall-clock milliseconds the synthesis took. */
  readonly synthMs: number;
}

export function synthesizeStack(config: FailoverConfig): SynthesizedStack {
  const started = performance.now();
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FailoverStack(app, 'FailoverDrill', {
    config,
    env: { account: DRILL_ACCOUNT, region: DRILL_REGION },
    ...(existsSync(join(PROJECT_ROOT, 'lambdas/handlers/failover.ts'))
      ? {}
      : { automationOptions: { failoverEntry: 'lambdas/handlers/workflow.ts' } }),
  });
  const assembly = app.synth();
  const template: Json = assembly.getStackArtifact(stack.artifactId).template;
  const resources: Record<string, Json> = template.Resources ?? {};
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  const stepLogicalId = stack.getLogicalId(stack.workflow.stepFunction.node.defaultChild as CfnFunction);
  const failoverLogicalId = stack.getLogicalId(
    stack.automation.failoverFunction.node.defaultChild as CfnFunction,
  );

  const eventPatterns = ofType('AWS::Events::Rule')
    .filter(([, r]) =>
      (r.Properties.Targets ?? []).some(
        (t: Json) => t.Arn?.['Fn::GetAtt']?.[0] === failoverLogicalId && r.Properties.State !== 'DISABLED',
      ),
    )
    .map(([, r]) => r.Properties.EventPattern);
  if (eventPatterns.length === 0) throw new Error('no EventBridge rule targets the failover function');

  const invokeConfigs = ofType('AWS::Lambda::EventInvokeConfig').filter(
    ([, r]) => r.Properties.FunctionName?.Ref === failoverLogicalId,
  );
  const asyncRetryAttempts = invokeConfigs[0]?.[1].Properties.MaximumRetryAttempts ?? 2;

  return {
    ...stateMachineOf(template, stepLogicalId),
    eventPatterns,
    asyncRetryAttempts,
    synthMs: performance.now() - started,
  };
}

/**
 * EventBridge content matching for the pattern forms the stack uses: a list of values (the field
 * equals one of them, or, for a list field, contains one), nested objects, `prefix`, `exists`
 * and `anything-but`. Any other matcher is refused loudly rather than guessed.
 */
export function matchesPattern(pattern: Json, event: Json): boolean {
  for (const [key, expected] of Object.entries(pattern as Record<string, Json>)) {
    const actual = event?.[key];
    if (Array.isArray(expected)) {
      if (!expected.some((m) => matchesValue(m, actual))) return false;
    } else if (expected && typeof expected === 'object') {
      if (actual === null || typeof actual !== 'object' || !matchesPattern(expected, actual)) return false;
    } else {
      throw new Error(`invalid event pattern at ${key}: ${JSON.stringify(expected)}`);
    }
  }
  return true;
}

function matchesValue(matcher: Json, actual: Json): boolean {
  const values = Array.isArray(actual) ? actual : [actual];
  if (matcher === null || typeof matcher !== 'object') {
    return actual !== undefined && values.some((v) => v === matcher);
  }
  if ('prefix' in matcher) return values.some((v) => typeof v === 'string' && v.startsWith(matcher.prefix));
  if ('exists' in matcher) return (actual !== undefined) === matcher.exists;
  if ('anything-but' in matcher) {
    const but = Array.isArray(matcher['anything-but']) ? matcher['anything-but'] : [matcher['anything-but']];
    return actual !== undefined && values.every((v) => !but.includes(v));
  }
  throw new Error(`event pattern matcher not supported by the drill: ${JSON.stringify(matcher)}`);
}
