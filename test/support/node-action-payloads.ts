/**
 * What the state machine sends the node-action function: here the promote of node b at epoch 1
 * by a switchover execution. The guard tests and the forged-payload rows start from it and change
 * one field at a time.
 */
import { fencingToken } from '../../lambdas/domain/node-actions.ts';

/** `execution`'s promote of b on `serviceId`, first lease at epoch 0 (token epoch 1), with `over` applied. */
export function promotePayload(serviceId: string, execution: string, over: Record<string, unknown> = {}) {
  return {
    serviceId,
    node: 'b',
    epoch: 1,
    token: fencingToken(1, 'promote', 1),
    mode: 'switchover',
    action: 'promote',
    execution,
    timeoutSeconds: 30,
    ...over,
  };
}
