/**
 * Fault injection at every AWS call of the switchover / operator-failover workflow: the real
 * state machine from the synthesized template (aws-local-stepfunctions, with its Retry and Catch),
 * the real step handler over instrumented in-memory ports, and hooks that model which node takes
 * writes. Call sites: every port call of every step (by step), every hook call (Step Functions'
 * lambda:invoke) and every step Lambda invocation. Each gets every kind once; each API every kind
 * as an outage. After each execution: traffic on exactly one node, the record matching it, one
 * writer and it is where traffic points (or RollbackFailedError told a human), epoch +0 or +1,
 * the lease released or expiring, and the outcome announced.
 */
import { describe, expect, it } from 'vitest';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { findService } from '../../lambdas/domain/config.ts';
import { type HookPayload, leaseSeconds, type WorkflowMode } from '../../lambdas/domain/workflow.ts';
import {
  EVENTS_PER_POLL,
  WORKFLOW_HISTORY_BUDGET,
  workflowHistoryEvents,
} from '../../lambdas/domain/workflow-history.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryChanges } from '../../lambdas/testing/verify-signals.ts';
import { type ExecutionOutcome, memoryRunner, named, synthesizeWorkflow } from '../workflow/harness.ts';
import { NodeRoles } from '../workflow/node-roles.ts';
import { hookedService, hooksFor, viaTargetGroup, workflowUnderTest } from '../workflow/world.ts';
import {
  apiOf,
  describePlans,
  exploreFaults,
  type FaultKind,
  type FaultPlan,
  faultyPorts,
  kindsFor,
} from './support/faults.ts';
import { historyEvents } from './support/history.ts';
import { baseline, settledViolations } from './support/invariants.ts';
import { recordFigures } from './support/results.ts';

const SVC = 'orders';
const policy = { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600 };

const config = testConfig([
  hookedService({ id: SVC, nodes: ['a', 'b', 'c'], policy, hookTimeoutSeconds: 60 }),
]);
const service = findService(config, SVC)!;
const MAX_LEASE_MS = leaseSeconds(service) * 1000;

/** The same service behind an ELB target group: verify waits for the new target to be `healthy`. */
const elbConfig = testConfig([
  viaTargetGroup(
    hookedService({
      id: SVC,
      nodes: ['a', 'b', 'c'],
      policy,
      hookTimeoutSeconds: 60,
      switchover: { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 60, verifyTimeoutSeconds: 30 },
    }),
  ),
]);
const workflows = { route53: workflowUnderTest(config), elb: workflowUnderTest(elbConfig) };

/**
 * Which router the service uses, and (ELB) what the load balancer says of the new target at the
 * n-th verify check: unhealthy new targets are a fault class of their own.
 */
interface Variant {
  readonly router: 'route53' | 'elb';
  readonly targetHealth?: (check: number) => string | undefined;
  /**
   * Lost answers of an applied commit: every Commit attempt runs to its end (the first one's
   * write lands) and its answer is lost, until the Task's retries run out.
   */
  readonly commitAnswersLost?: boolean;
}
const ROUTE53: Variant = { router: 'route53' };

/**
 * Kinds for a hook (Step Functions' lambda:invoke) and for a step Lambda invocation. A hook
 * `timeout` did its work and did not answer in time; a `late-answer` times out first and does its
 * work afterwards (Step Functions stops waiting, not the hook).
 */
const HOOK_KINDS: readonly FaultKind[] = ['throttle', 'server-error', 'timeout', 'late-answer'];
/** How long after its Task timed out an abandoned hook call lands (real ms)... */
const LATE_MS = 20;
/** ...and how long the workflow's wait for abandoned calls lasts (real ms): longer, as settleSeconds is. */
const SETTLE_WAIT_MS = 40;
/**
 * A step `timeout` ran to the end and then ran out of time before answering (`Sandbox.Timedout`,
 * or the Task's own `States.Timeout`): Step Functions runs it again, or, as an outage, catches it.
 */
const STEP_KINDS: readonly FaultKind[] = ['throttle', 'server-error', 'response-lost', 'timeout'];

function siteKinds(site: string): readonly FaultKind[] {
  if (site.startsWith('hook.')) return HOOK_KINDS;
  if (site.startsWith('lambda.')) return STEP_KINDS;
  return kindsFor(apiOf(site));
}

interface RunResult {
  readonly outcome: ExecutionOutcome;
  readonly violations: string[];
}

