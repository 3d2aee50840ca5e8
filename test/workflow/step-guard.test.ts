/**
 * The step Lambda invoked directly with a forged or replayed plan: every step after Prepare checks
 * the plan against the bundled configuration and the lease in the state table before it acts.
 */
import { describe, expect, it } from 'vitest';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { planProblems } from '../../lambdas/app/workflow/step-guard.ts';
import type { WorkflowPlan } from '../../lambdas/domain/workflow.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';

const SVC = 'orders';
const config = testConfig([route53Service({ id: SVC, nodes: ['a', 'b'] })]);

function world() {
  const env = createMemoryEnvironment(config, { initialLagSeconds: 0 });
  const deps: WorkflowDeps = { ...env };
  const handler = makeHandler(deps);
  /** A real plan, from a real Prepare (the lease is taken as a side effect). */
  const prepare = async (executionName = 'switchover-orders-b-1') => {
    const out = (await handler({
      step: 'prepare',
      input: { serviceId: SVC, mode: 'switchover', to: 'b', reason: 'patch' },
      executionName,
    })) as { outcome: string; plan: WorkflowPlan };
    expect(out.outcome).toBe('proceed');
    return out.plan;
  };
  const step = (name: string, plan: WorkflowPlan, extra: Record<string, unknown> = {}) =>
    handler({ step: name, state: { outcome: 'proceed', plan, ...extra } });
  return { env, handler, prepare, step };
}

const shifted = { shift: { status: 'shifted', at: 0, detail: 'moved' } };

describe('a forged plan with no operation running', () => {
  it('shiftTraffic is refused and traffic does not move', async () => {
    const w = world();
    const plan = await w.prepare();
    await w.env.state.releaseLease(SVC, plan.holder);
    await expect(w.step('shiftTraffic', plan)).rejects.toMatchObject({
      name: 'LeaseLostError',
      message: expect.stringMatching(/refusing to shiftTraffic \(no lease is held\)/),
    });
    expect(w.env.traffic.pointsAt(SVC)).toBe('a');
    expect(w.env.traffic.calls).toEqual([]);
  });

  it('rollbackFailed is refused and the service is not paused', async () => {
    const w = world();
    const plan = await w.prepare();
    const before = w.env.state.snapshot(SVC);
    // The lease belongs to someone else now (another operation after ours expired).
    w.env.clock.advance(plan.leaseExpiresAt - w.env.clock.now() + 1);
    const other = await w.prepare('failover-orders-b-2');
    expect(other.holder).not.toBe(plan.holder);
    await expect(
      w.step('rollbackFailed', plan, { rollbackTrafficError: { Error: 'X' } }),
    ).rejects.toMatchObject({
      name: 'LeaseLostError',
      message: expect.stringMatching(/held by failover-orders-b-2/),
    });
    expect(w.env.state.snapshot(SVC)?.paused).toBe(before?.paused);
    expect(w.env.notifier.published).toEqual([]);
  });

  it("rollbackFinish cannot release another operation's lease", async () => {
    const w = world();
    const real = await w.prepare('switchover-orders-b-real');
    const forged = { ...real, holder: 'switchover-orders-b-forged' };
    await expect(w.step('rollbackFinish', forged)).rejects.toMatchObject({ name: 'LeaseLostError' });
    expect(w.env.state.snapshot(SVC)?.lease?.holder).toBe('switchover-orders-b-real');
  });

  it('commit is refused at a stale epoch and with an expired lease', async () => {
    const w = world();
    const plan = await w.prepare();
    await expect(w.step('commit', { ...plan, expectedEpoch: 5, epoch: 6 })).rejects.toMatchObject({
      name: 'LeaseLostError',
      message: expect.stringMatching(/the epoch is 0, not 5/),
    });
    w.env.clock.advance(plan.leaseExpiresAt - w.env.clock.now());
    await expect(w.step('commit', plan)).rejects.toMatchObject({
      message: expect.stringMatching(/the lease expired at/),
    });
    expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'a', epoch: 0 });
  });

  it('notify announces only a change that is recorded', async () => {
    const w = world();
    const plan = await w.prepare();
    await expect(w.step('notify', plan, { result: { outcome: 'switched-over' } })).rejects.toMatchObject({
      name: 'LeaseLostError',
      message: expect.stringMatching(/no change at epoch 1 by switchover-orders-b-1 to b is recorded/),
    });
    expect(w.env.notifier.published).toEqual([]);
  });

  it('confirmCommit confirms only its own change as the latest one: not without a commit, not after a later change', async () => {
    const w = world();
    const plan = await w.prepare();
    // Nothing committed: the commit did not land, and the Catch rolls back.
    await expect(
      w.step('confirmCommit', plan, { error: { Error: 'TransientAwsError' } }),
    ).rejects.toMatchObject({
      name: 'LeaseLostError',
      message: expect.stringMatching(
        /confirmCommit \(the commit did not land: the record shows primary a at epoch 0/,
      ),
    });
    // Committed by this plan: confirmed, with the lost answer in the result.
    await w.step('commit', plan);
    await expect(
      w.step('confirmCommit', plan, { error: { Error: 'TransientAwsError' } }),
    ).resolves.toMatchObject({
      outcome: 'switched-over',
      epoch: 1,
      warnings: expect.arrayContaining([
        expect.stringMatching(/commit's answer was lost \(TransientAwsError\)/),
      ]),
    });
    // Another change after ours: demoting our old primary is no longer ours to do.
    const next = (await w.handler({
      step: 'prepare',
      input: { serviceId: SVC, mode: 'switchover', to: 'a', reason: 'back' },
      executionName: 'switchover-orders-a-2',
    })) as { plan: WorkflowPlan };
    await w.step('commit', next.plan);
    await expect(
      w.step('confirmCommit', plan, { error: { Error: 'TransientAwsError' } }),
    ).rejects.toMatchObject({
      name: 'LeaseLostError',
    });
  });
});

