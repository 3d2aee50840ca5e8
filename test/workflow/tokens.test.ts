/**
 * The workflow's half of the token contract (lambdas/domain/workflow.ts): the hook calls' tokens
 * carry the attempt (the lease sequence Prepare's lease write returned), and which caught hook
 * errors leave a call that may still land (the rollback waits those out).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { healthAlarmName, type ServiceConfig } from '../../lambdas/domain/config.ts';
import { fencingToken, type TokenStep } from '../../lambdas/domain/node-actions.ts';
import {
  ABANDONED_CALL_ERRORS,
  type HookCalls,
  isAbandonedCall,
  planWorkflow,
  type WorkflowPlan,
  withTokenAttempt,
} from '../../lambdas/domain/workflow.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';

const arn = (name: string) => `arn:aws:lambda:us-east-1:111122223333:function:${name}`;
const config = testConfig([
  {
    ...route53Service({ id: 'db', nodes: ['a', 'b'] }),
    hooks: { fence: arn('fence'), promote: arn('promote'), demote: arn('demote'), timeoutSeconds: 45 },
  },
]);
const service = config.services[0] as ServiceConfig;

function plan(epoch: number): WorkflowPlan {
  const decision = planWorkflow({
    service,
    request: { serviceId: 'db', mode: 'switchover', to: 'b', force: false, dryRun: false, reason: 'x' },
    state: { serviceId: 'db', primary: 'a', epoch, paused: false },
    alarms: new Map(service.nodes.map((n) => [healthAlarmName(service, n), 'OK' as const])),
    lag: new Map([['b', { lagSeconds: 0, timestamp: 0 }]]),
    holder: 'exec-1',
    now: 0,
    live: { node: 'a' },
    actionFunctionArn: arn('node-action'),
  });
  if (decision.outcome !== 'proceed') throw new Error(`expected a plan, got ${JSON.stringify(decision)}`);
  return decision.plan;
}

const STEPS: readonly (keyof HookCalls & TokenStep)[] = [
  'fence',
  'unfence',
  'promote',
  'demote',
  'demoteTarget',
];

describe('withTokenAttempt', () => {
  it('issues every hook call under the attempt and changes nothing else', () => {
    const before = plan(4);
    const after = withTokenAttempt(before, 3);
    for (const step of STEPS) {
      const call = after.hookCalls[step];
      expect(call?.Payload.token).toBe(fencingToken(5, step, 3));
      expect({ ...call, Payload: { ...call?.Payload, token: 0 } }).toEqual({
        ...before.hookCalls[step],
        Payload: { ...before.hookCalls[step]?.Payload, token: 0 },
      });
    }
    expect({ ...after, hookCalls: undefined }).toEqual({ ...before, hookCalls: undefined });
  });

  it('every call of a later attempt outranks every call of an earlier one, its rollback included', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(10_000), fc.integer({ min: 1, max: 50 }), (epoch, attempt, later) => {
        const p = plan(epoch);
        const first = withTokenAttempt(p, attempt).hookCalls;
        const second = withTokenAttempt(p, attempt + later).hookCalls;
        const highestFirst = Math.max(...STEPS.map((s) => first[s]?.Payload.token ?? 0));
        const lowestSecond = Math.min(...STEPS.map((s) => second[s]?.Payload.token ?? Infinity));
        expect(lowestSecond).toBeGreaterThan(highestFirst);
        // Within an attempt, the undo outranks what it undoes.
        expect(second.unfence?.Payload.token).toBeGreaterThan(second.fence?.Payload.token ?? Infinity);
        expect(second.demoteTarget?.Payload.token).toBeGreaterThan(second.promote?.Payload.token ?? Infinity);
      }),
    );
  });

  it('the settle time of a call is its action timeout, outside the payload the hook receives', () => {
    const p = plan(0);
    for (const step of STEPS) {
      expect(p.hookCalls[step]?.settleSeconds).toBe(45);
      expect(p.hookCalls[step]?.Payload).not.toHaveProperty('settleSeconds');
    }
  });
});

describe('isAbandonedCall', () => {
  // Step Functions stopped waiting, or Lambda lost the answer: the hook may still be running.
  const STOPPED_WAITING = ['States.Timeout', 'States.TaskFailed', 'NodeActionFailedError'];
  const LAMBDA_FAILURES = ['Lambda.ServiceException', 'Lambda.ClientExecutionTimeoutException'];
  // The node-action function's call of a user's function refused by Lambda past its retries.
  const HOOK_NOT_RUN = ['TransientAwsError'];
  it.each([...STOPPED_WAITING, ...LAMBDA_FAILURES, ...HOOK_NOT_RUN])(
    '%s -> true (the call may still land)',
    (name) => {
      expect(isAbandonedCall(name)).toBe(true);
    },
  );

  // A user's hook that threw by its own hand has ended.
  it.each(['HookFailedError', 'PromoteFailed', 'StaleTokenError', 'Error'])(
    '%s -> false (the call ended)',
    (name) => {
      expect(isAbandonedCall(name)).toBe(false);
    },
  );

  it('the patterns are the ones the state machine matches (Step Functions wildcards only at the end)', () => {
    expect(ABANDONED_CALL_ERRORS).toEqual([
      'States.*',
      'Lambda.*',
      'NodeActionFailedError',
      'TransientAwsError',
    ]);
  });
});
