import { describe, expect, it } from 'vitest';
import {
  failoverLeaseSeconds,
  failoverTimeoutSeconds,
  roleChangeBudgetProblems,
  roleChangeBudgetSeconds,
} from '../../lambdas/domain/role-change-budget.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:hook';

function withHooks(
  timeoutSeconds: number,
  hooks: Record<string, string> = { fence: ARN, promote: ARN, demote: ARN },
) {
  const [service] = [route53Service({ id: 'orders', nodes: ['a', 'b', 'c'] })];
  return testConfig([{ ...service!, hooks: { ...hooks, timeoutSeconds } }]);
}

describe('role-change budget', () => {
  it('without actions: the engine alone, and the base 60 s timeout; the lease outlives it', () => {
    const config = testConfig([route53Service({ id: 'orders' })]);
    expect(roleChangeBudgetSeconds(config.services[0]!)).toBe(20);
    expect(failoverTimeoutSeconds(config)).toBe(60);
    expect(failoverLeaseSeconds(config)).toBe(120);
  });

  it('with actions: fence capped at 15 s, two promote+demote attempts, the unfence, the engine', () => {
    const config = withHooks(60);
    expect(roleChangeBudgetSeconds(config.services[0]!)).toBe(20 + 15 + 2 * (60 + 60) + 60);
    expect(failoverTimeoutSeconds(config)).toBe(335);
    expect(failoverLeaseSeconds(config)).toBeGreaterThan(failoverTimeoutSeconds(config));
    expect(roleChangeBudgetProblems(config)).toEqual([]);
  });

  it('refuses a configuration whose worst path cannot fit one Lambda invocation, naming the service', () => {
    const config = withHooks(300);
    expect(roleChangeBudgetProblems(config)).toEqual([
      expect.objectContaining({
        path: 'services[0]',
        value: 'orders',
        message: expect.stringMatching(/needs 1535 s, more than Lambda's 900 s/),
      }),
    ]);
    expect(failoverTimeoutSeconds(config)).toBe(900);
  });
});
