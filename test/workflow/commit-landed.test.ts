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
import { describe, expect, it } from 'vitest';
import type { WorkflowMode } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import { answerLost, named, type RunnerOptions } from './harness.ts';
import { hookedService, moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const config = testConfig([hookedService({ id: SVC, hookTimeoutSeconds: 30 })]);
const workflow = workflowUnderTest(config);

function world(mode: WorkflowMode, intercept: RunnerOptions['intercept']) {
  return workflow.writerReplicaWorld(SVC, { mode, intercept });
}

const EVERY_COMMIT = { times: Number.POSITIVE_INFINITY };
/** Every Commit attempt runs to its end (the write lands on the first), and its answer is lost. */
const LOST_ANSWERS: Record<string, () => RunnerOptions['intercept']> = {
  'the DynamoDB answer times out on every attempt': () =>
    answerLost('commit', {
      ...EVERY_COMMIT,
      error: () =>
        named(
          'TransientAwsError',
          'transient AWS error in DynamoDB TransactWriteItems: TimeoutError: Connection timed out after 10000 ms',
        ),
    }),
  "the step Lambda's answer is lost": () =>
    answerLost('commit', { ...EVERY_COMMIT, error: () => named('Lambda.ServiceException', 'response lost') }),
};

describe('lost answers of an applied commit: the workflow recognises the landed commit and carries on', () => {
  for (const mode of ['switchover', 'failover'] as const) {
    it.each(Object.keys(LOST_ANSWERS))(
      `${mode}: %s -> demote the old primary, announce, succeed`,
      async (lost) => {
        const w = world(mode, LOST_ANSWERS[lost]?.());
        const out = await w.runner.start(moveRequest(SVC, mode, 'b', 'lost answers'));

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
    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'not landed'));

    expect(out.status === 'FAILED' && out.error).toBe('SwitchoverRolledBack');
    expect(out.states).toContain('ConfirmCommit');
    if (out.status === 'FAILED') expect(out.cause).toMatch(/ThrottlingException/);
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    expect(w.nodes.writers()).toEqual(['a']);
    expect(w.env.traffic.pointsAt(SVC)).toBe('a');
    expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'a', epoch: 0 });
  });
});
