import { App, CfnOutput, CfnResource, NestedStack, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  addDeployLimitChecks,
  LIMITS,
  largestPerLimit,
  measureStackTree,
  measureTemplate,
  measureTemplates,
  overLimit,
  patternChars,
  policyChars,
} from '../../lib/limits.ts';
import { sampleConfig, synth } from './helpers.ts';

const statement = (resource: unknown) => ({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: resource });

describe('measureTemplate', () => {
  const template = {
    Parameters: { P: { Type: 'String' } },
    Outputs: { A: { Value: 'a' }, B: { Value: 'b' } },
    Resources: {
      RoleA: {
        Type: 'AWS::IAM::Role',
        Properties: { Policies: [{ PolicyDocument: { Statement: [statement('*')] } }] },
      },
      RoleB: { Type: 'AWS::IAM::Role', Properties: { ManagedPolicyArns: ['arn:aws:iam::aws:policy/X'] } },
      PolicyA: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'RoleA' }],
          PolicyDocument: { Statement: [statement({ Ref: 'Queue' })] },
        },
      },
      Managed: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Roles: [{ Ref: 'RoleB' }],
          PolicyDocument: { Statement: [statement({ 'Fn::GetAtt': ['Queue', 'Arn'] })] },
        },
      },
      Rule: { Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: ['aws.cloudwatch'] } } },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Environment: { Variables: { TABLE: 'abc', TOPIC: { Ref: 'Topic' } } } },
      },
      Board: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardBody: {
            'Fn::Join': [
              '',
              [
                '{"widgets":[{"type":"metric","properties":{"metrics":[["N","M"],["N","M2"]],"region":"',
                { Ref: 'AWS::Region' },
                '"}},{"type":"text","properties":{"markdown":"x"}}]}',
              ],
            ],
          },
        },
      },
    },
  };
  const figures = measureTemplate('T', template);
  const value = (limit: string, subject: string) =>
    figures.find((f) => f.limit === limit && f.subject === subject)?.value;

  it('counts resources, outputs and parameters and the template bytes as cdk synth writes them', () => {
    expect(value('stackResources', 'T')).toBe(7);
    expect(value('stackOutputs', 'T')).toBe(2);
    expect(value('stackParameters', 'T')).toBe(1);
    expect(value('templateBytes', 'T')).toBe(JSON.stringify(template, undefined, 1).length);
  });

  it("sums a role's inline policies (its own and AWS::IAM::Policy attached to it) and counts its managed policies", () => {
    const own = policyChars({ Statement: [statement('*')] });
    const attached = policyChars({ Statement: [statement({ Ref: 'Queue' })] });
    expect(value('roleInlinePolicyChars', 'T role RoleA')).toBe(own + attached);
    expect(value('managedPoliciesPerRole', 'T role RoleA')).toBe(0);
    expect(value('roleInlinePolicyChars', 'T role RoleB')).toBe(0);
    expect(value('managedPoliciesPerRole', 'T role RoleB')).toBe(2);
    expect(value('managedPolicyChars', 'T managed policy Managed')).toBeGreaterThan(80);
  });

  it('renders tokens as long values, so the estimate stays on the safe side', () => {
    expect(policyChars({ Resource: { Ref: 'Queue' } })).toBeGreaterThan(100);
    expect(
      policyChars({ Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::b']] } }),
    ).toBe(JSON.stringify({ Resource: 'arn:aws-us-gov:s3:::b' }).length);
  });

  it('measures event patterns, Lambda environments and dashboards', () => {
    expect(value('eventPatternChars', 'T rule Rule')).toBe(patternChars({ source: ['aws.cloudwatch'] }));
    expect(value('lambdaEnvironmentBytes', 'T function Fn')).toBe('TABLE'.length + 3 + 'TOPIC'.length + 100);
    expect(value('dashboardWidgets', 'T dashboard Board')).toBe(2);
    expect(value('dashboardMetrics', 'T dashboard Board')).toBe(2);
    expect(value('dashboardBodyBytes', 'T dashboard Board')).toBeGreaterThan(100);
  });
});