async function run(
  mode: WorkflowMode,
  plans: readonly FaultPlan[],
  variant: Variant = ROUTE53,
): Promise<{ sites: string[]; result: RunResult }> {
  const workflow = workflows[variant.router];
  const env = workflow.environment();
  if (mode === 'failover') env.alarms.setNode(SVC, 'a', 'ALARM');
  const { injector, port, ports } = faultyPorts(env, plans);
  // Route 53 GetChange: each change PENDING once, then INSYNC (with every earlier one).
  const changes = new MemoryChanges(env.traffic, { pendingPolls: 1 });
  const deps: WorkflowDeps = { ...ports, changes: port(changes, 'changes') };

  // What each node is, as the hook calls leave it (writer, fenced, replica; a demoted node stays a
  // replica through an unfence). The nodes ignore tokens: the worst case, where only the
  // workflow's own ordering keeps one writer.
  const nodes = new NodeRoles({ a: 'writer', b: 'replica', c: 'replica' }, { honoursTokens: false });
  const late: Promise<void>[] = [];
  const hookFn = (p: HookPayload) => {
    const kind = injector.visit(`hook.${p.action}.${p.node === 'a' ? 'from' : 'to'}`);
    if (kind) {
      switch (kind) {
        case 'throttle':
          throw named('Lambda.TooManyRequestsException', 'Rate exceeded');
        case 'server-error':
          throw named('Lambda.ServiceException', 'Lambda was unable to process the request');
        case 'late-answer':
          // Step Functions stopped waiting; the hook runs on and lands within its settle time
          // (HookCall.settleSeconds, scaled to LATE_MS of real time), after the Catch began.
          late.push(new Promise<void>((resolve) => setTimeout(resolve, LATE_MS)).then(() => nodes.apply(p)));
          throw named('States.Timeout', 'Task timed out');
        default:
          // The hook did its work but did not answer within its timeout.
          nodes.apply(p);
          throw named('States.Timeout', 'Task timed out');
      }
    }
    nodes.apply(p);
    return { ok: true };
  };
  const hooks = hooksFor(SVC, hookFn);

  const committedEarly: string[] = [];
  let verifyChecks = 0;
  const runner = workflow.runner(env, {
    ports: deps,
    nodeActionState: env.state,
    hooks,
    beforeStep: async (step) => {
      injector.scope(step);
      if (step === 'checkVerify' && variant.targetHealth)
        changes.setTargetHealth(SVC, 'b', variant.targetHealth(verifyChecks++));
      // Verify contract: nothing is committed before clients reach the new primary: the name
      // servers answer with it (a shift retried after its answer was lost comes back without a
      // change id), or the load balancer reports its target healthy.
      if (step === 'commit') {
        if (variant.router === 'route53') {
          const answered = changes.nameServers(SVC);
          if (answered !== 'b')
            committedEarly.push(`the name servers still answered ${answered ?? 'no node'}`);
        } else {
          const health = await changes.targetHealth(SVC, 'b');
          if (health !== 'healthy')
            committedEarly.push(`the load balancer reported b ${health ?? 'not registered'}`);
        }
      }
      // The replicas publish their lag: b caught up (switchover) or within budget (failover).
      env.lag.put(SVC, 'b', mode === 'switchover' ? 0 : 2, env.clock.now() - 1);
      env.lag.put(SVC, 'c', 4, env.clock.now() - 1);
    },
    // The wait for abandoned hook calls lasts longer than a late answer takes to land.
    waitMs: (state) => (state.startsWith('WaitOutAbandoned') ? SETTLE_WAIT_MS : undefined),
    intercept: (step, _event, real) => {
      if (variant.commitAnswersLost && step === 'commit') {
        return real().then(() => {
          throw named('TransientAwsError', 'DynamoDB TransactWriteItems: TimeoutError: Connection timed out');
        });
      }
      const kind = injector.visit(`lambda.${step}`);
      if (!kind) return undefined;
      switch (kind) {
        case 'throttle':
          return Promise.reject(named('Lambda.TooManyRequestsException', 'Rate exceeded'));
        case 'server-error':
          return Promise.reject(named('Lambda.ServiceException', 'Lambda was unable to process the request'));
        case 'timeout':
          return real().then(() => {
            throw named('Sandbox.Timedout', 'Task timed out after 60.00 seconds');
          });
        default:
          // The step ran to the end; its answer was lost, so Step Functions runs it again.
          return real().then(() => {
            throw named('Lambda.ServiceException', 'response lost');
          });
      }
    },
  });

  const before = await baseline(env, SVC);
  const outcome = await runner.start({ serviceId: SVC, mode, to: 'b', reason: 'reliability' });
  // Judged once every abandoned hook call has landed: what the execution reported must still hold.
  await Promise.all(late);
  const writers = new Set(nodes.writers());
  const published = env.notifier.published.slice(before.notifications);
  const notifierDown = plans.some((p) => p.target === 'notifier.publish' && p.persistence === 'always');

  const flaggedForHuman =
    outcome.status === 'FAILED' &&
    outcome.error === 'RollbackFailedError' &&
    // Reported by its step, or (when that step could not run or not send) by the execution's own
    // error, which the failed-executions alarm pages on.
    (published.some((n) => n.kind === 'rollback-failed') ||
      /could not be sent|so did the step/.test(outcome.cause));
  const violations = await settledViolations(env, SVC, before, { flaggedForHuman, maxLeaseMs: MAX_LEASE_MS });

  for (const why of new Set(committedEarly)) violations.push(`committed while ${why}`);
  // History growth: every execution stays inside the budget the synth check plans for.
  const events = historyEvents(
    workflow.synthesized().definition,
    outcome.states,
    runner.steps.length + hooks.calls.length,
  );
  if (events > WORKFLOW_HISTORY_BUDGET) violations.push(`history of ${events} events`);
  const live = env.traffic.pointsAt(SVC);
  if (!flaggedForHuman) {
    // Never two writers; the one writer is where traffic goes. No writer at all is allowed only
    // when a human was told (a dead primary whose unfence failed after a rolled-back failover).
    const toldHuman = published.some(
      (n) => Array.isArray(n.detail.needsHuman) && (n.detail.needsHuman as unknown[]).length > 0,
    );
    if (writers.size > 1) violations.push(`two writers: ${[...writers].join(',')}`);
    else if (writers.size === 1 && !writers.has(live as string))
      violations.push(`the writer is ${[...writers][0]}, traffic on ${live}`);
    else if (writers.size === 0 && !toldHuman) violations.push('no writer, and nobody was told');
  }
  if (outcome.status === 'SUCCEEDED') {
    const changed = ['switched-over', 'failed-over'].includes(outcome.output?.outcome);
    if (changed && !published.some((n) => n.kind === mode) && !outcome.output?.notifyError) {
      violations.push('role changed without an announcement or a recorded notifyError');
    }
  } else if (outcome.states.some((s) => ROLLBACK_STATES.has(s))) {
    // The rollback announces what it did (or that it failed); with SNS down, the cause says so.
    const announced = published.some((n) => n.kind === 'rollback' || n.kind === 'rollback-failed');
    if (!announced && !notifierDown && !/could not be sent|so did the step/.test(outcome.cause)) {
      violations.push(`rolled back (${outcome.error}) without an announcement`);
    }
  } else if (!/^[A-Z][A-Za-z.]+$/.test(outcome.error)) {
    // Failed before anything was undone (refused, or Prepare could not finish): the execution's
    // named error is the caller's answer, and the failed-executions alarm pages on it.
    violations.push(`unnamed failure ${outcome.error}`);
  }
  return { sites: injector.sites, result: { outcome, violations } };
}

