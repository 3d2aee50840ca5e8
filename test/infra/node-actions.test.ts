/**
 * The stack for the node-action example (config/examples/node-actions.json): the node-action
 * function, its IAM scoped to exactly the resources the actions name, the state machine allowed
 * to invoke it, and cdk-nag clean.
 */
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../lib/config-loader.ts';
import {
  asArray,
  assertNoWriteOnStar,
  FAILOVER_ROLE,
  identityStatements,
  type Json,
  PROJECT_ROOT,
  synth,
} from './helpers.ts';

const config = loadConfigFile(join(PROJECT_ROOT, 'config', 'examples', 'node-actions.json'));
const s = synth(config);
const resources = s.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;

/** Statements of one role's policies, by action, resources stringified for reading. */
function grants(policyPrefix: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { statement } of identityStatements(s.template, policyPrefix)) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asArray<string>(statement.Action)) {
      const list = out.get(action) ?? [];
      list.push(...asArray(statement.Resource).map((r) => (typeof r === 'string' ? r : JSON.stringify(r))));
      out.set(action, list);
    }
  }
  return out;
}

const instance = (id: string) => expect.stringContaining(`:instance/${id}`);

describe('node actions in the stack', () => {
  it('synthesizes the example with no unacknowledged cdk-nag finding and no write on *', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    assertNoWriteOnStar(s);
  });

  it('creates the node-action function with room for the longest action', () => {
    const [fn] = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && /node actions/.test(r.Properties.Description),
    );
    // The longest action (the RDS promote, 380 s) plus 5 s.
    expect(fn?.Properties.Timeout).toBe(385);
  });

  it('scopes every write to the named instances, documents, DB instances and secrets', () => {
    const g = grants('AutomationNodeActionFunction');
    expect(g.get('ssm:SendCommand')).toEqual(
      expect.arrayContaining([
        expect.stringContaining('::document/AWS-RunShellScript'),
        expect.stringContaining('::document/AWS-RunPowerShellScript'),
        instance('i-0123456789abcde01'),
        instance('i-0123456789abcde06'),
      ]),
    );
    expect(g.get('ssm:SendCommand')).toHaveLength(2 + 6);
    expect(g.get('ec2:StopInstances')).toEqual([
      instance('i-0123456789abcde07'),
      instance('i-0123456789abcde08'),
    ]);
    expect(g.get('ec2:ModifyInstanceAttribute')).toEqual([
      instance('i-0123456789abcde03'),
      instance('i-0123456789abcde04'),
      expect.stringContaining(':security-group/*'),
    ]);
    expect(g.get('rds:PromoteReadReplica')).toEqual([
      expect.stringContaining(':db:ledger-a'),
      expect.stringContaining(':db:ledger-b'),
    ]);
    expect(g.get('secretsmanager:GetSecretValue')).toEqual([
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:failover/ledger-admin-AbCdEf',
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:failover/shop-admin-AbCdEf',
    ]);
    expect(g.get('lambda:InvokeFunction')).toEqual([
      'arn:aws:lambda:us-east-1:111122223333:function:cache-promote',
    ]);
    expect(g.get('ec2:DescribeInstances')).toEqual(['*']);
    expect(g.get('ec2:CreateTags')).toHaveLength(4);
  });

  it('case S1: the node-action function (database admin secrets, SQL, SSM) cannot write the state table or publish', () => {
    // It runs one node action and answers; the workflow records and announces. A role that holds
    // the admin secrets and runs SQL must not also be able to rewrite the primary, epoch or lease.
    const g = grants('AutomationNodeActionFunction');
    const held = [...g.keys()];
    // It reads the lease before it acts (its payload is not trusted): GetItem, nothing else.
    expect(held.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem']);
    expect(held.filter((a) => a.startsWith('sns:') || a.startsWith('kms:'))).toEqual([]);
  });

  it('grants the failover function the same, for the automatic path', () => {
    const g = grants(FAILOVER_ROLE);
    expect(g.get('rds:PromoteReadReplica')).toHaveLength(2);
    expect(g.get('ssm:SendCommand')).toHaveLength(8);
  });

  it('lets the state machine invoke the node-action function, no user function, and hands its ARN to Prepare', () => {
    const [machine] = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toContain('actionFunctionArn');
    const invoke = [...grants('WorkflowStateMachineRole').entries()]
      .filter(([a]) => a === 'lambda:InvokeFunction')
      .flatMap(([, r]) => r);
    expect(invoke.some((r) => r.includes('NodeActionFunction'))).toBe(true);
    // A user's function is invoked by the node-action function (whose answer is bounded), never by
    // Step Functions itself.
    expect(invoke).not.toContain('arn:aws:lambda:us-east-1:111122223333:function:cache-promote');
  });
});
