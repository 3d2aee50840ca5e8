import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsNodeActions } from '../../../lambdas/aws/actions/index.ts';
import { actionConfig, fakeTiming, INSTANCE_A, request, T, unmodelledError } from './helpers.ts';

const ec2 = mockClient(EC2Client);
const ISOLATION = 'sg-0ffffffffffffffff';

function port(actions: Record<string, unknown>) {
  const timing = fakeTiming(2_000);
  return new AwsNodeActions({
    config: actionConfig(actions),
    clients: { ec2: () => new EC2Client({}) },
    timing,
  });
}

function described(...instances: Partial<Instance>[]) {
  return { Reservations: [{ Instances: instances.map((i) => ({ InstanceId: INSTANCE_A, ...i })) }] };
}

const state = (Name: 'running' | 'stopping' | 'stopped' | 'pending') => ({ State: { Name } });

/** DescribeInstances answers each state in turn, then the last one for good. */
function describesInTurn(...states: Parameters<typeof state>[0][]) {
  const last = states.pop()!;
  const stub = ec2.on(DescribeInstancesCommand);
  for (const s of states) stub.resolvesOnce(described(state(s)));
  stub.resolves(described(state(last)));
}

describe('ec2-stop action', () => {
  beforeEach(() => ec2.reset());

  it('tags the token, stops with Force and waits until stopped', async () => {
    describesInTurn('running', 'stopping', 'stopped');
    const result = await port({ fence: { type: 'ec2-stop', force: true } }).run(request('fence'));
    expect(ec2.commandCalls(CreateTagsCommand)[0]!.args[0].input).toEqual({
      Resources: [INSTANCE_A],
      Tags: [{ Key: 'failover:fencing-token', Value: `${T.fence}` }],
    });
    expect(ec2.commandCalls(StopInstancesCommand)[0]!.args[0].input).toEqual({
      InstanceIds: [INSTANCE_A],
      Force: true,
    });
    expect(result).toMatchObject({ status: 'succeeded', kind: 'ec2-stop' });
    expect(result.detail).toMatch(/^force-stopped: i-0aaaaaaaaaaaaaaa1 stopped/);
  });

  it('does not stop an instance that is already stopped (idempotent retry)', async () => {
    ec2.on(DescribeInstancesCommand).resolves(described(state('stopped')));
    const result = await port({ fence: { type: 'ec2-stop' } }).run(request('fence'));
    expect(result.status).toBe('succeeded');
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
  });

  it('refuses a call whose token is lower than one the instance has seen', async () => {
    const seenUnfence = {
      ...state('running'),
      Tags: [{ Key: 'failover:fencing-token', Value: `${T.unfence}` }],
    };
    ec2.on(DescribeInstancesCommand).resolves(described(seenUnfence));
    const result = await port({ fence: { type: 'ec2-stop' } }).run(request('fence'));
    expect(result.status).toBe('failed');
    expect(result.detail).toContain(`has seen token ${T.unfence}, this fence carries ${T.fence}`);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });

  it('unfences by starting the instance again and waiting until running', async () => {
    describesInTurn('stopped', 'pending', 'running');
    const result = await port({ fence: { type: 'ec2-stop' } }).run(request('unfence'));
    expect(ec2.commandCalls(StartInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: [INSTANCE_A] });
    expect(result.detail).toMatch(/^started: /);
  });

  it.each([
    ['InvalidInstanceID.NotFound', "The instance ID 'i-0aaaaaaaaaaaaaaa1' does not exist", 400, false],
    [
      'IncorrectInstanceState',
      "The instance 'i-0aaaaaaaaaaaaaaa1' is not in a state from which it can be stopped.",
      400,
      false,
    ],
    ['RequestLimitExceeded', 'Request limit exceeded.', 503, true],
  ])('reports %s as a failed action, retryable: %s', async (name, message, status, retryable) => {
    ec2.on(DescribeInstancesCommand).resolves(described(state('running')));
    ec2.on(StopInstancesCommand).rejects(unmodelledError(name, message, status));
    const result = await port({ fence: { type: 'ec2-stop' } }).run(request('fence'));
    expect(result).toMatchObject({ status: 'failed', error: { name, retryable, uncertain: false } });
  });

  it('times out when the instance does not stop within the timeout', async () => {
    ec2.on(DescribeInstancesCommand).resolves(described(state('stopping')));
    const result = await port({ fence: { type: 'ec2-stop', timeoutSeconds: 10 } }).run(
      request('fence', { timeoutMs: 10_000 }),
    );
    expect(result.status).toBe('timed-out');
    expect(result.detail).toContain('i-0aaaaaaaaaaaaaaa1 stopping');
  });
});

