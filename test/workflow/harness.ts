/**
 * Runs the REAL state machine, taken from the synthesized CloudFormation template, with
 * aws-local-stepfunctions. Every Task is bound to what it invokes in AWS:
 * - the step Lambda's ARN -> the project's real handler (`makeHandler`) over in-memory ports,
 *   with Lambda's JSON serialization and error shape ({ errorType, errorMessage } as the Cause);
 * - `arn:aws:states:::lambda:invoke` (the node-action function) -> for a user's function, the
 *   real node-action handler, which calls the test hook function registered under the user's ARN
 *   (drill/sim/node-action-function.ts); for a built-in kind, the function registered under the
 *   node-action function's ARN; answering like the Lambda integration.
 * Waits take 0 ms of real time (unless `waitMs` says otherwise); the virtual clock advances by the
 * poll interval instead, before each check that follows a Wait. Retry pauses are 0 ms.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type Json,
  jsonRoundTrip,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type LocalExecutionOutcome,
  lambdaError,
  named,
  pollWaitMs,
  runLocalExecution,
  stateMachineOf,
} from '../../drill/sim/state-machine.ts';
import type { ChangeStatusPort, WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import type { StatePort } from '../../lambdas/domain/ports.ts';
import { executionName, type HookPayload, type WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import type { ManualClock } from '../../lambdas/testing/clock.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';

export { named };

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
  const stepLogicalId = stack.getLogicalId(stack.workflow.stepFunction.node.defaultChild as CfnFunction);
  return { ...stateMachineOf(template.toJSON(), stepLogicalId), template };
}

// ---------------------------------------------------------------------------------------------
// Hooks
// ---------------------------------------------------------------------------------------------

export interface HookCall {
  readonly functionName: string;
  readonly payload: HookPayload;
}

export type HookBehaviour = (payload: HookPayload) => unknown | Promise<unknown>;

/** A hook function that fails by its own hand with error `errorName` (Lambda's errorType). */
export function hookThrowing(errorName: string, message: string): HookBehaviour {
  return () => {
    throw named(errorName, message);
  };
}

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

// ---------------------------------------------------------------------------------------------
// Executions
// ---------------------------------------------------------------------------------------------

export type ExecutionOutcome = { readonly name: string } & LocalExecutionOutcome;

export interface RunnerOptions {
  readonly synthesized: SynthesizedWorkflow;
  readonly deps: WorkflowDeps;
  readonly hooks: TestHooks;
  readonly clock: ManualClock;
  /** Called before every step Lambda invocation (after the virtual Wait): move the world on. */
  readonly beforeStep?: (step: string, event: Json) => void | Promise<void>;
  /**
   * Real milliseconds a Wait state lasts (by state name), for tests in which something else runs
   * meanwhile (a hook answering late). @default 0 for every Wait
   */
  readonly waitMs?: (stateName: string) => number | undefined;
  /**
   * The state table the node-action function's guard reads (a separate Lambda's reads: the
   * fault matrix gives it the unfaulted table).
   * @default deps.state
   */
  readonly nodeActionState?: StatePort;
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
  private readonly handler: (event: unknown) => Promise<unknown>;
  /** Step Lambda invocations, in order. */
  readonly steps: string[] = [];

  constructor(private readonly options: RunnerOptions) {
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
    const outcome = await runLocalExecution(input, {
      workflow: this.options.synthesized,
      step: (event) => this.invokeStep(event),
      invokeFunction: (functionName, payload) => this.options.hooks.invoke(functionName, payload),
      config: this.options.deps.config,
      // The node-action function's guard reads the state table as the deployed one does.
      state: this.options.nodeActionState ?? this.options.deps.state,
      strict: true,
      ...(this.options.waitMs ? { waitMs: this.options.waitMs } : {}),
      name,
      executionArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:Workflow:${name}`,
    });
    return { name, ...outcome };
  }

  private async invokeStep(event: Json): Promise<unknown> {
    const step = event.step as string;
    this.steps.push(step);
    this.options.clock.advance(pollWaitMs(event));
    await this.options.beforeStep?.(step, event);
    const real = () => this.handler(jsonRoundTrip(event));
    return this.options.intercept?.(step, event, real) ?? real();
  }
}

const settled = new WeakSet<Promise<ExecutionOutcome>>();

export interface AnswerLostOptions {
  /** How many invocations lose their answer. @default 1 (Infinity: every one) */
  readonly times?: number;
  /** @default Lambda.ServiceException 'the response was lost' */
  readonly error?: () => Error;
}

/** An `intercept` under which `step` runs to its end and then its answer is lost, so Step Functions retries or catches. */
export function answerLost(
  step: string,
  options: AnswerLostOptions = {},
): NonNullable<RunnerOptions['intercept']> {
  let left = options.times ?? 1;
  const error = options.error ?? (() => named('Lambda.ServiceException', 'the response was lost'));
  return (invoked, _event, real) => {
    if (invoked !== step || left <= 0) return undefined;
    left -= 1;
    return real().then(() => {
      throw error();
    });
  };
}

// ---------------------------------------------------------------------------------------------
// In-memory worlds
// ---------------------------------------------------------------------------------------------

/**
 * The step Lambda's ports: the in-memory environment, Route 53 changes and ELB target health as
 * `changes` says (the environment's own: INSYNC at the first poll, registered targets healthy).
 */
export function memoryWorkflowDeps(
  env: MemoryEnvironment,
  changes: ChangeStatusPort = env.changes,
): WorkflowDeps {
  const { config, alarms, lag, state, traffic, notifier, logger, metrics, clock } = env;
  return { config, alarms, lag, state, traffic, notifier, changes, logger, metrics, clock };
}

export interface MemoryRunnerOptions
  extends Pick<RunnerOptions, 'beforeStep' | 'intercept' | 'waitMs' | 'nodeActionState'> {
  /** @default no hook function registered */
  readonly hooks?: TestHooks;
  /** Ports that stand in for the environment's (fault injection, another verify signal). */
  readonly ports?: Partial<WorkflowDeps>;
}

/** The real state machine over the in-memory environment's ports and clock (Route 53 INSYNC at once unless `ports.changes` says otherwise). */
export function memoryRunner(
  synthesized: SynthesizedWorkflow,
  env: MemoryEnvironment,
  options: MemoryRunnerOptions = {},
): WorkflowRunner {
  const { hooks = new TestHooks(), ports, ...runner } = options;
  return new WorkflowRunner({
    synthesized,
    deps: { ...memoryWorkflowDeps(env), ...ports },
    hooks,
    clock: env.clock,
    ...runner,
  });
}

/**
 * `memoryRunner` with `target` of `serviceId` a caught-up replica: it publishes lag 0 before
 * Prepare and before every catch-up check (then `options.beforeStep` runs).
 */
export function caughtUpRunner(
  synthesized: SynthesizedWorkflow,
  env: MemoryEnvironment,
  hooks: TestHooks,
  serviceId: string,
  target: string,
  options: Omit<MemoryRunnerOptions, 'hooks'> = {},
): WorkflowRunner {
  const { beforeStep, ...runner } = options;
  return memoryRunner(synthesized, env, {
    ...runner,
    hooks,
    beforeStep: async (step, event) => {
      if (step === 'prepare' || step === 'checkCatchUp')
        env.lag.put(serviceId, target, 0, env.clock.now() - 1);
      await beforeStep?.(step, event);
    },
  });
}
