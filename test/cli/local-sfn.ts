/**
 * Step Functions for the CLI tests, backed by the REAL state machine: StartExecution,
 * DescribeExecution and GetExecutionHistory answered from aws-local-stepfunctions running the
 * definition synthesized by the CDK app, its Tasks bound to the real step handler over in-memory
 * ports (the same binding as test/workflow/harness.ts). Bound to an SFNClient through
 * aws-sdk-client-mock, so the CLI code under test sends its real commands.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandInput,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  type HistoryEventType,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandInput,
  type StartExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import type { AwsStub } from 'aws-sdk-client-mock';
import { type Json, jsonRoundTrip, pollWaitMs, runLocalExecution } from '../../drill/sim/state-machine.ts';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import type { Clock } from '../../lambdas/domain/ports.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import type { ManualClock } from '../../lambdas/testing/clock.ts';
import type { SynthesizedWorkflow } from '../workflow/harness.ts';

interface LocalExecution {
  readonly arn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  readonly events: HistoryEvent[];
  readonly done: Promise<void>;
}

export interface LocalStepFunctionsOptions {
  readonly synthesized: Pick<SynthesizedWorkflow, 'definition' | 'stepFunctionArn'>;
  /** The step Lambda: the real handler over these ports (or `invoke` below). */
  readonly deps?: WorkflowDeps;
  /**
   * The step Lambda as an invocation instead (e.g. the bundled function in its own execution
   * environment); what it throws is turned into Lambda's error shape. @default makeHandler(deps)
   */
  readonly invoke?: (event: Json) => Promise<unknown>;
  /**
   * The `lambda:invoke` Tasks (hooks, the node-action function): invokes the function by name and
   * answers like the Lambda integration; what it throws fails the Task with Lambda's error shape.
   * @default none bound (such a Task fails)
   */
  readonly invokeFunction?: (functionName: string, payload: Json) => Promise<unknown>;
  /** A ManualClock for virtual waits; any clock with `waits: 'real'`. */
  readonly clock: ManualClock | Clock;
  /**
   * `virtual`: Wait states take 0 ms and the manual clock advances by the poll interval instead;
   * `real`: Wait states and retry intervals last as long as the definition says. @default 'virtual'
   */
  readonly waits?: 'virtual' | 'real';
  readonly stateMachineArn: string;
  /** Before every step Lambda invocation (after the virtual Wait): move the world on. */
  readonly beforeStep?: (step: string, event: Json) => void | Promise<void>;
  /** GetExecutionHistory page size. @default 20 */
  readonly pageSize?: number;
}

export class LocalStepFunctions {
  private readonly executions = new Map<string, LocalExecution>();
  private readonly handler: (event: unknown) => Promise<unknown>;

  constructor(private readonly options: LocalStepFunctionsOptions) {
    if (options.invoke) this.handler = options.invoke;
    else if (options.deps) this.handler = makeHandler(options.deps);
    else throw new Error('LocalStepFunctions needs deps or invoke');
  }

  get executionCount(): number {
    return this.executions.size;
  }

  /** Every execution to settle (tests wait for this after a CLI run that did not --wait). */
  async settled(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }

  bind(mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClient['config']>): void {
    mock.on(StartExecutionCommand).callsFake((input) => this.start(input));
    mock.on(DescribeExecutionCommand).callsFake((input) => this.describe(input));
    mock.on(GetExecutionHistoryCommand).callsFake((input) => this.history(input));
  }

