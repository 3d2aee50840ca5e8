/**
 * The workflow's fault model, lease loss: the execution outlives its lease at any step (stopped
 * with StopExecution and redriven later, which continues at the unfinished state with the old
 * plan; or delayed past it), with and without an automatic failover taking the service over in
 * the meantime (it fences the old primary with its own token, promotes c, moves traffic, commits).
 *
 * The hooks are invoked by Step Functions itself, so only the state machine's routing keeps an
 * execution that lost its lease away from the nodes. Checked after every run, on nodes that
 * ignore tokens (the worst case):
 * - no hook is called after the lease was lost: whatever the execution had done stays for a human
 *   (undoing it could undo the next holder's work: an unfence after its fence is a second writer);
 * - after a takeover before the promote, exactly one writer, c, where traffic points;
 * - the outcome is told: the execution succeeded (the loss came after its commit) or failed with
 *   RollbackFailedError (the failed-executions alarm; with its lease merely expired it also pauses
 *   automatic failover and publishes the rollback-failed notification).
 *
 * Sites are enumerated, not listed: every step invocation of a clean run, in both modes.
 *
 * The other side of a lost lease: an automatic failover that died holding its lease (its retries
 * spent) after leasing, fencing or promoting its target c, the lease since expired, then an
 * operator's switchover or failover to b, to c or to no node named takes it over at Prepare.
 * Checked: never two writers; a target other than the lease's is refused before any hook runs; the
 * lease's own target, named or chosen, finishes the change (c primary, the one writer, where
 * traffic points).
 */
import { describe, expect, it } from 'vitest';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import type { WorkflowMode } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import type { ExecutionOutcome } from '../workflow/harness.ts';
import { NodeRoles } from '../workflow/node-roles.ts';
import { autoFailoverTakesOver } from '../workflow/takeover.ts';
import { hookedService, hooksFor, workflowUnderTest } from '../workflow/world.ts';
import { itRecordsFigures } from './support/figures-test.ts';

const SVC = 'orders';
const policy = { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600 };
const workflow = workflowUnderTest(
  testConfig([hookedService({ id: SVC, nodes: ['a', 'b', 'c'], policy, hookTimeoutSeconds: 60 })]),
);

interface LossRun {
  readonly steps: string[];
  readonly outcome: ExecutionOutcome;
  readonly violations: string[];
  readonly tookOver: boolean;
}

