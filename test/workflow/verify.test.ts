/**
 * The verify contract, against the state machine from the synthesized template: nothing is
 * committed, and the old primary is not demoted, before clients are really sent to the new primary.
 * - Route 53: the name servers answer with the new address (GetChange INSYNC), whatever path the
 *   shift took: applied at once, retried after its answer was lost, read back after an uncertain
 *   failure, or settled by the SDK's own retry (all of which come back without a change id).
 * - ELB: the load balancer reports the new target `healthy`, not merely registered, within the
 *   configured bound; otherwise the change is rolled back.
 */
import { describe, expect, it } from 'vitest';
import type { TrafficPort } from '../../lambdas/domain/ports.ts';
import type { WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { testConfig } from '../../lambdas/testing/fixtures.ts';
import type { MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryChanges, type MemoryChangesOptions } from '../../lambdas/testing/verify-signals.ts';
import { answerLost, type ExecutionOutcome, named, type RunnerOptions } from './harness.ts';
import { hookedService, hooksFor, viaTargetGroup, type WorkflowWorld, workflowUnderTest } from './world.ts';

const DNS = 'orders';
const LB = 'shop';
/** Both services call the same hook functions. */
const HOOK_PREFIX = 'shared';

const config = testConfig([
  hookedService({ id: DNS, hookTimeoutSeconds: 5, hookPrefix: HOOK_PREFIX }),
  viaTargetGroup(hookedService({ id: LB, index: 1, hookTimeoutSeconds: 5, hookPrefix: HOOK_PREFIX })),
]);
const workflow = workflowUnderTest(config);

interface World extends WorkflowWorld {
  readonly changes: MemoryChanges;
  /** What the name servers answered for the DNS service when Commit ran (undefined: never ran). */
  readonly atCommit: { nameServers?: string; targetHealth?: string };
}

interface WorldOptions extends MemoryChangesOptions {
  readonly intercept?: RunnerOptions['intercept'];
  readonly traffic?: (env: MemoryEnvironment) => TrafficPort;
  readonly setUp?: (env: MemoryEnvironment, changes: MemoryChanges) => void;
  /** Before every step, after the virtual Wait. */
  readonly beforeStep?: (step: string, env: MemoryEnvironment, changes: MemoryChanges) => void;
}

function world(options: WorldOptions = {}): World {
  const env = workflow.environment();
  const changes = new MemoryChanges(env.traffic, options);
  options.setUp?.(env, changes);
  const hooks = hooksFor(HOOK_PREFIX);
  const atCommit: World['atCommit'] = {};
  const runner = workflow.runner(env, {
    hooks,
    ports: { changes, traffic: options.traffic?.(env) ?? env.traffic },
    beforeStep: async (step, event) => {
      // Both replicas caught up, measured just before every check.
      for (const svc of [DNS, LB]) env.lag.put(svc, 'b', 0, env.clock.now() - 1);
      if (step === 'commit') {
        const serviceId = event.state.plan.serviceId as string;
        Object.assign(
          atCommit,
          serviceId === DNS
            ? { nameServers: changes.nameServers(DNS) }
            : { targetHealth: await changes.targetHealth(LB, 'b') },
        );
      }
      options.beforeStep?.(step, env, changes);
    },
    intercept: options.intercept,
  });
  return { env, changes, hooks, runner, atCommit };
}

function request(serviceId: string, overrides: Partial<WorkflowRequestInput> = {}): WorkflowRequestInput {
  return { serviceId, mode: 'switchover', to: 'b', reason: 'verify contract', ...overrides };
}

/** Rolled back completely: traffic, record, roles and lease as before; the old primary never demoted. */
function expectRolledBack(w: World, out: ExecutionOutcome, serviceId: string) {
  expect(out.status).toBe('FAILED');
  if (out.status !== 'FAILED') return;
  expect(out.error).toBe('SwitchoverRolledBack');
  expect(out.states).not.toContain('Commit');
  expect(w.hooks.trace).not.toContain('demote a');
  expect(w.env.traffic.pointsAt(serviceId)).toBe('a');
  const state = w.env.state.snapshot(serviceId);
  expect(state?.epoch ?? 0).toBe(0);
  expect(state?.lease).toBeUndefined();
}

/** The router settled the change itself (the SDK's retry met the record already moved): no change id. */
function withoutChangeIds(env: MemoryEnvironment): TrafficPort {
  return {
    shift: async (c) =>
      (await env.traffic.shift(c)).map((r) => {
        if (r.status !== 'shifted') return r;
        const { changeId: _dropped, ...rest } = r;
        return rest;
      }),
    current: (id) => env.traffic.current(id),
  };
}

describe('verify: Route 53 change INSYNC before commit, whatever path the shift took', () => {
  const paths: [string, Omit<WorldOptions, 'pendingPolls'>][] = [
    ['shift retried after it applied (answer lost)', { intercept: undefined }],
    [
      'uncertain failure read back as done',
      { setUp: (env) => env.traffic.failNext(DNS, { errorName: 'TimeoutError', apply: true }) },
    ],
    [
      'the router settled it without a change id (SDK retry found the record moved)',
      { traffic: withoutChangeIds },
    ],
  ];
  // The first path's interceptor is stateful: a fresh one per world.
  const options = (i: number, extra: MemoryChangesOptions): WorldOptions => ({
    ...paths[i]![1],
    ...(i === 0 ? { intercept: freshAnswerLost() } : {}),
    ...extra,
  });

  it.each(paths.map(([name], i) => [name, i] as const))(
    'case 3: %s, name servers never sync -> rolled back, never committed',
    async (_name, i) => {
      const w = world(options(i, { pendingPolls: 'never' }));
      const out = await w.runner.start(request(DNS));
      expectRolledBack(w, out, DNS);
      expect(w.changes.polls.length).toBeGreaterThan(0);
      if (out.status === 'FAILED') expect(out.cause).toMatch(/PENDING/);
    },
  );

  it.each(paths.map(([name], i) => [name, i] as const))(
    'case 3: %s, name servers sync later -> committed only once they answer with the new address',
    async (_name, i) => {
      const w = world(options(i, { pendingPolls: 2 }));
      const out = await w.runner.start(request(DNS));
      expect(out.status).toBe('SUCCEEDED');
      expect(w.atCommit.nameServers).toBe('b');
      expect(w.env.traffic.pointsAt(DNS)).toBe('b');
      expect(w.env.state.snapshot(DNS)?.epoch).toBe(1);
      // Only the one real move: the confirmation rewrote the record with the value it had.
      expect(w.env.traffic.appliedChanges).toEqual([{ serviceId: DNS, from: 'a', to: 'b' }]);
    },
  );

  it('a shift that returned its change id waits for that change, and writes nothing more', async () => {
    const w = world({ pendingPolls: 1 });
    const out = await w.runner.start(request(DNS));
    expect(out.status).toBe('SUCCEEDED');
    expect(w.changes.confirms).toEqual([]);
    expect(w.changes.polls).toEqual(['C1', 'C1']);
    expect(w.atCommit.nameServers).toBe('b');
  });

  it('a record moved away from the new primary during verify is never confirmed onto it', async () => {
    const w = world({
      traffic: withoutChangeIds,
      pendingPolls: 0,
      // An operator puts traffic back on a right after our shift.
      beforeStep: (step, env) => {
        if (step === 'checkVerify') env.traffic.set(DNS, 'a');
      },
    });
    const out = await w.runner.start(request(DNS));
    expectRolledBack(w, out, DNS);
    expect(
      w.env.traffic.calls.filter((c) =>
        c.changes.some((ch) => ch.from === ch.to && ch.to === 'b' && c.applied),
      ),
    ).toEqual([]);
  });
});

describe('verify: ELB new target healthy before commit', () => {
  it('case 4: a new target that never passes the health check is rolled back, never committed', async () => {
    const w = world({ setUp: (_env, changes) => changes.setTargetHealth(LB, 'b', 'unhealthy') });
    const out = await w.runner.start(request(LB));
    expectRolledBack(w, out, LB);
    if (out.status === 'FAILED') expect(out.cause).toMatch(/unhealthy/);
  });

  it('case 4: a target still in `initial` is waited for, then committed once healthy', async () => {
    let checks = 0;
    const w = world({
      setUp: (_env, changes) => changes.setTargetHealth(LB, 'b', 'initial'),
      beforeStep: (step, _env, changes) => {
        if (step === 'checkVerify' && ++checks === 3) changes.setTargetHealth(LB, 'b', 'healthy');
      },
    });
    const out = await w.runner.start(request(LB));
    expect(out.status).toBe('SUCCEEDED');
    expect(w.atCommit.targetHealth).toBe('healthy');
    expect(checks).toBe(3);
    expect(w.env.state.snapshot(LB)?.epoch).toBe(1);
  });
});

function freshAnswerLost(): RunnerOptions['intercept'] {
  return answerLost('shiftTraffic', {
    error: () => named('TransientAwsError', 'Route 53 answer lost after the change applied'),
  });
}
