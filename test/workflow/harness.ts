/**
 * Runs the REAL state machine, taken from the synthesized CloudFormation template, with
 * aws-local-stepfunctions. Every Task is bound to what it invokes in AWS:
 * - the step Lambda's ARN -> the project's real handler (`makeHandler`) over in-memory ports,
 *   with Lambda's JSON serialization and error shape ({ errorType, errorMessage } as the Cause);
 * - `arn:aws:states:::lambda:invoke` (the hooks) -> test hook functions looked up by the
 *   FunctionName the definition resolved from the plan, answering like the Lambda integration.
 * Waits take 0 ms of real time; the virtual clock advances by the poll interval instead, before
 * each check that follows a Wait. Retry pauses are 0 ms.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { ChangeStatusPort, WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { executionName, type HookPayload, type WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import type { ManualClock } from '../../lambdas/testing/clock.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: ASL and template JSON are walked structurally
type Json = any;

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export interface SynthesizedWorkflow {
  /** The Amazon States Language definition, tokens resolved to placeholder ARNs. */
  readonly definition: Json;
  /** The placeholder ARN standing for the step Lambda in the definition. */
  readonly stepFunctionArn: string;
  readonly template: Template;
}

/** Synthesizes the deployable stack (bundling skipped) and pulls the state machine out of the template. */
export function synthesizeWorkflow(config: FailoverConfig): SynthesizedWorkflow {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FailoverStack(app, 'WorkflowTest', { config });
  const template = Template.fromStack(stack);
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines) as Json[];
  if (Object.keys(machines).length !== 1 || !machine) {
    throw new Error(`expected one state machine, found ${Object.keys(machines).length}`);
  }
  const definition = JSON.parse(resolveTokens(machine.Properties.DefinitionString));
  const stepLogicalId = stack.getLogicalId(stack.workflow.stepFunction.node.defaultChild as CfnFunction);
  return { definition, stepFunctionArn: functionArn(stepLogicalId), template };
}

function functionArn(logicalId: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
}