/** One execution; before the `at`-th step invocation (0-based) the lease is lost, taken over when `takeover`. */
async function run(mode: WorkflowMode, at: number | undefined, takeover: boolean): Promise<LossRun> {
  const env = workflow.environment();
  if (mode === 'failover') env.alarms.setNode(SVC, 'a', 'ALARM');
  const nodes = new NodeRoles({ a: 'writer', b: 'replica', c: 'replica' }, { honoursTokens: false });
  let lost = false;
  let tookOver = false;
  let promotedBeforeLoss = false;
  const afterLoss: string[] = [];
  const apply = (p: Parameters<NodeRoles['apply']>[0]) => {
    if (lost) afterLoss.push(`${p.action} ${p.node}`);
    if (p.action === 'promote' && !lost) promotedBeforeLoss = true;
    nodes.apply(p);
    return { ok: true };
  };
  let invocation = 0;
  const runner = workflow.runner(env, {
    hooks: hooksFor(SVC, apply),
    beforeStep: async (step) => {
      if (step === 'prepare' || step === 'checkCatchUp')
        env.lag.put(SVC, 'b', mode === 'switchover' ? 0 : 2, env.clock.now() - 1);
      if (invocation++ !== at) return;
      const stored = env.state.snapshot(SVC);
      if (!stored?.lease) return; // nothing to lose: before Prepare's write, or after the commit released it
      lost = true;
      env.clock.set(stored.lease.expiresAt + 60_000);
      if (!takeover || stored.epoch !== 0 || env.traffic.pointsAt(SVC) !== 'a') return;
      // The automatic failover: a (fenced by the workflow, its alarm ALARM) fails over to c.
      await autoFailoverTakesOver(env, nodes, {
        serviceId: SVC,
        holder: 'auto',
        from: 'a',
        to: 'c',
        reason: 'alarm',
      });
      tookOver = true;
    },
  });
  const outcome = await runner.start({ serviceId: SVC, mode, to: 'b', reason: 'lease loss' });

  const violations: string[] = [];
  const where = `${mode}, lease lost before step ${at} (${runner.steps[at ?? -1] ?? 'none'})${tookOver ? ', taken over' : ''}`;
  if (afterLoss.length > 0)
    violations.push(`${where}: hooks called after the lease was lost: ${afterLoss.join(', ')}`);
  if (tookOver && !promotedBeforeLoss) {
    const writers = nodes.writers();
    if (writers.join() !== 'c' || env.traffic.pointsAt(SVC) !== 'c')
      violations.push(
        `${where}: writers ${writers.join(',') || 'none'}, traffic on ${env.traffic.pointsAt(SVC)}`,
      );
  }
  if (lost && outcome.status === 'FAILED' && outcome.error !== 'RollbackFailedError')
    violations.push(`${where}: ended ${outcome.error}, not RollbackFailedError`);
  if (lost && !tookOver && outcome.status === 'FAILED') {
    const state = env.state.snapshot(SVC);
    if (!state?.paused || !env.notifier.published.some((n) => n.kind === 'rollback-failed'))
      violations.push(`${where}: failed without pausing automatic failover and paging`);
  }
  return { steps: runner.steps, outcome, violations, tookOver };
}

describe('workflow fault model: lease loss at every step', () => {
  const figures = { tried: 0, takeovers: 0, violations: [] as string[], outcomes: new Map<string, number>() };

  it.each<WorkflowMode>(['switchover', 'failover'])(
    '%s: an execution that lost its lease calls no hook after it, and one that was taken over leaves c the one writer',
    async (mode) => {
      const clean = await run(mode, undefined, false);
      expect(clean.outcome.status).toBe('SUCCEEDED');
      expect(clean.steps.length).toBeGreaterThan(4);
      const violations: string[] = [];
      for (let at = 0; at < clean.steps.length; at++) {
        for (const takeover of [false, true]) {
          const r = await run(mode, at, takeover);
          figures.tried++;
          if (r.tookOver) figures.takeovers++;
          const key = r.outcome.status === 'FAILED' ? `FAILED ${r.outcome.error}` : r.outcome.status;
          figures.outcomes.set(key, (figures.outcomes.get(key) ?? 0) + 1);
          violations.push(...r.violations);
        }
      }
      figures.violations.push(...violations);
      expect(violations).toEqual([]);
    },
  );

  const detail = () => {
    const outcomes = [...figures.outcomes].sort().map(([k, n]) => `${k} ${n}`);
    return `every step invocation of a clean switchover and failover, the lease expired there (${figures.takeovers} runs also taken over by an automatic failover to c); outcomes: ${outcomes.join(', ')}`;
  };
  itRecordsFigures(
    'workflow-lease-loss',
    { label: 'workflow: lease lost at every step', order: 27 },
    figures,
    detail,
  );
});

type DeadProgress = 'leased' | 'fenced' | 'promoted';

