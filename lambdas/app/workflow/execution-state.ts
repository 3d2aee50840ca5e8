/**
 * The JSON object the state machine carries from state to state (`$` in the definition), and the
 * payloads the step Lambda receives. The state machine and the step functions agree on these names:
 * lib/switchover-workflow.ts writes results and caught errors at exactly these paths.
 */
import * as z from 'zod';
import type { WorkflowPlan } from '../../domain/workflow.ts';

/** What Step Functions puts at a Catch's ResultPath. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** A check the state machine runs in a loop (check, Choice, Wait, check again) until a deadline. */
export interface LoopProgress {
  /** The first check (epoch ms). */
  readonly startedAt: number;
  /** The loop fails once this passes (epoch ms). */
  readonly deadline: number;
  /** Checks run so far. */
  readonly checks: number;
}

/** The progress so far; at the first check, a new one whose deadline counts from `now`. */
export function loopProgress(
  previous: LoopProgress | undefined,
  now: number,
  timeoutSeconds: number,
): LoopProgress {
  return previous ?? { startedAt: now, deadline: now + timeoutSeconds * 1000, checks: 0 };
}

/** The progress after one more check (only its three fields: the step's own result is added by the step). */
export function afterCheck(progress: LoopProgress): LoopProgress {
  return { startedAt: progress.startedAt, deadline: progress.deadline, checks: progress.checks + 1 };
}

export interface CatchUpStep extends LoopProgress {
  readonly status: 'ready' | 'waiting';
  readonly lagSeconds?: number;
  readonly lagAgeSeconds?: number;
  readonly forced?: boolean;
  readonly detail: string;
}

export interface ShiftStep {
  readonly status: 'shifted';
  readonly at: number;
  /** Route 53 change id to poll until INSYNC; absent for ELB routers (their change is synchronous). */
  readonly changeId?: string;
  readonly detail: string;
}

export interface VerifyStep extends LoopProgress {
  readonly status: 'verified' | 'pending';
  /** Route 53: the change being waited for (the shift's, or the confirmation of the record's value). */
  readonly changeId?: string;
  readonly detail: string;
}

export interface RollbackTrafficStep {
  /** restored: we moved it back; unchanged: it never left the old primary. */
  readonly traffic: 'restored' | 'unchanged';
  readonly detail: string;
}

/** The workflow's final output when it changed the primary. */
export interface WorkflowResult {
  readonly outcome: 'switched-over' | 'failed-over';
  readonly serviceId: string;
  readonly from: string;
  readonly to: string;
  readonly epoch: number;
  /** The data-loss bound: 0 for a switchover; absent when unknown (forced failover). */
  readonly lagSeconds?: number;
  readonly forced: boolean;
  readonly dataLossBound: string;
  readonly warnings: readonly string[];
  readonly timings: Readonly<Record<string, number>>;
  /** The old primary, when this change marked it needs-rejoin (an operator failover it did not demote). */
  readonly needsRejoin?: readonly string[];
  /** The old primary's demote (after the commit) failed: a human re-attaches it. */
  readonly demoteFailed?: boolean;
}

export interface WaitedOut {
  readonly call: 'fence' | 'promote';
  readonly node: string;
  readonly seconds: number;
  /** The caught error that left the call's outcome unknown. */
  readonly error: string;
}

/** `$` after Prepare. Later states add the optional keys. */
export interface ExecutionState {
  readonly outcome: 'proceed';
  readonly plan: WorkflowPlan;
  readonly catchUp?: CatchUpStep;
  readonly shift?: ShiftStep;
  readonly verify?: VerifyStep;
  /** Set by the Catch on the demote hook (after the commit): recorded and announced, not rolled back. */
  readonly demoteError?: CaughtError;
  /** Set by the Catch on recordDemote: the result stays as the commit wrote it. */
  readonly recordDemoteError?: CaughtError;
  readonly result?: WorkflowResult;
  /**
   * Set by the state machine when a fence or promote's call may still have been running (it timed
   * out, Lambda failed around it): the rollback waited `seconds` (its settle time) before undoing it.
   */
  readonly waitedOut?: WaitedOut;
  /** The failure that started the rollback (any step after the fence), or the Commit's failure. */
  readonly error?: CaughtError;
  /**
   * Set by the Catch on confirmCommit: after the Commit step failed, the record did not show its
   * change (or could not be read), so the workflow rolls back.
   */
  readonly confirmCommitError?: CaughtError;
  /** The fence hook itself failed: the old primary may be partly fenced. */
  readonly fenceError?: CaughtError;
  readonly rollbackTraffic?: RollbackTrafficStep;
  /** Set (to `{ done: true }`) by the demote hook during rollback: the promoted target was demoted back. */
  readonly rollbackDemoted?: unknown;
  /** Set by the unfence hook during rollback. */
  readonly rollbackUnfenced?: unknown;
  readonly rollbackTrafficError?: CaughtError;
  readonly rollbackDemoteError?: CaughtError;
  readonly unfenceError?: CaughtError;
  readonly rollbackFinishError?: CaughtError;
}

