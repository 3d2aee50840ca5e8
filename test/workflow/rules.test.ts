/**
 * The pure workflow rules (lambdas/domain/workflow.ts): input validation, execution names,
 * preconditions and plan, catch-up and verification. Invariant 1 (never promote a node not
 * positively known healthy) and the force rule (only lag is forced, and the bound is kept) are
 * checked as properties.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { healthAlarmName, type ServiceConfig } from '../../lambdas/domain/config.ts';
import { InvalidInputError } from '../../lambdas/domain/errors.ts';
import { fencingToken, type TokenStep } from '../../lambdas/domain/node-actions.ts';
import type { AlarmStateValue, ClusterState, LagSample } from '../../lambdas/domain/types.ts';
import {
  assessCatchUp,
  assessVerification,
  type CatchUpProgress,
  chooseTarget,
  executionName,
  FENCE_SKEW_MARGIN_SECONDS,
  leaseSeconds,
  parseWorkflowRequest,
  planWorkflow,
  VERIFY_TIMEOUT_SECONDS,
  type WorkflowPlan,
  type WorkflowRequest,
} from '../../lambdas/domain/workflow.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';

const NOW = Date.UTC(2025, 5, 1, 12);
const FENCE = 'arn:aws:lambda:us-east-1:111122223333:function:fence';
const PROMOTE = 'arn:aws:lambda:us-east-1:111122223333:function:promote';
const DEMOTE = 'arn:aws:lambda:us-east-1:111122223333:function:demote';
/** The stack's node-action function: every call goes through it, a user's function included. */
const NODE_ACTIONS = 'arn:aws:lambda:us-east-1:111122223333:function:node-action';

const config = testConfig([
  {
    ...route53Service({
      id: 'db',
      nodes: ['a', 'b', 'c'],
      policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
    }),
    hooks: { fence: FENCE, promote: PROMOTE, demote: DEMOTE, timeoutSeconds: 45 },
    switchover: { pollIntervalSeconds: 7, catchUpTimeoutSeconds: 120 },
  },
  route53Service({ id: 'bare', index: 1 }),
]);
const service = config.services[0] as ServiceConfig;
const bare = config.services[1] as ServiceConfig;

const alarmsOf = (svc: ServiceConfig, states: Partial<Record<string, AlarmStateValue>>) =>
  new Map(
    svc.nodes.flatMap((n) => {
      const v = states[n.id];
      return v === undefined ? [] : [[healthAlarmName(svc, n), v] as const];
    }),
  );
const allOk = alarmsOf(service, { a: 'OK', b: 'OK', c: 'OK' });
const fresh = (lagSeconds: number, ageSeconds = 5): LagSample => ({
  lagSeconds,
  timestamp: NOW - ageSeconds * 1000,
});
const state = (over: Partial<ClusterState> = {}): ClusterState => ({
  serviceId: 'db',
  primary: 'a',
  epoch: 7,
  paused: false,
  ...over,
});
const req = (over: Partial<WorkflowRequest> = {}): WorkflowRequest => ({
  serviceId: 'db',
  mode: 'switchover',
  force: false,
  dryRun: false,
  reason: 'maintenance',
  ...over,
});

function plan(over: Partial<Parameters<typeof planWorkflow>[0]> = {}) {
  return planWorkflow({
    service,
    request: req(),
    state: state(),
    alarms: allOk,
    lag: new Map([
      ['b', fresh(1)],
      ['c', fresh(3)],
    ]),
    holder: 'exec-1',
    now: NOW,
    actionFunctionArn: NODE_ACTIONS,
    ...over,
  });
}

function proceed(over: Parameters<typeof plan>[0] = {}): WorkflowPlan {
  const d = plan(over);
  if (d.outcome !== 'proceed' && d.outcome !== 'dry-run')
    throw new Error(`expected a plan, got ${JSON.stringify(d)}`);
  return d.plan;
}

