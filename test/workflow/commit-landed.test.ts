/**
 * Lost answers of an applied commit: the Commit step's write lands in the state table, and every
 * answer after it is lost (the DynamoDB response times out on every attempt, or the step Lambda's
 * own answer never reaches Step Functions) until the Task's retries run out. The record then names
 * the new primary at the new epoch: the change is durable, traffic is on it, and the only honest
 * ending is the one a clean commit has (demote the old primary, announce), not a rollback that
 * refuses and pages a human.
 *
 * Run on the real state machine from the synthesized template, with hooks that change a per-node
 * role model (node-roles.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import type { WorkflowMode } from '../../lambdas/domain/workflow.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import {
  memoryWorkflowDeps,
  named,
  type RunnerOptions,
  type SynthesizedWorkflow,
  synthesizeWorkflow,
  TestHooks,
  WorkflowRunner,
} from './harness.ts';
import { NodeRoles } from './node-roles.ts';

const SVC = 'orders';
const arn = (name: string) => `arn:aws:lambda:us-east-1:111122223333:function:${SVC}-${name}`;
const FENCE = arn('fence');
const PROMOTE = arn('promote');
const DEMOTE = arn('demote');

const config: FailoverConfig = testConfig([
  {
    ...route53Service({ id: SVC, nodes: ['a', 'b'] }),
    hooks: { fence: FENCE, promote: PROMOTE, demote: DEMOTE, timeoutSeconds: 30 },
    switchover: { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 60 },
  },
]);

let synthesized: SynthesizedWorkflow;
beforeAll(() => {
  synthesized = synthesizeWorkflow(config);
});

function world(mode: WorkflowMode, intercept: RunnerOptions['intercept']) {
  const env = createMemoryEnvironment(config, { clock: { autoAdvance: false } });
  if (mode === 'failover') env.alarms.setNode(SVC, 'a', 'ALARM');
  const nodes = new NodeRoles({ a: 'writer', b: 'replica' });
  const apply = (p: Parameters<NodeRoles['apply']>[0]) => {
    nodes.apply(p);
    return { ok: true };
  };
  const hooks = new TestHooks().register(FENCE, apply).register(PROMOTE, apply).register(DEMOTE, apply);
  const runner = new WorkflowRunner({
    synthesized,
    deps: memoryWorkflowDeps(env),
    hooks,
    clock: env.clock,
    beforeStep: (step) => {
      if (step === 'prepare' || step === 'checkCatchUp') env.lag.put(SVC, 'b', 0, env.clock.now() - 1);
    },
    intercept,
  });
  return { env, nodes, hooks, runner };
}

/** Every Commit attempt runs to its end (the write lands on the first), and its answer is lost. */
const LOST_ANSWERS: Record<string, RunnerOptions['intercept']> = {
  'the DynamoDB answer times out on every attempt': (step, _event, real) =>
    step === 'commit'
      ? real().then(() => {
          throw named(
            'TransientAwsError',
            'transient AWS error in DynamoDB TransactWriteItems: TimeoutError: Connection timed out after 10000 ms',
          );
        })
      : undefined,
  "the step Lambda's answer is lost": (step, _event, real) =>
    step === 'commit'
      ? real().then(() => {
          throw named('Lambda.ServiceException', 'response lost');
        })
      : undefined,
};

describe('lost answers of an applied commit: the workflow recognises the landed commit and carries on', () => {
  for (const mode of ['switchover', 'failover'] as const) {
    it.each(Object.keys(LOST_ANSWERS))(
      `${mode}: %s -> demote the old primary, announce, succeed`,
      async (lost) => {
        const w = world(mode, LOST_ANSWERS[lost]);
        const out = await w.runner.start({ serviceId: SVC, mode, to: 'b', reason: 'lost answers' });

        expect(out.status).toBe('SUCCEEDED');
        if (out.status !== 'SUCCEEDED') return;
        expect(out.output).toMatchObject({
          outcome: mode === 'switchover' ? 'switched-over' : 'failed-over',
          from: 'a',
          to: 'b',
          epoch: 1,
        });
        expect(out.states).toContain('ConfirmCommit');
        expect(out.states).not.toContain('RollbackTraffic');
        // Carried forward exactly as a clean commit does: the old primary demoted, one writer.
        expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote a']);
        expect(w.nodes.writers()).toEqual(['b']);
        expect(w.env.traffic.pointsAt(SVC)).toBe('b');
        expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'b', epoch: 1 });
        expect(w.env.state.snapshot(SVC)?.lease).toBeUndefined();
        // A demoted old primary has rejoined: nothing left for a human.
        expect(w.env.state.snapshot(SVC)?.needsRejoin ?? []).toEqual([]);
        expect(w.env.state.snapshot(SVC)?.paused ?? false).toBe(false);
        const kinds = w.env.notifier.published.map((n) => n.kind);
        expect(kinds).toEqual([mode]);
        expect(out.output.warnings.join(' ')).toMatch(/commit's answer was lost/);
      },
    );
  }

  it('a commit that did not land (throttled past its retries) still rolls back: the confirmation finds nothing', async () => {
    const w = world('switchover', (step) =>
      step === 'commit'
        ? Promise.reject(named('TransientAwsError', 'DynamoDB TransactWriteItems: ThrottlingException'))
        : undefined,
    );
    const out = await w.runner.start({ serviceId: SVC, mode: 'switchover', to: 'b', reason: 'not landed' });

    expect(out.status === 'FAILED' && out.error).toBe('SwitchoverRolledBack');
    expect(out.states).toContain('ConfirmCommit');
    if (out.status === 'FAILED') expect(out.cause).toMatch(/ThrottlingException/);
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    expect(w.nodes.writers()).toEqual(['a']);
    expect(w.env.traffic.pointsAt(SVC)).toBe('a');
    expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'a', epoch: 0 });
  });
});
