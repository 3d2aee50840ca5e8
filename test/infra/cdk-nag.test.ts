import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FAILOVER_ROLE, generateConfig, identityStatements, sampleConfig, synth } from './helpers.ts';

describe('cdk-nag AwsSolutions on FailoverAutomation', () => {
  it.each([
    ['the sample configuration', sampleConfig()],
    ['a generated 30-service configuration', generateConfig(30, 'mixed', 3)],
  ])('reports no unacknowledged finding for %s', (_name, config) => {
    const s = synth(config);
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack.automation);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('does find problems it has not been told about (the check is live)', () => {
    const s = synth(sampleConfig(), {
      extend: (stack) => {
        new Queue(stack.automation, 'Careless', { enforceSSL: false });
      },
    });
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack.automation);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-SQS4']));
  });

  it('uses no AWS managed policy: the role may write only to its own log group', () => {
    const s = synth(sampleConfig());
    const roles = Object.entries(s.template.findResources('AWS::IAM::Role')).filter(([id]) =>
      id.startsWith(FAILOVER_ROLE),
    );
    expect(roles).toHaveLength(1);
    expect(roles[0]![1].Properties.ManagedPolicyArns).toBeUndefined();
    const logs = identityStatements(s.template, FAILOVER_ROLE)
      .map((x) => x.statement)
      .filter((st) => JSON.stringify(st.Action).includes('logs:'));
    expect(logs).toHaveLength(1);
    expect(logs[0].Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(JSON.stringify(logs[0].Resource)).toMatch(/FailoverFunctionLogs/);
  });
});
