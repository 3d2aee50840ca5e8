/**
 * The "readiness" section of `failover status <service>`: the same checks as `failover check`, for
 * the one service status reads live anyway (its record or listener), so an operator sees a wrong
 * TTL or a missing alarm next to the primary and the lag. `status` of every service leaves it out
 * (Route 53's 5 requests/s are shared with failovers) and says to run `failover check`.
 */
import { checkReadiness } from '../lambdas/app/readiness.ts';
import type { ServiceConfig } from '../lambdas/domain/config.ts';
import type { ServiceReadiness } from '../lambdas/domain/readiness.ts';
import type { CommandContext } from './context.ts';

export type StatusReadiness =
  | { readonly status: ServiceReadiness['status']; readonly checks: ServiceReadiness['checks'] }
  | { readonly status: 'not-checked'; readonly reason: string };

export async function statusReadiness(ctx: CommandContext, service: ServiceConfig): Promise<StatusReadiness> {
  const readers = ctx.services.readiness;
  if (!readers) return { status: 'not-checked', reason: 'no readiness readers in this CLI build' };
  try {
    const [r] = await checkReadiness(
      {
        alarms: ctx.services.alarms,
        lag: ctx.services.lag,
        state: await ctx.services.state(),
        routing: readers.routing,
        resources: readers.resources,
        clock: ctx.clock,
      },
      [service],
    );
    return r ? { status: r.status, checks: r.checks } : { status: 'not-checked', reason: 'no result' };
  } catch (err) {
    return {
      status: 'not-checked',
      reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}

/** `  readiness    NOT READY: routing: record ... TTL 300 s ...` then one `!` line per other reason. */
export function readinessSectionLines(r: StatusReadiness): string[] {
  if (r.status === 'not-checked') return [`  readiness    not checked: ${r.reason}`];
  if (r.status === 'ready')
    return ['  readiness    ready: every check passes (failover check for the detail)'];
  const problems = r.checks.flatMap((c) =>
    c.status === 'pass' ? [] : c.reasons.map((why) => `${c.check}: ${why}`),
  );
  const head = r.status === 'not-ready' ? 'NOT READY' : 'UNKNOWN (a read failed)';
  const [first, ...rest] = problems;
  return [`  readiness    ${head}${first ? `: ${first}` : ''}`, ...rest.map((p) => `  !            ${p}`)];
}
