/** `failover pause|resume <service>` and `failover history <service>`: the state table directly. */
import { initialState } from '../lambdas/domain/decide.ts';
import type { Command } from './args.ts';
import type { CommandContext } from './context.ts';
import { secondsText, table, timeText } from './output.ts';
import { requireService } from './status.ts';

type PauseCommand = Extract<Command, { name: 'pause' | 'resume' }>;
type HistoryCommand = Extract<Command, { name: 'history' }>;
type RejoinCommand = Extract<Command, { name: 'rejoin' }>;

/**
 * Sets the paused flag (seeding the state item like the first lease would) and announces it. The
 * flag is what automatic failover reads; the notification is how the on-call learns of it, so a
 * notification that cannot be sent makes the command fail (exit 1) although the flag is set.
 */
export async function runPause(ctx: CommandContext, cmd: PauseCommand): Promise<number> {
  const { out, services } = ctx;
  const service = requireService(ctx.config, cmd.serviceId);
  const paused = cmd.name === 'pause';
  const state = await services.state();
  const before = (await state.get(service.id)) ?? initialState(service);
  await state.setPaused(service.id, paused, service.initialPrimary);
  const verb = paused ? 'paused' : 'resumed';
  const reason = cmd.reason ?? `${verb} by ${ctx.actor} with the failover CLI`;
  const unchanged = before.paused === paused;
  const at = ctx.clock.now();
  const result = {
    serviceId: service.id,
    paused,
    changed: !unchanged,
    primary: before.primary,
    epoch: before.epoch,
    actor: ctx.actor,
    reason,
    at: timeText(at),
  };
  out.text(
    `${service.id}: automatic failover ${verb}${unchanged ? ` (it was already ${verb})` : ''}; primary ${before.primary}, epoch ${before.epoch}`,
  );
  try {
    const notifier = await services.notifier();
    await notifier.publish({
      kind: paused ? 'paused' : 'resumed',
      serviceId: service.id,
      subject: `${service.id}: automatic failover ${verb} by ${ctx.actor}`,
      detail: { ...result },
    });
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    out.result({ ...result, notified: false, notifyError: message });
    out.warn(`the ${verb} flag is set, but the notification could not be sent: ${message}`);
    return 1;
  }
  out.result({ ...result, notified: true });
  out.text('  announced on the notification topic');
  return 0;
}

export async function runHistory(ctx: CommandContext, cmd: HistoryCommand): Promise<number> {
  const { out } = ctx;
  const service = requireService(ctx.config, cmd.serviceId);
  const entries = await (await ctx.services.state()).history(service.id, cmd.limit);
  out.result({ serviceId: service.id, entries });
  if (entries.length === 0) {
    out.text(`${service.id}: no role change recorded (primary is the configured ${service.initialPrimary})`);
    return 0;
  }
  for (const line of table(
    ['epoch', 'at', 'operation', 'change', 'lag', 'actor', 'reason'],
    entries.map((e) => [
      String(e.epoch),
      timeText(e.at),
      e.operation,
      `${e.from} -> ${e.to}`,
      `${e.lagSeconds === undefined ? 'unknown' : secondsText(e.lagSeconds)}${e.forced ? ' FORCED' : ''}`,
      e.actor,
      e.reason,
    ]),
  )) {
    out.text(line);
  }
  return 0;
}

/** `failover rejoin <service> <node>`: the operator made a former primary a replica by hand. */
export async function runRejoinCommand(ctx: CommandContext, cmd: RejoinCommand): Promise<number> {
  const { out } = ctx;
  const service = requireService(ctx.config, cmd.serviceId);
  const state = await ctx.services.state();
  const current = (await state.get(service.id)) ?? initialState(service);
  if (!current.needsRejoin?.includes(cmd.nodeId)) {
    out.result({
      serviceId: service.id,
      nodeId: cmd.nodeId,
      changed: false,
      needsRejoin: current.needsRejoin ?? [],
    });
    out.text(`${service.id}: ${cmd.nodeId} is not marked needs-rejoin; nothing to do`);
    return 0;
  }
  const reason = cmd.reason ?? `rejoined by ${ctx.actor} with the failover CLI`;
  await state.markRejoined({
    serviceId: service.id,
    nodeId: cmd.nodeId,
    expectedEpoch: current.epoch,
    history: {
      serviceId: service.id,
      epoch: current.epoch,
      at: ctx.clock.now(),
      operation: 'rejoin',
      from: cmd.nodeId,
      to: cmd.nodeId,
      reason,
      actor: ctx.actor,
    },
  });
  out.result({ serviceId: service.id, nodeId: cmd.nodeId, changed: true, epoch: current.epoch, reason });
  out.text(`${service.id}: ${cmd.nodeId} rejoined at epoch ${current.epoch}; it can be a candidate again`);
  return 0;
}
