/**
 * `failover switchover|failover <service>`: start the workflow execution, idempotently, and
 * optionally follow it to the end.
 *
 * The execution name is the workflow's own deterministic name for the request (executionName in
 * lambdas/domain/workflow.ts): the intent (service, mode, target, force, dry run, request id) and
 * the epoch it was made against, `--expected-epoch` or else the one read from the state table now.
 * Running the same command again while it runs, or the SDK retrying a StartExecution whose answer
 * was lost, meets ExecutionAlreadyExists, and the CLI reports (and can follow) that execution; the
 * same command after it changed the primary is answered "already ran" (the current epoch's change
 * was made by that very request); a request after anything else changed the service is new.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ServiceConfig } from '../lambdas/domain/config.ts';
import { currentState } from '../lambdas/domain/decide.ts';
import { InvalidInputError, UsageError } from '../lambdas/domain/errors.ts';
import type { ClusterState } from '../lambdas/domain/types.ts';
import {
  executionName,
  parseWorkflowRequest,
  type WorkflowRequest,
  type WorkflowRequestInput,
} from '../lambdas/domain/workflow.ts';
import type { Command } from './args.ts';
import type { CommandContext } from './context.ts';
import { durationText } from './output.ts';
import { requireService } from './status.ts';

type WorkflowCommand = Extract<Command, { name: 'switchover' | 'failover' }>;

export interface ExecutionReport {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  /** True when this request had already started it (retried or repeated command). */
  readonly existing: boolean;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

export async function runWorkflowCommand(ctx: CommandContext, cmd: WorkflowCommand): Promise<number> {
  const { out, services } = ctx;
  const service = requireService(ctx.config, cmd.serviceId);
  if (cmd.to !== undefined && !service.nodes.some((n) => n.id === cmd.to)) {
    throw new UsageError(
      `--to ${cmd.to} is not a node of ${service.id} (nodes: ${service.nodes.map((n) => n.id).join(', ')})`,
      cmd.name,
    );
  }
  // The request names the state it was made on: the epoch the operator gave, or the one read now.
  const state = currentState(await (await services.state()).get(service.id), service);
  const request = buildRequest(ctx, cmd, cmd.expectedEpoch ?? state.epoch);
  const name = executionName(request);
  const stateMachineArn = await services.stateMachineArn();
  const arn = executionArnOf(stateMachineArn, name);
  // Look first: StartExecution answers a repeat of a RUNNING execution (same name and input) with
  // success, which would read as "started" although nothing new started.
  // An execution of this very request (a retry) is reported whatever the state says now.
  let report = await describeIfExists(ctx, arn);
  if (report === undefined) {
    const stop =
      (await alreadyDone(ctx, service, cmd, request, state)) ?? checkState(ctx, service, cmd, state);
    if (stop !== undefined) return stop;
    try {
      const started = await services.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(request) }),
      );
      report = {
        name,
        arn: started.executionArn ?? arn,
        status: 'RUNNING',
        ...(started.startDate ? { startDate: started.startDate.toISOString() } : {}),
        existing: false,
      };
    } catch (err) {
      // Started by someone else between our look and our start (or a retried start of ours).
      if ((err as { name?: string }).name !== 'ExecutionAlreadyExists') throw err;
      report = await describe(ctx, arn, true);
    }
  }

  const what = `${cmd.name}${request.dryRun ? ' (dry run)' : ''} of ${service.id}${
    request.to ? ` to ${request.to}` : ''
  }${request.force ? ' with --force' : ''}`;
  if (report.existing) {
    out.text(
      `this request already started execution ${report.name} (${report.status}, started ${report.startDate ?? '?'}): not starting another`,
    );
  } else {
    out.text(`started ${what} from epoch ${request.expectedEpoch}`);
  }
  out.text(`  execution ${report.arn}`);
  out.text(`  reason    ${request.reason}`);

  if (report.status !== 'RUNNING') return finish(ctx, report, request);
  if (!cmd.wait) {
    out.result({ request, execution: report });
    out.text(
      '  not waiting: add --wait to follow it, or look at the execution in the Step Functions console',
    );
    return 0;
  }
  const final = await follow(ctx, report, cmd.waitTimeoutSeconds);
  return finish(ctx, final, request);
}

