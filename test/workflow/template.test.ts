/**
 * The workflow's resources in the synthesized template: a Standard state machine with an
 * execution log kept for a year, a role that may invoke the step Lambda and exactly the configured
 * hook ARNs, and a step Lambda that may invoke nothing.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { LAMBDA_SERVICE_ERRORS } from '../../lib/switchover-workflow.ts';
import { type SynthesizedWorkflow, synthesizeWorkflow } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: template JSON is walked structurally
type Json = any;

const arn = (name: string) => `arn:aws:lambda:eu-west-1:111122223333:function:${name}`;

const withHooks: FailoverConfig = testConfig([
  {
    ...route53Service({ id: 'orders' }),
    hooks: {
      fence: arn('pg-fence'),
      promote: arn('pg-promote'),
      demote: arn('pg-demote'),
      timeoutSeconds: 30,
    },
  },
  // Shares the fence hook and adds its own promote: every ARN once, nothing else.
  {
    ...route53Service({ id: 'billing', index: 1 }),
    hooks: { fence: arn('pg-fence'), promote: arn('billing-promote:live') },
  },
  route53Service({ id: 'plain', index: 2 }),
]);

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function statementsOfRole(s: SynthesizedWorkflow, roleId: string): Json[] {
  const policies = s.template.findResources('AWS::IAM::Policy') as Record<string, Json>;
  return Object.values(policies)
    .filter((p) => asArray(p.Properties.Roles).some((r: Json) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function logicalIdOf(s: SynthesizedWorkflow, type: string, pattern: RegExp): string {
  const ids = Object.keys(s.template.findResources(type)).filter((id) => pattern.test(id));
  if (ids.length !== 1) throw new Error(`expected one ${type} matching ${pattern}, found ${ids.join(', ')}`);
  return ids[0] as string;
}

describe('SwitchoverWorkflow template', () => {
  let s: SynthesizedWorkflow;
  let machine: Json;
  beforeAll(() => {
    s = synthesizeWorkflow(withHooks);
    machine = Object.values(s.template.findResources('AWS::StepFunctions::StateMachine'))[0];
  });

  it('is one Standard state machine (exactly-once, 90 days of history)', () => {
    s.template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
  });

  it('logs every execution, with its data, to a log group retained for a year', () => {
    expect(machine.Properties.LoggingConfiguration).toEqual({
      Destinations: [
        { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
      ],
      IncludeExecutionData: true,
      Level: 'ALL',
    });
    const groupId =
      machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn[
        'Fn::GetAtt'
      ][0];
    const group = s.template.findResources('AWS::Logs::LogGroup')[groupId] as Json;
    expect(group.Properties.RetentionInDays).toBe(365);
    expect(group.DeletionPolicy).toBe('Retain');
  });

  it('lets the state machine invoke the step Lambda and the node-action function, no user function', () => {
    const roleId = machine.Properties.RoleArn['Fn::GetAtt'][0];
    const invoke = statementsOfRole(s, roleId).filter((st) =>
      asArray(st.Action).includes('lambda:InvokeFunction'),
    );
    const resources = invoke.flatMap((st) => asArray(st.Resource));
    // A user's hook answers through the node-action function (bounded), never to Step Functions.
    expect(resources.filter((r) => typeof r === 'string')).toEqual([]);
    const stepFn = logicalIdOf(s, 'AWS::Lambda::Function', /WorkflowFunction/);
    const actionFn = logicalIdOf(s, 'AWS::Lambda::Function', /NodeActionFunction/);
    // The step Lambda (and its versions): CDK's grant for the LambdaInvoke tasks.
    expect(resources).toEqual([
      { 'Fn::GetAtt': [stepFn, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [stepFn, 'Arn'] }, ':*']] },
      { 'Fn::GetAtt': [actionFn, 'Arn'] },
    ]);
    for (const st of invoke) expect(asArray(st.Action)).toEqual(['lambda:InvokeFunction']);
  });

  it('lets the node-action function invoke exactly the configured hook ARNs', () => {
    const fns = s.template.findResources('AWS::Lambda::Function') as Record<string, Json>;
    const id = logicalIdOf(s, 'AWS::Lambda::Function', /NodeActionFunction/);
    const roleId = fns[id].Properties.Role['Fn::GetAtt'][0];
    const invoke = statementsOfRole(s, roleId).filter((st) =>
      asArray(st.Action).includes('lambda:InvokeFunction'),
    );
    expect(invoke.flatMap((st) => asArray(st.Resource)).sort()).toEqual([
      arn('billing-promote:live'),
      arn('pg-demote'),
      arn('pg-fence'),
      arn('pg-promote'),
    ]);
    for (const st of invoke) expect(asArray(st.Action)).toEqual(['lambda:InvokeFunction']);
  });

  it('gives the step Lambda no lambda:InvokeFunction at all: only Step Functions calls hooks', () => {
    const stepFn = s.template.findResources('AWS::Lambda::Function') as Record<string, Json>;
    const id = logicalIdOf(s, 'AWS::Lambda::Function', /WorkflowFunction/);
    const roleId = stepFn[id].Properties.Role['Fn::GetAtt'][0];
    const actions = statementsOfRole(s, roleId).flatMap((st) => asArray(st.Action));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => a.startsWith('lambda:'))).toEqual([]);
    // It does get what the steps need: state table, topic, Route 53 change status.
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:UpdateItem', 'sns:Publish', 'route53:GetChange']),
    );
  });

  it('runs the step Lambda on Node.js 22 (ARM) with the table and topic, config.json bundled (not in env)', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Switchover / operator failover workflow steps'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 60,
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: Match.anyValue() },
          TOPIC_ARN: { Ref: Match.anyValue() },
          NODE_OPTIONS: Match.anyValue(),
        },
      },
    });
  });

  it('without hooks in the configuration, the state machine may invoke the step Lambda only', () => {
    const plain = synthesizeWorkflow(testConfig([route53Service({ id: 'plain' })]));
    const sm = Object.values(plain.template.findResources('AWS::StepFunctions::StateMachine'))[0] as Json;
    const roleId = sm.Properties.RoleArn['Fn::GetAtt'][0];
    const resources = statementsOfRole(plain, roleId)
      .filter((st) => asArray(st.Action).includes('lambda:InvokeFunction'))
      .flatMap((st) => asArray(st.Resource));
    expect(resources.filter((r) => typeof r === 'string')).toEqual([]);
    expect(resources).toHaveLength(2);
  });

  describe('definition', () => {
    const states = () => s.definition.States as Record<string, Json>;
    const tasks = () => Object.entries(states()).filter(([, st]) => st.Type === 'Task');

    it('retries Lambda service errors on every Task, and TransientAwsError on every step', () => {
      for (const [name, task] of tasks()) {
        const errors = (task.Retry as Json[]).flatMap((r) => r.ErrorEquals);
        expect(errors, name).toEqual(
          expect.arrayContaining(['Lambda.ServiceException', 'Lambda.SdkClientException']),
        );
        if (task.Resource === s.stepFunctionArn) expect(errors, name).toContain('TransientAwsError');
        else expect(errors, name).toEqual(expect.arrayContaining(LAMBDA_SERVICE_ERRORS));
      }
    });

    it('catches every failure after Prepare: nothing that follows the lease can fail without a rollback', () => {
      for (const [name, task] of tasks()) {
        if (name === 'Prepare') {
          expect(task.Catch).toBeUndefined();
          continue;
        }
        // A lost lease in the catch-up goes to the rollback's report without undoing anything
        // (the next holder may have fenced the old primary since): test/workflow/lease-lost.test.ts.
        expect(
          (task.Catch as Json[]).map((c) => c.ErrorEquals),
          name,
        ).toEqual(name === 'CheckCatchUp' ? [['LeaseLostError'], ['States.ALL']] : [['States.ALL']]);
      }
    });

    it('invokes hooks through the lambda:invoke integration with the timeout from the plan', () => {
      const hooks = tasks().filter(([, t]) => t.Resource === 'arn:aws:states:::lambda:invoke');
      expect(hooks.map(([n]) => n).sort()).toEqual([
        'DemoteOldPrimary',
        'DemoteTarget',
        'FencePrimary',
        'PromoteTarget',
        'UnfencePrimary',
      ]);
      for (const [, hook] of hooks) {
        expect(hook.InputPath).toMatch(/^\$\.plan\.hookCalls\.(fence|unfence|promote|demote|demoteTarget)$/);
        expect(hook.Parameters).toEqual({ 'FunctionName.$': '$.FunctionName', 'Payload.$': '$.Payload' });
        expect(hook.TimeoutSecondsPath).toBe('$.Payload.timeoutSeconds');
      }
    });

    it('polls with Wait states whose interval comes from the service configuration', () => {
      const waits = Object.entries(states()).filter(([, st]) => st.Type === 'Wait');
      expect(Object.fromEntries(waits.map(([n, w]) => [n, w.SecondsPath]))).toEqual({
        WaitForCatchUp: '$.plan.pollIntervalSeconds',
        WaitForVerify: '$.plan.pollIntervalSeconds',
        // A fence or promote that may still land is waited out before the rollback undoes it.
        WaitOutAbandonedFence: '$.plan.hookCalls.fence.settleSeconds',
        WaitOutAbandonedPromote: '$.plan.hookCalls.promote.settleSeconds',
      });
    });

    it('ends a failed execution only with a named error', () => {
      const fails = Object.entries(states()).filter(([, st]) => st.Type === 'Fail');
      expect(Object.fromEntries(fails.map(([n, f]) => [n, f.Error ?? f.ErrorPath]))).toEqual({
        RolledBack: '$.rollbackReport.error',
        RollbackFailedStop: 'RollbackFailedError',
        RollbackFailedUnreported: 'RollbackFailedError',
      });
    });
  });
});
