/**
 * The node-action function as the state machine invokes it, for local runs of the workflow.
 * Every node-action Task invokes that function; for a user's function (a `lambda` action, the
 * `hooks` shorthand) this runs its REAL handler (lambdas/handlers/node-action.ts) over the real
 * AwsNodeActions, whose Lambda client hands the call of the user's function to `invoke`, answered
 * as Lambda answers it:
 * - a value: the function's JSON answer (its size is what the handler reports);
 * - an error named `Lambda.*`: Lambda's own error (throttled, 5xx), thrown by the SDK client;
 * - an error named `States.*`: the Task itself failed that way (a harness saying "the Task timed
 *   out"): it fails the Task as it is, whatever the handler was doing;
 * - any other error: the function failed by its own hand (FunctionError, errorType, errorMessage).
 * A built-in kind is handed to `invoke` unchanged, under the node-action function's name: the
 * caller binds that function (mocked SDK clients, a bundled copy, a simulation).
 */
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AwsNodeActions } from '../../lambdas/aws/actions/index.ts';
import { actionForRole } from '../../lambdas/domain/action-config.ts';
import { type FailoverConfig, findService } from '../../lambdas/domain/config.ts';
import type { NodeActionRole } from '../../lambdas/domain/node-actions.ts';
import type { Logger, StatePort } from '../../lambdas/domain/ports.ts';
import { makeHandler } from '../../lambdas/handlers/node-action.ts';

// biome-ignore lint/suspicious/noExplicitAny: Lambda payloads are JSON
type Json = any;

export type InvokeFunction = (functionName: string, payload: Json) => Promise<unknown>;

const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** HTTP status Lambda answers its own errors with (the SDK classifies by it). */
const LAMBDA_ERROR_STATUS: Readonly<Record<string, number>> = {
  TooManyRequestsException: 429,
  ResourceNotFoundException: 404,
};

/** A binding may throw an error already in Lambda's shape (its message the error JSON): its errorMessage. */
function functionMessage(message: string): string {
  try {
    const parsed = JSON.parse(message);
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Plain text.
  }
  return message;
}

/** `invoke` with calls of `functionArn` for a `lambda` action run through the real node-action handler. */
export function throughNodeActionFunction(
  config: FailoverConfig,
  functionArn: string,
  invoke: InvokeFunction,
  /** The state table the deployed function reads before it acts (its guard); @default - no guard */
  state?: StatePort,
): InvokeFunction {
  return async (functionName, payload) => {
    const service = functionName === functionArn ? findService(config, payload?.serviceId) : undefined;
    const action = service
      ? actionForRole(service, payload.node, payload.action as NodeActionRole)
      : undefined;
    if (action?.type !== 'lambda') return invoke(functionName, payload);

    // A `States.*` error from the user's binding fails the Task itself, as Step Functions would.
    let failTask: (err: Error) => void = () => {};
    const taskFailed = new Promise<never>((_, reject) => {
      failTask = reject;
    });
    const client = {
      send: async (command: InvokeCommand) => {
        const { FunctionName, Payload } = command.input;
        const input = JSON.parse(new TextDecoder().decode(Payload as Uint8Array));
        const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value ?? null));
        try {
          const answer = await invoke(FunctionName as string, input);
          return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: encode(answer) };
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          if (e.name.startsWith('States.')) {
            failTask(e);
            throw e;
          }
          if (e.name.startsWith('Lambda.')) {
            const name = e.name.slice('Lambda.'.length);
            const status = LAMBDA_ERROR_STATUS[name] ?? 500;
            throw Object.assign(new Error(e.message), {
              name,
              $fault: status >= 500 ? 'server' : 'client',
              $metadata: { httpStatusCode: status },
            });
          }
          return {
            StatusCode: 200,
            FunctionError: 'Unhandled',
            Payload: encode({ errorType: e.name, errorMessage: functionMessage(e.message), trace: [] }),
          };
        }
      },
    } as unknown as LambdaClient;
    const handler = makeHandler({
      actions: new AwsNodeActions({ config, clients: { lambda: () => client } }),
      logger: QUIET,
      ...(state ? { state } : {}),
    });
    return Promise.race([handler(payload), taskFailed]);
  };
}
