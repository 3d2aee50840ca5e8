/**
 * The node-action function: runs one node action for the switchover workflow, whatever its kind:
 * a built-in one (ssm-command, ec2-stop, ec2-isolate, rds-promote-read-replica, postgres, mysql)
 * or a user's function (`lambda`, the `hooks` shorthand), which it invokes with the same payload
 * `{ serviceId, node, epoch, token, mode, action, execution, timeoutSeconds }`. The state machine
 * invokes only this function for node actions, under the action's Task timeout, and the history
 * shows every call with its token.
 *
 * Its answer is bounded (boundedResult, MAX_ANSWER_BYTES): status, kind, a one-line detail with
 * the size of what the action answered, an excerpt of the output. A user's function may answer
 * up to Lambda's 6 MB, and a Task result over Step Functions' 256 KiB payload quota fails the
 * execution with States.DataLimitExceeded, which no Catch catches.
 *
 * The action is given slightly less time than the Task (RESULT_MARGIN_MS), so it normally stops
 * and answers `timed-out` itself instead of running on after Step Functions stopped waiting. A
 * result other than `succeeded` fails the Task, and the workflow rolls back, with an error name the
 * state machine acts on:
 * - HookFailedError: the user's function failed by its own hand; its invocation ended.
 * - TransientAwsError: Lambda refused to run the user's function (throttled, 5xx) past the SDK's
 *   retries; nothing ran, and the Task retries it as it retries Lambda's own errors.
 * - NodeActionFailedError: anything else; the action may still be running (ABANDONED_CALL_ERRORS).
 */
import * as z from 'zod';
import { nodeActionRefusal } from '../app/node-action-guard.ts';
import { excerpt, tail } from '../aws/actions/common.ts';
import { awsNodeActions } from '../aws/actions/index.ts';
import { dynamoDbDocumentClient } from '../aws/clients.ts';
import { DynamoDbState } from '../aws/dynamodb-state.ts';
import {
  HookFailedError,
  LeaseLostError,
  NodeActionFailedError,
  TransientAwsError,
} from '../domain/errors.ts';
import type { NodeActionPort, NodeActionResult } from '../domain/node-actions.ts';
import { parseInput } from '../domain/parse-input.ts';
import type { Logger, StatePort } from '../domain/ports.ts';
import { loadRuntimeConfig, requireEnv } from '../runtime/config.ts';
import { JsonLogger, parseLogLevel } from '../runtime/logger.ts';

/** Time kept back from the Task timeout to write the answer. */
export const RESULT_MARGIN_MS = 2_000;

/**
 * The most an answer of this function weighs, as UTF-8 JSON, whatever the action printed: far
 * under Step Functions' 256 KiB payload quota (every string below is cut to a fixed number of
 * characters, and JSON writes one character in at most 6 bytes).
 */
export const MAX_ANSWER_BYTES = 64 * 1024;
const DETAIL_CHARS = 1_000;
const OUTPUT_CHARS = 2_000;
const NAME_CHARS = 200;
const MAX_IDS = 10;

/** The result with every string cut to its bound: what the function answers and logs. */
export function boundedResult(result: NodeActionResult): NodeActionResult {
  const cut = (text: string) => excerpt(text, NAME_CHARS);
  const outputTail = tail(result.outputTail, OUTPUT_CHARS);
  return {
    status: result.status,
    kind: cut(result.kind),
    detail: excerpt(result.detail, DETAIL_CHARS),
    ...(outputTail !== undefined ? { outputTail } : {}),
    ...(result.ids
      ? {
          ids: Object.fromEntries(
            Object.entries(result.ids)
              .slice(0, MAX_IDS)
              .map(([k, v]) => [cut(k), cut(v)]),
          ),
        }
      : {}),
    durationMs: result.durationMs,
    ...(result.error
      ? {
          error: {
            ...result.error,
            name: cut(result.error.name),
            message: excerpt(result.error.message, DETAIL_CHARS),
          },
        }
      : {}),
  };
}

const payloadSchema = z.strictObject({
  serviceId: z.string().min(1),
  node: z.string().min(1),
  epoch: z.number().int().min(0),
  token: z.number().int().min(0),
  mode: z.enum(['switchover', 'failover']),
  action: z.enum(['fence', 'unfence', 'promote', 'demote']),
  execution: z.string().min(1).optional(),
  timeoutSeconds: z.number().int().min(1).max(900),
});

export interface NodeActionHandlerDeps {
  readonly actions: NodeActionPort;
  readonly logger: Logger;
  /**
   * The state table: a call runs only when it shows the payload's execution making this change
   * (lambdas/app/node-action-guard.ts). The deployed function always has it.
   * @default - no check (tests of the actions themselves)
   */
  readonly state?: StatePort;
}

export type NodeActionHandler = (event: unknown) => Promise<NodeActionResult>;

export function makeHandler(deps: NodeActionHandlerDeps): NodeActionHandler {
  return async (event) => {
    const p = parseInput(payloadSchema, event, 'node-action event', '(event)');
    const call = { serviceId: p.serviceId, node: p.node, role: p.action, token: p.token };
    if (deps.state) {
      // Anyone allowed to invoke this function could send any payload: nothing runs unless the
      // state table shows its execution making this change. Refused before anything ran, so the
      // workflow does not wait it out (LeaseLostError is not an abandoned call).
      const why = await nodeActionRefusal(deps.state, p);
      if (why !== undefined) {
        deps.logger.warn('node action refused', { ...call, execution: p.execution, why });
        throw new LeaseLostError(p.serviceId, p.execution ?? '(no execution)', {
          refusing: `${p.action} ${p.node} (${why})`,
        });
      }
    }
    const result = await deps.actions.run({
      serviceId: p.serviceId,
      nodeId: p.node,
      role: p.action,
      mode: p.mode,
      epoch: p.epoch,
      token: p.token,
      timeoutMs: Math.max(1_000, p.timeoutSeconds * 1000 - RESULT_MARGIN_MS),
      ...(p.execution ? { execution: p.execution } : {}),
    });
    const answer = boundedResult(result);
    if (answer.status === 'succeeded') {
      deps.logger.info('node action succeeded', { ...call, ...answer });
      return answer;
    }
    deps.logger.error('node action failed', { ...call, ...answer });
    const where = `${p.action} ${p.serviceId}/${p.node} (token ${p.token})`;
    if (answer.error?.name === 'HookFailedError') {
      // The function's own failure, without the runner's "<role> hook failed: " opening.
      const own = answer.error.message.replace(/^\w+ hook failed: /, '');
      throw new HookFailedError(p.action, `${p.serviceId}/${p.node} (token ${p.token}): ${own}`);
    }
    if (
      answer.kind === 'lambda' &&
      answer.status === 'failed' &&
      answer.error?.retryable &&
      !answer.error.uncertain
    ) {
      throw new TransientAwsError(`invoking the function of ${where}`, {
        cause: Object.assign(new Error(answer.error.message), { name: answer.error.name }),
      });
    }
    throw new NodeActionFailedError(answer.kind, answer.status, `${where}: ${answer.detail}`);
  };
}

let production: NodeActionHandler | undefined;

/** Built on the first invocation (configuration read once), reused while warm. */
export const handler: NodeActionHandler = async (event) => {
  production ??= makeHandler({
    actions: awsNodeActions(loadRuntimeConfig()),
    logger: new JsonLogger({ service: 'node-action', level: parseLogLevel(process.env.LOG_LEVEL) }),
    state: new DynamoDbState({ tableName: requireEnv('TABLE_NAME'), client: dynamoDbDocumentClient() }),
  });
  return production(event);
};