/**
 * A repeat of a request that already changed the primary: the same intent, made against the epoch
 * before the current one, and the current epoch's change was made by exactly that execution. It
 * is answered (exit 0) instead of being read as a new request against the new epoch, which would
 * switch the service again. Only without --expected-epoch: an operator who names the epoch they
 * saw asks for a change from that state.
 */
async function alreadyDone(
  ctx: CommandContext,
  service: ServiceConfig,
  cmd: WorkflowCommand,
  request: WorkflowRequest,
  state: ClusterState,
): Promise<number | undefined> {
  if (cmd.expectedEpoch !== undefined || state.epoch === 0 || request.dryRun) return undefined;
  const previous = executionName({ ...request, expectedEpoch: state.epoch - 1 });
  const last = state.lastChange;
  if (last?.actor !== previous || last.epoch !== state.epoch) return undefined;
  const detail = `this request already ran: execution ${previous} changed ${service.id} from ${last.from} to ${last.to} (epoch ${last.epoch}, ${new Date(last.at).toISOString()}); nothing started. To change the primary again, name the state you are changing from: --expected-epoch ${state.epoch}${cmd.to === undefined ? ' (or --to <node>)' : ''}`;
  ctx.out.result({
    outcome: 'already-done',
    serviceId: service.id,
    primary: state.primary,
    epoch: state.epoch,
    execution: previous,
    detail,
  });
  ctx.out.text(detail);
  return 0;
}

/**
 * What the recorded state says about starting: refused when it moved past --expected-epoch
 * (exit 1), nothing to do when --to is already the primary (exit 0), else undefined: go on.
 */
function checkState(
  ctx: CommandContext,
  service: ServiceConfig,
  cmd: WorkflowCommand,
  state: ClusterState,
): number | undefined {
  const { out } = ctx;
  if (cmd.expectedEpoch !== undefined && cmd.expectedEpoch !== state.epoch) {
    // The workflow would refuse it too (LeaseConflictError); no need to start an execution for that.
    const last = state.lastChange;
    const detail = `${service.id} changed since you looked: expected epoch ${cmd.expectedEpoch}, now epoch ${state.epoch} with primary ${state.primary}${
      last ? ` (${last.operation} ${last.from} -> ${last.to} by ${last.actor})` : ''
    }: nothing started; check failover status ${service.id} and decide again`;
    out.result({
      outcome: 'changed-since',
      serviceId: service.id,
      primary: state.primary,
      epoch: state.epoch,
      detail,
    });
    out.warn(`error: ${detail}`);
    return 1;
  }
  if (cmd.to !== undefined && state.primary === cmd.to) {
    const detail = `${cmd.to} is already the primary of ${service.id} (epoch ${state.epoch}): nothing to do, no execution started`;
    out.result({
      outcome: 'already-primary',
      serviceId: service.id,
      primary: cmd.to,
      epoch: state.epoch,
      detail,
    });
    out.text(detail);
    return 0;
  }
  return undefined;
}

function buildRequest(ctx: CommandContext, cmd: WorkflowCommand, expectedEpoch: number): WorkflowRequest {
  const input: WorkflowRequestInput = {
    serviceId: cmd.serviceId,
    mode: cmd.name,
    ...(cmd.to !== undefined ? { to: cmd.to } : {}),
    ...(cmd.name === 'failover' ? { force: cmd.force } : {}),
    dryRun: cmd.dryRun,
    reason: cmd.reason ?? `${cmd.name} requested by ${ctx.actor} with the failover CLI`,
    // A dry run changes nothing and is asked for the facts as they are now: each one is a new
    // request. Named by the intent and the epoch alone, a dry run asked again days later was
    // answered with the first one's result.
    ...(cmd.requestId !== undefined
      ? { requestId: cmd.requestId }
      : cmd.dryRun
        ? { requestId: `dry-run-${ctx.clock.now().toString(36)}` }
        : {}),
    expectedEpoch,
  };
  try {
    return parseWorkflowRequest(input);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new UsageError(err.message, cmd.name);
    throw err;
  }
}

