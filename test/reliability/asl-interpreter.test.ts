/**
 * The property run drives the synthesized state machine with a step-at-a-time interpreter
 * (support/asl.ts). Here the interpreter and aws-local-stepfunctions run the same scenarios over
 * the same real step handler and in-memory ports, and must agree on every state entered, the
 * outcome, the error and cause, the output, and what the world looks like afterwards.
 */
import { describe, expect, it } from 'vitest';
import { throughNodeActionFunction } from '../../drill/sim/node-action-function.ts';
import { nodeActionFunctionOf } from '../../drill/sim/state-machine.ts';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { named, TestHooks } from '../workflow/harness.ts';
import { hookArns, hookedService, workflowUnderTest } from '../workflow/world.ts';
import { AslExecution } from './support/asl.ts';

const HOOKS = hookArns('orders');
const config = testConfig([
  hookedService({
    id: 'orders',
    nodes: ['a', 'b', 'c'],
    policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
    hookTimeoutSeconds: 60,
    switchover: { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 30 },
  }),
  route53Service({ id: 'plain', index: 1, nodes: ['a', 'b'] }),
]);
const workflow = workflowUnderTest(config);

interface Scenario {
  readonly input: Record<string, unknown>;
  readonly setup?: (env: MemoryEnvironment) => void;
  readonly beforeStep?: (step: string, env: MemoryEnvironment) => void;
  readonly hook?: (name: string) => (() => unknown) | undefined;
}

const SCENARIOS: Record<string, Scenario> = {
  'happy switchover with hooks': { input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' } },
  'failover of a dead primary, no hooks': {
    input: { serviceId: 'plain', mode: 'failover', reason: 'r' },
    setup: (env) => env.alarms.setNode('plain', 'a', 'ALARM'),
  },
  'catch-up timeout': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'c', reason: 'r' },
    beforeStep: (_s, env) => env.lag.put('orders', 'c', 3, env.clock.now() - 1),
  },
  'verification fails': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' },
    beforeStep: (step, env) => {
      if (step === 'checkVerify') env.alarms.setNode('orders', 'b', 'ALARM');
    },
  },
  'shift refused (AccessDenied)': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' },
    setup: (env) => env.traffic.failNext('orders', { errorName: 'AccessDenied', apply: false }),
  },
  'shift throttled, retried': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' },
    setup: (env) => env.traffic.failNext('orders', { errorName: 'Throttling', apply: false }),
  },
  'lease held by another operation': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' },
    setup: (env) =>
      env.state.seed({
        serviceId: 'orders',
        primary: 'a',
        epoch: 0,
        paused: false,
        lease: {
          holder: 'x',
          operation: 'auto-failover',
          acquiredAt: 0,
          expiresAt: env.clock.now() + 60_000,
        },
      }),
  },
  'already primary': { input: { serviceId: 'orders', mode: 'switchover', to: 'a', reason: 'r' } },
  'dry run': { input: { serviceId: 'orders', mode: 'failover', to: 'c', reason: 'r', dryRun: true } },
  'promote hook fails': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' },
    hook: (name) =>
      name.endsWith('promote')
        ? () => {
            throw named('PromoteRefused', 'no');
          }
        : undefined,
  },
  'lease stolen before commit': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' },
    beforeStep: (step, env) => {
      if (step !== 'commit') return;
      const s = env.state.snapshot('orders');
      env.state.seed({
        ...(s as NonNullable<typeof s>),
        lease: { holder: 'thief', operation: 'failover', acquiredAt: 0, expiresAt: env.clock.now() + 1e6 },
      });
    },
  },
  'rollback fails (traffic moved elsewhere meanwhile)': {
    input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'r' },
    beforeStep: (step, env) => {
      if (step === 'checkVerify') env.alarms.setNode('orders', 'b', 'ALARM');
      if (step === 'rollbackTraffic') env.traffic.set('orders', 'c');
    },
  },
  'unknown service': { input: { serviceId: 'nope', mode: 'switchover', reason: 'r' } },
};

async function play(engine: 'asl' | 'local', scenario: Scenario) {
  const env = workflow.environment();
  const synthesized = workflow.synthesized();
  scenario.setup?.(env);
  const deps: WorkflowDeps = { ...env };
  const hooks = new TestHooks();
  for (const [name, arn] of Object.entries(HOOKS)) hooks.register(arn, scenario.hook?.(name));
  const beforeStep = (step: string) => {
    if (step === 'prepare' || step === 'checkCatchUp') {
      env.lag.put('orders', 'b', 0, env.clock.now() - 1);
      env.lag.put('plain', 'b', 1, env.clock.now() - 1);
    }
    scenario.beforeStep?.(step, env);
  };
  const name = 'exec-1';
  let result: { status: string; error?: string; cause?: string; output?: unknown; states: string[] };
  if (engine === 'local') {
    const runner = workflow.runner(env, { ports: deps, hooks, beforeStep });
    const out = await runner.start(scenario.input, name);
    result =
      out.status === 'SUCCEEDED'
        ? { status: out.status, output: out.output, states: out.states }
        : { status: out.status, error: out.error, cause: out.rawCause, states: out.states };
  } else {
    const handler = makeHandler(deps);
    const execution = new AslExecution(
      synthesized.definition,
      {
        stepArn: synthesized.stepFunctionArn,
        step: async (event) => {
          beforeStep(event.step);
          return handler(event);
        },
        // The node-action function, as the local runner binds it: a user's function runs through
        // its real handler.
        invoke: throughNodeActionFunction(
          config,
          nodeActionFunctionOf(synthesized.definition) ?? '',
          (fn, payload) => hooks.invoke(fn, payload),
        ),
        onWait: (seconds) => env.clock.advance(seconds * 1000),
      },
      scenario.input,
      name,
    );
    await execution.run();
    result =
      execution.status === 'SUCCEEDED'
        ? { status: execution.status, output: execution.output, states: execution.states }
        : {
            status: execution.status,
            error: execution.error,
            cause: execution.cause,
            states: execution.states,
          };
  }
  return {
    ...result,
    hooks: hooks.trace,
    traffic: env.traffic.pointsAt('orders'),
    state: env.state.snapshot('orders') ?? null,
    plainState: env.state.snapshot('plain') ?? null,
    notifications: env.notifier.published.map((n) => [n.kind, n.subject]),
    clock: env.clock.now(),
  };
}

describe('the step-at-a-time ASL interpreter agrees with aws-local-stepfunctions', () => {
  it.each(Object.entries(SCENARIOS))('%s', async (_name, scenario) => {
    const local = await play('local', scenario);
    const asl = await play('asl', scenario);
    // aws-local-stepfunctions logs the Task entered last when a Catch fires; compare what both record.
    expect(asl).toEqual(local);
  });
});
