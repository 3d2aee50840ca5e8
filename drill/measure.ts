/**
 * Recovery time and recovery point, measured from what happened in a scenario run.
 *
 * RTO is split along the critical path, from the incident to the moment every client reaches the
 * new primary (worst case): for an automatic failover, the alarm's evaluation periods, event
 * delivery, the decision (one parallel read round), the lease, with node actions the fence and the
 * promotion, the traffic shift, then for DNS the propagation to every Route 53 name server and the
 * record TTL that clients may still cache. The
 * epoch commit and the announcement run after the shift, in parallel with DNS propagation, so they
 * are reported as a note, not a phase. For a planned switchover the clock starts at the fence
 * (writes stop); for an operator's failover it starts at the crash and includes the operator.
 *
 * RPO is the promoted replica's replication lag when it was promoted: the most writes that can
 * have been lost (0 for a switchover, which waits for lag 0 after the fence).
 */
import { serviceNodeActions } from '../lambdas/domain/action-config.ts';
import { AUTO_FENCE_BOUND_SECONDS } from '../lambdas/domain/role-change-budget.ts';
import type { ExecutionSummary, Phase, Recovery } from './scenario.ts';
import type { InvocationRecord, World } from './sim/world.ts';

export function measureRecovery(world: World): Recovery | undefined {
  const workflow = [...world.executions].reverse().find((e) => e.status === 'SUCCEEDED' && isRoleChange(e));
  const auto = world.invocations.find((i) => i.result?.outcome === 'failed-over');
  if (workflow && (!auto || workflow.at > auto.at)) return workflowRecovery(world, workflow);
  if (auto) return autoRecovery(world, auto);
  return undefined;
}

function isRoleChange(e: ExecutionSummary): boolean {
  const outcome = (e.output as { outcome?: string } | undefined)?.outcome;
  return outcome === 'switched-over' || outcome === 'failed-over';
}

function autoRecovery(world: World, inv: InvocationRecord): Recovery {
  const result = inv.result!;
  const from = result.from ?? '';
  const crash = [...world.crashes].reverse().find((c) => c.nodeId === from && c.at <= inv.start);
  const startAt = crash?.at ?? inv.transitionAt;
  const shiftCall = inv.calls.find((c) => c.port === 'traffic' && c.method === 'shift');
  const decidedAt = inv.start + (result.timings?.decisionMs ?? 0);
  const phases: Phase[] = [];
  if (crash) {
    phases.push({
      name: 'detection: alarm periods',
      ms: inv.transitionAt - crash.at,
      note: 'crash to the alarm state change (the health probe and the alarm evaluation periods)',
    });
  }
  phases.push({
    name: 'detection: event delivery',
    ms: inv.start - inv.transitionAt,
    note: 'alarm state change to the failover Lambda (EventBridge, asynchronous invoke)',
  });
  phases.push({
    name: 'decision',
    ms: decidedAt - inv.start,
    note: 'DescribeAlarms, GetMetricData and the state read in one parallel round, then the pure decision',
  });
  const shiftStart = shiftCall?.start ?? decidedAt;
  const shiftEnd = shiftCall?.end ?? inv.end;
  // With node actions the old primary is fenced and the target promoted between the lease and the
  // shift: that is its own phase (up to the 15 s fence bound and a second candidate), not the lease.
  const leaseCall = inv.calls.find(
    (c) => c.port === 'state' && c.method === 'acquireLease' && c.start >= decidedAt && c.end <= shiftStart,
  );
  const actions = serviceNodeActions(world.service).length > 0;
  const leaseEnd = actions && leaseCall ? leaseCall.end : shiftStart;
  phases.push({ name: 'lease', ms: leaseEnd - decidedAt, note: 'conditional write on the epoch' });
  if (actions) {
    phases.push({
      name: 'fence and promote',
      ms: shiftStart - leaseEnd,
      note: `node actions: fence the old primary (at most ${AUTO_FENCE_BOUND_SECONDS} s on the automatic path), then promote the target (the next candidate when a promote fails)`,
    });
  }
  phases.push({
    name: 'traffic shift',
    ms: shiftEnd - shiftStart,
    note:
      world.service.router.type === 'route53'
        ? 'Route 53 ChangeResourceRecordSets (exact-value DELETE + CREATE)'
        : 'ELB ModifyListener (weights switched in one call)',
  });
  const endAt = dnsPhases(world, result.to ?? '', shiftEnd, phases);
  const rpo = world.commits.find((c) => c.history.epoch === result.epoch)?.history.lagSeconds;
  return {
    kind: 'auto-failover',
    from: `${from} crash`,
    startAt: (startAt - world.startedAt) / 1000,
    phases,
    totalMs: endAt - startAt,
    ...(rpo !== undefined ? { rpoSeconds: rpo } : {}),
    rpoNote: `replication lag of ${result.to} at promotion; recorded with epoch ${result.epoch}. Commit and announcement: ${
      inv.end - shiftEnd
    } ms after the shift, in parallel with ${world.service.router.type === 'route53' ? 'DNS propagation' : 'new connections arriving'}`,
  };
}

