/**
 * The rules that invoke the stack's Lambdas share one invoke permission per function and one
 * dead-letter statement: per-rule statements would pass Lambda's 20 KB resource-policy quota and
 * SQS's 20 statements / 8,192 bytes per queue policy as the fleet grows.
 */
import { describe, expect, it } from 'vitest';
import { fleetConfig } from '../../bench/fleet.ts';
import { measureTemplate } from '../../lib/limits.ts';
import { ruleName, ruleNamePrefix } from '../../lib/rule-targets.ts';
import { type Json, resourcesOf, type Synthesized, synth } from './helpers.ts';

function permissions(s: Synthesized): Json[] {
  return Object.values(resourcesOf(s.template, 'AWS::Lambda::Permission')).filter(
    (p: Json) => p.Properties.Principal === 'events.amazonaws.com',
  );
}

function deadLetterStatements(s: Synthesized): Json[] {
  const [policy] = Object.entries(resourcesOf(s.template, 'AWS::SQS::QueuePolicy')).filter(([id]) =>
    id.startsWith('AutomationDeadLetterQueuePolicy'),
  );
  return policy![1].Properties.PolicyDocument.Statement.filter(
    (st: Json) => st.Principal?.Service === 'events.amazonaws.com',
  );
}

describe('rules invoking the stack Lambdas', () => {
  const small = synth(fleetConfig(3, { sample: 'probe' }));
  const large = synth(fleetConfig(300, { sample: 'probe' }));

  it('are named under the stack prefix, and each Lambda has one permission for exactly those rules', () => {
    const prefix = ruleNamePrefix(large.stack);
    const rules = Object.values(resourcesOf(large.template, 'AWS::Events::Rule')) as Json[];
    expect(rules.length).toBeGreaterThan(20);
    for (const rule of rules) expect(rule.Properties.Name).toMatch(new RegExp(`^${prefix}-`));
    const perms = permissions(large);
    // The failover Lambda and the probe Lambdas (one per placement): one each, whatever the rule count.
    expect(perms.length).toBe(permissions(small).length);
    expect(new Set(perms.map((p: Json) => JSON.stringify(p.Properties.FunctionName))).size).toBe(
      perms.length,
    );
    for (const p of perms) {
      expect(p.Properties.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
      expect(JSON.stringify(p.Properties.SourceArn)).toContain(`:rule/${prefix}-*`);
    }
  });

  it('dead-letter through one queue statement limited to those rules in this account', () => {
    const statements = deadLetterStatements(large);
    expect(statements).toHaveLength(1);
    expect(deadLetterStatements(small)).toHaveLength(1);
    expect(statements[0].Action).toBe('sqs:SendMessage');
    expect(statements[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(JSON.stringify(statements[0].Condition.ArnLike['aws:SourceArn'])).toContain(
      `:rule/${ruleNamePrefix(large.stack)}-*`,
    );
  });

  it('keep the queue policies within SQS quotas', () => {
    const figures = measureTemplate('parent', large.template.toJSON());
    for (const f of figures.filter((x) => x.limit === 'queuePolicyStatements'))
      expect(f.value).toBeLessThanOrEqual(3);
  });

  it('names stay within the 64 characters EventBridge allows', () => {
    const a = synth(fleetConfig(2), {}).stack;
    expect(ruleName(a, 'splitbrain-99').length).toBeLessThanOrEqual(64);
    expect(() => ruleName(a, 'x'.repeat(60))).toThrow(/rule name must be at most 64/);
  });
});
