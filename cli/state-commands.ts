/** `failover pause|resume <service>` and `failover history <service>`: the state table directly. */
import { currentState } from '../lambdas/domain/decide.ts';
import { PauseChangedError } from '../lambdas/domain/errors.ts';
import type { StatePort } from '../lambdas/domain/ports.ts';
import type { PauseRecord } from '../lambdas/domain/types.ts';
import type { Command } from './args.ts';
import type { CommandContext } from './context.ts';
import { secondsText, table, timeText } from './output.ts';
import { requireService } from './status.ts';

type PauseCommand = Extract<Command, { name: 'pause' | 'resume' }>;
type HistoryCommand = Extract<Command, { name: 'history' }>;
type RejoinCommand = Extract<Command, { name: 'rejoin' }>;

/**
 * Sets or clears the paused flag and announces the change. A pause keeps who (the caller's IAM
 * identity, else `user@host`), when and why on the state item, for `status`; it never records a
 * primary (a stale local configuration would record the wrong one). Nothing to change (resume of
 * a running service, pause of a paused one) says so and announces nothing. The flag is what
 * automatic failover reads; the notification is how the on-call learns of it, so a notification
 * that cannot be sent makes the command fail (exit 1) although the flag is set.
 */
export async function runPause(ctx: CommandContext, cmd: PauseCommand): Promise<number> {
  const { out, services } = ctx;
  const service = requireService(ctx.config, cmd.serviceId);
  const paused = cmd.name === 'pause';
  const state = await services.state();
  const before = currentState(await state.get(service.id), service);
  const verb = paused ? 'paused' : 'resumed';
  if (before.paused === paused) {
    const by = before.pause;
    out.result({
      serviceId: service.id,
      paused,
      changed: false,
      notified: false,
      ...(by ? { pausedBy: by.by, pausedAt: timeText(by.at), pauseReason: by.reason } : {}),
    });
    out.text(
      paused
        ? `${service.id}: automatic failover is already paused${by ? ` (${pauseText(by)})` : ''}; nothing changed, nothing announced`
        : `${service.id}: automatic failover is not paused; nothing to resume, nothing announced`,
    );
    return 0;
  }
  const at = ctx.clock.now();
  const by = await whoIsCalling(ctx);
  const reason = cmd.reason ?? `${verb} by ${ctx.actor} with the failover CLI`;
  try {
    // A resume clears only the pause it read: one a rollback or a needs-attention path wrote
    // meanwhile stays, and the operator sees it. A pause needs no condition (pausing is idempotent).
    await state.setPaused(
      service.id,
      paused,
      paused ? { by, at, reason } : undefined,
      paused ? undefined : { pause: before.pause },
    );
  } catch (err) {
    if (!(err instanceof PauseChangedError)) throw err;
    return refuseChangedPause(ctx, service.id, before.pause, state);
  }
  const result = {
    serviceId: service.id,
    paused,
    changed: true,
    primary: before.primary,
    epoch: before.epoch,
    actor: ctx.actor,
    by,
    reason,
    at: timeText(at),
    ...(!paused && before.pause
      ? { pausedBy: before.pause.by, pausedAt: timeText(before.pause.at), pauseReason: before.pause.reason }
      : {}),
  };
  out.text(`${service.id}: automatic failover ${verb}; primary ${before.primary}, epoch ${before.epoch}`);
  if (!paused && before.pause) out.text(`  it was ${pauseText(before.pause)}`);
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
    out.warn(
      `the ${verb} flag is ${paused ? 'set' : 'cleared'}, but the notification could not be sent: ${message}`,
    );
    return 1;
  }
  out.result({ ...result, notified: true });
  out.text('  announced on the notification topic');
  return 0;
}

/** The pause changed between the read and the resume's conditional write: show the newer one, exit 1. */
async function refuseChangedPause(
  ctx: CommandContext,
  serviceId: string,
  read: PauseRecord | undefined,
  state: StatePort,
): Promise<number> {
  const { out } = ctx;
  const service = requireService(ctx.config, serviceId);
  const now = currentState(await state.get(serviceId), service);
  out.result({
    serviceId,
    paused: now.paused,
    changed: false,
    notified: false,
    error: 'PauseChangedError',
    ...(read ? { readPause: pauseFields(read) } : {}),
    ...(now.pause ? pauseFields(now.pause) : {}),
  });
  out.warn(
    `${serviceId}: NOT resumed: the pause changed after it was read (it was ${read ? pauseText(read) : 'paused with no record'})`,
  );
  out.warn(
    `  now: ${now.paused ? (now.pause ? pauseText(now.pause) : 'paused with no record') : 'not paused (resumed meanwhile)'}`,
  );
  out.warn(
    `  look at why (failover status ${serviceId}, failover history ${serviceId}), then run failover resume ${serviceId} again if automatic failover should still resume`,
  );
  return 1;
}

function pauseFields(p: PauseRecord): { pausedBy: string; pausedAt: string; pauseReason: string } {
  return { pausedBy: p.by, pausedAt: timeText(p.at), pauseReason: p.reason };
}

/** `paused by <who> at <time>: <why>` */
export function pauseText(p: PauseRecord): string {
  return `paused by ${p.by} at ${timeText(p.at)}: ${p.reason}`;
}

/**
 * The caller's IAM identity (STS GetCallerIdentity) names who paused better than a laptop's
 * `user@host`; when it cannot be read, the local user is still better than nobody.
 */
async function whoIsCalling(ctx: CommandContext): Promise<string> {
  if (!ctx.services.callerIdentity) return ctx.actor;
  try {
    return `${await ctx.services.callerIdentity()} (${ctx.actor})`;
  } catch (err) {
    ctx.out.warn(
      `warning: the caller identity could not be read (${err instanceof Error ? err.message : String(err)}); recording ${ctx.actor}`,
    );
    return ctx.actor;
  }
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
  const current = currentState(await state.get(service.id), service);
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