/** States of the rollback path: reaching one means the execution undid (or tried to undo) something. */
const ROLLBACK_STATES = new Set(['RollbackTraffic', 'UnfencePrimary', 'RollbackFinish', 'RollbackFailed']);

/** Reviewed list of call sites, per mode: a new AWS call in the workflow fails this suite until listed. */
const KNOWN_SITES: Record<WorkflowMode, readonly string[]> = {
  switchover: [
    'lambda.prepare',
    'prepare/alarms.getStates#1',
    'prepare/lag.getLatest#1',
    'prepare/state.get#1',
    'prepare/traffic.current#1',
    'prepare/state.acquireLease#1',
    'hook.fence.from',
    'lambda.checkCatchUp',
    'checkCatchUp/alarms.getStates#1',
    'checkCatchUp/lag.getLatest#1',
    'hook.promote.to',
    'lambda.shiftTraffic',
    'shiftTraffic/traffic.shift#1',
    'lambda.checkVerify',
    'checkVerify/alarms.getStates#1',
    'checkVerify/traffic.current#1',
    'checkVerify/changes.changeStatus#1',
    // a shift without a change id (applied, answer lost, retried): the record's value confirmed
    'checkVerify/changes.confirmRecord#1',
    'hook.demote.from',
    'lambda.commit',
    'commit/state.commit#1',
    // past the point of no return: the demote runs after the commit, and is recorded
    'lambda.recordDemote',
    'recordDemote/state.get#1',
    'lambda.notify',
    'notify/notifier.publish#1',
    // recovery and rollback paths
    'shiftTraffic/traffic.current#1',
    'commit/state.get#1',
    'lambda.rollbackTraffic',
    'rollbackTraffic/traffic.current#1',
    'rollbackTraffic/state.get#1',
    'rollbackTraffic/traffic.shift#1',
    'rollbackTraffic/traffic.current#2',
    'hook.demote.to',
    'hook.unfence.from',
    'lambda.rollbackFinish',
    'rollbackFinish/traffic.current#1',
    'rollbackFinish/state.releaseLease#1',
    'rollbackFinish/notifier.publish#1',
    'lambda.rollbackFailed',
    'rollbackFailed/traffic.current#1',
    'rollbackFailed/state.get#1',
    'rollbackFailed/state.setPaused#1',
    'rollbackFailed/state.releaseLease#1',
    'rollbackFailed/notifier.publish#1',
    // every step after Prepare first checks its lease in the state table (the step guard)
    'checkCatchUp/state.get#1',
    'shiftTraffic/state.get#1',
    'checkVerify/state.get#1',
    'commit/state.get#2',
    'notify/state.get#1',
    'rollbackTraffic/state.get#2',
    'rollbackFinish/state.get#1',
    'rollbackFailed/state.get#2',
  ],
  failover: [],
};
KNOWN_SITES.failover = [
  ...KNOWN_SITES.switchover,
  // an operator failover marks the old primary needs-rejoin at the commit (reading the marks
  // first); its demote clears the mark
  'commit/state.get#3',
  'recordDemote/state.markRejoined#1',
  'recordDemote/state.get#2',
];

