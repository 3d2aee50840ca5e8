/**
 * How long the automatic role change may take, from the configuration: the failover Lambda's
 * timeout and its lease are derived from it (both sides compute it from the same file), and a
 * configuration whose actions cannot fit in one Lambda invocation is refused at synth.
 *
 * The worst path of one event: fence the old primary (capped), promote a candidate that times
 * out and demote it again, promote the next one, find traffic moved by someone else, demote that
 * one too and unfence the old primary; plus the engine's own round trips (facts, lease, shift,
 * verify, commit, announce).
 *
 * Pure: no AWS SDK, no environment, no clock.
 */
import { actionForRole } from './action-config.ts';
import type { FailoverConfig, ServiceConfig } from './config.ts';
import type { ConfigProblem } from './errors.ts';
import type { NodeActionRole } from './node-actions.ts';

/** The automatic path tries at most this many candidates per event, best first. */
export const MAX_PROMOTION_ATTEMPTS = 2;

/** The automatic path's fence of a failing primary waits at most this long (s). */
export const AUTO_FENCE_BOUND_SECONDS = 15;

/** The engine's own round trips around the actions: facts, lease, shift, verify, commit, announce (s). */
export const ENGINE_OVERHEAD_SECONDS = 20;

/** Lambda's hard limit (s). */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** The failover Lambda's timeout without node actions (s). */
export const BASE_FAILOVER_TIMEOUT_SECONDS = 60;

/**
 * How much longer the lease lives than the invocation that holds it (s): a stalled invocation is
 * killed by Lambda before anyone else can take its lease (no zombie writer).
 */
export const LEASE_MARGIN_SECONDS = 60;

/** A node's action timeout for a role in seconds, undefined when it has no such action. */
export type ActionTimeoutOf = (
  service: ServiceConfig,
  nodeId: string,
  role: NodeActionRole,
) => number | undefined;

/** The configured actions' timeouts (`actions`, per-node overrides, or the `hooks` shorthand). */
export const configuredTimeouts: ActionTimeoutOf = (service, nodeId, role) =>
  actionForRole(service, nodeId, role)?.timeoutSeconds;

/** The longest one automatic role change of `service` can take (s). */
export function roleChangeBudgetSeconds(
  service: ServiceConfig,
  timeoutOf: ActionTimeoutOf = configuredTimeouts,
): number {
  const worst = (role: NodeActionRole) =>
    Math.max(0, ...service.nodes.map((n) => timeoutOf(service, n.id, role) ?? 0));
  const fence = Math.min(worst('fence'), AUTO_FENCE_BOUND_SECONDS);
  const promote = worst('promote');
  const demote = promote > 0 ? worst('demote') : 0;
  const unfence = fence > 0 ? worst('unfence') || worst('fence') : 0;
  return ENGINE_OVERHEAD_SECONDS + fence + MAX_PROMOTION_ATTEMPTS * (promote + demote) + unfence;
}

/** The failover Lambda's timeout: enough for the slowest service's worst path (s). */
export function failoverTimeoutSeconds(
  config: FailoverConfig,
  timeoutOf: ActionTimeoutOf = configuredTimeouts,
): number {
  const need = Math.max(0, ...config.services.map((s) => roleChangeBudgetSeconds(s, timeoutOf)));
  return Math.min(LAMBDA_MAX_TIMEOUT_SECONDS, Math.max(BASE_FAILOVER_TIMEOUT_SECONDS, Math.ceil(need)));
}

/** The failover lease: longer than the invocation that holds it (s). */
export function failoverLeaseSeconds(
  config: FailoverConfig,
  timeoutOf: ActionTimeoutOf = configuredTimeouts,
): number {
  return failoverTimeoutSeconds(config, timeoutOf) + LEASE_MARGIN_SECONDS;
}

/** Services whose worst path cannot fit one Lambda invocation: reported at synth. */
export function roleChangeBudgetProblems(
  config: FailoverConfig,
  timeoutOf: ActionTimeoutOf = configuredTimeouts,
): ConfigProblem[] {
  return config.services.flatMap((service, i) => {
    const need = roleChangeBudgetSeconds(service, timeoutOf);
    if (need <= LAMBDA_MAX_TIMEOUT_SECONDS) return [];
    return [
      {
        path: `services[${i}]`,
        message: `the automatic failover's worst path (fence ≤ ${AUTO_FENCE_BOUND_SECONDS} s, ${MAX_PROMOTION_ATTEMPTS} × (promote + demote), unfence, ${ENGINE_OVERHEAD_SECONDS} s of its own) needs ${need} s, more than Lambda's ${LAMBDA_MAX_TIMEOUT_SECONDS} s: lower the promote/demote timeouts`,
        value: service.id,
      },
    ];
  });
}
