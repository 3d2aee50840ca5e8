/**
 * The switchover state machine as synthesized, run locally with aws-local-stepfunctions: what the
 * drill, the workflow harness (test/workflow/harness.ts) and the local Step Functions of the CLI
 * tests and the game day (test/cli/local-sfn.ts) share.
 * - `stateMachineOf` pulls the one state machine out of a template, tokens resolved to literal ARNs;
 * - `runLocalExecution` runs one execution with its Tasks bound: the step Lambda's ARN to `step`,
 *   `arn:aws:states:::lambda:invoke` (hooks, the node-action function) to `invokeFunction`, each
 *   with Lambda's JSON round trip and error shape ({ errorType, errorMessage } as the Cause);
 * - `pollWaitMs` says how long the Wait before a repeated check lasted, for virtual clocks.
 */
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import type { StatePort } from '../../lambdas/domain/ports.ts';
import { throughNodeActionFunction } from './node-action-function.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation and ASL JSON are walked structurally
export type Json = any;

/** The account and region the local ARNs are made in. */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export function localFunctionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
}

/** Resolves the intrinsic functions CDK puts in a DefinitionString into literal values. */
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
      return localFunctionArn(id);
    }
    if ('Ref' in value) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': LOCAL_REGION,
        'AWS::AccountId': LOCAL_ACCOUNT,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[value.Ref] ?? value.Ref;
    }
  }
  throw new Error(`unexpected token in the definition: ${JSON.stringify(value)}`);
}

export interface LocalStateMachine {
  /** The Amazon States Language definition with CloudFormation tokens resolved to literal ARNs. */
  readonly definition: Json;
  /** The ARN standing for the workflow step Lambda in the definition. */
  readonly stepFunctionArn: string;
}

/** The template's one state machine; `stepLogicalId` is the step Lambda's logical id. */
export function stateMachineOf(template: Json, stepLogicalId: string): LocalStateMachine {
  const machines = Object.values((template.Resources ?? {}) as Record<string, Json>).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  return {
    definition: JSON.parse(resolveTokens(machines[0].Properties.DefinitionString)),
    stepFunctionArn: localFunctionArn(stepLogicalId),
  };
}

/** The node-action function's ARN, as Prepare hands it to the plan; undefined without node actions. */
export function nodeActionFunctionOf(definition: Json): string | undefined {
  // Prepare invokes the step Lambda directly (payloadResponseOnly): Parameters are its payload.
  const arn = definition?.States?.Prepare?.Parameters?.actionFunctionArn;
  return typeof arn === 'string' ? arn : undefined;
}

/** An error with a given name, as a hook, a Lambda or a test fault throws it. */
export function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/**
 * The lambda:invoke integration and the Lambda Task fail with the function's errorType as Error and
 * Lambda's error JSON as Cause. Lambda's own errors (`Lambda.*`) and errors already in that shape
 * pass unchanged.
 */
export function lambdaError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name.startsWith('Lambda.') || causeMessage(e.message) !== e.message) return e;
  return named(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
}

/** A Cause's message: errorMessage from Lambda's error JSON, or the Cause itself. */
export function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause);
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Plain text: a Fail state's Cause or a Step Functions error.
  }
  return cause;
}

/**
 * Step Functions' payload quota: a Task's result (a connector's output), a state's input after
 * Parameters and a state's output are at most 256 KiB of UTF-8 JSON.
 */
export const PAYLOAD_QUOTA_BYTES = 256 * 1024;

/** UTF-8 bytes of a JSON value, as the quota counts them. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * States.DataLimitExceeded as Step Functions raises it: terminal, neither retried nor caught (not
 * by States.ALL, not by any Catch), so the execution fails wherever it is.
 * aws-local-stepfunctions honours `isRetryable` / `isCatchable` on a thrown error.
 */
function dataLimitExceeded(what: string, bytes: number): Error {
  return Object.assign(
    named(
      'States.DataLimitExceeded',
      `${what} is ${bytes} bytes, over the payload quota of ${PAYLOAD_QUOTA_BYTES} bytes`,
    ),
    { isRetryable: false, isCatchable: false },
  );
}

/** The value, or States.DataLimitExceeded when it is over the payload quota. */
function withinQuota<T>(what: string, value: T): T {
  const bytes = jsonBytes(value);
  if (bytes > PAYLOAD_QUOTA_BYTES) throw dataLimitExceeded(what, bytes);
  return value;
}

