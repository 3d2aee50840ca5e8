/**
 * The node-action port of a deployment without node actions: every service takes the
 * no-action path (traffic moves, nothing is fenced or promoted; old primaries wait for an
 * operator's `failover rejoin`).
 */
import type { NodeActionPort } from '../../domain/node-actions.ts';

export const NO_NODE_ACTIONS: NodeActionPort = {
  has: () => false,
  run: async (request) => {
    throw new Error(`no ${request.role} action for ${request.serviceId}/${request.nodeId}`);
  },
};
