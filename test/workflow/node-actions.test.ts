/**
 * Built-in node actions in the real state machine: the hook states invoke the node-action
 * function (bound here to its real handler over the real AWS adapters, SDK clients mocked), with
 * the same payload and Task timeout as a user's hook. A fence by security-group isolation and a
 * promote over SSM Run Command; a failed command rolls back and the isolation is undone.
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { nodeActionFunctionOf } from '../../drill/sim/state-machine.ts';
import { AwsNodeActions } from '../../lambdas/aws/actions/index.ts';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import { makeHandler } from '../../lambdas/handlers/node-action.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { fakeTiming } from '../aws/actions/helpers.ts';
import { TestHooks } from './harness.ts';
import { moveRequest, workflowUnderTest } from './world.ts';

const SVC = 'orders';
const ISOLATION = 'sg-0ffffffffffffffff';
const INSTANCES = { a: 'i-0aaaaaaaaaaaaaaa1', b: 'i-0bbbbbbbbbbbbbbb1' } as const;

const base = route53Service({ id: SVC, nodes: ['a', 'b'] });
const config = testConfig([
  {
    ...base,
    nodes: base.nodes.map((n) => ({ ...n, instanceId: INSTANCES[n.id as 'a' | 'b'] })),
    actions: {
      fence: { type: 'ec2-isolate', isolationSecurityGroupId: ISOLATION, timeoutSeconds: 30 },
      promote: { type: 'ssm-command', commands: ['promote-db --token {token}'], timeoutSeconds: 60 },
    },
    switchover: { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 60 },
  },
]);

const ssm = mockClient(SSMClient);
const ec2 = mockClient(EC2Client);

const workflow = workflowUnderTest(config);

/** The built-in node-action function the synthesized workflow invokes. */
function actionFunctionArn(): string {
  return nodeActionFunctionOf(workflow.synthesized().definition) ?? '';
}

function world() {
  const env = workflow.environment();
  const actions = new AwsNodeActions({
    config,
    clients: { ssm: () => new SSMClient({}), ec2: () => new EC2Client({}) },
    timing: fakeTiming(),
  });
  const handler = makeHandler({ actions, logger: env.logger });
  const hooks = new TestHooks().register(actionFunctionArn(), (payload) => handler(payload));
  const runner = workflow.caughtUpRunner(env, hooks, SVC, 'b');
  return { env, hooks, runner };
}

/** Instance a's security groups as EC2 would answer after each ModifyInstanceAttribute. */
function ec2World() {
  let groups = ['sg-0123456789abcdef0'];
  let tags: { Key: string; Value: string }[] = [];
  ec2.on(DescribeInstancesCommand).callsFake(() => ({
    Reservations: [
      {
        Instances: [
          { InstanceId: INSTANCES.a, SecurityGroups: groups.map((GroupId) => ({ GroupId })), Tags: tags },
        ],
      },
    ],
  }));
  ec2.on(CreateTagsCommand).callsFake((input: { Tags: { Key: string; Value: string }[] }) => {
    tags = [...tags.filter((t) => !input.Tags.some((n) => n.Key === t.Key)), ...input.Tags];
    return {};
  });
  ec2.on(ModifyInstanceAttributeCommand).callsFake((input: { Groups: string[] }) => {
    groups = input.Groups;
    return {};
  });
  return { groups: () => groups };
}

describe('built-in node actions in the workflow', () => {
  beforeEach(() => {
    ssm.reset();
    ec2.reset();
  });

  it('isolates the old primary, promotes over SSM with the promote token, then shifts traffic', async () => {
    const e = ec2World();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssm.on(GetCommandInvocationCommand).resolves({ InstanceId: INSTANCES.b, Status: 'Success' });
    const w = world();

    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'patching'));

    expect(out.status).toBe('SUCCEEDED');
    expect(
      w.hooks.calls.map((c) => [c.functionName, c.payload.action, c.payload.node, c.payload.token]),
    ).toEqual([
      [actionFunctionArn(), 'fence', 'a', fencingToken(1, 'fence', 1)],
      [actionFunctionArn(), 'promote', 'b', fencingToken(1, 'promote', 1)],
    ]);
    expect(e.groups()).toEqual([ISOLATION]);
    expect(ssm.commandCalls(SendCommandCommand)[0]!.args[0].input.Parameters?.commands).toEqual([
      `promote-db --token ${fencingToken(1, 'promote', 1)}`,
    ]);
    expect(w.env.traffic.pointsAt(SVC)).toBe('b');
  });

  it('a failed promote command rolls back: traffic stays, the isolation is undone with the unfence token', async () => {
    const e = ec2World();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    ssm.on(GetCommandInvocationCommand).resolves({
      InstanceId: INSTANCES.b,
      Status: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: 'pg_ctl: could not send promote signal',
    });
    const w = world();

    const out = await w.runner.start(moveRequest(SVC, 'switchover', 'b', 'patching'));

    expect(out.status).toBe('FAILED');
    if (out.status === 'FAILED') {
      expect(out.error).toBe('SwitchoverRolledBack');
      expect(out.cause).toContain('pg_ctl: could not send promote signal');
    }
    expect(w.hooks.trace).toEqual(['fence a', 'promote b', 'unfence a']);
    expect(w.hooks.calls.at(-1)?.payload.token).toBe(fencingToken(1, 'unfence', 1));
    expect(e.groups()).toEqual(['sg-0123456789abcdef0']);
    expect(w.env.traffic.pointsAt(SVC)).toBe('a');
  });
});
