/**
 * Pure rules of the switchover / operator-failover workflow: what a valid request is, whether it
 * may start, which node it promotes, when the replica has caught up, when the change is verified,
 * and the deterministic execution name that makes a retried StartExecution harmless.
 *
 * Decisions made here (the workflow and its notifications follow them):
 * - Health is never forced. `force` only accepts replication lag over the budget (or unknown), and
 *   the accepted data-loss bound is written to history. Invariant 1 holds for operators too.
 * - A switchover needs both nodes healthy and waits for lag 0 measured entirely after the fence: a
 *   datapoint whose period started before the fence could hide writes accepted just before it.
 * - A failover waits (up to the catch-up timeout) for a fresh lag within the budget, exactly the
 *   automatic-failover standard; with `force` it proceeds at once on whatever is known.
 * - The commit is the point of no return and comes before the old primary's demote. A demote
 *   failure after it is recorded and announced, never rolled back, in both modes: the new primary
 *   already takes writes that a rollback would discard, and the old primary stays fenced, so there
 *   is still exactly one writer. A human re-attaches the old primary.
 * - An unfence failure during rollback is tolerated only when the old primary was already unhealthy
 *   when the workflow started (failover of a dead primary): traffic is back where it was, on a node
 *   that could not take writes anyway. Otherwise it is a rollback failure.
 *
 * Pure: no AWS SDK, no environment, no clock (`now` is an argument).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { actionForRole, serviceNodeActions } from './action-config.ts';
import { healthAlarmName, type NodeConfig, type ServiceConfig } from './config.ts';
import { assessCandidates, type HealthFacts, lagReading, MAX_LAG_FUTURE_SKEW_SECONDS } from './decide.ts';
import { InvalidInputError } from './errors.ts';
import { fencingToken, type NodeActionRole, type TokenStep } from './node-actions.ts';
import { parseInput } from './parse-input.ts';
import { durationText, secondsText } from './text.ts';
import type { AlarmStateValue, CandidateAssessment, ClusterState, LagSample } from './types.ts';

export type WorkflowMode = 'switchover' | 'failover';

const nodeIdPattern = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

export const workflowRequestSchema = z.strictObject({
  serviceId: z.string().min(1).max(48),
  mode: z.enum(['switchover', 'failover']),
  /** The node to promote. @default - the healthy replica with the least lag, then priority */
  to: z.string().regex(nodeIdPattern, 'must be a node id').optional(),
  /** Failover only: accept replication lag over the budget (or unknown); the bound is recorded. */
  force: z.boolean().default(false),
  /** Check and report, change nothing (no lease, no hooks). */
  dryRun: z.boolean().default(false),
  /** Why: goes to history, notifications and the execution name. */
  reason: z.string().trim().min(1, 'must say why').max(512),
  /**
   * The epoch the operator saw when deciding (`failover status`). When given, the workflow is
   * refused if the service changed since (an automatic failover got there first), instead of
   * making a second role change from a primary the operator never chose to leave.
   * @default - no check: the workflow starts from whatever the state is at Prepare
   */
  expectedEpoch: z.number().int().min(0).optional(),
  /** Client-chosen idempotency key (e.g. a UUID the CLI keeps across its own retries). */
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, dashes or underscores')
    .optional(),
});

export type WorkflowRequest = z.output<typeof workflowRequestSchema>;
export type WorkflowRequestInput = z.input<typeof workflowRequestSchema>;

/** Validates a StartExecution input. Throws InvalidInputError listing every problem. */
export function parseWorkflowRequest(input: unknown): WorkflowRequest {
  const request = parseInput(workflowRequestSchema, input, 'workflow input', '(input)');
  if (request.force && request.mode !== 'failover') {
    throw new InvalidInputError('invalid workflow input', [
      'force: only a failover may accept data loss; a switchover always waits for lag 0',
    ]);
  }
  return request;
}

// ---------------------------------------------------------------------------------------------
// Execution name (idempotency key)
// ---------------------------------------------------------------------------------------------

const EXECUTION_NAME_MAX = 80;
const HASH_LENGTH = 16;