describe.each<WorkflowMode>(['switchover', 'failover'])(
  '%s workflow under injected faults (every call site x every kind)',
  (mode) => {
    it('keeps every invariant, and lists every call site', async () => {
      const { sites, clean, runs } = await exploreFaults((plan) => run(mode, plan), { kindsFor: siteKinds });

      if (process.env.RELIABILITY_DEBUG) {
        console.log(mode, JSON.stringify(sites, null, 1));
        for (const r of runs)
          if (
            r.result.violations.length ||
            (r.plans.every((p) => p.persistence === 'once') && r.result.outcome.status === 'FAILED')
          )
            console.log(
              JSON.stringify({
                mode,
                plans: describePlans(r.plans),
                o: r.result.outcome,
                v: r.result.violations,
              }),
            );
      }
      expect(clean.outcome.status).toBe('SUCCEEDED');
      expect(clean.violations).toEqual([]);
      expect([...sites].sort()).toEqual([...KNOWN_SITES[mode]].sort());

      const violations = runs.flatMap((r) =>
        r.result.violations.map((v) => `${describePlans(r.plans)}: ${v}`),
      );
      expect(violations).toEqual([]);

      const outcomes = new Map<string, number>();
      for (const r of runs) {
        const o = r.result.outcome;
        const key = o.status === 'SUCCEEDED' ? `SUCCEEDED ${o.output?.outcome}` : `FAILED ${o.error}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      recordFigures(`faults-workflow-${mode}`, {
        label: `fault points x kinds: ${mode} workflow`,
        tried: runs.length,
        violations: violations.length,
        detail: `${sites.length} call sites (ports by step, hooks, step invocations); outcomes: ${[
          ...outcomes,
        ]
          .sort()
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
        order: mode === 'switchover' ? 11 : 12,
      });
    });
  },
);

