/**
 * The switchover / operator-failover workflow end to end: the state machine from the synthesized
 * template, run by aws-local-stepfunctions, every Task bound to the real step handler over the
 * in-memory ports, hooks bound to test functions. After every scenario: traffic on exactly one
 * node, the epoch, the history, the lease, the notifications.
 */
import { describe, expect, it } from 'vitest';
import { type FailoverOutcome, runAutoFailover } from '../../lambdas/app/auto-failover.ts';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import { executionName, type HookPayload, type WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryChanges } from '../../lambdas/testing/verify-signals.ts';
import {
  answerLost,
  type ExecutionOutcome,
  hookThrowing,
  named,
  type RunnerOptions,
  type TestHooks,
} from './harness.ts';
import { hookArns, hookedService, hooksFor, type WorkflowWorld, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const PLAIN = 'plain';
const { fence: FENCE, promote: PROMOTE, demote: DEMOTE } = hookArns(SVC);
const POLL_SECONDS = 5;
const CATCH_UP_SECONDS = 60;

const config = testConfig([
  hookedService({
    id: SVC,
    nodes: ['a', 'b', 'c'],
    priorities: [0, 1, 2],
    // Hooks time out after 1 s of real time: the hook-timeout scenario waits for it.
    hookTimeoutSeconds: 1,
    switchover: { pollIntervalSeconds: POLL_SECONDS, catchUpTimeoutSeconds: CATCH_UP_SECONDS },
  }),
  route53Service({ id: PLAIN, index: 1 }),
]);
const workflow = workflowUnderTest(config);

/** Replica lag as the target publishes it: one datapoint per catch-up check, stamped just before it. */
type LagScript = (check: number) => number | undefined;

interface World extends WorkflowWorld {
  /** GetChange answers: PENDING for the first `pendingPolls` polls, then INSYNC. */
  readonly changeStatusCalls: string[];
}

interface WorldOptions {
  readonly lag?: Partial<Record<string, LagScript>>;
  readonly pendingPolls?: number;
  readonly beforeStep?: (step: string, env: MemoryEnvironment) => void | Promise<void>;
  readonly intercept?: RunnerOptions['intercept'];
  readonly hooks?: (hooks: TestHooks) => void;
  /** Replace ports (fault injection) after the in-memory environment is built. */
  readonly ports?: (env: MemoryEnvironment) => Partial<Pick<WorkflowDeps, 'state' | 'notifier'>>;
}

function world(options: WorldOptions = {}): World {
  const env = workflow.environment();
  const hooks = hooksFor(SVC);
  options.hooks?.(hooks);
  const changes = new MemoryChanges(env.traffic, { pendingPolls: options.pendingPolls ?? 1 });
  const changeStatusCalls = changes.polls;
  const checks = new Map<string, number>();
  // Healthy replicas that are caught up unless a scenario scripts otherwise.
  const lag: Record<string, LagScript> = { b: () => 0, c: () => 0, ...options.lag } as Record<
    string,
    LagScript
  >;
  const runner = workflow.runner(env, {
    hooks,
    ports: { changes, ...options.ports?.(env) },
    beforeStep: async (step) => {
      if (step === 'prepare' || step === 'checkCatchUp') {
        for (const [node, script] of Object.entries(lag)) {
          const n = checks.get(node) ?? 0;
          checks.set(node, n + 1);
          const value = script(n);
          if (value !== undefined) env.lag.put(SVC, node, value, env.clock.now() - 1);
        }
      }
      await options.beforeStep?.(step, env);
    },
    intercept: options.intercept,
  });
  return { env, hooks, runner, changeStatusCalls };
}

function request(overrides: Partial<Record<keyof WorkflowRequestInput, unknown>> = {}): WorkflowRequestInput {
  return {
    serviceId: SVC,
    mode: 'switchover',
    to: 'b',
    reason: 'kernel patching',
    ...overrides,
  } as WorkflowRequestInput;
}

/** Invariant 4 and the lease: whatever happened, traffic points at exactly one node and nothing is left locked. */
function expectSettled(env: MemoryEnvironment, serviceId: string, primary: string, epoch: number) {
  expect(env.traffic.pointsAt(serviceId)).toBe(primary);
  const state = env.state.snapshot(serviceId);
  expect(state?.epoch ?? 0).toBe(epoch);
  expect(state?.primary ?? config.services.find((s) => s.id === serviceId)?.initialPrimary).toBe(primary);
  expect(state?.lease).toBeUndefined();
}

function failed(outcome: ExecutionOutcome) {
  if (outcome.status !== 'FAILED')
    throw new Error(`expected a failed execution, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The history entry of the role change itself (an operator failover's demote adds a `rejoin` entry after it). */
async function changeEntry(env: MemoryEnvironment, serviceId: string) {
  return (await env.state.history(serviceId, 5)).find((e) => e.operation !== 'rejoin');
}

function succeeded(outcome: ExecutionOutcome) {
  if (outcome.status !== 'SUCCEEDED') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('switchover workflow (state machine from the synthesized template)', () => {
  it('happy switchover: fence, wait for lag 0 after the fence, promote, shift, verify INSYNC, demote, commit, notify', async () => {
    const w = world();
    const out = succeeded(await w.runner.start(request()));

    expect(out.output).toMatchObject({
      outcome: 'switched-over',
      serviceId: SVC,
      from: 'a',
      to: 'b',
      epoch: 1,
      lagSeconds: 0,
      forced: false,
      warnings: [],
    });
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote a']);
    for (const call of w.hooks.calls) {
      expect(call.payload).toEqual({
        serviceId: SVC,
        node: call.payload.node,
        epoch: 1,
        token: call.payload.token,
        mode: 'switchover',
        action: call.payload.action,
        execution: out.name,
        timeoutSeconds: 1,
      });
    }
    expect(w.hooks.calls.map((c) => c.payload.token)).toEqual([
      fencingToken(1, 'fence', 1),
      fencingToken(1, 'promote', 1),
      fencingToken(1, 'demote', 1),
    ]);
    expect(w.hooks.calls.map((c) => c.functionName)).toEqual([FENCE, PROMOTE, DEMOTE]);
    // The datapoint published before the fence did not count: one Wait, then lag 0 measured after it.
    expect(out.states.filter((s) => s === 'WaitForCatchUp')).toHaveLength(1);
    // The Route 53 change was PENDING once, then INSYNC.
    expect(out.states.filter((s) => s === 'WaitForVerify')).toHaveLength(1);
    expect(w.changeStatusCalls).toEqual(['C1', 'C1']);

    expectSettled(w.env, SVC, 'b', 1);
    expect(w.env.traffic.appliedChanges).toEqual([{ serviceId: SVC, from: 'a', to: 'b' }]);
    const [entry, ...older] = await w.env.state.history(SVC, 10);
    expect(older).toEqual([]);
    expect(entry).toMatchObject({
      serviceId: SVC,
      epoch: 1,
      operation: 'switchover',
      from: 'a',
      to: 'b',
      reason: 'kernel patching',
      lagSeconds: 0,
      actor: out.name,
    });
    expect(entry?.forced).toBeUndefined();
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['switchover']);
    expect(w.env.notifier.published[0]?.subject).toBe('switchover orders: a -> b (epoch 1)');
  });

  it('chooses the healthy replica with the least lag when no target is given', async () => {
    const w = world({ lag: { b: () => 4, c: () => 0 } });
    // b is lagging and c is caught up: c is promoted. (b would be preferred by priority alone.)
    const out = succeeded(await w.runner.start(request({ to: undefined })));
    expect(out.output).toMatchObject({ from: 'a', to: 'c', epoch: 1 });
    expectSettled(w.env, SVC, 'c', 1);
  });

  it('replica never catches up: the catch-up times out and everything is rolled back', async () => {
    const w = world({ lag: { b: () => 3 } });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('SwitchoverRolledBack');
    expect(out.cause).toMatch(/rolled back after CatchUpTimeoutError: b did not catch up within 1 min/);
    expect(out.cause).toMatch(/lag 3 s/);
    expect(out.cause).toMatch(/a is still the primary \(epoch 0\)/);
    expect(w.hooks.trace).toEqual(['fence a', 'unfence a']);
    // 60 s at one check per 5 s: the first check plus 12 after a Wait.
    expect(out.states.filter((s) => s === 'CheckCatchUp')).toHaveLength(CATCH_UP_SECONDS / POLL_SECONDS + 1);
    expectSettled(w.env, SVC, 'a', 0);
    expect(w.env.traffic.calls).toEqual([]);
    expect(await w.env.state.history(SVC, 10)).toEqual([]);
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['rollback']);
    expect(w.env.notifier.published[0]?.detail).toMatchObject({
      error: 'SwitchoverRolledBack',
      done: ['traffic never left a', 'a unfenced', 'lease released'],
      needsHuman: [],
    });
  });

  it('promote hook fails: the target is demoted back, the primary unfenced, traffic never moved', async () => {
    const w = world({
      hooks: (h) => h.register(PROMOTE, hookThrowing('PromoteRefused', 'pg_ctl promote exited 1')),
    });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('SwitchoverRolledBack');
    expect(out.cause).toMatch(
      /after HookFailedError: promote hook failed: .*PromoteRefused: pg_ctl promote exited 1/,
    );
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    expect(w.hooks.calls.every((c) => c.payload.epoch === 1)).toBe(true);
    expectSettled(w.env, SVC, 'a', 0);
    expect(w.env.traffic.calls).toEqual([]);
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['rollback']);
    expect(w.env.notifier.published[0]?.detail.done).toEqual([
      'traffic still on a',
      'b demoted back to a replica',
      'a unfenced',
      'lease released',
    ]);
  });

  it('traffic shift fails: rolled back, traffic still on the old primary', async () => {
    const w = world();
    w.env.traffic.failNext(SVC, { errorName: 'AccessDenied', message: 'not authorized', apply: false });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('SwitchoverRolledBack');
    expect(out.cause).toMatch(/after TrafficShiftError: traffic shift failed: AccessDenied: not authorized/);
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    expectSettled(w.env, SVC, 'a', 0);
    expect(w.env.traffic.appliedChanges).toEqual([]);
    expect(await w.env.state.history(SVC, 10)).toEqual([]);
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['rollback']);
  });

  it('a throttled shift is retried by the state machine (compare-and-swap makes the retry safe)', async () => {
    const w = world();
    w.env.traffic.failNext(SVC, { errorName: 'PriorRequestNotComplete', apply: false });
    const out = succeeded(await w.runner.start(request()));
    expect(out.output).toMatchObject({ outcome: 'switched-over', to: 'b' });
    expect(w.runner.steps.filter((s) => s === 'shiftTraffic')).toHaveLength(2);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('a shift that timed out after applying is read back and counts as done, not repeated', async () => {
    const w = world();
    w.env.traffic.failNext(SVC, { errorName: 'TimeoutError', apply: true, uncertain: true });
    const out = succeeded(await w.runner.start(request()));
    expect(out.output).toMatchObject({ outcome: 'switched-over', to: 'b' });
    expect(w.env.traffic.appliedChanges).toEqual([{ serviceId: SVC, from: 'a', to: 'b' }]);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('verification fails after the shift: traffic is moved back with compare-and-swap', async () => {
    const w = world({
      pendingPolls: Number.POSITIVE_INFINITY,
      beforeStep: (step, env) => {
        // The promoted node falls over right after taking traffic.
        if (step === 'checkVerify') env.alarms.setNode(SVC, 'b', 'ALARM');
      },
    });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('SwitchoverRolledBack');
    expect(out.cause).toMatch(
      /VerificationFailedError: not verified within 3 min: b is not healthy \(alarm ALARM\)/,
    );
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    expect(w.env.traffic.appliedChanges).toEqual([
      { serviceId: SVC, from: 'a', to: 'b' },
      { serviceId: SVC, from: 'b', to: 'a' },
    ]);
    expectSettled(w.env, SVC, 'a', 0);
    expect(w.env.notifier.published[0]?.detail.done).toContain('traffic moved back b -> a');
  });

  it('a hook that times out stops the workflow and rolls back (the Task or the node-action function times out)', async () => {
    const w = world({
      hooks: (h) =>
        h.register(FENCE, (p: HookPayload) => (p.action === 'fence' ? new Promise(() => {}) : { ok: true })),
    });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('SwitchoverRolledBack');
    // With a 1 s timeout the node-action function's own deadline and the Task's coincide: either
    // one ends the wait, and both leave the call abandoned (waited out before the undo).
    expect(out.cause).toMatch(
      /fence hook on a failed \((States.Timeout|NodeActionFailedError: lambda action timed-out)/,
    );
    expect(w.hooks.trace).toEqual(['fence a', 'unfence a']);
    expect(w.runner.steps).not.toContain('checkCatchUp');
    expectSettled(w.env, SVC, 'a', 0);
  });

  it('a hook throttled by Lambda is retried, not rolled back', async () => {
    let calls = 0;
    const w = world({
      hooks: (h) =>
        h.register(PROMOTE, () => {
          calls++;
          if (calls === 1) throw named('Lambda.TooManyRequestsException', 'Rate exceeded');
          return { ok: true };
        }),
    });
    const out = succeeded(await w.runner.start(request()));
    expect(out.output).toMatchObject({ outcome: 'switched-over' });
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'promote b', 'demote a']);
  });

  it('failover with a dead primary: promotes the best healthy replica; the failed demote is recorded, not rolled back', async () => {
    const w = world({
      lag: { b: () => 2, c: () => 9 },
      hooks: (h) => h.register(DEMOTE, hookThrowing('HostUnreachable', 'a does not answer')),
    });
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    const out = succeeded(
      await w.runner.start(request({ mode: 'failover', to: undefined, reason: 'a lost its disk' })),
    );

    expect(out.output).toMatchObject({
      outcome: 'failed-over',
      from: 'a',
      to: 'b',
      epoch: 1,
      lagSeconds: 2,
      forced: false,
    });
    expect(out.output.warnings).toContainEqual(
      expect.stringMatching(
        /^demote of a failed after the change to b was committed \(HookFailedError: .*HostUnreachable: a does not answer .*\)/,
      ),
    );
    expect(out.output.demoteFailed).toBe(true);
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote a']);
    expect(w.hooks.calls.every((c) => c.payload.mode === 'failover')).toBe(true);
    expectSettled(w.env, SVC, 'b', 1);
    const [entry] = await w.env.state.history(SVC, 1);
    expect(entry).toMatchObject({ operation: 'failover', from: 'a', to: 'b', lagSeconds: 2 });
    // Written before the demote (the point of no return): the demote's failure is in the output and the notification.
    expect(entry?.reason).toBe('a lost its disk');
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['failover']);
    expect(w.env.notifier.published[0]?.subject).toBe('failover orders: a -> b (epoch 1): ACTION NEEDED');
    // Not demoted: a is marked needs-rejoin in the same commit, and no workflow promotes it until it rejoined.
    expect(w.env.state.snapshot(SVC)?.needsRejoin).toEqual(['a']);
    expect(entry?.needsRejoin).toEqual(['a']);
    expect(out.output).toMatchObject({ needsRejoin: ['a'] });
    expect(out.output.warnings).toContain(
      'a is marked needs-rejoin: it is never promoted or given traffic until it is a replica of b; make it one, then run failover rejoin orders a',
    );
    w.env.alarms.setNode(SVC, 'a', 'OK');
    const back = failed(await w.runner.start(request({ mode: 'switchover', to: 'a', reason: 'fail back' })));
    expect(back.error).toBe('PreconditionFailedError');
    expect(back.cause).toMatch(
      /^a is a former primary of orders that has not rejoined .*failover rejoin orders a/,
    );
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('an operator failover without a demote action marks the old primary needs-rejoin; a demoted one is marked at the commit and cleared by the demote', async () => {
    const w = world({
      beforeStep: async (step, env) => {
        if (step === 'prepare' || step === 'checkCatchUp') env.lag.put(PLAIN, 'b', 1);
      },
    });
    const out = succeeded(
      await w.runner.start({ serviceId: PLAIN, mode: 'failover', to: 'b', reason: 'a is wedged' }),
    );
    expect(out.output).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', needsRejoin: ['a'] });
    expect(w.env.state.snapshot(PLAIN)?.needsRejoin).toEqual(['a']);
    const [entry] = await w.env.state.history(PLAIN, 1);
    expect(entry).toMatchObject({ operation: 'failover', from: 'a', to: 'b', needsRejoin: ['a'] });
    expect(w.env.notifier.published.at(-1)?.subject).toBe('failover plain: a -> b (epoch 1): ACTION NEEDED');

    // With a demote action that succeeds, the old primary is a replica again: nothing to rejoin.
    const d = world({ lag: { b: () => 2 } });
    d.env.alarms.setNode(SVC, 'a', 'ALARM');
    succeeded(await d.runner.start(request({ mode: 'failover', to: 'b', reason: 'a lost its disk' })));
    expect(d.hooks.trace).toContain('demote a');
    expect(d.env.state.snapshot(SVC)?.needsRejoin).toBeUndefined();
    // Marked in the commit (before the demote: the point of no return), cleared once the demote succeeded.
    const [rejoined, change] = await d.env.state.history(SVC, 2);
    expect(change).toMatchObject({ operation: 'failover', from: 'a', to: 'b', needsRejoin: ['a'] });
    expect(rejoined).toMatchObject({ operation: 'rejoin', epoch: 1, from: 'a', to: 'a' });
    expect(rejoined?.needsRejoin).toBeUndefined();
  });

  it('failover of a dead primary whose fence hook fails: rolled back, the unfence failure tolerated', async () => {
    const w = world({
      hooks: (h) => h.register(FENCE, hookThrowing('HostUnreachable', 'a does not answer')),
    });
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    const out = failed(await w.runner.start(request({ mode: 'failover' })));

    expect(out.error).toBe('FailoverRolledBack');
    expect(out.cause).toMatch(
      /unfence of a failed \(HookFailedError: .*HostUnreachable: a does not answer .*\); tolerated/,
    );
    expect(w.hooks.trace).toEqual(['fence a', 'unfence a']);
    expectSettled(w.env, SVC, 'a', 0);
    expect(w.env.state.snapshot(SVC)?.paused).toBe(false);
  });

  it('failover without force refuses a replica over the lag budget (times out, rolls back, says force)', async () => {
    const w = world({ lag: { b: () => 120 } });
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    const out = failed(await w.runner.start(request({ mode: 'failover' })));
    expect(out.error).toBe('FailoverRolledBack');
    expect(out.cause).toMatch(
      /lag over budget: lag 120 s.*\(budget 30 s\); a failover that accepts this needs force/,
    );
    expectSettled(w.env, SVC, 'a', 0);
    expect(w.hooks.trace).not.toContain('promote b');
  });

  it('forced failover with a lagging replica: proceeds at once and records the data-loss bound', async () => {
    const w = world({ lag: { b: () => 120 } });
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    const out = succeeded(
      await w.runner.start(request({ mode: 'failover', force: true, reason: 'region outage, accept loss' })),
    );

    expect(out.output).toMatchObject({ outcome: 'failed-over', to: 'b', lagSeconds: 120, forced: true });
    expect(out.output.dataLossBound).toMatch(/^120 s \(last known lag, datapoint 0 s old\)$/);
    expect(out.states).not.toContain('WaitForCatchUp');
    const entry = await changeEntry(w.env, SVC);
    expect(entry).toMatchObject({ operation: 'failover', forced: true, lagSeconds: 120 });
    expect(entry?.reason).toMatch(/^region outage, accept loss \[forced: data-loss bound 120 s/);
    expectSettled(w.env, SVC, 'b', 1);
    expect(w.env.notifier.published[0]?.detail).toMatchObject({ forced: true, lagSeconds: 120 });
  });

  it('forced failover with no lag datapoint at all records the bound as unknown', async () => {
    const w = world({ lag: { b: () => undefined } });
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    const out = succeeded(await w.runner.start(request({ mode: 'failover', force: true })));
    expect(out.output).toMatchObject({ forced: true, dataLossBound: 'unknown' });
    expect(out.output.lagSeconds).toBeUndefined();
    const entry = await changeEntry(w.env, SVC);
    expect(entry?.forced).toBe(true);
    expect(entry?.lagSeconds).toBeUndefined();
    expect(entry?.reason).toMatch(/\[forced: data-loss bound unknown\]$/);
  });

  it('force never overrides health: an unhealthy target is refused before anything changes', async () => {
    const w = world();
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    w.env.alarms.setNode(SVC, 'b', 'INSUFFICIENT_DATA');
    const out = failed(await w.runner.start(request({ mode: 'failover', force: true })));
    expect(out.error).toBe('PreconditionFailedError');
    expect(out.cause).toMatch(/b is not known to be healthy .* never promoted, not even with force/);
    expect(w.hooks.calls).toEqual([]);
    expect(w.env.state.snapshot(SVC)).toBeUndefined();
  });

  it('switchover while the lease is held (automatic failover running): refused, nothing changed', async () => {
    const w = world();
    const now = w.env.clock.now();
    const lease = {
      holder: 'lambda-req-1',
      operation: 'auto-failover' as const,
      acquiredAt: now,
      expiresAt: now + 60_000,
    };
    w.env.state.seed({ serviceId: SVC, primary: 'a', epoch: 3, paused: false, lease });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('LeaseConflictError');
    expect(out.cause).toMatch(
      /locked by auto-failover lambda-req-1 until 2025-01-01T00:01:00.000Z: nothing changed/,
    );
    expect(out.states).toEqual(['Prepare']);
    expect(w.hooks.calls).toEqual([]);
    expect(w.env.traffic.calls).toEqual([]);
    expect(w.env.state.snapshot(SVC)).toEqual({
      serviceId: SVC,
      primary: 'a',
      epoch: 3,
      paused: false,
      lease,
    });
    expect(w.env.notifier.published).toEqual([]);
  });

  it('an automatic failover that fires mid-switchover holds (operation in progress): never two role changes', async () => {
    let auto: FailoverOutcome | undefined;
    const w = world({
      beforeStep: async (step, env) => {
        if (step !== 'checkCatchUp' || auto) return;
        // The old primary's alarm fires while it is fenced: the failover Lambda runs now.
        env.alarms.setNode(SVC, 'a', 'ALARM');
        auto = await runAutoFailover(
          { ...env, holderId: 'lambda-req-9' },
          {
            alarmName: 'orders-a-health',
            state: 'ALARM',
            previousState: 'OK',
            timestamp: env.clock.now(),
            eventId: 'evt-1',
          },
        );
      },
    });
    const out = succeeded(await w.runner.start(request()));

    expect(auto).toMatchObject({ outcome: 'held', reason: 'operation-in-progress' });
    expect(out.output).toMatchObject({ outcome: 'switched-over', to: 'b', epoch: 1 });
    expect(w.env.state.stats.commits).toBe(1);
    expect(w.env.traffic.appliedChanges).toEqual([{ serviceId: SVC, from: 'a', to: 'b' }]);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('two different switchovers started at once: the epoch compare-and-swap lets exactly one through', async () => {
    const w = world();
    const [first, second] = await Promise.all([
      w.runner.start(request({ reason: 'first' })),
      w.runner.start(request({ to: 'c', reason: 'second' })),
    ]);
    const outcomes = [first, second].map((o) => o.status).sort();
    expect(outcomes).toEqual(['FAILED', 'SUCCEEDED']);
    const loser = failed([first, second].find((o) => o.status === 'FAILED')!);
    expect(loser.error).toBe('LeaseConflictError');
    expect(w.env.state.stats.commits).toBe(1);
    expect(w.env.traffic.appliedChanges).toHaveLength(1);
    const winner = succeeded([first, second].find((o) => o.status === 'SUCCEEDED')!);
    expectSettled(w.env, SVC, winner.output.to, 1);
  });

  it('dry run: reports the plan, takes no lease, calls no hook, changes nothing', async () => {
    const w = world();
    w.env.lag.put(SVC, 'b', 0.5);
    const out = succeeded(await w.runner.start(request({ dryRun: true })));

    expect(out.output).toMatchObject({
      outcome: 'dry-run',
      serviceId: SVC,
      mode: 'switchover',
      from: 'a',
      to: 'b',
      epoch: 0,
      primaryHealthy: true,
      warnings: [],
    });
    expect(out.output.detail).toBe(
      'would fence a, wait for lag 0 on b (lag 0.5 s (eligible), up to 1 min), promote b, move traffic a -> b, verify, demote a, commit epoch 1; nothing changed',
    );
    expect(out.states).toEqual(['Prepare', 'Route', 'DryRunDone']);
    expect(w.hooks.calls).toEqual([]);
    expect(w.env.state.snapshot(SVC)).toBeUndefined();
    expect(w.env.traffic.calls).toEqual([]);
    expect(w.env.notifier.published).toEqual([]);
  });

  it('retried start: the derived execution name makes it one switchover', async () => {
    const w = world();
    const input = request({ requestId: 'cli-7f3a' });
    const name = executionName(input);
    const first = w.runner.start(input);
    // The client's retry while the first runs: Step Functions returns the running execution.
    const retry = w.runner.start(input);
    expect(retry).toBe(first);
    const out = succeeded(await first);
    expect(out.name).toBe(name);
    // And a retry after it finished: ExecutionAlreadyExists, not a second switchover (back).
    expect(() => w.runner.start(input)).toThrow(/ExecutionAlreadyExists|Execution Already Exists/);
    expect(w.runner.executionCount).toBe(1);
    expect(w.env.state.stats.commits).toBe(1);
    expect(w.env.traffic.appliedChanges).toHaveLength(1);
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['switchover']);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('switchover to the node that is already primary: a no-op that says so', async () => {
    const w = world();
    w.env.state.seed({ serviceId: SVC, primary: 'b', epoch: 4, paused: false });
    w.env.traffic.set(SVC, 'b');
    const out = succeeded(await w.runner.start(request({ to: 'b' })));

    expect(out.output).toEqual({
      outcome: 'already-primary',
      serviceId: SVC,
      primary: 'b',
      epoch: 4,
      detail: 'b is already the primary of orders (epoch 4): nothing to do',
    });
    expect(out.states).toEqual(['Prepare', 'Route', 'AlreadyPrimary']);
    expect(w.hooks.calls).toEqual([]);
    expectSettled(w.env, SVC, 'b', 4);
    expect(w.env.notifier.published).toEqual([]);
  });

  it('failure during rollback (demoting the target back fails): stops with RollbackFailedError naming the state', async () => {
    const w = world({
      hooks: (h) =>
        h
          .register(PROMOTE, hookThrowing('PromoteRefused', 'timeline mismatch'))
          .register(DEMOTE, hookThrowing('DemoteRefused', 'b would not step down')),
    });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('RollbackFailedError');
    expect(out.cause).toMatch(
      /^ROLLBACK FAILED while demoting the promoted target back \(HookFailedError: .*DemoteRefused: b would not step down .*\); the rollback stopped there\./,
    );
    expect(out.cause).toMatch(/had failed: HookFailedError: .*PromoteRefused: timeline mismatch/);
    expect(out.cause).toMatch(
      /State now: traffic points at a; a \(old primary\) is still fenced; b may be promoted \(accepting writes\): demoting it back failed; recorded primary a at epoch 0 \(the change was not committed\); automatic failover PAUSED for this service; lease released\./,
    );
    // Stopped: the old primary was NOT unfenced while b may still accept writes (no two writers).
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b']);
    expect(w.env.traffic.pointsAt(SVC)).toBe('a');
    expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'a', epoch: 0, paused: true });
    expect(w.env.state.snapshot(SVC)?.lease).toBeUndefined();
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['rollback-failed']);
    expect(w.env.notifier.published[0]?.subject).toBe('ROLLBACK FAILED: switchover orders needs a human now');
  });

  it('failure during rollback (moving traffic back fails): the cause says traffic is on the new node', async () => {
    const w = world({
      beforeStep: (step, env) => {
        if (step === 'checkVerify') env.alarms.setNode(SVC, 'b', 'ALARM');
        // The first shift works; the one moving traffic back is refused.
        if (step === 'rollbackTraffic')
          env.traffic.failNext(SVC, { errorName: 'AccessDenied', apply: false });
      },
    });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('RollbackFailedError');
    expect(out.cause).toMatch(
      /^ROLLBACK FAILED while moving traffic back \(TrafficShiftError: rollback shift failed: AccessDenied/,
    );
    expect(out.cause).toMatch(
      /traffic points at b; a \(old primary\) is still fenced; b may be promoted \(accepting writes\)/,
    );
    expect(w.hooks.trace).toEqual(['fence a', 'promote b']);
    expect(w.env.traffic.pointsAt(SVC)).toBe('b');
    expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'a', epoch: 0, paused: true });
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['rollback-failed']);
  });

  it('a Prepare retried after its lease write (Lambda timeout) recognises its own lease and proceeds', async () => {
    const w = world({ intercept: answerLost('prepare') });
    const out = succeeded(await w.runner.start(request()));
    expect(out.output).toMatchObject({ outcome: 'switched-over', epoch: 1 });
    expect(w.runner.steps.filter((s) => s === 'prepare')).toHaveLength(2);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('a Commit retried after it applied recognises its own commit instead of rolling back', async () => {
    const w = world({ intercept: answerLost('commit') });
    const out = succeeded(await w.runner.start(request()));
    expect(out.output).toMatchObject({ outcome: 'switched-over', epoch: 1 });
    expect(w.env.state.stats.commits).toBe(1);
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['switchover']);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('a Commit that applied but whose answer never arrives is confirmed from the record and carried forward', async () => {
    // Regression (reliability suite): the Commit step's write landed, then every answer was lost
    // until the retries ran out; the Catch used to move traffic back to a, demote b and unfence a
    // while the record named b at epoch 1 (later: refused, RollbackFailedError and a page).
    const w = world({
      intercept: answerLost('commit', { times: Number.POSITIVE_INFINITY }),
    });
    const out = succeeded(await w.runner.start(request()));

    expect(out.output).toMatchObject({ outcome: 'switched-over', epoch: 1 });
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote a']);
    expect(w.env.traffic.appliedChanges).toEqual([{ serviceId: SVC, from: 'a', to: 'b' }]);
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['switchover']);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('a rolled-back failover that found traffic already on its target says so, and asks a human', async () => {
    // Regression (reliability property run): traffic was left on b by an interrupted automatic
    // failover; the failover recording it timed out in catch-up, and the rollback reported
    // "traffic never left a" with nothing for a human to do.
    const w = world({ lag: { b: () => 100 } });
    w.env.traffic.set(SVC, 'b');
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    const out = failed(await w.runner.start(request({ mode: 'failover' })));

    expect(out.error).toBe('FailoverRolledBack');
    expect(out.cause).toMatch(/Needs a human: traffic points at b, not at a whom the record names/);
    expect(out.cause).not.toMatch(/traffic never left a/);
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['rollback']);
    expect(w.env.notifier.published[0]?.subject).toMatch(/ACTION NEEDED/);
  });

  it('a service without hooks switches over with warnings saying what a human must do', async () => {
    // Lag 0 published at every check: the one stamped at the first check is within the clock-skew
    // margin after it and does not count, the next one does.
    const w = world({
      beforeStep: async (step, env) => {
        if (step === 'prepare' || step === 'checkCatchUp') env.lag.put(PLAIN, 'b', 0);
      },
    });
    const out = succeeded(await w.runner.start({ serviceId: PLAIN, mode: 'switchover', reason: 'rotation' }));
    expect(out.output).toMatchObject({ outcome: 'switched-over', serviceId: PLAIN, from: 'a', to: 'b' });
    expect(out.output.warnings).toEqual([
      'no fence hook: a keeps accepting writes until traffic moves, so writes after the last lag check may be lost',
      'no promote hook: b must already accept writes',
      'no demote hook: a must be re-attached as a replica by hand',
    ]);
    expect(w.hooks.calls).toEqual([]);
    expectSettled(w.env, PLAIN, 'b', 1);
  });

  it('a notification that cannot be sent does not undo a committed switchover: it is reported in the output', async () => {
    const w = world({
      ports: (env) => ({
        notifier: {
          publish: async (n) => {
            if (n.kind === 'switchover')
              throw named('TransientAwsError', 'transient AWS error in Publish: Throttling');
            await env.notifier.publish(n);
          },
        },
      }),
    });
    const out = succeeded(await w.runner.start(request()));
    expect(out.output).toMatchObject({ outcome: 'switched-over', epoch: 1 });
    expect(out.output.notifyError).toMatchObject({ Error: 'TransientAwsError' });
    // Retried with backoff first (five retries), then given up on.
    expect(w.runner.steps.filter((s) => s === 'notify')).toHaveLength(6);
    expectSettled(w.env, SVC, 'b', 1);
  });

  it('the state table unavailable during the rollback: RollbackFailedError says the lease is still held', async () => {
    const w = world({
      hooks: (h) => h.register(PROMOTE, hookThrowing('PromoteRefused', 'no')),
      ports: (env) => ({
        state: Object.assign(Object.create(env.state) as typeof env.state, {
          releaseLease: async () => {
            throw named('AccessDeniedException', 'not authorized to perform dynamodb:UpdateItem');
          },
        }),
      }),
    });
    const out = failed(await w.runner.start(request()));

    expect(out.error).toBe('RollbackFailedError');
    expect(out.cause).toMatch(
      /^ROLLBACK FAILED while releasing the lease \/ announcing the rollback \(AccessDeniedException: not authorized/,
    );
    expect(out.cause).toMatch(
      /traffic points at a; a \(old primary\) unfenced; b demoted back to a replica; .*automatic failover PAUSED for this service; lease still held by switchover-orders-b-[0-9a-f]{16} until /,
    );
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    expect(w.env.state.snapshot(SVC)).toMatchObject({ primary: 'a', epoch: 0, paused: true });
    expect(w.env.notifier.published.map((n) => n.kind)).toEqual(['rollback-failed']);
  });

  it('when even the report of a failed rollback fails, the execution still fails with RollbackFailedError', async () => {
    const w = world({
      hooks: (h) =>
        h
          .register(PROMOTE, hookThrowing('PromoteRefused', 'no'))
          .register(DEMOTE, hookThrowing('DemoteRefused', 'no')),
      intercept: (step) =>
        step === 'rollbackFailed' ? Promise.reject(named('Error', 'out of memory')) : undefined,
    });
    const out = failed(await w.runner.start(request()));
    expect(out.error).toBe('RollbackFailedError');
    expect(out.cause).toMatch(/read this execution history .* automatic failover may NOT be paused/);
    expect(out.states.at(-1)).toBe('RollbackFailedUnreported');
  });

  it.each([
    [{ serviceId: SVC, mode: 'switchover' }, 'InvalidInputError', /reason/],
    [{ serviceId: SVC, mode: 'sideways', reason: 'x' }, 'InvalidInputError', /mode/],
    [
      { serviceId: SVC, mode: 'switchover', reason: 'x', force: true },
      'InvalidInputError',
      /force: only a failover/,
    ],
    [{ serviceId: SVC, mode: 'switchover', reason: 'x', extra: 1 }, 'InvalidInputError', /extra/],
    [
      { serviceId: 'nope', mode: 'switchover', reason: 'x' },
      'UnknownServiceError',
      /unknown service: "nope"/,
    ],
    [
      { serviceId: SVC, mode: 'switchover', reason: 'x', to: 'zz' },
      'PreconditionFailedError',
      /zz is not a node of orders/,
    ],
  ])('bad input %j fails with %s and changes nothing', async (input, error, cause) => {
    const w = world();
    const out = failed(await w.runner.start(input, `bad-${Math.random().toString(36).slice(2)}`));
    expect(out.error).toBe(error);
    expect(out.cause).toMatch(cause);
    expect(out.states).toEqual(['Prepare']);
    expect(w.env.state.snapshot(SVC)).toBeUndefined();
    expect(w.env.traffic.calls).toEqual([]);
    expect(w.hooks.calls).toEqual([]);
  });

  it('a switchover with an unhealthy primary is refused: use failover', async () => {
    const w = world();
    w.env.alarms.setNode(SVC, 'a', 'ALARM');
    const out = failed(await w.runner.start(request()));
    expect(out.error).toBe('PreconditionFailedError');
    expect(out.cause).toMatch(
      /a switchover needs a healthy primary, but a's alarm is ALARM: use mode "failover"/,
    );
    expect(w.env.state.snapshot(SVC)).toBeUndefined();
  });
});
