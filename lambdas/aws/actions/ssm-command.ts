/**
 * `ssm-command`: SSM Run Command on the node's instances. SendCommand once, then
 * GetCommandInvocation per instance until every one is final: `Success` everywhere succeeds;
 * `Failed`, `TimedOut` or `Cancelled` anywhere fails.
 *
 * A script that outlives our wait must not land after the rollback: the AWS-owned script documents
 * get `executionTimeout` = the action's timeout, so the instance's agent kills the script itself.
 * (CancelCommand is not used: it has no resource-level permission, and the stack grants no write
 * action on `*`.) Your own document must bound its own run time, and every script should refuse
 * a `{token}` lower than the highest it has seen.
 */
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { ActionOf } from '../../domain/action-config.ts';
import { nodeInstanceIds } from '../../domain/action-config.ts';
import { NodeActionFailedError } from '../../domain/errors.ts';
import { type ActionContext, type KindOutcome, type Poll, tail, template, waitFor } from './common.ts';

const SCRIPT_DOCUMENTS = new Set(['AWS-RunShellScript', 'AWS-RunPowerShellScript']);
const FAILED = new Set(['Failed', 'TimedOut', 'Cancelled']);
/** SendCommand's own delivery timeout has a minimum of 30 s. */
const MIN_DELIVERY_TIMEOUT_SECONDS = 30;

type SsmAction = ActionOf<'ssm-command'>;

export interface SsmCommandDeps {
  readonly client: SSMClient;
}

export function ssmCommandRunner(deps: SsmCommandDeps) {
  return async (ctx: ActionContext<SsmAction>): Promise<KindOutcome> => {
    const { request, action } = ctx;
    const instanceIds = nodeInstanceIds(ctx.node);
    const lines = request.role === 'unfence' ? action.undoCommands : action.commands;
    if (request.role === 'unfence' && !lines) {
      throw new NodeActionFailedError(
        action.type,
        'failed',
        'this fence has no undoCommands: it cannot be undone',
      );
    }
    const parameters: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(action.parameters ?? {})) {
      parameters[name] = values.map((v) => template(v, request));
    }
    if (lines) parameters.commands = lines.map((l) => template(l, request));
    const timeoutSeconds = Math.max(1, Math.ceil(request.timeoutMs / 1000));
    if (SCRIPT_DOCUMENTS.has(action.document)) parameters.executionTimeout = [String(timeoutSeconds)];

    const sent = await deps.client.send(
      new SendCommandCommand({
        DocumentName: action.document,
        InstanceIds: [...instanceIds],
        Parameters: parameters,
        TimeoutSeconds: Math.max(MIN_DELIVERY_TIMEOUT_SECONDS, timeoutSeconds),
        Comment:
          `failover ${request.role} ${request.serviceId}/${request.nodeId} token ${request.token}`.slice(
            0,
            100,
          ),
      }),
      { abortSignal: ctx.signal },
    );
    const commandId = sent.Command?.CommandId;
    if (!commandId)
      throw new NodeActionFailedError(action.type, 'failed', 'SendCommand returned no command id');

    const finals = await waitFor(ctx, () => readAll(deps.client, ctx, commandId, instanceIds));
    const failed = finals.filter((f) => f.Status !== 'Success');
    const output = finals
      .map(
        (f) =>
          `[${f.InstanceId}] ${f.Status}\n${f.StandardOutputContent ?? ''}${f.StandardErrorContent ?? ''}`,
      )
      .join('\n');
    const outputTail = tail(output, action.outputTailChars);
    if (failed.length > 0) {
      throw new NodeActionFailedError(
        action.type,
        'failed',
        `command ${commandId} ${failed.map((f) => `${f.InstanceId} ${f.Status} (exit ${f.ResponseCode ?? '?'})`).join(', ')}${outputTail ? `: ${outputTail}` : ''}`,
      );
    }
    return {
      detail: `${action.document} succeeded on ${instanceIds.join(', ')}`,
      ...(outputTail ? { outputTail } : {}),
      ids: { commandId, instanceIds: instanceIds.join(',') },
    };
  };
}

async function readAll(
  client: SSMClient,
  ctx: ActionContext<SsmAction>,
  commandId: string,
  instanceIds: readonly string[],
): Promise<Poll<GetCommandInvocationCommandOutput[]>> {
  const reads = await Promise.all(instanceIds.map((id) => readOne(client, ctx, commandId, id)));
  const pending = reads.filter(
    (r) => r.Status === undefined || !(r.Status === 'Success' || FAILED.has(r.Status)),
  );
  if (pending.length === 0) return { done: true, value: reads };
  return {
    done: false,
    detail: `command ${commandId}: ${reads.map((r) => `${r.InstanceId} ${r.Status ?? 'not yet registered'}`).join(', ')}`,
  };
}

async function readOne(
  client: SSMClient,
  ctx: ActionContext<SsmAction>,
  commandId: string,
  instanceId: string,
): Promise<GetCommandInvocationCommandOutput> {
  try {
    return await client.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
      {
        abortSignal: ctx.signal,
      },
    );
  } catch (err) {
    // Right after SendCommand the invocation may not be registered yet (eventual consistency).
    if ((err as { name?: string }).name === 'InvocationDoesNotExist') {
      return { InstanceId: instanceId, $metadata: {} };
    }
    throw err;
  }
}
