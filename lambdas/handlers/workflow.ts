/**
 * The step Lambda of the switchover / operator-failover state machine: one function for every
 * step (fewer resources, one cold start to keep warm), dispatched on `step`. The state machine
 * invokes it with `{ step: 'prepare', input, executionName }` first and `{ step, state }` after.
 * Errors are thrown with their domain names: the state machine's Retry and Catch match on them.
 */
import * as z from 'zod';
import { checkCatchUp } from '../app/workflow/catch-up.ts';
import { commit, confirmCommit, notify } from '../app/workflow/commit.ts';
import { recordDemote } from '../app/workflow/demote.ts';
import type { WorkflowDeps } from '../app/workflow/deps.ts';
import {
  type ExecutionState,
  executionStateSchema,
  STEPS,
  type StepName,
} from '../app/workflow/execution-state.ts';
import { prepare } from '../app/workflow/prepare.ts';
import { rollbackFailed, rollbackFinish } from '../app/workflow/rollback.ts';
import { guardStep } from '../app/workflow/step-guard.ts';
import { rollbackTraffic, shiftTraffic } from '../app/workflow/traffic.ts';
import { checkVerify } from '../app/workflow/verify.ts';
import { parseInput } from '../domain/parse-input.ts';
import { buildAwsPorts } from '../runtime/aws-ports.ts';

const stepSchema = z.looseObject({ step: z.enum(STEPS) });
const prepareSchema = z.strictObject({
  step: z.literal('prepare'),
  input: z.unknown(),
  executionName: z.string().min(1).max(80),
  actionFunctionArn: z.string().min(1).optional(),
});
const laterSchema = z.strictObject({ step: z.enum(STEPS), state: executionStateSchema });

type StepFn = (deps: WorkflowDeps, state: ExecutionState) => Promise<unknown>;

const STEP_FUNCTIONS: Record<Exclude<StepName, 'prepare'>, StepFn> = {
  checkCatchUp,
  shiftTraffic,
  checkVerify,
  commit,
  confirmCommit,
  recordDemote,
  notify: async (deps, state) => {
    await notify(deps, state);
    return { notified: true };
  },
  rollbackTraffic,
  rollbackFinish,
  rollbackFailed,
};

export type WorkflowHandler = (event: unknown) => Promise<unknown>;

export function makeHandler(deps: WorkflowDeps): WorkflowHandler {
  return async (event: unknown) => {
    const step = parse(stepSchema, event).step;
    try {
      if (step === 'prepare') {
        const e = parse(prepareSchema, event);
        return await prepare(deps, {
          input: e.input,
          executionName: e.executionName,
          ...(e.actionFunctionArn ? { actionFunctionArn: e.actionFunctionArn } : {}),
        });
      }
      const e = parse(laterSchema, event);
      const state = e.state as unknown as ExecutionState;
      // The payload is not trusted: anyone allowed to invoke this function could send it.
      await guardStep(deps, step, state);
      return await STEP_FUNCTIONS[step](deps, state);
    } catch (err) {
      deps.logger.error('workflow step failed', {
        step,
        error: err instanceof Error ? err.name : 'Error',
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      deps.metrics.flush();
    }
  };
}

function parse<T extends z.ZodType>(schema: T, event: unknown): z.output<T> {
  return parseInput(schema, event, 'workflow step event', '(event)');
}

/** The AWS wiring: the shared composition root; the router also answers the verify step's questions. */
export function productionDeps(env: NodeJS.ProcessEnv = process.env): WorkflowDeps {
  const ports = buildAwsPorts('workflow', env);
  return { ...ports, changes: ports.traffic };
}

let production: WorkflowHandler | undefined;

/**
 * The Lambda entry point, built on the first invocation of an execution environment (clients,
 * configuration and environment checked once) and reused while it stays warm. A failed build is
 * not cached: it throws naming what is missing, and Step Functions sees the step fail.
 */
export const handler: WorkflowHandler = async (event) => {
  production ??= makeHandler(productionDeps());
  return production(event);
};