/** An automatic failover to c died after `progress` at epoch 0, its lease expired; then `mode` to `to`. */
async function overDeadLease(
  mode: WorkflowMode,
  to: 'b' | 'c' | undefined,
  progress: DeadProgress,
  honoursTokens: boolean,
): Promise<{ readonly outcome: ExecutionOutcome; readonly violations: string[] }> {
  const env = workflow.environment();
  if (mode === 'failover') env.alarms.setNode(SVC, 'a', 'ALARM');
  const nodes = new NodeRoles({ a: 'writer', b: 'replica', c: 'replica' }, { honoursTokens });
  const now = env.clock.now();
  const { sequence } = await env.state.acquireLease({
    serviceId: SVC,
    expectedEpoch: 0,
    seedPrimary: 'a',
    lease: {
      holder: 'auto',
      operation: 'auto-failover',
      acquiredAt: now,
      expiresAt: now + 120_000,
      target: 'c',
    },
    now,
  });
  if (progress !== 'leased')
    nodes.apply({ action: 'fence', node: 'a', token: fencingToken(1, 'fence', sequence) });
  if (progress === 'promoted')
    nodes.apply({ action: 'promote', node: 'c', token: fencingToken(1, 'promote', sequence) });
  env.clock.set(now + 180_000);
  const calls: string[] = [];
  const runner = workflow.runner(env, {
    hooks: hooksFor(SVC, (p) => {
      calls.push(`${p.action} ${p.node}`);
      nodes.apply(p);
      return { ok: true };
    }),
    beforeStep: (step) => {
      if (step === 'prepare' || step === 'checkCatchUp')
        for (const n of ['b', 'c']) env.lag.put(SVC, n, 0, env.clock.now() - 1);
    },
  });
  const outcome = await runner.start({
    serviceId: SVC,
    mode,
    ...(to ? { to } : {}),
    reason: 'over a dead lease',
  });

  const where = `${mode} to ${to ?? '(any)'}, the dead automatic failover ${progress} c, nodes ${honoursTokens ? 'honour' : 'ignore'} tokens`;
  const violations: string[] = [];
  const writers = nodes.writers();
  if (writers.length > 1) violations.push(`${where}: writers ${writers.join(',')}`);
  if (
    to === 'b' &&
    (outcome.status !== 'FAILED' || outcome.error !== 'PreconditionFailedError' || calls.length > 0)
  )
    violations.push(
      `${where}: not refused before any hook (${outcome.status === 'FAILED' ? outcome.error : outcome.status}; ${calls.join(', ') || 'no calls'})`,
    );
  if (
    to !== 'b' &&
    (outcome.status !== 'SUCCEEDED' || writers.join() !== 'c' || env.traffic.pointsAt(SVC) !== 'c')
  )
    violations.push(
      `${where}: ${outcome.status}, writers ${writers.join(',') || 'none'}, traffic on ${env.traffic.pointsAt(SVC)}`,
    );
  return { outcome, violations };
}

describe('workflow fault model: an expired automatic-failover lease taken over at Prepare', () => {
  const figures = { tried: 0, violations: [] as string[], outcomes: new Map<string, number>() };

  it.each<WorkflowMode>(['switchover', 'failover'])(
    "%s: never promotes next to the dead lease's possibly promoted target; its own target finishes the change",
    async (mode) => {
      const violations: string[] = [];
      for (const to of ['b', 'c', undefined] as const)
        for (const progress of ['leased', 'fenced', 'promoted'] as const)
          for (const honoursTokens of [true, false]) {
            const r = await overDeadLease(mode, to, progress, honoursTokens);
            figures.tried++;
            const key = r.outcome.status === 'FAILED' ? `FAILED ${r.outcome.error}` : r.outcome.status;
            figures.outcomes.set(key, (figures.outcomes.get(key) ?? 0) + 1);
            violations.push(...r.violations);
          }
      figures.violations.push(...violations);
      expect(violations).toEqual([]);
    },
  );

  const detail = () => {
    const outcomes = [...figures.outcomes].sort().map(([k, n]) => `${k} ${n}`);
    return `switchover and failover to b, c or any node over an expired automatic-failover lease naming c (its holder died after leasing, fencing or promoting), nodes honouring tokens or not; outcomes: ${outcomes.join(', ')}`;
  };
  itRecordsFigures(
    'workflow-inherited-lease',
    { label: 'workflow: over a dead automatic failover', order: 27.5 },
    figures,
    detail,
  );
});
