/**
 * The zone-shift path in the template: an encrypted, TLS-only queue redriving to the automation's
 * dead-letter queue, the shifter Lambda bundled like the others and fed by an event source with a
 * batching window and bounded concurrency, and IAM that lets each function touch only its end of
 * the queue.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asArray,
  assertNoWriteOnStar,
  FAILOVER_ROLE,
  identityStatements,
  type Json,
  resourcesOf,
  type Synthesized,
  sampleStack,
} from './helpers.ts';

const SHIFTER_ROLE = 'AutomationZoneShiftFunctionServiceRole';

function logicalId(s: Synthesized, type: string, prefix: string): string {
  const ids = Object.keys(resourcesOf(s.template, type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

function actionsOn(s: Synthesized, rolePrefix: string, resourceId: string): string[] {
  return identityStatements(s.template, rolePrefix)
    .map((x) => x.statement as Json)
    .filter((st) => JSON.stringify(st.Resource).includes(resourceId))
    .flatMap((st) => asArray<string>(st.Action));
}

describe('zone shift in the stack', () => {
  let s: Synthesized;
  let queueId: string;
  let dlqId: string;
  beforeAll(() => {
    s = sampleStack();
    queueId = logicalId(s, 'AWS::SQS::Queue', 'AutomationZoneShiftQueue');
    dlqId = logicalId(s, 'AWS::SQS::Queue', 'AutomationDeadLetterQueue');
  });

  it('queues encrypted, with a visibility timeout of six function timeouts and a redrive to the alarmed dead-letter queue', () => {
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 },
    });
    const fn = Object.values(resourcesOf(s.template, 'AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f.Properties.Description).includes('one batch per hosted zone'),
    );
    expect(fn?.Properties.Timeout).toBe(60);
  });

  it('refuses requests to the queue without TLS', () => {
    const policies = Object.values(resourcesOf(s.template, 'AWS::SQS::QueuePolicy')).filter((p) =>
      JSON.stringify(p.Properties.Queues).includes(queueId),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('feeds the shifter in batches gathered for a second, two invocations at most, with partial batch responses', () => {
    const shifter = logicalId(s, 'AWS::Lambda::Function', 'AutomationZoneShiftFunction');
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: shifter },
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('bundles the shifter like the failover Lambda and gives only the failover Lambda the queue URL', () => {
    const fns = resourcesOf(s.template, 'AWS::Lambda::Function');
    const failover = fns[logicalId(s, 'AWS::Lambda::Function', 'AutomationFailoverFunction')]!.Properties;
    const shifter = fns[logicalId(s, 'AWS::Lambda::Function', 'AutomationZoneShiftFunction')]!.Properties;
    for (const key of ['Runtime', 'Architectures', 'MemorySize', 'Handler'])
      expect(shifter[key], key).toEqual(failover[key]);
    expect(failover.Environment.Variables.SHIFT_QUEUE_URL).toEqual({ Ref: queueId });
    expect(shifter.Environment.Variables).not.toHaveProperty('SHIFT_QUEUE_URL');
    expect(Object.keys(shifter.Environment.Variables).sort()).toEqual([
      'NODE_OPTIONS',
      'TABLE_NAME',
      'TOPIC_ARN',
    ]);
  });

  it('lets the failover Lambda only send to the queue, and the shifter only consume it', () => {
    const failoverActions = actionsOn(s, FAILOVER_ROLE, queueId);
    expect(failoverActions.sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    const shifterActions = actionsOn(s, SHIFTER_ROLE, queueId);
    expect(shifterActions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    expect(shifterActions).not.toContain('sqs:SendMessage');
  });

  it('gives the shifter the same scoped Route 53 permission as the failover Lambda, and its own log group', () => {
    const route53 = (role: string) =>
      identityStatements(s.template, role)
        .map((x) => x.statement as Json)
        .filter((st) => asArray<string>(st.Action).includes('route53:ChangeResourceRecordSets'));
    expect(route53(SHIFTER_ROLE)).toEqual(route53(FAILOVER_ROLE));
    expect(route53(SHIFTER_ROLE)[0]?.Condition).toMatchObject({
      'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsActions': ['DELETE', 'CREATE'] },
    });
    const logs = identityStatements(s.template, SHIFTER_ROLE)
      .map((x) => x.statement as Json)
      .filter((st) => JSON.stringify(st.Action).includes('logs:'));
    expect(JSON.stringify(logs.map((l) => l.Resource))).toMatch(/ZoneShiftFunctionLogs/);
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      Description: Match.stringLikeRegexp('one batch per hosted zone'),
    });
    assertNoWriteOnStar(s);
  });
});