/** Adds the DNS phases for a Route 53 change to `to` that ended at `shiftEnd`; returns when clients converged. */
function dnsPhases(world: World, to: string, shiftEnd: number, phases: Phase[]): number {
  const dns = world.dnsChanges.find((c) => c.to === to && c.shiftEnd >= shiftEnd - 1);
  const r = world.service.router;
  if (!dns || r.type !== 'route53') return shiftEnd;
  if (dns.insyncAt === undefined) return shiftEnd;
  phases.push({
    name: 'DNS propagation',
    ms: dns.insyncAt - shiftEnd,
    note: 'change PENDING until INSYNC on every Route 53 name server (GetChange, polled each second)',
  });
  const converged = dns.convergedAt ?? dns.insyncAt + r.ttlSeconds * 1000;
  phases.push({
    name: 'DNS TTL',
    ms: converged - dns.insyncAt,
    note: `clients may cache the old answer for the record TTL (${r.ttlSeconds} s)`,
  });
  return converged;
}

function workflowRecovery(world: World, exec: ExecutionSummary): Recovery {
  const output = exec.output as {
    outcome: string;
    to: string;
    from: string;
    lagSeconds?: number;
    epoch: number;
    dataLossBound?: string;
  };
  const switchover = output.outcome === 'switched-over';
  const step = (name: string) => exec.steps.filter((s) => s.step === name);
  const t0 = world.startedAt;
  const ms = (seconds: number) => Math.round(seconds * 1000);
  const phases: Phase[] = [];
  const fence = step('hook:fence')[0];
  const catchUps = step('checkCatchUp');
  const promote = step('hook:promote')[0];
  const shift = step('shiftTraffic')[0];
  let startAt: number;
  if (switchover) {
    startAt = t0 + ms(fence?.at ?? exec.at);
  } else {
    const crash = [...world.crashes]
      .reverse()
      .find((c) => c.nodeId === output.from && c.at <= t0 + ms(exec.at));
    startAt = crash?.at ?? t0 + ms(exec.at);
    const alarm = world.invocations.find((i) => i.start >= startAt && i.transition === 'OK->ALARM');
    if (crash && alarm) {
      phases.push({
        name: 'detection: alarm periods',
        ms: alarm.transitionAt - crash.at,
        note: 'crash to the alarm state change',
      });
      const alerted = world.notifications.find((n) => t0 + ms(n.at) >= alarm.start);
      const alertAt = alerted ? t0 + ms(alerted.at) : alarm.end;
      phases.push({
        name: 'automatic failover held, operator alerted',
        ms: alertAt - alarm.transitionAt,
        note: 'event delivery, decision (hold), SNS',
      });
      phases.push({
        name: 'operator decides',
        ms: t0 + ms(exec.at) - alertAt,
        note: 'human time, scripted in the scenario (includes any earlier attempt)',
      });
    }
    const prepare = step('prepare')[0];
    if (prepare)
      phases.push({
        name: 'prepare + lease',
        ms: ms(prepare.endAt) - ms(exec.at),
        note: 'preconditions read in one round, lease taken',
      });
  }
  if (fence)
    phases.push({
      name: 'fence',
      ms: ms(fence.endAt - fence.at),
      note: 'hook: the old primary stops taking writes',
    });
  if (catchUps.length > 0) {
    const first = catchUps[0]!;
    const last = catchUps[catchUps.length - 1]!;
    phases.push({
      name: switchover ? 'catch-up wait' : 'lag check',
      ms: ms(last.endAt - (fence?.endAt ?? first.at)),
      note: `${catchUps.length} check(s)${switchover ? ': lag 0 measured after the fence' : ''}`,
    });
  }
  if (promote)
    phases.push({
      name: 'promote',
      ms: ms(promote.endAt - promote.at),
      note: 'hook: the new primary accepts writes',
    });
  let shiftEnd = startAt;
  if (shift) {
    const before = promote?.endAt ?? catchUps[catchUps.length - 1]?.endAt ?? shift.at;
    phases.push({
      name: 'traffic shift',
      ms: ms(shift.endAt - before),
      note: 'step Lambda: compare-and-swap on the record',
    });
    shiftEnd = t0 + ms(shift.endAt);
  }
  const endAt = dnsPhases(world, output.to, shiftEnd, phases);
  const lag = output.lagSeconds;
  return {
    kind: switchover ? 'switchover' : 'failover',
    from: switchover ? `fence of ${output.from}` : `${output.from} crash`,
    startAt: (startAt - t0) / 1000,
    phases,
    totalMs: endAt - startAt,
    ...(lag !== undefined ? { rpoSeconds: lag } : {}),
    rpoNote: switchover
      ? 'lag 0 measured after the fence: no committed write is lost'
      : `data-loss bound ${output.dataLossBound ?? 'unknown'}${lag !== undefined ? '' : ' (lag unknown)'}`,
  };
}