/** `arn:...:stateMachine:<sm>` -> `arn:...:execution:<sm>:<name>` (what StartExecution would have returned). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length < 7 || parts[5] !== 'stateMachine') {
    throw new UsageError(`not a state machine ARN: ${stateMachineArn}`);
  }
  return [...parts.slice(0, 5), 'execution', parts[6], name].join(':');
}

async function describeIfExists(ctx: CommandContext, arn: string): Promise<ExecutionReport | undefined> {
  try {
    return await describe(ctx, arn, true);
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}

async function describe(ctx: CommandContext, arn: string, existing: boolean): Promise<ExecutionReport> {
  const d: DescribeExecutionCommandOutput = await ctx.services.sfn.send(
    new DescribeExecutionCommand({ executionArn: arn }),
  );
  return {
    name: d.name ?? arn.split(':').pop() ?? arn,
    arn,
    status: d.status ?? 'UNKNOWN',
    ...(d.startDate ? { startDate: d.startDate.toISOString() } : {}),
    ...(d.stopDate ? { stopDate: d.stopDate.toISOString() } : {}),
    existing,
    ...(d.output !== undefined ? { output: parseJson(d.output) } : {}),
    ...(d.error !== undefined ? { error: d.error } : {}),
    ...(d.cause !== undefined ? { cause: d.cause } : {}),
  };
}

/**
 * Polls DescribeExecution and prints every state entered (from GetExecutionHistory) until the
 * execution ends or `timeoutSeconds` pass. The history is read after the status, so once the
 * status is final every event up to the end has been printed.
 */
async function follow(
  ctx: CommandContext,
  started: ExecutionReport,
  timeoutSeconds: number,
): Promise<ExecutionReport> {
  const { out, clock } = ctx;
  const deadline = clock.now() + timeoutSeconds * 1000;
  const startMs = started.startDate ? Date.parse(started.startDate) : clock.now();
  let lastEventId = 0;
  const filter = new ProgressFilter();
  out.progress(`waiting for ${started.name}`);
  for (;;) {
    const report = await describe(ctx, started.arn, started.existing);
    for (const event of await history(ctx, started.arn)) {
      if ((event.id ?? 0) <= lastEventId) continue;
      lastEventId = event.id ?? lastEventId;
      const entry = progressEntry(event);
      if (entry === undefined || !filter.show(entry)) continue;
      const at = event.timestamp ? event.timestamp.getTime() : clock.now();
      // Clamped: our clock and Step Functions' may disagree by a little.
      out.progress(`  +${durationText(Math.max(0, at - startMs) / 1000).padEnd(9)} ${entry.text}`);
    }
    if (report.status !== 'RUNNING') return report;
    if (clock.now() >= deadline) {
      out.progress(`stopped following after ${durationText(timeoutSeconds)} (the execution goes on)`);
      return { ...report, status: 'RUNNING' };
    }
    await ctx.sleep(ctx.pollIntervalMs);
  }
}