  start(input: StartExecutionCommandInput): StartExecutionCommandOutput {
    const name = input.name ?? `generated-${this.executions.size + 1}`;
    const arn = `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(name);
    if (existing) {
      // Step Functions: the same name and input while it runs answers idempotently; otherwise 400.
      if (existing.input === input.input && existing.status === 'RUNNING') {
        return { executionArn: arn, startDate: existing.startDate, $metadata: {} };
      }
      throw new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${arn}'`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    const startDate = new Date(this.options.clock.now());
    const events: HistoryEvent[] = [];
    const execution: LocalExecution = {
      arn,
      name,
      input: input.input ?? '{}',
      startDate,
      status: 'RUNNING',
      events,
      done: Promise.resolve(),
    };
    (execution as { done: Promise<void> }).done = this.run(execution);
    this.executions.set(name, execution);
    return { executionArn: arn, startDate, $metadata: {} };
  }

  describe(input: DescribeExecutionCommandInput): DescribeExecutionCommandOutput {
    const e = this.byArn(input.executionArn);
    return {
      executionArn: e.arn,
      stateMachineArn: this.options.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      input: e.input,
      ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
      $metadata: {},
    };
  }

  history(input: GetExecutionHistoryCommandInput): GetExecutionHistoryCommandOutput {
    const e = this.byArn(input.executionArn);
    const size = Math.min(input.maxResults ?? 1000, this.options.pageSize ?? 20);
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const page = e.events.slice(from, from + size);
    const next = from + size < e.events.length ? String(from + size) : undefined;
    return { events: page, ...(next ? { nextToken: next } : {}), $metadata: {} };
  }

  private byArn(arn: string | undefined): LocalExecution {
    const e = [...this.executions.values()].find((x) => x.arn === arn);
    if (!e)
      throw new ExecutionDoesNotExist({
        message: `Execution Does Not Exist: '${arn}'`,
        $metadata: { httpStatusCode: 400 },
      });
    return e;
  }

  private async run(execution: LocalExecution): Promise<void> {
    const push = (type: string, details: Record<string, unknown> = {}) =>
      execution.events.push({
        id: execution.events.length + 1,
        timestamp: new Date(this.options.clock.now()),
        type: type as HistoryEventType,
        ...details,
      });
    push('ExecutionStarted');
    const outcome = await runLocalExecution(JSON.parse(execution.input), {
      workflow: this.options.synthesized,
      step: (event) => this.invokeStep(event),
      ...(this.options.invokeFunction ? { invokeFunction: this.options.invokeFunction } : {}),
      ...(this.options.deps ? { config: this.options.deps.config } : {}),
      waits: this.options.waits ?? 'virtual',
      name: execution.name,
      executionArn: execution.arn,
      onEvent: (event) => {
        if (event.type === 'StateEntered') {
          push(`${event.state.type}StateEntered`, {
            stateEnteredEventDetails: { name: event.state.name, input: JSON.stringify(event.state.input) },
          });
        } else if (event.type === 'StateExited') {
          push(`${event.state.type}StateExited`, {
            stateExitedEventDetails: {
              name: event.state.name,
              output: JSON.stringify(event.state.output ?? null),
            },
          });
        } else if (event.type === 'StateFailed' && event.state.type === 'Task') {
          push('TaskFailed', { taskFailedEventDetails: { error: event.Error, cause: String(event.Cause) } });
        }
      },
    });
    if (outcome.status === 'SUCCEEDED') {
      push('ExecutionSucceeded');
      Object.assign(execution, { status: 'SUCCEEDED', output: JSON.stringify(outcome.output) });
    } else {
      push('ExecutionFailed', {
        executionFailedEventDetails: { error: outcome.error, cause: outcome.rawCause },
      });
      Object.assign(execution, { status: 'FAILED', error: outcome.error, cause: outcome.rawCause });
    }
    execution.stopDate = new Date(this.options.clock.now());
  }

  private async invokeStep(event: Json): Promise<unknown> {
    // A check that runs again has just left a Wait of pollIntervalSeconds.
    const { clock } = this.options;
    if (this.options.waits !== 'real' && 'advance' in clock) clock.advance(pollWaitMs(event));
    await this.options.beforeStep?.(event.step as string, event);
    return this.handler(jsonRoundTrip(event));
  }
}
