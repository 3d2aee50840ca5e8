/**
 * Verify, for a change with node actions: the router, read back, points at the promoted target.
 * The compare-and-swap already answered `shifted`; the read-back catches a router that accepted
 * the change and points elsewhere (a concurrent move by hand). A read error is not a mismatch:
 * the swap's own answer stands and the commit records it. Services without actions skip this
 * round trip (the traffic-only fast path).
 */
import type { ChangeContext } from './context.ts';
import { describe } from './context.ts';
import type { FailoverDecision } from './plan.ts';
import { readBack } from './shift.ts';

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly detail: string };

export async function verifyShift(ctx: ChangeContext, decision: FailoverDecision): Promise<VerifyResult> {
  const { observed, error } = await readBack(ctx);
  if (error !== undefined) {
    ctx.deps.logger.warn('verify read-back failed; the swap answered shifted', {
      serviceId: ctx.service.id,
      error: describe(error),
    });
    return { ok: true };
  }
  if (observed === decision.to) return { ok: true };
  return {
    ok: false,
    detail: `after the swap to ${decision.to} the router points at ${observed ?? 'no single node'}`,
  };
}
