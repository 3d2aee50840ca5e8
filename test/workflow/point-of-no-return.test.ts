/**
 * The point of no return: once the old primary is demoted it replicates from the new one, and no
 * "rollback" can make it the writer again (an unfence only undoes a fence). So the change must be
 * durable (committed) before the demote, and nothing after the demote may roll back.
 *
 * Run on the real state machine from the synthesized template, with hooks that change a per-node
 * role model (node-roles.ts) exactly as fence, unfence, promote and demote change a database.
 */
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../lambdas/domain/errors.ts';
import type { WorkflowMode } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import { type ExecutionOutcome, named, type RunnerOptions } from './harness.ts';
import { hookedService, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const config = testConfig([hookedService({ id: SVC, hookTimeoutSeconds: 30 })]);
const workflow = workflowUnderTest(config);

function world(mode: WorkflowMode, intercept: RunnerOptions['intercept'], hook?: (p: string) => void) {
  return workflow.writerReplicaWorld(SVC, {
    mode,
    intercept,
    onCall: (p) => hook?.(`${p.action} ${p.node}`),
  });
}

/** What the execution says about the service, checked against what the nodes are. */
function expectOneWriterWhereTrafficIs(w: ReturnType<typeof world>, out: ExecutionOutcome) {
  const live = w.env.traffic.pointsAt(SVC);
  const recorded = w.env.state.snapshot(SVC)?.primary ?? 'a';
  expect({ writers: w.nodes.writers(), traffic: live, recorded }).toEqual({
    writers: [live],
    traffic: live,
    recorded: live,
  });
  // "x is still the primary" is only ever said of the node that takes writes.
  if (out.status === 'FAILED') {
    const claimed = /(\w+) is still the primary/.exec(out.cause)?.[1];
    if (claimed !== undefined) expect(w.nodes.role(claimed)).toBe('writer');
  }
}

describe('point of no return: a failure after the demote never rolls back into no writer', () => {
  it.each<WorkflowMode>(['switchover', 'failover'])(
    'case 1 (%s): a Commit that fails without writing (throttled past its retries) leaves exactly one writer, where traffic points',
    async (mode) => {
      const w = world(mode, (step) =>
        step === 'commit'
          ? Promise.reject(named('TransientAwsError', 'DynamoDB TransactWriteItems: ThrottlingException'))
          : undefined,
      );
      const out = await w.runner.start({ serviceId: SVC, mode, to: 'b', reason: 'point of no return' });

      expect(out.status).toBe('FAILED');
      expectOneWriterWhereTrafficIs(w, out);
      // Nothing was demoted before the change was durable: the rollback has a writer to go back to.
      expect(w.hooks.trace).not.toContain('demote a');
    },
  );

  it('case 1: a Commit refused because the lease was lost leaves exactly one writer, where traffic points', async () => {
    const w = world('switchover', (step) =>
      step === 'commit'
        ? Promise.reject(new LeaseLostError(SVC, 'someone', { refusing: 'commit' }))
        : undefined,
    );
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'lease lost'));

    expect(out.status).toBe('FAILED');
    expectOneWriterWhereTrafficIs(w, out);
  });

  it('case 1: the demote runs only after the commit is durable', async () => {
    let epochAtDemote: number | undefined;
    const env: { current?: ReturnType<typeof world> } = {};
    const w = world('switchover', undefined, (call) => {
      if (call === 'demote a') epochAtDemote = env.current?.env.state.snapshot(SVC)?.epoch;
    });
    env.current = w;
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'order'));

    expect(out.status).toBe('SUCCEEDED');
    expect(epochAtDemote).toBe(1);
    expect(w.nodes.role('a')).toBe('replica');
    expectOneWriterWhereTrafficIs(w, out);
  });

  it.each(['recordDemote', 'notify'])(
    'case 1: a step that fails after the demote (%s, throttled past its retries) never rolls back: b stays the one writer',
    async (failing) => {
      const w = world('failover', (step) =>
        step === failing ? Promise.reject(named('TransientAwsError', `${failing}: throttled`)) : undefined,
      );
      const out = await w.runner.start(moveRequest(SVC, 'failover', 'b', 'after the demote'));

      expect(out.status).toBe('SUCCEEDED');
      expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote a']);
      expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'b', epoch: 1 });
      expectOneWriterWhereTrafficIs(w, out);
    },
  );
});