/** Resolves the intrinsic functions CDK puts in a DefinitionString into plausible literal values. */
export function resolveTokens(value: Json): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'] as [string, Json[]];
      return parts.map(resolveTokens).join(sep);
    }
    if ('Fn::GetAtt' in value) {
      const [id, attr] = value['Fn::GetAtt'] as [string, string];
      if (attr !== 'Arn') throw new Error(`unexpected Fn::GetAtt ${id}.${attr} in the definition`);
      return functionArn(id);
    }
    if ('Ref' in value) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[value.Ref] ?? value.Ref;
    }
  }
  throw new Error(`unexpected token in the definition: ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Hooks
// ---------------------------------------------------------------------------------------------

export interface HookCall {
  readonly functionName: string;
  readonly payload: HookPayload;
}

export type HookBehaviour = (payload: HookPayload) => unknown | Promise<unknown>;

/** Test hook Lambdas by ARN. Unregistered ARNs answer ResourceNotFoundException, like Lambda. */
export class TestHooks {
  readonly calls: HookCall[] = [];
  private readonly behaviours = new Map<string, HookBehaviour>();

  /** Registers the function at `arn`. @default behaviour: answer `{ ok: true }` */
  register(arn: string, behaviour: HookBehaviour = () => ({ ok: true })): this {
    this.behaviours.set(arn, behaviour);
    return this;
  }

  /** `action node` for every call, in order: a compact trace for assertions. */
  get trace(): string[] {
    return this.calls.map((c) => `${c.payload.action} ${c.payload.node}`);
  }

  async invoke(functionName: string, payload: HookPayload): Promise<unknown> {
    this.calls.push({ functionName, payload });
    const behaviour = this.behaviours.get(functionName);
    if (!behaviour) {
      throw named('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
    }
    try {
      return await behaviour(payload);
    } catch (err) {
      // The lambda:invoke integration fails the Task with the function's errorType as Error and
      // Lambda's error JSON as Cause.
      throw lambdaError(err);
    }
  }
}

/** An error with a given name, as a hook or a test fault throws it. */
export function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

function lambdaError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name.startsWith('Lambda.')) return e;
  return named(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
}

// ---------------------------------------------------------------------------------------------
// Executions
// ---------------------------------------------------------------------------------------------

export type ExecutionOutcome =
  | { readonly name: string; readonly status: 'SUCCEEDED'; readonly output: Json; readonly states: string[] }
  | {
      readonly name: string;
      readonly status: 'FAILED';
      readonly error: string;
      /** The Cause as Step Functions reports it (a Lambda error's Cause is Lambda's error JSON). */
      readonly rawCause: string;
      /** The Cause's message: errorMessage from Lambda's error JSON, or the Cause itself. */
      readonly cause: string;
      readonly states: string[];
    };

export interface RunnerOptions {
  readonly synthesized: SynthesizedWorkflow;
  readonly deps: WorkflowDeps;
  readonly hooks: TestHooks;
  readonly clock: ManualClock;
  /** Called before every step Lambda invocation (after the virtual Wait): move the world on. */
  readonly beforeStep?: (step: string, event: Json) => void | Promise<void>;
  /**
   * Fault injection: return a promise to stand in for the step Lambda (`real` runs the real one),
   * or undefined to let it run normally.
   */
  readonly intercept?: (
    step: string,
    event: Json,
    real: () => Promise<unknown>,
  ) => Promise<unknown> | undefined;
}

/** StartExecution semantics for names (unique per state machine), with the real definition behind it. */
export class WorkflowRunner {
  private readonly executions = new Map<string, { input: string; promise: Promise<ExecutionOutcome> }>();
  private readonly machine: StateMachine;
  private readonly handler: (event: unknown) => Promise<unknown>;
  /** Step Lambda invocations, in order. */
  readonly steps: string[] = [];

  constructor(private readonly options: RunnerOptions) {
    this.machine = new StateMachine(options.synthesized.definition);
    this.handler = makeHandler(options.deps);
  }

  /**
   * StartExecution: the same name with the same input while it runs returns the running execution
   * (Step Functions answers idempotently); a name used before otherwise throws ExecutionAlreadyExists.
   */
  start(input: WorkflowRequestInput | Json, name?: string): Promise<ExecutionOutcome> {
    const executionNameValue = name ?? executionName(input as WorkflowRequestInput, this.options.clock.now());
    const serialized = JSON.stringify(input);
    const existing = this.executions.get(executionNameValue);
    if (existing) {
      if (existing.input === serialized && !settled.has(existing.promise)) return existing.promise;
      throw named('ExecutionAlreadyExists', `Execution Already Exists: '${executionNameValue}'`);
    }
    const promise = this.run(input, executionNameValue);
    promise.then(() => settled.add(promise));
    this.executions.set(executionNameValue, { input: serialized, promise });
    return promise;
  }

  get executionCount(): number {
    return this.executions.size;
  }

  private async run(input: Json, name: string): Promise<ExecutionOutcome> {
    const { definition } = this.options.synthesized;
    const taskHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(definition.States as Record<string, Json>)) {
      if (state.Retry) retries[stateName] = 0;
      if (state.Type === 'Wait') waits[stateName] = 0;
      if (state.Type !== 'Task') continue;
      if (state.Resource === this.options.synthesized.stepFunctionArn) {
        taskHandlers[stateName] = (event) => this.invokeStep(event);
      } else if (state.Resource === 'arn:aws:states:::lambda:invoke') {
        taskHandlers[stateName] = async (params) => ({
          StatusCode: 200,
          ExecutedVersion: '$LATEST',
          Payload: json(await this.options.hooks.invoke(params.FunctionName, params.Payload)),
        });
      } else {
        throw new Error(`Task ${stateName} invokes ${state.Resource}: no local binding for it`);
      }
    }
    const execution = this.machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: waits,
        retryIntervalOverrides: retries,
      },
      context: {
        Execution: { Name: name, Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:Workflow:${name}` },
      },
    });
    const states: string[] = [];
    const collecting = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') states.push(event.state.name);
      }
    })();
    try {
      const output = await execution.result;
      await collecting;
      return { name, status: 'SUCCEEDED', output, states };
    } catch (err) {
      await collecting;
      if (!(err instanceof ExecutionError)) throw err;
      const cause = err.cause as Error;
      return {
        name,
        status: 'FAILED',
        error: cause.name,
        rawCause: cause.message,
        cause: errorMessage(cause.message),
        states,
      };
    }
  }

  private async invokeStep(event: Json): Promise<Json> {
    const step = event.step as string;
    this.steps.push(step);
    // A check that runs again has just left a Wait of pollIntervalSeconds.
    if (
      (step === 'checkCatchUp' && event.state?.catchUp) ||
      (step === 'checkVerify' && event.state?.verify)
    ) {
      this.options.clock.advance(event.state.plan.pollIntervalSeconds * 1000);
    }
    await this.options.beforeStep?.(step, event);
    try {
      // Lambda delivers JSON in and out: nothing else survives the trip.
      const real = () => this.handler(json(event));
      return json(await (this.options.intercept?.(step, event, real) ?? real()));
    } catch (err) {
      throw lambdaError(err);
    }
  }
}

function errorMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause);
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Plain text: a Fail state's Cause or a Step Functions error.
  }
  return cause;
}

const settled = new WeakSet<Promise<ExecutionOutcome>>();

function json(value: unknown): Json {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

// ---------------------------------------------------------------------------------------------
// In-memory worlds
// ---------------------------------------------------------------------------------------------

/** Route 53's GetChange answering INSYNC at once. */
export const INSYNC_AT_ONCE: ChangeStatusPort = { changeStatus: async () => 'INSYNC' };

/** The step Lambda's ports: the in-memory environment, Route 53 changes as `changes` says. */
export function memoryWorkflowDeps(
  env: MemoryEnvironment,
  changes: ChangeStatusPort = INSYNC_AT_ONCE,
): WorkflowDeps {
  const { config, alarms, lag, state, traffic, notifier, logger, metrics, clock } = env;
  return { config, alarms, lag, state, traffic, notifier, changes, logger, metrics, clock };
}

/**
 * The real state machine over the in-memory environment, Route 53 INSYNC at once, and `target` of
 * `serviceId` a caught-up replica: it publishes lag 0 before Prepare and before every catch-up check.
 */
export function caughtUpRunner(
  synthesized: SynthesizedWorkflow,
  env: MemoryEnvironment,
  hooks: TestHooks,
  serviceId: string,
  target: string,
): WorkflowRunner {
  return new WorkflowRunner({
    synthesized,
    deps: memoryWorkflowDeps(env),
    hooks,
    clock: env.clock,
    beforeStep: (step) => {
      if (step === 'prepare' || step === 'checkCatchUp')
        env.lag.put(serviceId, target, 0, env.clock.now() - 1);
    },
  });
}