describe('parseWorkflowRequest', () => {
  it('accepts the documented input and fills defaults', () => {
    expect(parseWorkflowRequest({ serviceId: 'db', mode: 'failover', reason: '  disk gone ' })).toEqual({
      serviceId: 'db',
      mode: 'failover',
      force: false,
      dryRun: false,
      reason: 'disk gone',
    });
  });

  it.each([
    [{}, /serviceId.*mode.*reason/s],
    [{ serviceId: 'db', mode: 'switchover', reason: '   ' }, /reason: must say why/],
    [{ serviceId: 'db', mode: 'promote', reason: 'x' }, /mode/],
    [{ serviceId: 'db', mode: 'switchover', reason: 'x', to: 'B!' }, /to: must be a node id/],
    [{ serviceId: 'db', mode: 'switchover', reason: 'x', force: 'yes' }, /force/],
    [
      { serviceId: 'db', mode: 'switchover', reason: 'x', force: true },
      /only a failover may accept data loss/,
    ],
    [{ serviceId: 'db', mode: 'switchover', reason: 'x', requestId: 'a b' }, /requestId/],
    [{ serviceId: 'db', mode: 'switchover', reason: 'x', plan: {} }, /plan/],
    ['switchover', /invalid workflow input/],
    [null, /invalid workflow input/],
  ])('rejects %j with InvalidInputError', (input, message) => {
    expect(() => parseWorkflowRequest(input)).toThrow(InvalidInputError);
    expect(() => parseWorkflowRequest(input)).toThrow(message);
  });
});