async function history(ctx: CommandContext, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.services.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        includeExecutionData: true,
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** What each step reports on exit, read from the execution state it wrote. */
const STEP_DETAIL: Record<string, (output: Record<string, unknown>) => string | undefined> = {
  Prepare: (o) => {
    if (o.outcome === 'proceed') {
      // Warnings (missing hooks) are printed with the result.
      const plan = o.plan as { from?: string; to?: string; epoch?: number } | undefined;
      return `plan ${plan?.from} -> ${plan?.to}, epoch ${plan?.epoch}`;
    }
    return (o.result as { detail?: string } | undefined)?.detail;
  },
  CheckCatchUp: (o) => (o.catchUp as { detail?: string } | undefined)?.detail,
  ShiftTraffic: (o) => (o.shift as { detail?: string } | undefined)?.detail,
  CheckVerify: (o) => (o.verify as { detail?: string } | undefined)?.detail,
  Commit: (o) => {
    const r = o.result as { epoch?: number; to?: string } | undefined;
    return r ? `recorded: ${r.to} is primary at epoch ${r.epoch}` : undefined;
  },
  RollbackTraffic: (o) => (o.rollbackTraffic as { detail?: string } | undefined)?.detail,
};

export interface ProgressEntry {
  readonly kind: 'entered' | 'detail' | 'failure';
  readonly state: string;
  readonly text: string;
}

/** The progress an event is worth showing; undefined for the rest (Choice states, internals). */
export function progressEntry(event: HistoryEvent): ProgressEntry | undefined {
  const type = event.type ?? '';
  if (type.endsWith('StateEntered') && type !== 'ChoiceStateEntered') {
    const state = event.stateEnteredEventDetails?.name ?? type;
    return { kind: 'entered', state, text: state };
  }
  if (type === 'TaskStateExited') {
    const state = event.stateExitedEventDetails?.name ?? '';
    const extract = STEP_DETAIL[state];
    const output = parseJson(event.stateExitedEventDetails?.output);
    if (!extract || output === null || typeof output !== 'object') return undefined;
    const detail = extract(output as Record<string, unknown>);
    return detail ? { kind: 'detail', state, text: `  ${state}: ${detail}` } : undefined;
  }
  if (type === 'TaskFailed' || type === 'LambdaFunctionFailed' || type === 'TaskTimedOut') {
    const d =
      event.taskFailedEventDetails ??
      event.lambdaFunctionFailedEventDetails ??
      event.taskTimedOutEventDetails;
    const text = `  ! ${d?.error ?? type}${d?.cause ? `: ${oneLine(causeMessage(d.cause))}` : ''}`;
    return { kind: 'failure', state: type, text };
  }
  return undefined;
}

/**
 * Loops (catch-up, verify) enter the same states every poll interval for minutes: show a state the
 * first time it is entered, and a step's detail whenever it changes (lag 12 s, 4 s, caught up).
 */
export class ProgressFilter {
  private readonly entered = new Set<string>();
  private readonly lastDetail = new Map<string, string>();

  show(entry: ProgressEntry): boolean {
    if (entry.kind === 'entered') {
      if (this.entered.has(entry.state)) return false;
      this.entered.add(entry.state);
    } else if (entry.kind === 'detail') {
      if (this.lastDetail.get(entry.state) === entry.text) return false;
      this.lastDetail.set(entry.state, entry.text);
    }
    return true;
  }
}

function finish(ctx: CommandContext, report: ExecutionReport, request: WorkflowRequest): number {
  const { out } = ctx;
  out.result({ request, execution: report });
  if (report.status === 'SUCCEEDED') {
    out.text(`SUCCEEDED: ${summary(report.output)}`);
    for (const w of warningsOf(report.output)) out.text(`  warning: ${w}`);
    return 0;
  }
  if (report.status === 'RUNNING') {
    out.text(`still RUNNING: ${report.arn}`);
    return 1;
  }
  out.text(`${report.status}${report.error ? `: ${report.error}` : ''}`);
  if (report.cause) out.text(`  ${oneLine(causeMessage(report.cause))}`);
  if (report.existing) {
    out.text(
      '  this execution was started earlier by the same request (same intent, same epoch); to try again, give a --request-id',
    );
  }
  return 1;
}

function summary(output: unknown): string {
  const o = (output ?? {}) as Record<string, unknown>;
  switch (o.outcome) {
    case 'switched-over':
    case 'failed-over':
      return `${o.serviceId} ${o.outcome} from ${o.from} to ${o.to}, epoch ${o.epoch}, data-loss bound ${o.dataLossBound}${
        o.forced ? ' (FORCED)' : ''
      }${o.notifyError ? ' (the notification could not be sent)' : ''}`;
    case 'dry-run':
      return `dry run: ${o.detail ?? `would move ${o.serviceId} from ${o.from} to ${o.to}`}`;
    case 'already-primary':
      return String(o.detail ?? `${o.primary} is already the primary`);
    default:
      return JSON.stringify(output);
  }
}

function warningsOf(output: unknown): string[] {
  const w = (output as { warnings?: unknown } | undefined)?.warnings;
  return Array.isArray(w) ? w.map(String) : [];
}

/** Lambda errors reach the cause as JSON `{ errorType, errorMessage, trace }`: show the message. */
function causeMessage(cause: string): string {
  const parsed = parseJson(cause) as { errorMessage?: unknown } | null;
  return parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string'
    ? parsed.errorMessage
    : cause;
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 400 ? `${flat.slice(0, 397)}...` : flat;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