/**
 * A deterministic Step Functions execution name for a request: a retried StartExecution with the
 * same request gets ExecutionAlreadyExists instead of starting a second switchover (names are
 * unique per state machine for 90 days).
 *
 * A request is an intent against the state it was made on: (serviceId, mode, to, force, dryRun)
 * and `expectedEpoch`, plus `requestId` when the client gave one. The reason, who asked and when
 * are not part of it: the same switchover asked twice against the same epoch (after midnight, from
 * another machine, with other words) is one execution, and the same words against a later epoch
 * are a new request. The CLI always sends the epoch it read (cli/workflow.ts).
 *
 * A request without an epoch (a raw StartExecution by other tooling) has no state to name, so its
 * key falls back to the reason and, when `now` is given, the UTC day.
 *
 * A readable prefix (mode, service, target, epoch) is kept for the console; the hash makes it unique.
 */
export function executionName(request: WorkflowRequestInput, now?: number): string {
  const intent = {
    serviceId: request.serviceId,
    mode: request.mode,
    to: request.to ?? null,
    force: request.force ?? false,
    dryRun: request.dryRun ?? false,
  };
  const key =
    request.expectedEpoch !== undefined
      ? {
          ...intent,
          expectedEpoch: request.expectedEpoch,
          ...(request.requestId !== undefined ? { requestId: request.requestId } : {}),
        }
      : {
          ...intent,
          ...(request.requestId !== undefined
            ? { requestId: request.requestId }
            : {
                reason: request.reason.trim(),
                day: now === undefined ? null : new Date(now).toISOString().slice(0, 10),
              }),
        };
  const hash = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, HASH_LENGTH);
  const prefix = [
    request.dryRun ? 'dryrun' : undefined,
    request.mode,
    request.serviceId,
    request.to ?? 'auto',
    request.expectedEpoch !== undefined ? `e${request.expectedEpoch}` : undefined,
  ]
    .filter((p) => p !== undefined)
    .join('-')
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, EXECUTION_NAME_MAX - HASH_LENGTH - 1);
  return `${prefix}-${hash}`;
}

// ---------------------------------------------------------------------------------------------
// Preconditions and plan
// ---------------------------------------------------------------------------------------------

/**
 * The default verify bound (`switchover.verifyTimeoutSeconds`): Route 53 changes are INSYNC within
 * about a minute, and an ELB target with the default health check (30 s x 5) is healthy in 150 s.
 */
export const VERIFY_TIMEOUT_SECONDS = 180;
/** Slack on the lease beyond the sum of the workflow's own timeouts (Lambda retries, Wait rounding). */
const LEASE_MARGIN_SECONDS = 600;

/**
 * The function each role's calls go to, only for roles with an action: the user's own function
 * (`lambda` kind) or the stack's node-action function, which runs the built-in kinds. Plain JSON:
 * it travels in the execution state.
 */
export interface WorkflowHooks {
  readonly fence?: string;
  readonly promote?: string;
  readonly demote?: string;
}

export type HookAction = 'fence' | 'unfence' | 'promote' | 'demote';

/**
 * What a hook Lambda (and the node-action function) receives. `epoch` is the epoch this change
 * will produce; `token` orders the calls within it (node-actions.ts, TOKEN_SEQUENCE): a node
 * refuses a token lower than the highest it has seen, and the rollback's calls outrank the
 * forward calls they undo, so a hook that answers after its Task timed out cannot undo the
 * rollback.
 */
export interface HookPayload {
  readonly serviceId: string;
  readonly node: string;
  readonly epoch: number;
  readonly token: number;
  readonly mode: WorkflowMode;
  readonly action: HookAction;
  /** The execution name, for the hook's own logs. */
  readonly execution: string;
  /** How long the workflow waits for the answer before it rolls back. */
  readonly timeoutSeconds: number;
}

/**
 * One hook invocation, prepared in full so the state machine only forwards it: the Task's
 * InputPath selects it, Parameters pass FunctionName and Payload on, and TimeoutSecondsPath
 * (`$.Payload.timeoutSeconds`) resolves the same whether an engine reads it before or after Parameters.
 */
export interface HookCall {
  readonly FunctionName: string;
  readonly Payload: HookPayload;
  /**
   * How long after its Task gave up a call abandoned there may still act on its node: the
   * rollback waits this long before it undoes a fence or promote that did not answer (Step
   * Functions stops waiting at the timeout, not the hook). The action's own timeout: a built-in
   * action stops its wait before the Task timeout and its SSM script is killed at it; a user's
   * function is covered when its Lambda timeout is at most twice `timeoutSeconds` (docs/actions.md
   * asks for that). Not forwarded to the hook.
   */
  readonly settleSeconds: number;
}