describe('executionName', () => {
  const base = { serviceId: 'db', mode: 'switchover' as const, to: 'b', reason: 'patch' };

  it('is deterministic and readable', () => {
    expect(executionName(base)).toBe(executionName({ ...base }));
    expect(executionName(base)).toMatch(/^switchover-db-b-[0-9a-f]{16}$/);
    expect(executionName({ ...base, to: undefined, dryRun: true })).toMatch(
      /^dryrun-switchover-db-auto-[0-9a-f]{16}$/,
    );
  });

  it('changes with every field that makes it a different request', () => {
    const names = [
      base,
      { ...base, serviceId: 'db2' },
      { ...base, mode: 'failover' as const },
      { ...base, to: 'c' },
      { ...base, to: undefined },
      { ...base, mode: 'failover' as const, force: true },
      { ...base, dryRun: true },
      { ...base, reason: 'other' },
      { ...base, requestId: 'r1' },
      { ...base, requestId: 'r2' },
    ].map((r) => executionName(r));
    expect(new Set(names).size).toBe(names.length);
  });

  it('with a requestId ignores the reason and the day: the client retries with the same key', () => {
    const a = executionName({ ...base, requestId: 'cli-1', reason: 'x' }, NOW);
    expect(executionName({ ...base, requestId: 'cli-1', reason: 'y' }, NOW + 86_400_000)).toBe(a);
  });

  it('with an epoch, the key is the intent and the epoch: the reason, who asked and the day do not matter', () => {
    const asked = executionName({ ...base, expectedEpoch: 4, reason: 'patch (alice@laptop)' }, NOW);
    expect(asked).toMatch(/^switchover-db-b-e4-[0-9a-f]{16}$/);
    // After midnight, from another machine, in other words: the same request.
    expect(executionName({ ...base, expectedEpoch: 4, reason: 'bob@jump: patch' }, NOW + 86_400_000)).toBe(
      asked,
    );
    // Against another epoch, or with another intent or request id: a new request.
    const others = [
      { ...base, expectedEpoch: 5 },
      { ...base, expectedEpoch: 4, to: 'c' },
      { ...base, expectedEpoch: 4, dryRun: true },
      { ...base, expectedEpoch: 4, requestId: 'chg-1' },
    ].map((r) => executionName(r, NOW));
    expect(new Set([asked, ...others]).size).toBe(5);
  });

  it('without an epoch or a requestId (raw StartExecution), the same request is the same name within a UTC day and a new one the next day', () => {
    const morning = Date.UTC(2025, 5, 1, 0, 0, 1);
    const evening = Date.UTC(2025, 5, 1, 23, 59, 59);
    expect(executionName(base, morning)).toBe(executionName(base, evening));
    expect(executionName(base, evening + 2000)).not.toBe(executionName(base, evening));
  });

  it('is always a valid Step Functions name: 1-80 characters of [A-Za-z0-9_-]', () => {
    const id = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        id,
        fc.constantFrom('switchover' as const, 'failover' as const),
        fc.option(id, { nil: undefined }),
        fc.string({ minLength: 1, maxLength: 512 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: undefined }),
        (serviceId, mode, to, reason, dryRun, now) => {
          const name = executionName({ serviceId, mode, to, reason, dryRun }, now);
          expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('planWorkflow', () => {
  it('refuses a request made against an epoch that has moved on (an automatic failover got there first)', () => {
    const last = {
      serviceId: 'db',
      epoch: 7,
      at: NOW - 1_000,
      operation: 'auto-failover' as const,
      from: 'c',
      to: 'a',
      reason: 'primary alarm',
      actor: 'req-9',
    };
    const d = plan({ request: req({ to: 'b', expectedEpoch: 6 }), state: state({ lastChange: last }) });
    expect(d).toEqual({
      outcome: 'refused',
      error: 'LeaseConflictError',
      detail:
        'db changed since the request was made: expected epoch 6, now epoch 7 with primary a (auto-failover c -> a by req-9): nothing changed, check the status and ask again',
    });
    expect(proceed({ request: req({ to: 'b', expectedEpoch: 7 }) }).expectedEpoch).toBe(7);
  });

  it('refuses to start from a record that traffic disagrees with, unless it records where traffic is', () => {
    // Regression (reliability property run): an interrupted automatic failover left traffic on b
    // with the record naming a; a failover to c planned from a, and its rollback reported
    // "traffic never left a".
    expect(plan({ request: req({ mode: 'failover', to: 'c' }), live: { node: 'b' } })).toEqual({
      outcome: 'refused',
      error: 'PreconditionFailedError',
      detail:
        'traffic points at b but the record names a (epoch 7): run a failover to b to record where traffic is, or move traffic back to a first',
    });
    expect(plan({ live: { node: undefined } })).toMatchObject({
      outcome: 'refused',
      detail: expect.stringMatching(/^traffic points at no single node but the record names a/),
    });
    expect(proceed({ request: req({ mode: 'failover', to: 'b' }), live: { node: 'b' } })).toMatchObject({
      from: 'a',
      to: 'b',
    });
    expect(proceed({ live: { node: 'a' } }).from).toBe('a');
  });

  it('never promotes a former primary that has not rejoined, named or not, forced or dry run (invariant 9)', () => {
    const marked = state({ needsRejoin: ['b'] });
    const detail =
      'b is a former primary of db that has not rejoined (needs-rejoin): it may still hold writes a never saw, so it is never promoted, not even with force. ' +
      'Demote it to a replica of a, then run `failover rejoin db b` and ask again';
    for (const request of [
      req({ to: 'b' }),
      req({ to: 'b', dryRun: true }),
      req({ mode: 'failover', to: 'b' }),
      req({ mode: 'failover', to: 'b', force: true }),
    ]) {
      expect(plan({ request, state: marked })).toEqual({
        outcome: 'refused',
        error: 'PreconditionFailedError',
        detail,
      });
    }
    // b has the least lag, but the workflow picks c when no target is named.
    expect(proceed({ state: marked }).to).toBe('c');
    expect(proceed({ state: marked, request: req({ mode: 'failover' }) }).to).toBe('c');
    expect(plan({ state: state({ needsRejoin: ['b', 'c'] }) })).toEqual({
      outcome: 'refused',
      error: 'PreconditionFailedError',
      detail: 'no healthy replica of db to promote: b needs-rejoin, c needs-rejoin',
    });
    // Once rejoined (the mark cleared), b is a target again.
    expect(proceed({ request: req({ to: 'b' }), state: state({ needsRejoin: ['c'] }) }).to).toBe('b');
  });

  it('keys the execution name on expectedEpoch only when it is given', () => {
    const base = { serviceId: 'db', mode: 'switchover' as const, reason: 'maintenance' };
    expect(executionName(base, NOW)).toBe(executionName({ ...base }, NOW));
    expect(executionName({ ...base, expectedEpoch: 7 }, NOW)).not.toBe(executionName(base, NOW));
  });

  it('plans a switchover: epoch token, lease window, timings from the service, every hook call prepared', () => {
    const p = proceed();
    expect(p).toMatchObject({
      serviceId: 'db',
      mode: 'switchover',
      from: 'a',
      to: 'b',
      expectedEpoch: 7,
      epoch: 8,
      holder: 'exec-1',
      primaryHealthy: true,
      startedAt: NOW,
      pollIntervalSeconds: 7,
      catchUpTimeoutSeconds: 120,
      verifyTimeoutSeconds: VERIFY_TIMEOUT_SECONDS,
      hookTimeoutSeconds: 45,
      // What acts on each node: the user's functions.
      hooks: { fence: FENCE, promote: PROMOTE, demote: DEMOTE },
      warnings: [],
    });
    expect(p.leaseExpiresAt).toBe(NOW + leaseSeconds(service) * 1000);
    const payload = {
      serviceId: 'db',
      epoch: 8,
      mode: 'switchover',
      execution: 'exec-1',
      timeoutSeconds: 45,
    };
    const call = (node: string, action: string, step: TokenStep) => ({
      FunctionName: NODE_ACTIONS,
      Payload: { ...payload, node, action, token: fencingToken(8, step) },
      settleSeconds: 45,
    });
    expect(p.hookCalls).toEqual({
      fence: call('a', 'fence', 'fence'),
      unfence: call('a', 'unfence', 'unfence'),
      promote: call('b', 'promote', 'promote'),
      demote: call('a', 'demote', 'demote'),
      demoteTarget: call('b', 'demote', 'demoteTarget'),
    });
    // The rollback's calls outrank the forward calls they undo.
    expect(fencingToken(8, 'demoteTarget')).toBeGreaterThan(fencingToken(8, 'promote'));
    expect(fencingToken(8, 'unfence')).toBeGreaterThan(fencingToken(8, 'fence'));
  });

  it('refuses a service with hooks when started without the node-action function (a stack from before it ran them)', () => {
    const { actionFunctionArn: _, ...input } = {
      service,
      request: req(),
      state: state(),
      alarms: allOk,
      lag: new Map([['b', fresh(1)]]),
      holder: 'exec-1',
      now: NOW,
      actionFunctionArn: NODE_ACTIONS,
    };
    expect(planWorkflow(input)).toMatchObject({
      outcome: 'refused',
      error: 'PreconditionFailedError',
      detail: expect.stringMatching(/without the node-action function: redeploy/),
    });
  });

  it('prepares no hook call and warns for a service without hooks', () => {
    const p = proceed({
      service: bare,
      state: state({ serviceId: 'bare' }),
      alarms: alarmsOf(bare, { a: 'OK', b: 'OK' }),
    });
    expect(p.hookCalls).toEqual({});
    expect(p.warnings).toHaveLength(3);
  });

  it('a dry run is the same plan, marked dry-run', () => {
    const d = plan({ request: req({ dryRun: true }) });
    expect(d.outcome).toBe('dry-run');
  });

  it('the current primary as target is a no-op that says so, even while locked', () => {
    const lease = {
      holder: 'other',
      operation: 'auto-failover' as const,
      acquiredAt: NOW,
      expiresAt: NOW + 1000,
    };
    expect(plan({ request: req({ to: 'a' }), state: state({ lease }) })).toEqual({
      outcome: 'already-primary',
      serviceId: 'db',
      primary: 'a',
      epoch: 7,
      detail: 'a is already the primary of db (epoch 7): nothing to do',
    });
  });

  it.each([
    ['held by someone else', { holder: 'other', expiresAt: NOW + 1 }, 'refused'],
    ['held by someone else until this very instant', { holder: 'other', expiresAt: NOW }, 'refused'],
    ['our own (a retried Prepare)', { holder: 'exec-1', expiresAt: NOW + 60_000 }, 'proceed'],
    ['expired', { holder: 'other', expiresAt: NOW - 1 }, 'proceed'],
  ])('a lease %s: %s', (_label, lease, outcome) => {
    const d = plan({
      state: state({ lease: { operation: 'switchover', acquiredAt: NOW - 1000, ...lease } }),
    });
    expect(d.outcome).toBe(outcome);
    if (d.outcome === 'refused') {
      expect(d.error).toBe('LeaseConflictError');
      expect(d.detail).toMatch(
        /^db is locked by switchover other until 2025-06-01T12:00:00.00[01]Z: nothing changed$/,
      );
    }
  });

  it.each<[string, Parameters<typeof plan>[0], RegExp]>([
    ['unknown target', { request: req({ to: 'zz' }) }, /zz is not a node of db \(nodes: a, b, c\)/],
    [
      'recorded primary not in the config',
      { state: state({ primary: 'gone' }) },
      /recorded primary gone is not a node/,
    ],
    [
      'target alarm missing',
      { alarms: alarmsOf(service, { a: 'OK', c: 'OK' }), request: req({ to: 'b' }) },
      /b is not known to be healthy .* UNKNOWN/,
    ],
    [
      'target in ALARM',
      { alarms: alarmsOf(service, { a: 'OK', b: 'ALARM', c: 'OK' }), request: req({ to: 'b' }) },
      /alarm db-b-health is ALARM/,
    ],
    [
      'no healthy replica',
      { alarms: alarmsOf(service, { a: 'OK', b: 'INSUFFICIENT_DATA' }) },
      /no healthy replica of db to promote: b INSUFFICIENT_DATA, c UNKNOWN/,
    ],
    [
      'switchover with a sick primary',
      { alarms: alarmsOf(service, { a: 'ALARM', b: 'OK', c: 'OK' }) },
      /use mode "failover"/,
    ],
    [
      'forced failover to a sick target',
      {
        request: req({ mode: 'failover', force: true, to: 'c' }),
        alarms: alarmsOf(service, { b: 'OK', c: 'ALARM' }),
      },
      /not even with force/,
    ],
  ])('refuses: %s', (_label, over, detail) => {
    const d = plan(over);
    expect(d.outcome).toBe('refused');
    if (d.outcome === 'refused') {
      expect(d.error).toBe('PreconditionFailedError');
      expect(d.detail).toMatch(detail);
    }
  });

  it('a failover accepts a dead primary and records that it was unhealthy', () => {
    const p = proceed({
      request: req({ mode: 'failover' }),
      alarms: alarmsOf(service, { a: 'ALARM', b: 'OK', c: 'OK' }),
    });
    expect(p).toMatchObject({ from: 'a', to: 'b', primaryHealthy: false });
  });

  it('never plans to promote a node that is not positively OK, nor the primary, nor one needing rejoin (property)', () => {
    const alarm = fc.option(fc.constantFrom<AlarmStateValue>('OK', 'ALARM', 'INSUFFICIENT_DATA'), {
      nil: undefined,
    });
    const sample = fc.option(
      fc.record({
        lagSeconds: fc.oneof(fc.double({ min: -5, max: 500, noNaN: false }), fc.constant(0)),
        timestamp: fc.integer({ min: NOW - 600_000, max: NOW + 120_000 }),
      }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(
        fc.record({ a: alarm, b: alarm, c: alarm }),
        fc.record({ a: sample, b: sample, c: sample }),
        fc.constantFrom('a', 'b', 'c'),
        fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
        fc.constantFrom('switchover' as const, 'failover' as const),
        fc.boolean(),
        fc.subarray(['a', 'b', 'c']),
        (alarms, lags, primary, to, mode, force, needsRejoin) => {
          const d = plan({
            request: req({ mode, to, force: mode === 'failover' && force }),
            state: state({ primary, needsRejoin }),
            alarms: alarmsOf(service, alarms),
            lag: new Map(Object.entries(lags)),
          });
          if (d.outcome !== 'proceed' && d.outcome !== 'dry-run') return;
          expect(d.plan.to).not.toBe(primary);
          expect(needsRejoin).not.toContain(d.plan.to);
          expect(alarms[d.plan.to as 'a' | 'b' | 'c']).toBe('OK');
          if (mode === 'switchover') expect(alarms[primary as 'a' | 'b' | 'c']).toBe('OK');
          expect(d.plan.epoch).toBe(d.plan.expectedEpoch + 1);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('chooseTarget', () => {
  const c = (
    nodeId: string,
    alarmState: 'OK' | 'ALARM' | 'UNKNOWN',
    verdict: string,
    lagSeconds?: number,
    priority = 0,
  ) =>
    ({
      nodeId,
      alarmState,
      verdict,
      priority,
      ...(lagSeconds !== undefined ? { lagSeconds } : {}),
    }) as Parameters<typeof chooseTarget>[0][number];

  it.each([
    ['least lag among eligible', [c('b', 'OK', 'eligible', 3), c('c', 'OK', 'eligible', 1)], 'c'],
    ['priority breaks a lag tie', [c('b', 'OK', 'eligible', 1, 2), c('c', 'OK', 'eligible', 1, 1)], 'c'],
    ['eligible before over-budget', [c('b', 'OK', 'lag-over-budget', 0.5), c('c', 'OK', 'eligible', 9)], 'c'],
    ['known lag before unknown', [c('b', 'OK', 'lag-unknown'), c('c', 'OK', 'lag-stale', 50)], 'c'],
    [
      'never a former primary that has not rejoined',
      [c('b', 'OK', 'needs-rejoin', 0), c('c', 'OK', 'lag-unknown')],
      'c',
    ],
    [
      'never an unhealthy one',
      [c('b', 'ALARM', 'unhealthy', 0), c('c', 'UNKNOWN', 'unhealthy', 0)],
      undefined,
    ],
  ])('%s', (_label, candidates, expected) => {
    expect(chooseTarget(candidates)?.nodeId).toBe(expected);
  });
});

describe('assessCatchUp', () => {
  const progress: CatchUpProgress = { startedAt: NOW - 10_000, deadline: NOW + 60_000, checks: 2 };
  const base = proceed();
  const failover = proceed({ request: req({ mode: 'failover' }) });
  const forced = proceed({ request: req({ mode: 'failover', force: true }) });
  const at = (lagSeconds: number, ms: number): LagSample => ({ lagSeconds, timestamp: ms });

  it.each<[string, WorkflowPlan, 'OK' | 'ALARM' | 'UNKNOWN', LagSample | undefined, number, string, RegExp]>([
    [
      'switchover: lag 0 measured after the fence',
      base,
      'OK',
      at(0, NOW - 5000),
      NOW,
      'ready',
      /caught up: lag 0/,
    ],
    [
      'switchover: lag 0 from before the fence',
      base,
      'OK',
      at(0, NOW - 11_000),
      NOW,
      'waiting',
      /no lag datapoint measured after the fence yet/,
    ],
    [
      'switchover: lag 0 stamped after the fence but within the clock-skew margin',
      base,
      'OK',
      at(0, NOW - 10_000 + FENCE_SKEW_MARGIN_SECONDS * 1000 - 1),
      NOW,
      'waiting',
      /no lag datapoint measured after the fence yet .*within the 2 s clock-skew margin after the fence/,
    ],
    [
      'switchover: lag 0 stamped exactly the margin after the fence',
      base,
      'OK',
      at(0, NOW - 10_000 + FENCE_SKEW_MARGIN_SECONDS * 1000),
      NOW,
      'ready',
      /caught up: lag 0/,
    ],
    ['switchover: a little lag', base, 'OK', at(0.2, NOW - 1000), NOW, 'waiting', /not caught up: lag 0.2 s/],
    ['switchover: no datapoint', base, 'OK', undefined, NOW, 'waiting', /no lag datapoint/],
    [
      'switchover: target unhealthy',
      base,
      'ALARM',
      at(0, NOW - 1000),
      NOW,
      'waiting',
      /not known to be healthy \(alarm ALARM\)/,
    ],
    [
      'switchover: deadline passed',
      base,
      'OK',
      at(3, NOW - 1000),
      NOW + 60_000,
      'timed-out',
      /did not catch up within 2 min \(3 checks\)/,
    ],
    [
      'failover: fresh and within budget',
      failover,
      'OK',
      at(9, NOW - 30_000),
      NOW,
      'ready',
      /within the recovery-point budget/,
    ],
    [
      'failover: over budget',
      failover,
      'OK',
      at(11, NOW - 1000),
      NOW,
      'waiting',
      /lag over budget.*needs force/,
    ],
    ['failover: stale', failover, 'OK', at(0, NOW - 61_000), NOW, 'waiting', /lag stale/],
    ['failover: from the future', failover, 'OK', at(0, NOW + 61_000), NOW, 'waiting', /lag stale/],
    ['failover: negative lag', failover, 'OK', at(-1, NOW), NOW, 'waiting', /lag unknown/],
    [
      'forced: over budget',
      forced,
      'OK',
      at(90, NOW - 2000),
      NOW,
      'ready',
      /forced past lag over budget.*data-loss bound 90 s \(last known lag, datapoint 2 s old\)/,
    ],
    ['forced: no datapoint', forced, 'OK', undefined, NOW, 'ready', /data-loss bound unknown/],
    ['forced: never past health', forced, 'UNKNOWN', at(0, NOW), NOW, 'waiting', /not known to be healthy/],
  ])('%s', (_label, p, targetAlarm, sample, now, status, detail) => {
    const a = assessCatchUp({ plan: p, service, targetAlarm, sample, progress, now });
    expect(a.status).toBe(status);
    expect(a.detail).toMatch(detail);
  });

  it('ready means a healthy target, and unforced means lag within the rules (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(base, failover, forced),
        fc.constantFrom<'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'UNKNOWN'>(
          'OK',
          'ALARM',
          'INSUFFICIENT_DATA',
          'UNKNOWN',
        ),
        fc.option(
          fc.record({
            lagSeconds: fc.oneof(fc.constant(0), fc.double({ min: -1, max: 100, noNaN: false })),
            timestamp: fc.oneof(
              fc.integer({ min: NOW - 200_000, max: NOW + 200_000 }),
              // Around the fence and its clock-skew margin, where the boundary is.
              fc.integer({ min: progress.startedAt - 3000, max: progress.startedAt + 3000 }),
            ),
          }),
          { nil: undefined },
        ),
        (p, targetAlarm, sample) => {
          const a = assessCatchUp({ plan: p, service, targetAlarm, sample, progress, now: NOW });
          if (a.status !== 'ready') return;
          expect(targetAlarm).toBe('OK');
          if (p.mode === 'switchover') {
            expect(a.lagSeconds).toBe(0);
            // Never a datapoint that a clock up to the margin ahead could have taken before the fence.
            expect(sample?.timestamp).toBeGreaterThanOrEqual(
              progress.startedAt + FENCE_SKEW_MARGIN_SECONDS * 1000,
            );
          }
          if (!a.forced) {
            expect(a.lagSeconds).toBeLessThanOrEqual(service.policy.maxLagSeconds);
          } else {
            expect(p.force).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('assessVerification', () => {
  const p = proceed();
  const v = (over: Partial<Parameters<typeof assessVerification>[0]>) =>
    assessVerification({
      plan: p,
      targetAlarm: 'OK',
      current: 'b',
      delivery: { router: 'route53', changeStatus: 'INSYNC' },
      deadline: NOW + 1,
      now: NOW,
      ...over,
    });
  const elb = (targetHealth: string | undefined) => ({ delivery: { router: 'elb' as const, targetHealth } });

  it.each([
    ['healthy, routed, INSYNC', {}, 'verified', /b healthy and serving traffic \(Route 53 change INSYNC\)/],
    [
      'Route 53 without a change to wait for',
      { delivery: { router: 'route53' as const, changeStatus: undefined } },
      'pending',
      /no Route 53 change to wait for yet/,
    ],
    [
      'change still PENDING',
      { delivery: { router: 'route53' as const, changeStatus: 'PENDING' as const } },
      'pending',
      /PENDING/,
    ],
    ['ELB target healthy', elb('healthy'), 'verified', /load balancer target healthy\)$/],
    ['ELB target still initial', elb('initial'), 'pending', /reports b's target initial, not healthy/],
    ['ELB target unhealthy', elb('unhealthy'), 'pending', /reports b's target unhealthy, not healthy/],
    ['ELB target not registered', elb(undefined), 'pending', /target not registered/],
    ['router points elsewhere', { current: 'a' }, 'pending', /traffic points at a, not b/],
    ['target unhealthy', { targetAlarm: 'ALARM' as const }, 'pending', /b is not healthy/],
    [
      'deadline passed',
      { current: undefined, now: NOW + 1 },
      'failed',
      /not verified within 3 min: traffic points at no single node/,
    ],
    [
      'deadline passed with an unhealthy ELB target',
      { ...elb('unhealthy'), now: NOW + 1 },
      'failed',
      /not verified within 3 min: the load balancer reports b's target unhealthy/,
    ],
  ])('%s', (_label, over, status, detail) => {
    const a = v(over);
    expect(a.status).toBe(status);
    expect(a.detail).toMatch(detail);
  });
});

describe('leaseSeconds', () => {
  it('covers every hook with a retry, the catch-up and verify windows, and a margin', () => {
    expect(leaseSeconds(service)).toBe(5 * 45 * 2 + 45 + 120 + service.switchover.verifyTimeoutSeconds + 600);
    expect(leaseSeconds(bare)).toBe(5 * 60 * 2 + 60 + 300 + VERIFY_TIMEOUT_SECONDS + 600);
  });
});
