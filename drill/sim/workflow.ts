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
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { executionName, type HookPayload, type WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import type { DrillClock } from './clock.ts';
import { DRILL_ACCOUNT, DRILL_REGION, type SynthesizedStack } from './stack.ts';
import { type Json, jsonRoundTrip, named, pollWaitMs, runLocalExecution } from './state-machine.ts';

export { named };

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
  private readonly handler: (event: unknown) => Promise<unknown>;
  private readonly names = new Set<string>();

  constructor(private readonly options: WorkflowExecutorOptions) {
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
    const outcome = await runLocalExecution(input, {
      workflow: this.options.stack,
      step: (event) => this.step(event, steps),
      invokeFunction: (functionName, payload) => this.hook(functionName, payload, steps),
      config: this.options.deps.config,
      strict: true,
      name,
      executionArn: `arn:aws:states:${DRILL_REGION}:${DRILL_ACCOUNT}:execution:Workflow:${name}`,
    });
    const end = clock.now();
    if (outcome.status === 'SUCCEEDED') return { name, ...outcome, steps, start, end };
    const { rawCause: _cause, ...failed } = outcome;
    return { name, ...failed, steps, start, end };
  }

  private async step(event: Json, steps: StepRecord[]): Promise<Json> {
    const { clock } = this.options;
    const step = event.step as string;
    // A check that runs again has just left a Wait of pollIntervalSeconds: the world moves on.
    const waited = pollWaitMs(event);
    if (waited > 0) await this.options.wait(waited);
    await clock.sleep(this.options.stepOverheadMs);
    const start = clock.now();
    try {
      const output = jsonRoundTrip(await this.handler(jsonRoundTrip(event)));
      this.record(steps, { step, start, end: clock.now(), output });
      return output;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.record(steps, { step, start, end: clock.now(), error: { name: e.name, message: e.message } });
      throw e;
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
      this.record(steps, { step, start, end: clock.now(), output: jsonRoundTrip(output) });
      return output;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.record(steps, { step, start, end: clock.now(), error: { name: e.name, message: e.message } });
      throw e;
    }
  }

  private record(steps: StepRecord[], record: StepRecord): void {
    steps.push(record);
    this.options.onStep?.(record);
  }
}