/**
 * Error names (Step Functions `Choice` patterns) after which a hook call's outcome is unknown and
 * it may still land: the Task timed out (States.Timeout), Lambda's service failed around it
 * (Lambda.*, or TransientAwsError: the node-action function's own call of a user's function was
 * throttled or failed past its retries), or an action gave up or failed while its command,
 * statement or function may run on (NodeActionFailedError). An error a user's function threw
 * itself (HookFailedError) means its invocation ended.
 */
export const ABANDONED_CALL_ERRORS = [
  'States.*',
  'Lambda.*',
  'NodeActionFailedError',
  'TransientAwsError',
] as const;

/** Whether a caught hook error may leave the call running (ABANDONED_CALL_ERRORS). */
export function isAbandonedCall(errorName: string): boolean {
  return ABANDONED_CALL_ERRORS.some((p) =>
    p.endsWith('*') ? errorName.startsWith(p.slice(0, -1)) : errorName === p,
  );
}

/** Every hook call the workflow may make, present only when the hook is configured. */
export interface HookCalls {
  readonly fence?: HookCall;
  /** Rollback: undo the fence (the fence hook, action 'unfence'). */
  readonly unfence?: HookCall;
  readonly promote?: HookCall;
  /** Demote the old primary once the change is committed (the point of no return). */
  readonly demote?: HookCall;
  /** Rollback: demote a target our promote hook may have promoted (needs both hooks). */
  readonly demoteTarget?: HookCall;
}

/** Everything later steps need, decided once at the start; plain JSON carried in the execution state. */
export interface WorkflowPlan {
  readonly serviceId: string;
  readonly mode: WorkflowMode;
  readonly reason: string;
  readonly force: boolean;
  /** The primary when the workflow started: fenced, then demoted. */
  readonly from: string;
  /** The node to promote. */
  readonly to: string;
  /** The epoch the lease and commit compare against. */
  readonly expectedEpoch: number;
  /** The fencing token hooks receive: the epoch this change will produce. */
  readonly epoch: number;
  /** Lease holder: the execution name, unique per execution. */
  readonly holder: string;
  readonly primaryHealthy: boolean;
  readonly startedAt: number;
  readonly leaseExpiresAt: number;
  readonly pollIntervalSeconds: number;
  readonly catchUpTimeoutSeconds: number;
  readonly verifyTimeoutSeconds: number;
  readonly hookTimeoutSeconds: number;
  readonly hooks: WorkflowHooks;
  readonly hookCalls: HookCalls;
  readonly candidates: readonly CandidateAssessment[];
  readonly warnings: readonly string[];
}

export interface PlanInput extends HealthFacts {
  readonly service: ServiceConfig;
  readonly request: WorkflowRequest;
  readonly state: ClusterState;
  readonly holder: string;
  readonly now: number;
  /**
   * Where the router points now (`node` undefined: no single node). A workflow starts only when
   * that is the recorded primary, or the node it is asked to promote (recording where traffic is).
   * @default - not checked
   */
  readonly live?: { readonly node: string | undefined };
  /**
   * The stack's node-action function, through which every node action runs: the built-in kinds
   * itself, a `lambda` action by invoking the user's function and answering a bounded summary.
   * Required when the service has any action.
   * @default - none: a service with node actions is refused
   */
  readonly actionFunctionArn?: string;
}

export type Refusal = 'PreconditionFailedError' | 'LeaseConflictError';

export type PlanDecision =
  | { readonly outcome: 'proceed'; readonly plan: WorkflowPlan }
  | { readonly outcome: 'dry-run'; readonly plan: WorkflowPlan }
  | {
      readonly outcome: 'already-primary';
      readonly serviceId: string;
      readonly primary: string;
      readonly epoch: number;
      readonly detail: string;
    }
  | { readonly outcome: 'refused'; readonly error: Refusal; readonly detail: string };

/**
 * Whether the request may start, and the plan it follows. Refusals are values (the caller turns
 * them into the named errors), so nothing here throws for an expected "no".
 */
