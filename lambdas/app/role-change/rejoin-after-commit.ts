/**
 * The old primary came back while its failover was in flight. Its alarm's OK event reached an
 * invocation before the commit marked it needs-rejoin, so that invocation held
 * (`not-an-alarm-transition`) and no further event comes: the alarm stays OK. A primary that was
 * down at its fence (unreachable) comes back as it went down, writable. So the invocation that
 * commits reads the old primary's alarm once more and, when it is OK, rejoins it at once (demoted,
 * or fenced, with the new epoch's rejoin token: rejoin.ts). Best effort: the change is committed
 * and announced whatever happens here; a failure is logged, and the mark stays for the next OK
 * event or an operator's `failover rejoin`.
 */
import { healthAlarmName } from '../../domain/config.ts';
import type { ClusterState } from '../../domain/types.ts';
import { ChangeContext, describe } from './context.ts';
import type { FailoverDecision } from './plan.ts';
import { runRejoin } from './rejoin.ts';

export async function rejoinIfBack(
  ctx: ChangeContext,
  decision: FailoverDecision,
  committed: ClusterState,
): Promise<void> {
  const { deps, service } = ctx;
  // Without a demote or fence action there is nothing to run; the OK event's own path pages.
  if (!ctx.has(decision.from, 'demote') && !ctx.has(decision.from, 'fence')) return;
  const node = service.nodes.find((n) => n.id === decision.from);
  if (!node) return;
  const alarmName = healthAlarmName(service, node);
  try {
    const states = await deps.alarms.getStates([alarmName]);
    if (states.get(alarmName) !== 'OK') return;
    deps.logger.info('old primary came back during its failover: rejoining it now', {
      serviceId: service.id,
      nodeId: decision.from,
      epoch: committed.epoch,
    });
    const rejoin = new ChangeContext(
      deps,
      service,
      ctx.transition,
      committed,
      ctx.startedAt,
      deps.clock.now(),
      ctx.attempt,
    );
    await runRejoin(rejoin, decision.from);
  } catch (err) {
    deps.logger.warn('rejoin of an old primary that came back during its failover failed; it stays marked', {
      serviceId: service.id,
      nodeId: decision.from,
      error: describe(err),
    });
  }
}
