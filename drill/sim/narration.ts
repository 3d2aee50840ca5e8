/**
 * What the drill's timeline says about the real code: the failover Lambda's decisions and
 * outcomes, the workflow's steps, the node actions, the traffic shifts; and the markers the
 * report's chart draws for them. Text only: the world (world.ts) decides what happened.
 */
import type { ServiceConfig } from '../../lambdas/domain/config.ts';
import type { NodeActionRequest, NodeActionResult } from '../../lambdas/domain/node-actions.ts';
import type { CandidateAssessment, TrafficChange } from '../../lambdas/domain/types.ts';
import type { FailoverHandlerResult } from '../../lambdas/handlers/failover.ts';
import type { Marker } from '../scenario.ts';
import type { Timeline } from '../timeline.ts';
import { causeMessage as errorText } from './state-machine.ts';

export { errorText };

/** Where the narration goes: the scenario's timeline and chart markers, t0 = the scenario's start. */
export interface NarrationContext {
  readonly timeline: Timeline;
  readonly markers: Marker[];
  readonly t0: number;
  readonly service: ServiceConfig;
}

/** How one failover Lambda invocation ended (`decided`: what its decision log said). */
export function narrateOutcome(
  ctx: NarrationContext,
  start: number,
  end: number,
  result: FailoverHandlerResult | undefined,
  error: string | undefined,
  decided: 'failover' | 'hold' | undefined,
): void {
  const t = (start - ctx.t0) / 1000;
  if (error !== undefined) {
    ctx.timeline.add(end, 'decided', `invocation failed (${error}): Lambda will retry it`);
    ctx.markers.push({ t, kind: 'fault', label: 'invocation failed' });
    return;
  }
  if (!result) return;
  switch (result.outcome) {
    case 'failed-over':
      ctx.timeline.add(
        end,
        'changed',
        `failover complete: ${result.to} is primary at epoch ${result.epoch}, ${((end - start) / 1000).toFixed(2)} s after the invocation started`,
      );
      ctx.markers.push({ t, kind: 'failover', label: `failover ${result.from} -> ${result.to}` });
      return;
    case 'held':
      if (decided === 'failover') {
        ctx.timeline.add(
          end,
          'decided',
          `stands down (${result.reason}): another attempt holds the lease and will announce`,
        );
      }
      // An alarm going back to OK is not a refusal: nothing was asked of the automation.
      ctx.markers.push({
        t,
        kind: result.reason === 'not-an-alarm-transition' ? 'ignored' : 'hold',
        label:
          result.reason === 'not-an-alarm-transition' ? 'alarm OK: nothing to do' : `hold: ${result.reason}`,
      });
      return;
    case 'ignored':
      ctx.timeline.add(
        end,
        'decided',
        `ignored (${result.reason}): ${result.detail ?? result.problems?.join('; ')}`,
      );
      ctx.markers.push({ t, kind: 'ignored', label: `ignored: ${result.reason}` });
      return;
    case 'rejoined':
      ctx.timeline.add(
        end,
        'changed',
        `rejoin complete: ${result.from} is a replica again (${result.reason}), epoch ${result.epoch}`,
      );
      ctx.markers.push({ t, kind: 'step', label: `rejoin ${result.from}` });
      return;
    default:
      ctx.timeline.add(end, 'decided', `${result.outcome} (${result.reason}): ${result.detail ?? ''}`);
      ctx.markers.push({ t, kind: 'fault', label: `${result.outcome}: ${result.reason}` });
  }
}

/** The failover Lambda's `failover decision` log entry, as a sentence. */
export function narrateDecision(ctx: NarrationContext, now: number, data: Record<string, unknown>): void {
  const candidates = (data.candidates ?? []) as CandidateAssessment[];
  if (data.action === 'failover') {
    const chosen = candidates.find((c) => c.nodeId === data.to);
    const others = candidates
      .filter((c) => c.nodeId !== data.to)
      .map((c) => `${c.nodeId} ${c.verdict === 'eligible' ? `eligible, lag ${c.lagSeconds} s` : c.verdict}`);
    ctx.timeline.add(
      now,
      'decided',
      `fail over ${data.primary} -> ${data.to}: ${data.primary}'s alarm confirmed ALARM, ${data.to} OK with lag ${
        chosen?.lagSeconds
      } s (budget ${ctx.service.policy.maxLagSeconds} s, datapoint ${chosen?.lagAgeSeconds?.toFixed(1)} s old)${
        others.length ? `; passed over: ${others.join(', ')}` : ''
      }`,
    );
  } else if (data.action === 'rejoin') {
    ctx.timeline.add(
      now,
      'decided',
      `rejoin ${String(data.nodeId ?? data.node ?? 'the former primary')}: a former primary marked needs-rejoin is healthy again`,
    );
  } else {
    ctx.timeline.add(now, 'decided', `hold (${data.reason}): ${data.detail}`);
  }
}