export function planWorkflow(input: PlanInput): PlanDecision {
  const { service, request, state, alarms, now, holder } = input;
  const refuse = (error: Refusal, detail: string): PlanDecision => ({ outcome: 'refused', error, detail });

  const primary = service.nodes.find((n) => n.id === state.primary);
  if (!primary) {
    return refuse(
      'PreconditionFailedError',
      `the recorded primary ${state.primary} is not a node of ${service.id}: fix the state or the configuration first`,
    );
  }
  if (request.expectedEpoch !== undefined && request.expectedEpoch !== state.epoch) {
    const last = state.lastChange;
    return refuse(
      'LeaseConflictError',
      `${service.id} changed since the request was made: expected epoch ${request.expectedEpoch}, now epoch ${state.epoch} with primary ${state.primary}${
        last ? ` (${last.operation} ${last.from} -> ${last.to} by ${last.actor})` : ''
      }: nothing changed, check the status and ask again`,
    );
  }
  if (request.to === state.primary) {
    return {
      outcome: 'already-primary',
      serviceId: service.id,
      primary: state.primary,
      epoch: state.epoch,
      detail: `${request.to} is already the primary of ${service.id} (epoch ${state.epoch}): nothing to do`,
    };
  }
  const lease = state.lease;
  // StatePort: a lease is free to take over only once expiresAt is before now.
  if (lease && lease.expiresAt >= now && lease.holder !== holder) {
    return refuse(
      'LeaseConflictError',
      `${service.id} is locked by ${lease.operation} ${lease.holder} until ${new Date(lease.expiresAt).toISOString()}: nothing changed`,
    );
  }

  const inherited = inheritedTarget(state, holder);
  const candidates = assessCandidates({ service, alarms, lag: input.lag, state, now });
  let target: NodeConfig | undefined;
  if (request.to !== undefined) {
    target = service.nodes.find((n) => n.id === request.to);
    if (!target) {
      return refuse(
        'PreconditionFailedError',
        `${request.to} is not a node of ${service.id} (nodes: ${service.nodes.map((n) => n.id).join(', ')})`,
      );
    }
  } else {
    // No node named: the node an expired lease names (see below) when it may be promoted at all.
    const leased = chooseTarget(candidates.filter((c) => c.nodeId === inherited?.target));
    const best = leased ?? chooseTarget(candidates);
    if (!best) {
      return refuse(
        'PreconditionFailedError',
        `no healthy replica of ${service.id} to promote: ${describeCandidates(candidates)}`,
      );
    }
    target = service.nodes.find((n) => n.id === best.nodeId);
  }
  if (!target) return refuse('PreconditionFailedError', `no node to promote in ${service.id}`);
  // Invariant 9: a former primary takes traffic again only after it rejoined, operators included.
  if (state.needsRejoin?.includes(target.id)) {
    return refuse(
      'PreconditionFailedError',
      `${target.id} is a former primary of ${service.id} that has not rejoined (needs-rejoin): it may still hold writes ${primary.id} never saw, so it is never promoted, not even with force. ` +
        `Demote it to a replica of ${primary.id}, then run \`failover rejoin ${service.id} ${target.id}\` and ask again`,
    );
  }

  // An expired lease we take over names the node its dead holder was promoting (an automatic
  // failover whose retries ran out after its promote): that node may be writable. Promoting
  // another one next to it would make two writers, so only that node may be the target (promoting
  // it again finishes the change); anything else waits until the operator has checked it.
  if (inherited && inherited.target !== target.id) {
    return refuse(
      'PreconditionFailedError',
      inheritedTargetDetail(service.id, state.primary, target.id, inherited),
    );
  }

  // The record and the traffic disagree (an interrupted operation, a change made by hand): a plan
  // built on the record would swap from a node traffic is not on. Only recording where traffic
  // actually is may proceed.
  const live = input.live;
  if (live && live.node !== primary.id && live.node !== target.id) {
    return refuse(
      'PreconditionFailedError',
      `traffic points at ${live.node ?? 'no single node'} but the record names ${primary.id} (epoch ${state.epoch}): ` +
        `run a failover to ${live.node ?? 'the node that takes writes'} to record where traffic is, or move traffic back to ${primary.id} first`,
    );
  }

  const targetAlarm = alarms.get(healthAlarmName(service, target)) ?? 'UNKNOWN';
  if (targetAlarm !== 'OK') {
    return refuse(
      'PreconditionFailedError',
      `${target.id} is not known to be healthy (alarm ${healthAlarmName(service, target)} is ${targetAlarm}): never promoted, not even with force`,
    );
  }
  const primaryAlarm = alarms.get(healthAlarmName(service, primary)) ?? 'UNKNOWN';
  const primaryHealthy = primaryAlarm === 'OK';
  if (request.mode === 'switchover' && !primaryHealthy) {
    return refuse(
      'PreconditionFailedError',
      `a switchover needs a healthy primary, but ${primary.id}'s alarm is ${primaryAlarm}: use mode "failover"`,
    );
  }

  const actionFunctionArn = input.actionFunctionArn;
  const call = (node: string, role: NodeActionRole, step: TokenStep): HookCall | undefined => {
    const action = actionForRole(service, node, role);
    if (!action) return undefined;
    return {
      // Every call, a user's function included, goes through the node-action function: its answer
      // is a bounded summary, where a user's function may answer up to Lambda's 6 MB and a Task
      // result over Step Functions' 256 KiB quota fails the execution beyond any Catch.
      FunctionName: actionFunctionArn ?? '',
      Payload: {
        serviceId: service.id,
        node,
        epoch: state.epoch + 1,
        // Attempt 0 until Prepare holds the lease: withTokenAttempt puts its sequence in.
        token: fencingToken(state.epoch + 1, step),
        mode: request.mode,
        action: role,
        execution: holder,
        timeoutSeconds: action.timeoutSeconds,
      },
      settleSeconds: action.timeoutSeconds,
    };
  };
  const promoteCall = call(target.id, 'promote', 'promote');
  const calls: Record<keyof HookCalls, HookCall | undefined> = {
    fence: call(primary.id, 'fence', 'fence'),
    unfence: call(primary.id, 'unfence', 'unfence'),
    promote: promoteCall,
    demote: call(primary.id, 'demote', 'demote'),
    // Only a target our promote may have promoted is demoted back.
    demoteTarget: promoteCall ? call(target.id, 'demote', 'demoteTarget') : undefined,
  };
  if (Object.values(calls).some((c) => c?.FunctionName === '')) {
    return refuse(
      'PreconditionFailedError',
      `${service.id} has node actions but the workflow was started without the node-action function: redeploy the stack`,
    );
  }
  // What acts on the node: the user's function for a `lambda` action, else the node-action function.
  const actor = (node: string, role: NodeActionRole, call: HookCall | undefined) => {
    const action = call ? actionForRole(service, node, role) : undefined;
    return action?.type === 'lambda' ? action.functionArn : call?.FunctionName;
  };
  const fenceBy = actor(primary.id, 'fence', calls.fence);
  const promoteBy = actor(target.id, 'promote', calls.promote);
  const demoteBy = actor(primary.id, 'demote', calls.demote);
  const hooks: WorkflowHooks = {
    ...(fenceBy ? { fence: fenceBy } : {}),
    ...(promoteBy ? { promote: promoteBy } : {}),
    ...(demoteBy ? { demote: demoteBy } : {}),
  };
  const warnings: string[] = [];
  if (!hooks.fence && request.mode === 'switchover') {
    warnings.push(
      `no fence hook: ${primary.id} keeps accepting writes until traffic moves, so writes after the last lag check may be lost`,
    );
  }
  if (!hooks.promote) warnings.push(`no promote hook: ${target.id} must already accept writes`);
  if (!hooks.demote) warnings.push(`no demote hook: ${primary.id} must be re-attached as a replica by hand`);
  const callTimeouts = Object.values(calls).flatMap((c) => (c ? [c.Payload.timeoutSeconds] : []));
  const hookTimeoutSeconds =
    callTimeouts.length > 0 ? Math.max(...callTimeouts) : (service.hooks?.timeoutSeconds ?? 60);
  const hookCalls = Object.fromEntries(Object.entries(calls).filter(([, c]) => c !== undefined)) as HookCalls;
  const plan: WorkflowPlan = {
    serviceId: service.id,
    mode: request.mode,
    reason: request.reason,
    force: request.force,
    from: primary.id,
    to: target.id,
    expectedEpoch: state.epoch,
    epoch: state.epoch + 1,
    holder,
    primaryHealthy,
    startedAt: now,
    leaseExpiresAt: now + leaseSeconds(service) * 1000,
    pollIntervalSeconds: service.switchover.pollIntervalSeconds,
    catchUpTimeoutSeconds: service.switchover.catchUpTimeoutSeconds,
    verifyTimeoutSeconds: service.switchover.verifyTimeoutSeconds,
    hookTimeoutSeconds,
    hooks,
    hookCalls,
    candidates,
    warnings,
  };
  return { outcome: request.dryRun ? 'dry-run' : 'proceed', plan };
}