describe('ec2-isolate action', () => {
  beforeEach(() => ec2.reset());
  const ORIGINAL = [{ GroupId: 'sg-0123456789abcdef0' }, { GroupId: 'sg-0123456789abcdef1' }];
  const isolate = { fence: { type: 'ec2-isolate', isolationSecurityGroupId: ISOLATION } };

  it('remembers the original groups before swapping in the isolation group', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce(described({ SecurityGroups: ORIGINAL }))
      .resolves(described({ SecurityGroups: [{ GroupId: ISOLATION }] }));
    const result = await port(isolate).run(request('fence'));
    expect(ec2.commandCalls(CreateTagsCommand)[0]!.args[0].input).toEqual({
      Resources: [INSTANCE_A],
      Tags: [
        { Key: 'failover:fencing-token', Value: `${T.fence}` },
        { Key: 'failover:isolated-from', Value: 'sg-0123456789abcdef0 sg-0123456789abcdef1' },
      ],
    });
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)[0]!.args[0].input).toEqual({
      InstanceId: INSTANCE_A,
      Groups: [ISOLATION],
    });
    // The tag is written before the swap.
    const order = ec2.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf('CreateTagsCommand')).toBeLessThan(order.indexOf('ModifyInstanceAttributeCommand'));
    expect(result.status).toBe('succeeded');
  });

  it('fencing twice keeps the remembered groups', async () => {
    ec2.on(DescribeInstancesCommand).resolves(
      described({
        SecurityGroups: [{ GroupId: ISOLATION }],
        Tags: [{ Key: 'failover:isolated-from', Value: 'sg-0123456789abcdef0' }],
      }),
    );
    const result = await port(isolate).run(request('fence'));
    expect(result.detail).toContain('already isolated');
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)[0]!.args[0].input.Tags).toEqual([
      { Key: 'failover:fencing-token', Value: `${T.fence}` },
    ]);
  });

  it('unfence restores exactly the remembered groups and drops the tag', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce(
        described({
          SecurityGroups: [{ GroupId: ISOLATION }],
          Tags: [{ Key: 'failover:isolated-from', Value: 'sg-0123456789abcdef0 sg-0123456789abcdef1' }],
        }),
      )
      .resolves(described({ SecurityGroups: ORIGINAL }));
    const result = await port(isolate).run(request('unfence'));
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)[0]!.args[0].input).toEqual({
      InstanceId: INSTANCE_A,
      Groups: ['sg-0123456789abcdef0', 'sg-0123456789abcdef1'],
    });
    expect(ec2.commandCalls(DeleteTagsCommand)[0]!.args[0].input).toEqual({
      Resources: [INSTANCE_A],
      Tags: [{ Key: 'failover:isolated-from' }],
    });
    expect(result.status).toBe('succeeded');
  });

  it('a late fence after its unfence is refused by the token tag', async () => {
    ec2.on(DescribeInstancesCommand).resolves(
      described({
        SecurityGroups: ORIGINAL,
        Tags: [{ Key: 'failover:fencing-token', Value: `${T.unfence}` }],
      }),
    );
    const result = await port(isolate).run(request('fence'));
    expect(result.status).toBe('failed');
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(0);
  });

  it('refuses to guess when the instance is isolated but the remembered groups are gone', async () => {
    ec2.on(DescribeInstancesCommand).resolves(described({ SecurityGroups: [{ GroupId: ISOLATION }] }));
    const result = await port(isolate).run(request('unfence'));
    expect(result.status).toBe('failed');
    expect(result.detail).toContain('restore its security groups by hand');
  });

  it('reports an unknown instance with its real error name', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .rejects(
        unmodelledError('InvalidInstanceID.NotFound', "The instance ID 'i-0aaaaaaaaaaaaaaa1' does not exist"),
      );
    const result = await port(isolate).run(request('fence'));
    expect(result).toMatchObject({ status: 'failed', error: { name: 'InvalidInstanceID.NotFound' } });
  });
});
