/**
 * An automatic failover taking a service over from a workflow that lost its lease: it takes the
 * expired lease, fences the old primary and promotes another node with its own tokens, moves
 * traffic and commits the next epoch. The lease-loss tests (test/workflow/lease-lost.test.ts and
 * the reliability matrix test/reliability/workflow-lease-loss.test.ts) run it mid-execution.
 */
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import type { NodeRoles } from './node-roles.ts';

export interface Takeover {
  readonly serviceId: string;
  /** The lease holder (and the history's actor). */
  readonly holder: string;
  readonly from: string;
  readonly to: string;
  /** The history entry's reason. */
  readonly reason: string;
}

/** At epoch 0 and the clock's now: lease, fence `from`, promote `to`, shift, commit epoch 1. */
export async function autoFailoverTakesOver(
  env: MemoryEnvironment,
  nodes: NodeRoles,
  t: Takeover,
): Promise<void> {
  const now = env.clock.now();
  const { serviceId, holder, from, to } = t;
  const { sequence } = await env.state.acquireLease({
    serviceId,
    expectedEpoch: 0,
    seedPrimary: from,
    lease: { holder, operation: 'auto-failover', acquiredAt: now, expiresAt: now + 120_000 },
    now,
  });
  nodes.apply({ action: 'fence', node: from, token: fencingToken(1, 'fence', sequence) });
  nodes.apply({ action: 'promote', node: to, token: fencingToken(1, 'promote', sequence) });
  await env.traffic.shift([{ serviceId, from, to }]);
  await env.state.commit({
    serviceId,
    expectedEpoch: 0,
    holder,
    newPrimary: to,
    at: now,
    history: {
      serviceId,
      epoch: 1,
      at: now,
      operation: 'auto-failover',
      from,
      to,
      reason: t.reason,
      actor: holder,
    },
  });
}