/** Outcomes of explored runs, counted: `SUCCEEDED switched-over 12, FAILED SwitchoverRolledBack 30`. */
function outcomeCounts(runs: readonly { result: RunResult }[]): string {
  const outcomes = new Map<string, number>();
  for (const r of runs) {
    const o = r.result.outcome;
    const key = o.status === 'SUCCEEDED' ? `SUCCEEDED ${o.output?.outcome}` : `FAILED ${o.error}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  return [...outcomes]
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

describe('unhealthy new targets (ELB): verify waits for the load balancer, then rolls back', () => {
  const scripts: [string, Variant['targetHealth'], boolean][] = [
    ['initial twice, then healthy', (n) => (n < 2 ? 'initial' : 'healthy'), true],
    ['unhealthy forever (its security group blocks the health check)', () => 'unhealthy', false],
    ['initial forever', () => 'initial', false],
    ['never registered', () => undefined, false],
  ];
  it.each(scripts)(
    '%s: every call site x every kind once, 0 violations',
    async (name, targetHealth, commits) => {
      const variant: Variant = { router: 'elb', ...(targetHealth ? { targetHealth } : {}) };
      const { sites, clean, runs } = await exploreFaults((plan) => run('switchover', plan, variant), {
        kindsFor: siteKinds,
        maxDepth: 1,
      });
      expect(clean.outcome.status).toBe(commits ? 'SUCCEEDED' : 'FAILED');
      expect(clean.violations).toEqual([]);
      expect(sites).toContain('checkVerify/changes.targetHealth#1');
      const violations = runs.flatMap((r) =>
        r.result.violations.map((v) => `${describePlans(r.plans)}: ${v}`),
      );
      expect(violations).toEqual([]);
      if (!commits) {
        // Never committed onto a target the load balancer does not call healthy.
        expect(runs.filter((r) => r.result.outcome.status === 'SUCCEEDED')).toEqual([]);
      }
      recordFigures(`faults-workflow-elb-${scripts.findIndex(([n]) => n === name)}`, {
        label: `fault points x kinds: switchover behind ELB, new target ${name}`,
        tried: runs.length,
        violations: violations.length,
        detail: `${sites.length} call sites; outcomes: ${outcomeCounts(runs)}`,
        order: 12.5,
      });
    },
  );
});

describe('lost answers of an applied commit: the write landed, every answer of the Commit step was lost', () => {
  it.each<WorkflowMode>(['switchover', 'failover'])(
    '%s: confirmed from the record and carried forward; then every call site x every kind once, 0 violations',
    async (mode) => {
      const variant: Variant = { router: 'route53', commitAnswersLost: true };
      const { sites, clean, runs } = await exploreFaults((plan) => run(mode, plan, variant), {
        kindsFor: siteKinds,
        maxDepth: 1,
      });
      expect(clean.outcome.status).toBe('SUCCEEDED');
      expect(clean.outcome.states).toContain('ConfirmCommit');
      expect(clean.violations).toEqual([]);
      // Reached only past the Commit's retries, which no single fault exhausts: explored here.
      expect(sites).toContain('lambda.confirmCommit');
      expect(sites).toContain('confirmCommit/state.get#1');
      const violations = runs.flatMap((r) =>
        r.result.violations.map((v) => `${describePlans(r.plans)}: ${v}`),
      );
      expect(violations).toEqual([]);
      recordFigures(`faults-workflow-commit-answers-lost-${mode}`, {
        label: `fault points x kinds: ${mode} whose applied commit lost every answer`,
        tried: runs.length,
        violations: violations.length,
        detail: `${sites.length} call sites; outcomes: ${outcomeCounts(runs)}`,
        order: mode === 'switchover' ? 12.3 : 12.4,
      });
    },
  );
});

describe('history growth: the longest catch-up the synth check allows stays inside the budget', () => {
  it('polls every 4 s for an hour, then rolls back: measured history within the estimate and the budget', async () => {
    const long = testConfig([
      {
        ...route53Service({ id: SVC, nodes: ['a', 'b'] }),
        switchover: { pollIntervalSeconds: 4, catchUpTimeoutSeconds: 3600 },
      },
    ]);
    const machine = synthesizeWorkflow(long);
    const env = createMemoryEnvironment(long, { clock: { autoAdvance: false } });
    const runner = memoryRunner(machine, env, {
      ports: { config: long },
      // The replica never catches up: every poll of the window, then the rollback.
      beforeStep: () => env.lag.put(SVC, 'b', 3, env.clock.now() - 1),
    });
    const outcome = await runner.start({ serviceId: SVC, mode: 'switchover', to: 'b', reason: 'history' });
    expect(outcome.status).toBe('FAILED');
    const polls = outcome.states.filter((s) => s === 'CheckCatchUp').length;
    expect(polls).toBe(3600 / 4 + 1);
    const events = historyEvents(machine.definition, outcome.states, runner.steps.length);
    const estimate = workflowHistoryEvents(long.services[0]!);
    expect(events).toBeLessThanOrEqual(estimate);
    expect(estimate).toBeLessThanOrEqual(WORKFLOW_HISTORY_BUDGET);
    expect(events).toBeGreaterThan(polls * EVENTS_PER_POLL);
    recordFigures('faults-workflow-history', {
      label: 'history growth: 1 h catch-up polled every 4 s, rolled back',
      tried: 1,
      violations: events > WORKFLOW_HISTORY_BUDGET ? 1 : 0,
      detail: `${polls} polls, ${events} history events measured (estimate ${estimate}, budget ${WORKFLOW_HISTORY_BUDGET}, Step Functions quota 25,000)`,
      order: 12.6,
    });
  });
});
