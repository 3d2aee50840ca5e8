/**
 * The node-action function: runs one built-in node action (ssm-command, ec2-stop, ec2-isolate,
 * rds-promote-read-replica, postgres, mysql) for the switchover workflow. The state machine invokes
 * it exactly as it invokes a user's hook Lambda, with the same payload
 * `{ serviceId, node, epoch, token, mode, action, execution, timeoutSeconds }`, under the same Task
 * timeout; so the definition has one kind of action state, and the history shows every call with
 * its token.
 *
 * The action is given slightly less time than the Task (RESULT_MARGIN_MS), so it normally stops
 * and answers `timed-out` itself instead of running on after Step Functions stopped waiting. A
 * result other than `succeeded` is thrown as NodeActionFailedError: the Task fails, the workflow
 * rolls back.
 */
import * as z from 'zod';
import { awsNodeActions } from '../aws/actions/index.ts';
import { describeIssues } from '../domain/config.ts';
import { InvalidInputError, NodeActionFailedError } from '../domain/errors.ts';
import type { NodeActionPort, NodeActionResult } from '../domain/node-actions.ts';
import type { Logger } from '../domain/ports.ts';
import { loadRuntimeConfig } from '../runtime/config.ts';
import { JsonLogger, parseLogLevel } from '../runtime/logger.ts';

/** Time kept back from the Task timeout to write the answer. */
export const RESULT_MARGIN_MS = 2_000;

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
}

export type NodeActionHandler = (event: unknown) => Promise<NodeActionResult>;

export function makeHandler(deps: NodeActionHandlerDeps): NodeActionHandler {
  return async (event) => {
    const parsed = payloadSchema.safeParse(event);
    if (!parsed.success) {
      throw new InvalidInputError(
        'invalid node-action event',
        describeIssues(parsed.error.issues, event, '(event)'),
      );
    }
    const p = parsed.data;
    const call = { serviceId: p.serviceId, node: p.node, role: p.action, token: p.token };
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
    if (result.status !== 'succeeded') {
      deps.logger.error('node action failed', { ...call, ...result });
      throw new NodeActionFailedError(
        result.kind,
        result.status,
        `${p.action} ${p.serviceId}/${p.node} (token ${p.token}): ${result.detail}`,
      );
    }
    deps.logger.info('node action succeeded', { ...call, ...result });
    return result;
  };
}

let production: NodeActionHandler | undefined;

/** Built on the first invocation (configuration read once), reused while warm. */
export const handler: NodeActionHandler = async (event) => {
  production ??= makeHandler({
    actions: awsNodeActions(loadRuntimeConfig()),
    logger: new JsonLogger({ service: 'node-action', level: parseLogLevel(process.env.LOG_LEVEL) }),
  });
  return production(event);
};