/**
 * The plan with every hook call's token issued under `attempt`, the lease sequence Prepare's
 * lease write returned (LeaseGrant.sequence): a later attempt at the same epoch (after a
 * rollback, or an automatic failover's attempt) outranks everything an earlier one sent, its
 * rollback included, so a node keeping the token contract never refuses the next attempt's fence
 * nor obeys the last attempt's late call. The caller checks tokenAttemptFits first.
 */
export function withTokenAttempt(plan: WorkflowPlan, attempt: number): WorkflowPlan {
  const hookCalls = Object.fromEntries(
    Object.entries(plan.hookCalls).map(([step, call]) => [
      step,
      { ...call, Payload: { ...call.Payload, token: fencingToken(plan.epoch, step as TokenStep, attempt) } },
    ]),
  ) as HookCalls;
  return { ...plan, hookCalls };
}

/**
 * How long the workflow holds the lease: every hook with its retries, the catch-up and verify
 * windows, and a margin. Too short and automatic failover could take over mid-switchover; a
 * workflow that dies keeps automation off until this expires (the rollback releases it earlier).
 */
export function leaseSeconds(service: ServiceConfig): number {
  const timeouts = serviceNodeActions(service).map((a) => a.action.timeoutSeconds);
  const longest = timeouts.length > 0 ? Math.max(...timeouts) : 60;
  const hookSeconds = longest * 2;
  // fence, promote, demote forward; demote and unfence on rollback; the wait for one abandoned call.
  return (
    5 * hookSeconds +
    longest +
    service.switchover.catchUpTimeoutSeconds +
    service.switchover.verifyTimeoutSeconds +
    LEASE_MARGIN_SECONDS
  );
}

