/**
 * The node-action function trusts nothing in its payload. Anyone allowed to invoke it (an account
 * admin with `lambda:InvokeFunction` on `*`) could otherwise fence, promote or demote any
 * configured node at any time, or send a token far above the current epoch's, after which a node
 * that keeps the token contract refuses every legitimate call. So, before it acts, the state
 * table must show the execution the payload names (`execution`, the lease holder) doing this
 * change:
 *
 * - holding the lease for the payload's mode at `epoch - 1` (the forward calls, and the rollback's
 *   undo; an expired lease still recorded for it counts, so a rollback can finish late), or
 * - having made the change at `epoch` (the old primary's demote after the commit);
 *
 * and the token must be one of that epoch's (lambdas/domain/node-actions.ts, TOKEN_EPOCH_STRIDE).
 * What remains (a caller who knows a running execution's name acting within its epoch) is closed
 * by letting only the state machine invoke the function (SCP in docs/operating.md).
 */
import { TOKEN_EPOCH_STRIDE } from '../domain/node-actions.ts';
import type { StatePort } from '../domain/ports.ts';

export interface GuardedCall {
  readonly serviceId: string;
  readonly epoch: number;
  readonly token: number;
  readonly mode: string;
  readonly execution?: string;
}

/** Why the call must not run, or undefined when the state table shows its execution making this change. */
export async function nodeActionRefusal(state: StatePort, call: GuardedCall): Promise<string | undefined> {
  if (Math.floor(call.token / TOKEN_EPOCH_STRIDE) !== call.epoch)
    return `token ${call.token} is not a token of epoch ${call.epoch}`;
  if (!call.execution) return 'the call names no execution';
  const stored = await state.get(call.serviceId);
  const epoch = stored?.epoch ?? 0;
  const lease = stored?.lease;
  if (lease?.holder === call.execution && lease.operation === call.mode && epoch === call.epoch - 1)
    return undefined;
  const change = stored?.lastChange;
  if (epoch === call.epoch && change?.epoch === call.epoch && change.actor === call.execution)
    return undefined;
  return `${call.serviceId} is at epoch ${epoch}${
    lease ? ` with the lease held by ${lease.holder} for a ${lease.operation}` : ' with no lease held'
  }: ${call.execution} is not making the change to epoch ${call.epoch}`;
}
