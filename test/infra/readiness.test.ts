import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';
import { assertNoWriteOnStar, identityStatements, type Json, resourcesOf, synth } from './helpers.ts';

const ROLE = 'AutomationReadinessFunctionServiceRole';

function actionsConfig(readiness?: object) {
  const base = route53Service({ id: 'pg' });
  return parseConfig({
    ...(readiness ? { readiness } : {}),
    services: [
      {
        ...base,
        actions: {
          fence: { type: 'ec2-stop' },
          promote: { type: 'ssm-command', commands: ['promote'] },
          demote: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:demote' },
        },
        nodes: base.nodes.map((n, i) => ({ ...n, instanceId: `i-0000000000000000${i}` })),
      },
      route53Service({ id: 'web', index: 1 }),
    ],
  });
}

describe('ReadinessCheck (the stack)', () => {
  const s = synth(actionsConfig());

  it('runs one function from one rule every 5 minutes by default, one pass at a time, no retries', () => {
    const fns = Object.entries(resourcesOf(s.template, 'AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('AutomationReadinessFunction'),
    );
    expect(fns).toHaveLength(1);
    const fn = fns[0]![1].Properties as Json;
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Timeout).toBe(300);
    expect(Object.keys(fn.Environment.Variables)).toEqual(
      expect.arrayContaining(['TABLE_NAME', 'TOPIC_ARN', 'READINESS_TABLE']),
    );
    const rules = Object.values(resourcesOf(s.template, 'AWS::Events::Rule')).filter(
      (r) => r.Properties.ScheduleExpression === 'rate(5 minutes)',
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.State).toBe('ENABLED');
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^AutomationReadinessFunction') },
      MaximumRetryAttempts: 0,
    });
  });

  it('takes the interval from the configuration', () => {
    const t = synth(actionsConfig({ intervalMinutes: 15 })).template;
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Readiness check every 15 min'),
      Timeout: 900,
    });
  });

  it('alarms to the topic when a service stops being ready, and again when all are ready (OK action)', () => {
    const topic = Object.keys(resourcesOf(s.template, 'AWS::SNS::Topic'))[0];
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'FailoverAutomation',
      MetricName: 'NotReadyServices',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topic }],
      OKActions: [{ Ref: topic }],
    });
    const readinessAlarms = Object.keys(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).filter((id) =>
      id.startsWith('AutomationReadiness'),
    );
    expect(readinessAlarms.sort()).toEqual([
      expect.stringMatching(/^AutomationReadinessErrors/),
      expect.stringMatching(/^AutomationReadinessNotReady/),
      expect.stringMatching(/^AutomationReadinessNotRunning/),
    ]);
  });

  it('grants reads only: the state table GetItem, its own verdict table, scoped Route 53 and action resources', () => {
    const statements = identityStatements(s.template, ROLE).map((x) => x.statement);
    const byAction = (a: string) => statements.filter((st) => [st.Action].flat().includes(a));
    // The state table: read only.
    const gets = byAction('dynamodb:GetItem');
    expect(gets.length).toBe(2);
    const puts = byAction('dynamodb:PutItem');
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0].Resource)).toMatch(/ReadinessVerdicts/);
    expect(JSON.stringify(puts[0].Resource)).not.toMatch(/StateTable/);
    expect(byAction('route53:ListResourceRecordSets')[0].Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0000000000TEST']],
    });
    expect(byAction('lambda:GetFunctionConfiguration')[0].Resource).toBe(
      'arn:aws:lambda:us-east-1:111122223333:function:demote',
    );
    expect(JSON.stringify(byAction('ssm:DescribeDocument')[0].Resource)).toContain(
      '::document/AWS-RunShellScript',
    );
    for (const forbidden of [
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'route53:ChangeResourceRecordSets',
      'ec2:StopInstances',
      'ssm:SendCommand',
      'lambda:InvokeFunction',
      'cloudwatch:PutMetricData',
    ]) {
      expect(byAction(forbidden)).toEqual([]);
    }
    assertNoWriteOnStar(s);
  });

  it('leaves cdk-nag with no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack.automation);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('keeps the rule but disables it when readiness.enabled is false', () => {
    const t = synth(actionsConfig({ enabled: false })).template;
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'DISABLED',
    });
  });

  it('refuses at synth an interval the paced Route 53 reads cannot fit, naming the field and value', () => {
    const services = Array.from({ length: 40 }, (_, i) =>
      route53Service({ index: i, hostedZoneId: `Z${i}ZONE` }),
    );
    expect(() => synth(parseConfig({ services, readiness: { intervalMinutes: 1 } }))).toThrow(
      /readiness\.intervalMinutes: one readiness pass reads 40 Route 53 pages .* use at least 2, got: 1/,
    );
  });
});