describe('the plan is checked against the bundled configuration', () => {
  it.each([
    [
      'an unknown service',
      (p: WorkflowPlan) => ({ ...p, serviceId: 'payments' }),
      /plan\.serviceId: not a configured service/,
    ],
    [
      'a node that is not configured',
      (p: WorkflowPlan) => ({ ...p, to: 'mallory' }),
      /plan\.to: not a node of orders/,
    ],
    ['from = to', (p: WorkflowPlan) => ({ ...p, to: p.from }), /plan\.to: must differ from plan\.from/],
    [
      'an epoch that is not expected + 1',
      (p: WorkflowPlan) => ({ ...p, epoch: 7 }),
      /plan\.epoch: must be plan\.expectedEpoch \+ 1/,
    ],
    [
      'a longer catch-up',
      (p: WorkflowPlan) => ({ ...p, catchUpTimeoutSeconds: 86_400 }),
      /plan\.catchUpTimeoutSeconds: the configuration says 300, got: 86400/,
    ],
    [
      'a hook the service does not have',
      (p: WorkflowPlan) => ({
        ...p,
        hooks: { promote: 'arn:aws:lambda:us-east-1:111122223333:function:evil' },
      }),
      /plan\.hooks\.promote: orders has no promote action/,
    ],
  ])('%s is refused with InvalidInputError before anything is read or moved', async (_n, change, message) => {
    const w = world();
    const plan = await w.prepare();
    const reads = w.env.traffic.calls.length;
    await expect(w.step('shiftTraffic', change(plan))).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringMatching(message),
    });
    expect(w.env.traffic.calls.length).toBe(reads);
    expect(w.env.traffic.pointsAt(SVC)).toBe('a');
  });

  it('a hook ARN other than the configured one is named', () => {
    const hooked = testConfig([
      {
        ...route53Service({ id: SVC }),
        hooks: { promote: 'arn:aws:lambda:us-east-1:111122223333:function:promote' },
      },
    ]);
    const plan = {
      serviceId: SVC,
      from: 'a',
      to: 'b',
      expectedEpoch: 0,
      epoch: 1,
      pollIntervalSeconds: 5,
      catchUpTimeoutSeconds: 300,
      verifyTimeoutSeconds: 180,
      hooks: { promote: 'arn:aws:lambda:us-east-1:111122223333:function:other' },
    } as unknown as WorkflowPlan;
    expect(planProblems({ config: hooked }, plan)).toEqual([
      'plan.hooks.promote: the configuration says arn:aws:lambda:us-east-1:111122223333:function:promote, got: "arn:aws:lambda:us-east-1:111122223333:function:other"',
    ]);
  });
});

describe('the real execution is not hindered', () => {
  it('every step passes with the lease Prepare took; a retried commit and notify find their own change', async () => {
    const w = world();
    const plan = await w.prepare();
    await w.step('shiftTraffic', plan);
    expect(w.env.traffic.pointsAt(SVC)).toBe('b');
    const result = await w.step('commit', plan, shifted);
    // The commit's answer was lost: Step Functions retries it, and then notifies.
    await expect(w.step('commit', plan, shifted)).resolves.toEqual(result);
    await w.step('notify', plan, { ...shifted, result });
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['switchover']);
  });

  it('a rollback finishes after its lease expired, and a retried rollbackFinish after the release', async () => {
    const w = world();
    const plan = await w.prepare();
    w.env.clock.advance(plan.leaseExpiresAt - w.env.clock.now() + 1);
    const error = { Error: 'CatchUpTimeoutError' };
    await expect(w.step('rollbackFinish', plan, { error })).resolves.toMatchObject({
      error: 'SwitchoverRolledBack',
    });
    expect(w.env.state.snapshot(SVC)?.lease).toBeUndefined();
    await expect(w.step('rollbackFinish', plan, { error })).resolves.toMatchObject({
      error: 'SwitchoverRolledBack',
    });
  });
});