/** One settled workflow step (step Lambda or hook) of the operator's execution. */
export function narrateStep(
  ctx: NarrationContext,
  record: {
    step: string;
    start: number;
    end: number;
    output?: unknown;
    error?: { name: string; message: string };
  },
): void {
  const out = record.output as Record<string, unknown> | null | undefined;
  const at = record.end;
  const mark = (label: string) => ctx.markers.push({ t: (at - ctx.t0) / 1000, kind: 'step', label });
  if (!record.error) {
    if (record.step.startsWith('hook:')) mark(`${record.step.slice(5)} ${String(out?.node ?? '')}`);
    else if (record.step === 'checkCatchUp' && out?.status === 'ready')
      mark(out.forced ? 'forced past the lag' : 'caught up');
    else if (record.step === 'shiftTraffic') mark('shift');
    else if (record.step === 'checkVerify' && out?.status === 'verified') mark('verified');
    else if (record.step === 'commit') mark(`commit epoch ${String(out?.epoch)}`);
  }
  if (record.error) {
    ctx.timeline.add(
      at,
      record.step.startsWith('hook:') ? 'observed' : 'decided',
      `workflow ${record.step} failed: ${record.error.name}: ${errorText(record.error.message)}`,
    );
    return;
  }
  switch (record.step) {
    case 'prepare': {
      const plan = out?.plan as Record<string, unknown> | undefined;
      if (out?.outcome === 'proceed' && plan) {
        ctx.timeline.add(
          at,
          'decided',
          `workflow plan: ${plan.mode} ${plan.from} -> ${plan.to}${plan.force ? ' (force)' : ''}, epoch ${plan.expectedEpoch} -> ${plan.epoch}`,
        );
      } else ctx.timeline.add(at, 'decided', `workflow: ${String(out?.outcome)}`);
      return;
    }
    case 'checkCatchUp':
      ctx.timeline.add(
        at,
        out?.status === 'ready' ? 'decided' : 'observed',
        `catch-up ${out?.status}: ${out?.detail}`,
      );
      return;
    case 'checkVerify':
      ctx.timeline.add(
        at,
        out?.status === 'verified' ? 'decided' : 'observed',
        `verify ${out?.status}: ${out?.detail}`,
      );
      return;
    case 'rollbackTraffic':
      ctx.timeline.add(at, 'decided', `rollback: ${out?.detail}`);
      return;
    case 'rollbackFinish':
    case 'rollbackFailed':
      ctx.timeline.add(
        at,
        'decided',
        `rollback ${record.step === 'rollbackFinish' ? 'complete' : 'FAILED'}: done: ${(out?.done as string[] | undefined)?.join('; ') || 'nothing'}; needs a human: ${
          (out?.needsHuman as string[] | undefined)?.join('; ') || 'nothing'
        }`,
      );
      return;
    default:
  }
}

/** One node action of the role-change engine and what it did to the node. */
export function narrateAction(
  ctx: NarrationContext,
  at: number,
  request: NodeActionRequest,
  result: NodeActionResult,
  writable: boolean,
): void {
  const effect =
    result.status !== 'succeeded'
      ? `${result.status}: ${result.detail}`
      : request.role === 'fence'
        ? 'read-only, takes no writes'
        : request.role === 'promote'
          ? 'accepts writes'
          : request.role === 'demote'
            ? 'a read-only replica'
            : `fence lifted${writable ? ', takes writes again' : ''}`;
  ctx.timeline.add(
    at,
    result.status === 'succeeded' ? 'changed' : 'observed',
    `node action ${request.role} ${request.nodeId} (${request.mode}, token ${request.token}): ${effect}`,
  );
  ctx.markers.push({
    t: (at - ctx.t0) / 1000,
    kind: result.status === 'succeeded' ? 'step' : 'fault',
    label: `${request.role} ${request.nodeId}${result.status === 'succeeded' ? '' : ` ${result.status}`}`,
  });
}

/** What a traffic shift changed at the router, in its own terms. */
export function shiftText(service: ServiceConfig, change: TrafficChange): string {
  const r = service.router;
  const node = (id: string) => service.nodes.find((n) => n.id === id);
  if (r.type === 'route53') {
    return `Route 53 ${r.recordName} ${r.recordType} ${node(change.from)?.address} -> ${node(change.to)?.address} (exact-value DELETE + CREATE in one batch)`;
  }
  if (r.type === 'elbv2-weighted')
    return `listener forwards 100% to ${change.to}'s target group (one ModifyListener)`;
  return `target group now holds ${change.to} only`;
}

/** The router, for the opening line. */
export function routerText(service: ServiceConfig): string {
  const r = service.router;
  if (r.type === 'route53') return `(Route 53 ${r.recordName}, TTL ${r.ttlSeconds} s)`;
  return r.type === 'elbv2-weighted' ? '(ALB weighted listener)' : '(target group)';
}

export function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export function short(id: string): string {
  return id.slice(0, 8);
}

/** A Lambda request id is shortened like an event id; an execution name is kept whole. */
export function holderText(holder: string): string {
  return /^[0-9a-f]{8}-/.test(holder) ? short(holder) : holder;
}

export function describeOutput(output: unknown): string {
  const o = output as Record<string, unknown> | null;
  if (!o) return 'no output';
  if (o.outcome === 'switched-over' || o.outcome === 'failed-over') {
    return `${o.outcome} ${o.from} -> ${o.to}, epoch ${o.epoch}, data-loss bound ${o.dataLossBound}`;
  }
  return String(o.outcome ?? JSON.stringify(o));
}
