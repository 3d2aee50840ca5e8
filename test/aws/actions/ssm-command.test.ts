import {
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsNodeActions } from '../../../lambdas/aws/actions/index.ts';
import {
  actionConfig,
  fakeTiming,
  INSTANCE_A,
  INSTANCE_B,
  meta,
  request,
  T,
  unmodelledError,
} from './helpers.ts';

const ssm = mockClient(SSMClient);

function port(actions: Record<string, unknown>, nodes = {}) {
  const timing = fakeTiming();
  return {
    timing,
    port: new AwsNodeActions({
      config: actionConfig(actions, nodes),
      clients: { ssm: () => new SSMClient({}) },
      timing,
    }),
  };
}

const PROMOTE = {
  promote: {
    type: 'ssm-command',
    commands: [
      '/opt/app/bin/promote --service {serviceId} --node {node} --epoch {epoch} --token {token} --mode {mode}',
    ],
    timeoutSeconds: 90,
  },
};

describe('ssm-command action', () => {
  beforeEach(() => ssm.reset());

  it('sends the templated command with an execution timeout and waits for Success', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(new InvocationDoesNotExist({ message: 'not yet', $metadata: meta(400) }))
      .resolvesOnce({ InstanceId: INSTANCE_B, Status: 'InProgress' })
      .resolves({
        InstanceId: INSTANCE_B,
        Status: 'Success',
        ResponseCode: 0,
        StandardOutputContent: 'promoted\n',
      });
    const { port: p, timing } = port(PROMOTE);

    const result = await p.run(request('promote', { timeoutMs: 90_000 }));

    expect(ssm.commandCalls(SendCommandCommand)[0]!.args[0].input).toEqual({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [INSTANCE_B],
      Parameters: {
        commands: [
          `/opt/app/bin/promote --service orders --node b --epoch 4 --token ${T.promote} --mode switchover`,
        ],
        executionTimeout: ['90'],
      },
      TimeoutSeconds: 90,
      Comment: `failover promote orders/b token ${T.promote}`,
    });
    expect(ssm.commandCalls(GetCommandInvocationCommand)[0]!.args[0].input).toEqual({
      CommandId: 'cmd-1',
      InstanceId: INSTANCE_B,
    });
    expect(result).toMatchObject({
      status: 'succeeded',
      kind: 'ssm-command',
      ids: { commandId: 'cmd-1', instanceIds: INSTANCE_B },
    });
    expect(result.outputTail).toContain('promoted');
    expect(timing.slept).toEqual([5_000, 5_000]);
  });

  it.each(['Failed', 'TimedOut', 'Cancelled'])(
    'fails the step on %s and keeps the output tail',
    async (status) => {
      ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
      ssm.on(GetCommandInvocationCommand).resolves({
        InstanceId: INSTANCE_B,
        Status: status as 'Failed',
        ResponseCode: 3,
        StandardErrorContent: `${'x'.repeat(5000)}pg_ctl: server is not in standby mode`,
      });
      const result = await port(PROMOTE).port.run(request('promote'));
      expect(result.status).toBe('failed');
      expect(result.detail).toContain(`${INSTANCE_B} ${status} (exit 3)`);
      expect(result.detail).toContain('pg_ctl: server is not in standby mode');
      expect(result.detail.length).toBeLessThan(2300);
      expect(result.error).toMatchObject({ name: 'NodeActionFailedError', retryable: false });
    },
  );

  it('waits for every instance of a node and fails when one fails', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-3' } });
    ssm
      .on(GetCommandInvocationCommand, { InstanceId: INSTANCE_A })
      .resolves({ InstanceId: INSTANCE_A, Status: 'Success' });
    ssm
      .on(GetCommandInvocationCommand, { InstanceId: INSTANCE_B })
      .resolves({ InstanceId: INSTANCE_B, Status: 'Failed', ResponseCode: 1 });
    const result = await port(PROMOTE, {
      b: { instanceId: undefined, instanceIds: [INSTANCE_A, INSTANCE_B] },
    }).port.run(request('promote'));
    expect(ssm.commandCalls(SendCommandCommand)[0]!.args[0].input.InstanceIds).toEqual([
      INSTANCE_A,
      INSTANCE_B,
    ]);
    expect(result.status).toBe('failed');
    expect(result.detail).toContain(`${INSTANCE_B} Failed (exit 1)`);
  });

  it('times out at the deadline without waiting past it, naming the last status', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-4' } });
    ssm.on(GetCommandInvocationCommand).resolves({ InstanceId: INSTANCE_B, Status: 'InProgress' });
    const { port: p, timing } = port(PROMOTE);
    const result = await p.run(request('promote', { timeoutMs: 12_000 }));
    expect(result.status).toBe('timed-out');
    expect(result.detail).toContain('InProgress');
    expect(timing.slept).toEqual([5_000, 5_000, 2_000]);
    expect(result.error?.uncertain).toBe(true);
  });

  it('runs undoCommands for an unfence, and own documents with their own parameters', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-5' } });
    ssm.on(GetCommandInvocationCommand).resolves({ InstanceId: INSTANCE_A, Status: 'Success' });
    const { port: p } = port({
      fence: {
        type: 'ssm-command',
        document: 'GitAppliance-Maintenance',
        parameters: { mode: ['on'], token: ['{token}'] },
        undoCommands: ['maintenance off {token}'],
      },
    });
    expect(p.has('orders', 'a', 'unfence')).toBe(true);
    await p.run(request('unfence'));
    expect(ssm.commandCalls(SendCommandCommand)[0]!.args[0].input).toMatchObject({
      DocumentName: 'GitAppliance-Maintenance',
      Parameters: { mode: ['on'], token: [`${T.unfence}`], commands: [`maintenance off ${T.unfence}`] },
    });
  });

  it('classifies throttling as retryable and not uncertain', async () => {
    ssm.on(SendCommandCommand).rejects(unmodelledError('ThrottlingException', 'Rate exceeded'));
    const result = await port(PROMOTE).port.run(request('promote'));
    expect(result).toMatchObject({
      status: 'failed',
      error: { name: 'ThrottlingException', retryable: true, uncertain: false },
    });
  });

  it('reports an unknown instance as a failed action, not a crash', async () => {
    ssm
      .on(SendCommandCommand)
      .rejects(
        unmodelledError(
          'InvalidInstanceId',
          'Instances [[i-0bbbbbbbbbbbbbbb1]] not in a valid state for account',
        ),
      );
    const result = await port(PROMOTE).port.run(request('promote'));
    // The agent is offline or the instance gone: the command never reached the node (fence gate).
    expect(result).toMatchObject({
      status: 'failed',
      error: { name: 'InvalidInstanceId', retryable: false, unreachable: true },
    });
  });
});
