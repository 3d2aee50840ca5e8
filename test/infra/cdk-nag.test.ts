import { Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { failoverLeaseSeconds } from '../../lambdas/domain/role-change-budget.ts';
import { recordFigures } from '../reliability/support/results.ts';
import {
  assertNoWriteOnStar,
  FAILOVER_ROLE,
  generateConfig,
  identityStatements,
  type Json,
  type Synthesized,
  sampleConfig,
  synth,
} from './helpers.ts';

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

/** Every acknowledgment in the app: where it sits, which rule, why. */
function acknowledgments(s: Synthesized): { path: string; rule: string; reason: string }[] {
  const out: { path: string; rule: string; reason: string }[] = [];
  for (const c of s.app.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [rule, reason] of Object.entries(m.data as Record<string, string>)) {
        out.push({ path: c.node.path, rule: rule.replace(/^Annotation::/, ''), reason });
      }
    }
  }
  return out;
}

const CONFIGS = [
  ['the sample configuration', () => sampleConfig()],
  ['a generated 30-service configuration', () => generateConfig(30, 'mixed', 3)],
] as const;

describe('cdk-nag AwsSolutions on the whole deployable stack (automation, workflow, monitoring, nested stacks)', () => {
  it.each(CONFIGS)('reports no unacknowledged finding for %s', (_name, config) => {
    const s = synth(config());
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
    const acks = acknowledgments(s);
    recordFigures('cdk-nag', {
      label: 'cdk-nag AwsSolutions findings (unsuppressed)',
      tried: acks.length,
      violations: report.violations.length,
      detail: `whole stack; ${acks.length} acknowledged findings, each with its reason on the resource that has it (${[
        ...new Set(acks.map((a) => a.rule.replace(/\[.*$/, ''))),
      ]
        .sort()
        .join(', ')})`,
      order: 50,
    });
  });

  it('every acknowledgment says why and sits on the resource with the finding, never on a whole construct', () => {
    const s = synth(sampleConfig());
    const acks = acknowledgments(s);
    expect(acks.length).toBeGreaterThan(0);
    const broad = new Set([
      s.app.node.path,
      s.stack.node.path,
      s.stack.automation.node.path,
      s.stack.workflow.node.path,
    ]);
    for (const a of acks) {
      expect(broad.has(a.path), `${a.rule} acknowledged on ${a.path}`).toBe(false);
      expect(a.reason.length, `${a.rule} on ${a.path}`).toBeGreaterThan(30);
      // IAM5 only with the exact finding ([Resource::...] or [Action::...]), never the bare rule.
      if (a.rule.startsWith('AwsSolutions-IAM5'))
        expect(a.rule).toMatch(/^AwsSolutions-IAM5\[(Resource|Action)::.+\]$/);
    }
  });
});

describe('security of the synthesized stack', () => {
  const s = synth(sampleConfig());
  const resources = s.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  it('grants no IAM write action on Resource * (only reads, and log delivery which has no resource types)', () => {
    assertNoWriteOnStar(s);
  });

  it('encrypts the state table, the topic and every queue at rest', () => {
    const [[, table] = []] = ofType('AWS::DynamoDB::Table');
    expect(table?.Properties.SSESpecification).toMatchObject({ SSEEnabled: true });
    for (const [, topic] of ofType('AWS::SNS::Topic')) expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const queues = ofType('AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(2);
    for (const [id, q] of queues) {
      expect(
        q.Properties.SqsManagedSseEnabled === true || q.Properties.KmsMasterKeyId !== undefined,
        id,
      ).toBe(true);
    }
    for (const [, key] of ofType('AWS::KMS::Key')) expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('keeps every log with a retention: each Lambda logs to its own group, the state machine logs ALL to one', () => {
    const groups = new Map(ofType('AWS::Logs::LogGroup'));
    for (const [id, g] of groups) expect(g.Properties.RetentionInDays, id).toBeGreaterThan(0);
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const [id, fn] of functions) {
      const ref = fn.Properties.LoggingConfig?.LogGroup?.Ref;
      expect(groups.has(ref), `${id} logs to ${JSON.stringify(fn.Properties.LoggingConfig)}`).toBe(true);
    }
    for (const [, sm] of ofType('AWS::StepFunctions::StateMachine')) {
      const logging = sm.Properties.LoggingConfiguration;
      expect(logging.Level).toBe('ALL');
      const arn = logging.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      expect(groups.get(arn)?.Properties.RetentionInDays).toBeGreaterThanOrEqual(365);
    }
  });

  it('puts nothing secret in Lambda environment variables: names of resources only, no literal credentials', () => {
    const ALLOWED = new Set([
      'TABLE_NAME',
      'TOPIC_ARN',
      'SHIFT_QUEUE_URL',
      'READINESS_TABLE',
      'NODE_OPTIONS',
      'LOG_LEVEL',
    ]);
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const vars = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(vars)) {
        expect(ALLOWED.has(name), `${id} sets ${name}`).toBe(true);
        // A resource reference, or a literal that is plainly not a credential.
        if (typeof value === 'string') expect(value).not.toMatch(/AKIA|ASIA|secret|password|token/i);
        else
          expect(Object.keys(value as object)).toEqual(
            expect.arrayContaining([expect.stringMatching(/^(Ref|Fn::)/)]),
          );
      }
      expect(JSON.stringify(fn.Properties.Environment ?? {}).length).toBeLessThan(4096);
    }
  });

  it('a stalled failover invocation is timed out before its lease can be taken over (no zombie writer)', () => {
    const [, fn] =
      ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('AutomationFailoverFunction')) ?? [];
    expect(fn?.Properties.Timeout).toBeLessThan(failoverLeaseSeconds(sampleConfig()));
  });

  it('the alarms that catch a failed invocation, a parked event and a failed workflow execution publish to the topic', () => {
    const [[topicId]] = ofType('AWS::SNS::Topic') as [[string, unknown]];
    const alarms = ofType('AWS::CloudWatch::Alarm');
    for (const name of ['AutomationDeadLetterAlarm', 'AutomationFailoverErrorsAlarm']) {
      const [, alarm] = alarms.find(([id]) => id.startsWith(name)) ?? [];
      expect(alarm?.Properties.AlarmActions, name).toEqual([{ Ref: topicId }]);
    }
    const executions = alarms.find(([, a]) =>
      JSON.stringify(a.Properties.Metrics ?? a.Properties.MetricName ?? '').includes('ExecutionsFailed'),
    );
    expect(executions?.[1].Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });
});