/** Lambda delivers JSON in and out: nothing else survives the trip. */
export function jsonRoundTrip(value: unknown): Json {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/**
 * How long the Wait before this step invocation lasted: a check that runs again (checkCatchUp,
 * checkVerify with state from an earlier round) has just left a Wait of pollIntervalSeconds.
 */
export function pollWaitMs(event: Json): number {
  const step = event?.step;
  const again =
    (step === 'checkCatchUp' && event.state?.catchUp) || (step === 'checkVerify' && event.state?.verify);
  return again ? event.state.plan.pollIntervalSeconds * 1000 : 0;
}

/** One event of an execution's log (aws-local-stepfunctions does not export the type). */
export type ExecutionEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

const machines = new WeakMap<object, StateMachine>();

/** The parsed (and validated) state machine of a definition, built once per definition. */
function machineOf(definition: Json): StateMachine {
  let machine = machines.get(definition);
  if (!machine) {
    machine = new StateMachine(definition);
    machines.set(definition, machine);
  }
  return machine;
}

export interface LocalExecutionOptions {
  readonly workflow: LocalStateMachine;
  /** The step Lambda; what it throws fails the Task with Lambda's error shape. */
  readonly step: (event: Json) => Promise<unknown>;
  /**
   * The `lambda:invoke` Tasks by FunctionName, answered like the Lambda integration.
   * @default none bound (such a Task fails)
   */
  readonly invokeFunction?: (functionName: string, payload: Json) => Promise<unknown>;
  /** `real`: Wait states and retry intervals last as the definition says. @default 'virtual' (0 ms) */
  readonly waits?: 'virtual' | 'real';
  /**
   * With virtual waits: the real milliseconds a Wait state lasts, by state name, for a test in
   * which something else runs meanwhile (a hook answering late). @default 0 for every Wait
   */
  readonly waitMs?: (stateName: string) => number | undefined;
  /**
   * The configuration the node-action function is deployed with. With it, a call of that function
   * for a user's function (a `lambda` action) runs its real handler, which calls the user's
   * function through `invokeFunction` (node-action-function.ts); built-in kinds still go to
   * `invokeFunction` under the node-action function's name.
   * @default - every call goes to `invokeFunction` as it is
   */
  readonly config?: FailoverConfig;
  /**
   * The state table the node-action function reads before it acts (its guard against payloads
   * no execution of ours sent), with `config`.
   * @default - no guard
   */
  readonly state?: StatePort;
  /** Refuse a Task bound to anything else (instead of leaving it to fail). @default false */
  readonly strict?: boolean;
  /** The execution's name and ARN (the `$$.Execution` context). */
  readonly name: string;
  readonly executionArn: string;
  /** Every event of the execution log, as it happens. */
  readonly onEvent?: (event: ExecutionEvent) => void;
}

export type LocalExecutionOutcome =
  | { readonly status: 'SUCCEEDED'; readonly output: Json; readonly states: string[] }
  | {
      readonly status: 'FAILED';
      readonly error: string;
      /** The Cause as Step Functions reports it (a Lambda error's Cause is Lambda's error JSON). */
      readonly rawCause: string;
      /** The Cause's message (causeMessage). */
      readonly cause: string;
      readonly states: string[];
    };

/** Runs one execution of `input` to its end; `states` lists every state entered, in order. */
export async function runLocalExecution(
  input: Json,
  options: LocalExecutionOptions,
): Promise<LocalExecutionOutcome> {
  const taskHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const virtual = options.waits !== 'real';
  const nodeActionFunction = nodeActionFunctionOf(options.workflow.definition);
  const invoke =
    options.invokeFunction && options.config && nodeActionFunction
      ? throughNodeActionFunction(options.config, nodeActionFunction, options.invokeFunction, options.state)
      : options.invokeFunction;
  for (const [stateName, state] of Object.entries(
    options.workflow.definition.States as Record<string, Json>,
  )) {
    if (state.Retry && virtual) retries[stateName] = 0;
    if (state.Type === 'Wait' && virtual) waits[stateName] = options.waitMs?.(stateName) ?? 0;
    if (state.Type !== 'Task') continue;
    if (state.Resource === options.workflow.stepFunctionArn) {
      taskHandlers[stateName] = async (event) => {
        let answer: Json;
        try {
          answer = jsonRoundTrip(await options.step(event));
        } catch (err) {
          throw lambdaError(err);
        }
        return withinQuota(`the result of ${stateName}`, answer);
      };
    } else if (state.Resource === 'arn:aws:states:::lambda:invoke' && invoke) {
      taskHandlers[stateName] = async (params) => {
        let answer: Json;
        try {
          const payload = await invoke(params.FunctionName, params.Payload);
          answer = { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: jsonRoundTrip(payload) };
        } catch (err) {
          throw lambdaError(err);
        }
        // Checked on the integration's whole answer, before ResultSelector or ResultPath: a result
        // the state then discards counts all the same.
        return withinQuota(`the result of ${stateName}`, answer);
      };
    } else if (options.strict) {
      throw new Error(`Task ${stateName} invokes ${state.Resource}: no local binding for it`);
    }
  }
  const execution = machineOf(options.workflow.definition).run(input, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers,
      waitTimeOverrides: waits,
      retryIntervalOverrides: retries,
    },
    context: { Execution: { Name: options.name, Id: options.executionArn } },
  });
  const states: string[] = [];
  // A state whose output is over the quota: Step Functions fails the execution there (checked
  // after the fact here, from the execution log, and reported as that failure).
  let overQuota: Error | undefined;
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') states.push(event.state.name);
      if (event.type === 'StateExited' && overQuota === undefined) {
        const bytes = jsonBytes(event.state.output);
        if (bytes > PAYLOAD_QUOTA_BYTES)
          overQuota = dataLimitExceeded(`the output of ${event.state.name}`, bytes);
      }
      options.onEvent?.(event);
    }
  })();
  const failed = (cause: Error): LocalExecutionOutcome => ({
    status: 'FAILED',
    error: cause.name,
    rawCause: cause.message,
    cause: causeMessage(cause.message),
    states,
  });
  try {
    const output = await execution.result;
    await collecting;
    if (overQuota) return failed(overQuota);
    return { status: 'SUCCEEDED', output, states };
  } catch (err) {
    await collecting;
    if (!(err instanceof ExecutionError)) throw err;
    return failed(overQuota ?? (err.cause as Error));
  }
}
