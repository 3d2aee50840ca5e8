/**
 * The world most workflow tests build: a Route 53 service whose workflow calls fence, promote and
 * demote hook functions, its state machine synthesized once per test file, and an in-memory
 * environment whose clock only the runner moves (each Wait advances it by the poll interval).
 */
import { beforeAll } from 'vitest';
import type { FailoverConfig, FailoverConfigInput } from '../../lambdas/domain/config.ts';
import type { HookPayload, WorkflowMode, WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { type Route53ServiceOptions, route53Service } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import {
  caughtUpRunner,
  type HookBehaviour,
  type MemoryRunnerOptions,
  memoryRunner,
  type SynthesizedWorkflow,
  synthesizeWorkflow,
  TestHooks,
  type WorkflowRunner,
} from './harness.ts';
import { NodeRoles } from './node-roles.ts';

type ServiceInput = FailoverConfigInput['services'][number];
type SwitchoverInput = NonNullable<ServiceInput['switchover']>;

/** The ARN of test Lambda function `name` (us-east-1, account 111122223333). */
export function testFunctionArn(name: string): string {
  return `arn:aws:lambda:us-east-1:111122223333:function:${name}`;
}

export interface HookArns {
  readonly fence: string;
  readonly promote: string;
  readonly demote: string;
}

/** The fence, promote and demote hook functions of a service: `<prefix>-fence` and so on. */
export function hookArns(prefix: string): HookArns {
  return {
    fence: testFunctionArn(`${prefix}-fence`),
    promote: testFunctionArn(`${prefix}-promote`),
    demote: testFunctionArn(`${prefix}-demote`),
  };
}

export interface HookedServiceOptions extends Route53ServiceOptions {
  readonly id: string;
  /** How long the workflow waits for a hook to answer (the Task timeout). */
  readonly hookTimeoutSeconds: number;
  /** The hook functions are `<hookPrefix>-fence` and so on. @default id */
  readonly hookPrefix?: string;
  /** @default a poll every 5 s, catch-up within 60 s */
  readonly switchover?: SwitchoverInput;
}

/** A Route 53 service (lambdas/testing/fixtures.ts) with fence/promote/demote hooks and a switchover. */
export function hookedService(options: HookedServiceOptions): ServiceInput {
  const { hookTimeoutSeconds, hookPrefix, switchover, ...service } = options;
  return {
    ...route53Service(service),
    hooks: { ...hookArns(hookPrefix ?? options.id), timeoutSeconds: hookTimeoutSeconds },
    switchover: switchover ?? { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 60 },
  };
}

/**
 * `service` behind an ELB target group (named after the service) instead of a DNS record: node
 * `x` is instance `i-0xxx0000000000000` on port 5432; health and lag signals as before.
 */
export function viaTargetGroup(service: ServiceInput): ServiceInput {
  return {
    ...service,
    router: {
      type: 'elbv2-target',
      targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/${service.id}/0123456789abcdef`,
    },
    nodes: service.nodes.map(({ address: _address, ...node }) => ({
      ...node,
      target: { id: `i-0${node.id}${node.id}${node.id}0000000000000`, port: 5432 },
    })),
  };
}

/** Test hooks answering every call to the hook functions `<hookPrefix>-fence` and so on (hookArns) with `behaviour` (default `{ ok: true }`). */
export function hooksFor(hookPrefix: string, behaviour?: HookBehaviour): TestHooks {
  const arns = hookArns(hookPrefix);
  return new TestHooks()
    .register(arns.fence, behaviour)
    .register(arns.promote, behaviour)
    .register(arns.demote, behaviour);
}

/** The StartExecution input of an operator moving `serviceId`'s primary role to `to`. */
export function moveRequest(
  serviceId: string,
  mode: WorkflowMode,
  to: string,
  reason: string,
): WorkflowRequestInput {
  return { serviceId, mode, to, reason };
}

/** What every workflow test's world holds: the environment, the test hooks and a runner over them. */
export interface WorkflowWorld {
  readonly env: MemoryEnvironment;
  readonly hooks: TestHooks;
  readonly runner: WorkflowRunner;
}

/** One test file's workflow: the configuration, its state machine, fresh environments and runners. */
export interface WorkflowUnderTest {
  readonly config: FailoverConfig;
  /** The state machine synthesized from `config` (once, before the file's tests run). */
  synthesized(): SynthesizedWorkflow;
  /** A fresh in-memory environment over `config` whose clock only the runner moves (each Wait by the poll interval). */
  environment(): MemoryEnvironment;
  /** The state machine over `env` (harness.ts memoryRunner). */
  runner(env: MemoryEnvironment, options?: MemoryRunnerOptions): WorkflowRunner;
  /** The state machine over `env`, `target` of `serviceId` a caught-up replica (harness.ts caughtUpRunner). */
  caughtUpRunner(
    env: MemoryEnvironment,
    hooks: TestHooks,
    serviceId: string,
    target: string,
    options?: Omit<MemoryRunnerOptions, 'hooks'>,
  ): WorkflowRunner;
  /**
   * `serviceId` with node a the writer and b a caught-up replica, hooks that change a NodeRoles
   * model of them as each call would change a database; in failover mode a's alarm is ALARM.
   */
  writerReplicaWorld(serviceId: string, options?: WriterReplicaOptions): WriterReplicaWorld;
}

export interface WriterReplicaOptions extends Omit<MemoryRunnerOptions, 'hooks'> {
  /** @default 'switchover' */
  readonly mode?: WorkflowMode;
  /** Sees every hook call before it takes effect. */
  readonly onCall?: (payload: HookPayload) => void;
}

export interface WriterReplicaWorld extends WorkflowWorld {
  readonly nodes: NodeRoles;
}

/** Synthesizes `config`'s workflow in `beforeAll` of the calling test file, and builds worlds over it. */
export function workflowUnderTest(config: FailoverConfig): WorkflowUnderTest {
  let synthesizedOnce: SynthesizedWorkflow | undefined;
  beforeAll(() => {
    synthesizedOnce = synthesizeWorkflow(config);
  });
  const synthesized = (): SynthesizedWorkflow => {
    if (!synthesizedOnce) throw new Error('the workflow is synthesized in beforeAll: use it inside a test');
    return synthesizedOnce;
  };
  return {
    config,
    synthesized,
    environment: () => createMemoryEnvironment(config, { clock: { autoAdvance: false } }),
    runner: (env, options) => memoryRunner(synthesized(), env, options),
    caughtUpRunner: (env, hooks, serviceId, target, options) =>
      caughtUpRunner(synthesized(), env, hooks, serviceId, target, options),
    writerReplicaWorld(serviceId, options = {}) {
      const { mode, onCall, ...runner } = options;
      const env = this.environment();
      if (mode === 'failover') env.alarms.setNode(serviceId, 'a', 'ALARM');
      const nodes = new NodeRoles({ a: 'writer', b: 'replica' });
      const hooks = hooksFor(serviceId, (p) => {
        onCall?.(p);
        return nodes.answer(p);
      });
      return { env, nodes, hooks, runner: this.caughtUpRunner(env, hooks, serviceId, 'b', runner) };
    },
  };
}
