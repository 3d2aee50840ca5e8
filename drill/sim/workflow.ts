/**
 * Runs the REAL switchover / operator-failover state machine (the definition from the synthesized
 * template) with aws-local-stepfunctions:
 * - Tasks that invoke the step Lambda run the project's real handler (`makeHandler`) over the
 *   drill's ports, with Lambda's JSON round trip and error shape;
 * - hook Tasks (`arn:aws:states:::lambda:invoke`) run the simulated database's hooks, looked up by
 *   the FunctionName the definition resolved from the plan;
 * - Wait states take no real time: before the check that follows a Wait, the simulated world runs
 *   on for the Wait's seconds (lag drains, probes run, alarms evaluate, events are delivered).
 */
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { executionName, type HookPayload, type WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import type { DrillClock } from './clock.ts';
import { DRILL_ACCOUNT, DRILL_REGION, type Json, type SynthesizedStack } from './stack.ts';

export type HookFunction = (payload: HookPayload) => Promise<unknown>;

export interface StepRecord {
  /** `prepare`, `checkCatchUp`, ... or `hook:fence`, `hook:promote`, ... */
  readonly step: string;
  readonly start: number;
  readonly end: number;
  readonly output?: Json;
  readonly error?: { readonly name: string; readonly message: string };
}

export type ExecutionResult =
  | {
      readonly name: string;
      readonly status: 'SUCCEEDED';
      readonly output: Json;
      readonly states: readonly string[];
      readonly steps: readonly StepRecord[];
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly name: string;
      readonly status: 'FAILED';
      readonly error: string;
      /** The Cause's message (a Lambda error's Cause is Lambda's error JSON: its errorMessage). */
      readonly cause: string;
      readonly states: readonly string[];
      readonly steps: readonly StepRecord[];
      readonly start: number;
      readonly end: number;
    };

export interface WorkflowExecutorOptions {
  readonly stack: SynthesizedStack;
  readonly deps: WorkflowDeps;
  readonly clock: DrillClock;
  /** Hook Lambdas by function ARN; an unknown ARN fails like Lambda's ResourceNotFoundException. */
  readonly hooks: ReadonlyMap<string, HookFunction>;
  /** Lets the world run for `ms` (the Wait states). */
  readonly wait: (ms: number) => Promise<void>;
  /** Step Functions -> Lambda round trip added before each step (modelled latency). */
  readonly stepOverheadMs: number;
  /** Called as each step settles. */
  readonly onStep?: (record: StepRecord) => void;
}

export class WorkflowExecutor {
  private readonly machine: StateMachine;
  private readonly handler: (event: unknown) => Promise<unknown>;
  private readonly names = new Set<string>();

  constructor(private readonly options: WorkflowExecutorOptions) {
    this.machine = new StateMachine(options.stack.definition);
    this.handler = makeHandler(options.deps);
  }

  /**
   * StartExecution and wait for the result. The execution name is the workflow's own idempotency
   * key (`executionName`); a name used before fails as ExecutionAlreadyExists, as in Step Functions.
   */
  async run(input: WorkflowRequestInput): Promise<ExecutionResult> {
    const { clock } = this.options;
    const name = executionName(input, clock.now());
    if (this.names.has(name)) throw named('ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
    this.names.add(name);
    const steps: StepRecord[] = [];
    const start = clock.now();

    const taskHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(
      this.options.stack.definition.States as Record<string, Json>,
    )) {
      if (state.Retry) retries[stateName] = 0;
      if (state.Type === 'Wait') waits[stateName] = 0;
      if (state.Type !== 'Task') continue;
      if (state.Resource === this.options.stack.stepFunctionArn) {
        taskHandlers[stateName] = (event) => this.step(event, steps);
      } else if (state.Resource === 'arn:aws:states:::lambda:invoke') {
        taskHandlers[stateName] = async (params) => ({
          StatusCode: 200,
          ExecutedVersion: '$LATEST',
          Payload: json(await this.hook(params.FunctionName, params.Payload, steps)),
        });
      } else {
        throw new Error(`Task ${stateName} invokes ${state.Resource}: the drill has no binding for it`);
      }
    }
    const execution = this.machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: waits,
        retryIntervalOverrides: retries,
      },
      context: {
        Execution: {
          Name: name,
          Id: `arn:aws:states:${DRILL_REGION}:${DRILL_ACCOUNT}:execution:Workflow:${name}`,
        },
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
      return { name, status: 'SUCCEEDED', output, states, steps, start, end: clock.now() };
    } catch (err) {
      await collecting;
      if (!(err instanceof ExecutionError)) throw err;
      const cause = err.cause as Error;
      return {
        name,
        status: 'FAILED',
        error: cause.name,
        cause: errorMessage(cause.message),
        states,
        steps,
        start,
        end: clock.now(),
      };
    }
  }

  private async step(event: Json, steps: StepRecord[]): Promise<Json> {
    const { clock } = this.options;
    const step = event.step as string;
    // A check that runs again has just left a Wait of pollIntervalSeconds: the world moves on.
    if (
      (step === 'checkCatchUp' && event.state?.catchUp) ||
      (step === 'checkVerify' && event.state?.verify)
    ) {
      await this.options.wait(event.state.plan.pollIntervalSeconds * 1000);
    }
    await clock.sleep(this.options.stepOverheadMs);
    const start = clock.now();
    try {
      // Lambda delivers JSON in and out: nothing else survives the trip.
      const output = json(await this.handler(json(event)));
      this.record(steps, { step, start, end: clock.now(), output });
      return output;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.record(steps, { step, start, end: clock.now(), error: { name: e.name, message: e.message } });
      throw lambdaError(e);
    }
  }

  private async hook(functionName: string, payload: HookPayload, steps: StepRecord[]): Promise<unknown> {
    const { clock } = this.options;
    const start = clock.now();
    const fn = this.options.hooks.get(functionName);
    const step = `hook:${payload.action}`;
    if (!fn) {
      const error = named('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
      this.record(steps, {
        step,
        start,
        end: clock.now(),
        error: { name: error.name, message: error.message },
      });
      throw error;
    }
    try {
      const output = await fn(payload);
      this.record(steps, { step, start, end: clock.now(), output: json(output) });
      return output;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.record(steps, { step, start, end: clock.now(), error: { name: e.name, message: e.message } });
      throw lambdaError(e);
    }
  }

  private record(steps: StepRecord[], record: StepRecord): void {
    steps.push(record);
    this.options.onStep?.(record);
  }
}

export function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** The lambda:invoke integration and the Lambda Task fail with the function's errorType and its error JSON as Cause. */
function lambdaError(e: Error): Error {
  if (e.name.startsWith('Lambda.')) return e;
  return named(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
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

function json(value: unknown): Json {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
