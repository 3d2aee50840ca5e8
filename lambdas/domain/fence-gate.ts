/**
 * The fence gate of an automatic failover: after the old primary's fence, may the target be
 * promoted? A promotion next to an old primary that is still writable and still reachable is two
 * writers; Pacemaker refuses to fail over until STONITH succeeds, Patroni until the old leader's
 * key expired (the old leader demotes itself when it cannot renew it). Here the rule is:
 *
 * - the fence succeeded: promote (`fenced: yes`);
 * - the old primary has no fence action: promote (`fenced: no`). The automation cannot fence it;
 *   the traffic move and the needs-rejoin mark are all the protection there is (README says so);
 * - the fence never reached the node (`error.unreachable`: no route, connection refused, the agent
 *   offline, the node down): promote. The node cannot be reached by us, and its health alarm is in
 *   ALARM (the decision requires it): by both signals it is down. `fenced: unknown` when the call
 *   timed out (a fence queued for an offline agent may still land), `no` when it failed;
 * - otherwise hold: the node answered and refused or failed the fence (a stale token, a command
 *   that exited non-zero, access denied), or the fence reached the node and did not finish in
 *   time. The node is alive and may still take writes: promoting now could make two writers.
 *
 * Pure: no AWS SDK, no environment, no clock.
 */
import type { NodeActionResult } from './node-actions.ts';
import type { FencedVerdict } from './types.ts';

export type FenceGate =
  | { readonly promote: true; readonly fenced: FencedVerdict; readonly why: FencePassReason }
  | {
      readonly promote: false;
      readonly fenced: FencedVerdict;
      readonly why: FenceHoldReason;
      readonly detail: string;
      /** The fence failed before it reached the node (throttled, a 5xx): the same call may pass later. */
      readonly retryable: boolean;
    };

export type FencePassReason = 'fenced' | 'no-fence-action' | 'unreachable';
export type FenceHoldReason = 'fence-refused' | 'fence-failed' | 'fence-hung';

/** `result` undefined: the old primary has no fence action. */
export function fenceGate(result: NodeActionResult | undefined): FenceGate {
  if (result === undefined) return { promote: true, fenced: 'no', why: 'no-fence-action' };
  const fenced = verdictOf(result);
  if (result.status === 'succeeded') return { promote: true, fenced, why: 'fenced' };
  if (result.error?.unreachable === true) return { promote: true, fenced, why: 'unreachable' };
  if (result.status === 'timed-out')
    return {
      promote: false,
      fenced,
      why: 'fence-hung',
      detail: `the fence reached the node and did not finish in time (${result.detail}); it may still be writable`,
      retryable: false,
    };
  const refused = /\brefused\b|\bstale\b/i.test(`${result.error?.name ?? ''} ${result.detail}`);
  return {
    promote: false,
    fenced,
    why: refused ? 'fence-refused' : 'fence-failed',
    detail: `the node answered and the fence ${refused ? 'was refused' : 'failed'} (${result.detail}); it may still be writable`,
    retryable: !refused && result.error?.retryable === true,
  };
}

/** What the history and the announcement say about the fence. */
export function verdictOf(result: NodeActionResult | undefined): FencedVerdict {
  if (result === undefined) return 'no';
  switch (result.status) {
    case 'succeeded':
      return 'yes';
    case 'failed':
      return 'no';
    case 'timed-out':
      return 'unknown';
  }
}