/**
 * The replica an operator gets when they do not name one: healthy only (invariant 1), then the
 * same order automatic failover uses among eligible ones (least lag, priority, id); healthy
 * replicas whose lag is not within budget come after, least lag first, unknown lag last. A former
 * primary that has not rejoined is never chosen (invariant 9).
 */
/** The expired lease of another holder that names a target other than the primary: see planWorkflow. */
export function inheritedTarget(
  state: ClusterState,
  holder: string,
):
  | {
      readonly holder: string;
      readonly operation: string;
      readonly target: string;
      readonly expiresAt: number;
    }
  | undefined {
  const lease = state.lease;
  if (!lease || lease.holder === holder || lease.target === undefined || lease.target === state.primary) {
    return undefined;
  }
  return {
    holder: lease.holder,
    operation: lease.operation,
    target: lease.target,
    expiresAt: lease.expiresAt,
  };
}

function inheritedTargetDetail(
  serviceId: string,
  primary: string,
  to: string,
  inherited: NonNullable<ReturnType<typeof inheritedTarget>>,
): string {
  const { holder, operation, target, expiresAt } = inherited;
  return (
    `${serviceId} has an expired ${operation} lease of ${holder} (expired ${new Date(expiresAt).toISOString()}) whose target ${target} may have been promoted before it stopped: ` +
    `promoting ${to} next to it could make two writers, so nothing changed. Check ${target}: to finish that change ask again with --to ${target} (input "to": "${target}"; ` +
    `it is promoted again, ${primary} fenced and demoted), then move the role to ${to} from there`
  );
}

export function chooseTarget(candidates: readonly CandidateAssessment[]): CandidateAssessment | undefined {
  const rank = (c: CandidateAssessment) =>
    c.verdict === 'eligible' ? 0 : c.lagSeconds !== undefined ? 1 : 2;
  return candidates
    .filter((c) => c.alarmState === 'OK' && c.verdict !== 'needs-rejoin')
    .sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (a.lagSeconds ?? 0) - (b.lagSeconds ?? 0) ||
        a.priority - b.priority ||
        (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0),
    )[0];
}