/** `Error: message`. A Lambda error's Cause is JSON ({ errorType, errorMessage, trace }): only the message is kept. */
export function caught(e: CaughtError | undefined): string {
  if (!e) return 'unknown error';
  if (!e.Cause) return e.Error;
  let message = e.Cause;
  try {
    const parsed: unknown = JSON.parse(e.Cause);
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as { errorMessage?: unknown }).errorMessage === 'string'
    ) {
      message = (parsed as { errorMessage: string }).errorMessage;
    }
  } catch {
    // Not JSON: a Step Functions error (States.Timeout) or a Fail state's cause, already plain text.
  }
  return `${e.Error}: ${message}`;
}

// Step payloads are produced by our own state machine; validating them anyway turns a definition
// bug into a clear InvalidInputError instead of an undefined deep inside a step.
const caughtError = z.object({ Error: z.string(), Cause: z.string().optional() });
const loopProgressFields = { startedAt: z.number(), deadline: z.number(), checks: z.number().int() };

const planSchema = z.object({
  serviceId: z.string(),
  mode: z.enum(['switchover', 'failover']),
  reason: z.string(),
  force: z.boolean(),
  from: z.string(),
  to: z.string(),
  expectedEpoch: z.number().int().min(0),
  epoch: z.number().int().min(1),
  holder: z.string().min(1),
  primaryHealthy: z.boolean(),
  startedAt: z.number(),
  leaseExpiresAt: z.number(),
  pollIntervalSeconds: z.number().int().positive(),
  catchUpTimeoutSeconds: z.number().int().positive(),
  verifyTimeoutSeconds: z.number().int().positive(),
  hookTimeoutSeconds: z.number().int().positive(),
  hooks: z.object({
    fence: z.string().optional(),
    promote: z.string().optional(),
    demote: z.string().optional(),
  }),
  hookCalls: z.record(z.enum(['fence', 'unfence', 'promote', 'demote', 'demoteTarget']), z.unknown()),
  candidates: z.array(z.any()),
  warnings: z.array(z.string()),
});

export const executionStateSchema = z.looseObject({
  outcome: z.literal('proceed'),
  plan: planSchema,
  catchUp: z
    .object({
      status: z.enum(['ready', 'waiting']),
      ...loopProgressFields,
      lagSeconds: z.number().optional(),
      lagAgeSeconds: z.number().optional(),
      forced: z.boolean().optional(),
      detail: z.string(),
    })
    .optional(),
  shift: z
    .object({
      status: z.literal('shifted'),
      at: z.number(),
      changeId: z.string().optional(),
      detail: z.string(),
    })
    .optional(),
  verify: z
    .object({
      status: z.enum(['verified', 'pending']),
      ...loopProgressFields,
      changeId: z.string().optional(),
      detail: z.string(),
    })
    .optional(),
  demoteError: caughtError.optional(),
  recordDemoteError: caughtError.optional(),
  error: caughtError.optional(),
  confirmCommitError: caughtError.optional(),
  fenceError: caughtError.optional(),
  waitedOut: z
    .object({
      call: z.enum(['fence', 'promote']),
      node: z.string(),
      seconds: z.number(),
      error: z.string(),
    })
    .optional(),
  rollbackTraffic: z.object({ traffic: z.enum(['restored', 'unchanged']), detail: z.string() }).optional(),
  rollbackDemoted: z.unknown().optional(),
  rollbackUnfenced: z.unknown().optional(),
  rollbackTrafficError: caughtError.optional(),
  rollbackDemoteError: caughtError.optional(),
  unfenceError: caughtError.optional(),
  rollbackFinishError: caughtError.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
});

export const STEPS = [
  'prepare',
  'checkCatchUp',
  'shiftTraffic',
  'checkVerify',
  'commit',
  'confirmCommit',
  'recordDemote',
  'notify',
  'rollbackTraffic',
  'rollbackFinish',
  'rollbackFailed',
] as const;
export type StepName = (typeof STEPS)[number];