describe('measureLambdaPolicies and queue policies', () => {
  const permission = (fn: unknown, i: number) => ({
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: fn,
      Principal: 'events.amazonaws.com',
      SourceArn: `arn:aws:events:us-east-1:111122223333:rule/rule-${i}`,
    },
  });
  const parent = {
    Resources: {
      FailoverFn12345678: { Type: 'AWS::Lambda::Function', Properties: {} },
      P0: permission({ 'Fn::GetAtt': ['FailoverFn12345678', 'Arn'] }, 0),
      Queue: {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: { PolicyDocument: { Statement: [statement('*'), statement('*')] } },
      },
    },
  };
  const nested = {
    Resources: Object.fromEntries(
      Array.from({ length: 80 }, (_, i) => [
        `P${i}`,
        permission({ Ref: 'referencetoStackFailoverFn12345678Arn' }, i),
      ]),
    ),
  };

  it("sums one statement per permission into its function's policy, across nested stacks", () => {
    const figures = measureTemplates(
      new Map<string, unknown>([
        ['parent', parent],
        ['nested', nested],
      ]),
    );
    const fn = figures.filter((f) => f.limit === 'lambdaResourcePolicyBytes');
    expect(fn.map((f) => f.subject)).toEqual(['function FailoverFn12345678']);
    // 81 statements of ~300 bytes: past Lambda's 20 KB, so synth would refuse it.
    expect(fn[0]!.value).toBeGreaterThan(LIMITS.lambdaResourcePolicyBytes.max);
    const queue = figures.filter((f) => f.limit === 'queuePolicyStatements');
    expect(queue).toEqual([
      { limit: 'queuePolicyStatements', subject: 'parent queue policy Queue', value: 2 },
    ]);
  });
});

describe('overLimit', () => {
  it('names the subject, the limit, the figure, the source and the remedy', () => {
    const [message] = overLimit([{ limit: 'stackResources', subject: 'Stack/Alarms03', value: 512 }]);
    expect(message).toBe(
      `Stack/Alarms03: resources per stack is 512 resources, over the limit of 500 (${LIMITS.stackResources.source}); ${LIMITS.stackResources.remedy}`,
    );
    expect(overLimit([{ limit: 'stackResources', subject: 's', value: 500 }])).toEqual([]);
    expect(overLimit([{ limit: 'stackResources', subject: 's', value: 301 }], 0.6)).toHaveLength(1);
  });

  it('keeps the largest figure per limit with its share of the limit', () => {
    const largest = largestPerLimit([
      { limit: 'stackResources', subject: 'a', value: 100 },
      { limit: 'stackResources', subject: 'b', value: 250 },
    ]);
    expect(largest.get('stackResources')).toEqual({
      figure: { limit: 'stackResources', subject: 'b', value: 250 },
      fractionOfLimit: 0.5,
    });
  });
});

describe('addDeployLimitChecks', () => {
  it('fails synth with every problem at once, in the stack and its nested stacks', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Big');
    const nested = new NestedStack(stack, 'Shard');
    for (let i = 0; i < 501; i++) new CfnResource(nested, `Topic${i}`, { type: 'AWS::SNS::Topic' });
    for (let i = 0; i < 201; i++) new CfnOutput(stack, `Out${i}`, { value: `v${i}` });
    addDeployLimitChecks(stack);
    addDeployLimitChecks(nested); // the same tree: checked once
    let message = '';
    try {
      app.synth();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/Big\/Shard: resources per stack is 501 resources, over the limit of 500/);
    expect(message).toMatch(/Big: outputs per stack is 201 outputs, over the limit of 200/);
    expect(message.match(/over the limit/g)).toHaveLength(2);
  });

  it('passes the sample configuration, whose figures are all far below the limits', () => {
    const s = synth(sampleConfig());
    const figures = measureStackTree(s.stack);
    expect(overLimit(figures, 0.6)).toEqual([]);
    expect(figures.some((f) => f.limit === 'eventPatternChars')).toBe(true);
    expect(figures.some((f) => f.limit === 'roleInlinePolicyChars')).toBe(true);
  });
});