function describeCandidates(candidates: readonly CandidateAssessment[]): string {
  if (candidates.length === 0) return 'no replicas';
  return candidates
    .map((c) => `${c.nodeId} ${c.verdict === 'needs-rejoin' ? 'needs-rejoin' : c.alarmState}`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------
// Catch-up
// ---------------------------------------------------------------------------------------------

/**
 * Clock-skew margin for "measured after the fence": the fence time is the workflow Lambda's clock,
 * the lag datapoint's timestamp is the publisher's. A datapoint must be stamped at least this long
 * after the fence to count, so a measurement taken just before the fence on a clock running up to
 * this much ahead can never pass for one taken after it (which could hide the last writes). Erring
 * this way costs at most one more poll.
 */
export const FENCE_SKEW_MARGIN_SECONDS = 2;

/** Progress of the catch-up loop, carried between checks in the execution state. */
export interface CatchUpProgress {
  /**
   * First check, right after the fence: lag datapoints must be stamped at or after this plus
   * FENCE_SKEW_MARGIN_SECONDS.
   */
  readonly startedAt: number;
  readonly deadline: number;
  readonly checks: number;
}

export interface CatchUpInput {
  readonly plan: WorkflowPlan;
  readonly service: ServiceConfig;
  readonly targetAlarm: AlarmStateValue | 'UNKNOWN';
  readonly sample: LagSample | undefined;
  readonly progress: CatchUpProgress;
  readonly now: number;
}

export type CatchUpAssessment =
  | {
      readonly status: 'ready';
      /** The data-loss bound: 0 for a switchover; undefined when unknown (only with force). */
      readonly lagSeconds?: number;
      readonly lagAgeSeconds?: number;
      /** True when `force` overrode the lag budget: the bound goes to history. */
      readonly forced: boolean;
      readonly detail: string;
    }
  | { readonly status: 'waiting'; readonly detail: string }
  | { readonly status: 'timed-out'; readonly detail: string };

export function assessCatchUp(input: CatchUpInput): CatchUpAssessment {
  const { plan, service, targetAlarm, sample, progress, now } = input;
  const policy = service.policy;
  const reading = lagReading(sample, now);
  const lagSeconds = reading?.lagSeconds;
  const lagAgeSeconds = reading?.lagAgeSeconds;
  const lagText =
    lagSeconds === undefined
      ? 'no lag datapoint'
      : `lag ${secondsText(lagSeconds)}, datapoint ${ageText(lagAgeSeconds ?? 0)}`;

  let waiting: string;
  if (targetAlarm !== 'OK') {
    waiting = `${plan.to} is not known to be healthy (alarm ${targetAlarm})`;
  } else if (plan.mode === 'switchover') {
    const afterFence =
      reading !== undefined && reading.timestamp >= progress.startedAt + FENCE_SKEW_MARGIN_SECONDS * 1000;
    if (afterFence && reading.lagSeconds === 0) {
      return {
        status: 'ready',
        lagSeconds: 0,
        lagAgeSeconds,
        forced: false,
        detail: `${plan.to} caught up: lag 0`,
      };
    }
    waiting =
      reading !== undefined && !afterFence
        ? `no lag datapoint measured after the fence yet (newest: ${lagText}${
            reading.timestamp >= progress.startedAt
              ? `, within the ${FENCE_SKEW_MARGIN_SECONDS} s clock-skew margin after the fence`
              : ''
          })`
        : `${plan.to} not caught up: ${lagText}`;
  } else {
    const fresh =
      lagAgeSeconds !== undefined &&
      lagAgeSeconds <= policy.maxLagAgeSeconds &&
      lagAgeSeconds >= -MAX_LAG_FUTURE_SKEW_SECONDS;
    if (fresh && lagSeconds !== undefined && lagSeconds <= policy.maxLagSeconds) {
      return {
        status: 'ready',
        lagSeconds,
        lagAgeSeconds,
        forced: false,
        detail: `${plan.to} within the recovery-point budget: ${lagText} (budget ${secondsText(policy.maxLagSeconds)})`,
      };
    }
    const why = !fresh
      ? lagSeconds === undefined
        ? 'lag unknown: no lag datapoint'
        : `lag stale: ${lagText} (max age ${durationText(policy.maxLagAgeSeconds)})`
      : `lag over budget: ${lagText} (budget ${secondsText(policy.maxLagSeconds)})`;
    if (plan.force) {
      return {
        status: 'ready',
        ...(lagSeconds !== undefined ? { lagSeconds } : {}),
        ...(lagAgeSeconds !== undefined ? { lagAgeSeconds } : {}),
        forced: true,
        detail: `forced past ${why}: data-loss bound ${dataLossBound(lagSeconds, lagAgeSeconds)}`,
      };
    }
    waiting = `${why}; a failover that accepts this needs force`;
  }
  if (now >= progress.deadline) {
    return {
      status: 'timed-out',
      detail: `${plan.to} did not catch up within ${durationText(plan.catchUpTimeoutSeconds)} (${progress.checks + 1} checks): ${waiting}`,
    };
  }
  return { status: 'waiting', detail: waiting };
}

/** A datapoint's age: `12 s old`, `3 min 50 s old`, `5 s in the future`. */
function ageText(ageSeconds: number): string {
  return ageSeconds < 0 ? `${durationText(-ageSeconds)} in the future` : `${durationText(ageSeconds)} old`;
}

/** How the accepted data loss is written down: the last known lag and its age, or 'unknown'. */
export function dataLossBound(lagSeconds: number | undefined, lagAgeSeconds: number | undefined): string {
  if (lagSeconds === undefined) return 'unknown';
  return `${secondsText(lagSeconds)} (last known lag, datapoint ${
    lagAgeSeconds === undefined ? 'of unknown age' : ageText(lagAgeSeconds)
  })`;
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

export interface VerifyInput {
  readonly plan: WorkflowPlan;
  readonly targetAlarm: AlarmStateValue | 'UNKNOWN';
  /** Where the router points now, undefined when it matches no node or several. */
  readonly current: string | undefined;
  /**
   * What clients are really sent to, by router kind:
   * - `route53`: the status of a change that carries the new value (the shift's own, or the
   *   confirmation of the record's value), undefined while there is none;
   * - `elb`: the new target's health at the load balancer, undefined when it is not registered.
   */
  readonly delivery:
    | { readonly router: 'route53'; readonly changeStatus: 'PENDING' | 'INSYNC' | undefined }
    | { readonly router: 'elb'; readonly targetHealth: string | undefined };
  readonly deadline: number;
  readonly now: number;
}

export interface VerifyAssessment {
  readonly status: 'verified' | 'pending' | 'failed';
  readonly detail: string;
}

/**
 * Verified only when clients reach the new primary: healthy by its alarm, the router pointing at
 * it, AND the name servers answering with it (Route 53 change INSYNC) or the load balancer
 * passing its health check (ELB target `healthy`; `initial` is not yet, `unhealthy` never).
 * Until the deadline it is pending; then it fails, and the workflow rolls back.
 */
export function assessVerification(input: VerifyInput): VerifyAssessment {
  const { plan, targetAlarm, current, delivery, deadline, now } = input;
  const problems: string[] = [];
  if (targetAlarm !== 'OK') problems.push(`${plan.to} is not healthy (alarm ${targetAlarm})`);
  if (current !== plan.to) problems.push(`traffic points at ${current ?? 'no single node'}, not ${plan.to}`);
  if (delivery.router === 'route53') {
    if (delivery.changeStatus === 'PENDING') problems.push('the Route 53 change is still PENDING');
    else if (delivery.changeStatus === undefined && current === plan.to)
      problems.push('no Route 53 change to wait for yet');
  } else if (delivery.targetHealth !== 'healthy') {
    problems.push(
      `the load balancer reports ${plan.to}'s target ${delivery.targetHealth ?? 'not registered'}, not healthy`,
    );
  }
  if (problems.length === 0) {
    return {
      status: 'verified',
      detail: `${plan.to} healthy and serving traffic (${
        delivery.router === 'route53' ? 'Route 53 change INSYNC' : 'load balancer target healthy'
      })`,
    };
  }
  const detail = problems.join('; ');
  if (now >= deadline) {
    return {
      status: 'failed',
      detail: `not verified within ${durationText(plan.verifyTimeoutSeconds)}: ${detail}`,
    };
  }
  return { status: 'pending', detail };
}

// ---------------------------------------------------------------------------------------------
// Named outcomes of a failed execution
// ---------------------------------------------------------------------------------------------

/** The error an execution fails with after a complete rollback (the service is as it was). */
export const ROLLED_BACK_ERROR: Readonly<Record<WorkflowMode, string>> = {
  switchover: 'SwitchoverRolledBack',
  failover: 'FailoverRolledBack',
};
/** The error an execution fails with when the rollback itself failed: the cause says the state. */
export const ROLLBACK_FAILED_ERROR = 'RollbackFailedError';
