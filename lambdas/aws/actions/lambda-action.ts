/**
 * `lambda`: the user's own function (the `hooks` block is its shorthand), invoked synchronously
 * with the hook payload the workflow has always sent, plus `token`:
 * `{ serviceId, node, epoch, token, mode, action, execution?, timeoutSeconds }`.
 * A function error (`FunctionError` set) fails the action with HookFailedError and an excerpt of
 * the function's own message: the function ended by its own hand. The answer is never passed on
 * whole (a function may answer up to Lambda's 6 MB): the result keeps its size and its tail.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { ActionOf } from '../../domain/action-config.ts';
import { HookFailedError } from '../../domain/errors.ts';
import { type ActionContext, excerpt, type KindOutcome, tail } from './common.ts';

type LambdaAction = ActionOf<'lambda'>;

const RESULT_TAIL_CHARS = 2000;

export interface LambdaActionDeps {
  readonly client: LambdaClient;
}

export function lambdaRunner(deps: LambdaActionDeps) {
  return async (ctx: ActionContext<LambdaAction>): Promise<KindOutcome> => {
    const { request } = ctx;
    const payload = {
      serviceId: request.serviceId,
      node: request.nodeId,
      epoch: request.epoch,
      token: request.token,
      mode: request.mode,
      action: request.role,
      ...(request.execution !== undefined ? { execution: request.execution } : {}),
      timeoutSeconds: Math.ceil(request.timeoutMs / 1000),
    };
    const out = await deps.client.send(
      new InvokeCommand({
        FunctionName: ctx.action.functionArn,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
      { abortSignal: ctx.signal },
    );
    const bytes = out.Payload?.byteLength ?? 0;
    const body = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      let message = body;
      try {
        const parsed = JSON.parse(body) as { errorType?: string; errorMessage?: string };
        message = `${parsed.errorType ?? out.FunctionError}: ${parsed.errorMessage ?? body}`;
      } catch {
        // Not JSON: keep the raw body.
      }
      throw new HookFailedError(
        request.role,
        `${ctx.action.functionArn} answered ${excerpt(message, RESULT_TAIL_CHARS)} (${bytes} bytes)`,
      );
    }
    const outputTail = tail(body, RESULT_TAIL_CHARS);
    return {
      detail: `${ctx.action.functionArn} answered (status ${out.StatusCode ?? '?'}, ${bytes} bytes)`,
      ...(outputTail ? { outputTail } : {}),
      ...(out.ExecutedVersion ? { ids: { executedVersion: out.ExecutedVersion } } : {}),
    };
  };
}
