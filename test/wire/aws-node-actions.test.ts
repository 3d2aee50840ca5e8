/**
 * The built-in node actions against moto_server through the real SDK clients: EC2 StopInstances /
 * StartInstances, ModifyInstanceAttribute (security-group swap and restore, tags), SSM
 * SendCommand / GetCommandInvocation, RDS PromoteReadReplica. moto runs no command on an instance
 * (SSM answers Success at once) and keeps ReadReplicaSourceDBInstanceIdentifier after a promotion;
 * the tests say where they rely on that.
 */
import {
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsNodeActions } from '../../lambdas/aws/actions/index.ts';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { fakeTiming, request } from '../aws/actions/helpers.ts';
import { useMoto } from '../support/moto.ts';

const moto = useMoto();
let ec2: EC2Client;
let ssm: SSMClient;
let rds: RDSClient;
let instances: string[];
let originalGroup: string;
let isolationGroup: string;

beforeAll(async () => {
  const cfg = moto.current.clientConfig;
  ec2 = new EC2Client(cfg);
  ssm = new SSMClient(cfg);
  rds = new RDSClient(cfg);
  const images = await ec2.send(new DescribeImagesCommand({}));
  const imageId = images.Images?.[0]?.ImageId as string;
  originalGroup = (
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'db clients' }))
  ).GroupId as string;
  isolationGroup = (
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'isolated', Description: 'no ingress' }))
  ).GroupId as string;
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      MinCount: 2,
      MaxCount: 2,
      InstanceType: 't3.micro',
      SecurityGroupIds: [originalGroup],
    }),
  );
  instances = (run.Instances ?? []).map((i) => i.InstanceId as string);
});

afterAll(() => {
  for (const c of [ec2, ssm, rds]) c?.destroy();
});

function port(actions: Record<string, unknown>): AwsNodeActions {
  const base = route53Service({ id: 'orders' });
  const config: FailoverConfig = testConfig([
    {
      ...base,
      actions: actions as never,
      nodes: base.nodes.map((n, i) => ({
        ...n,
        instanceId: instances[i],
        dbInstanceIdentifier: `orders-${n.id}`,
      })),
    },
  ]);
  return new AwsNodeActions({
    config,
    clients: { ec2: () => ec2, ssm: () => ssm, rds: () => rds },
    timing: fakeTiming(1_000),
  });
}

async function instanceA() {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instances[0] as string] }));
  return out.Reservations?.[0]?.Instances?.[0];
}

describe('node actions on moto_server', () => {
  it('ec2-isolate swaps in the isolation group, remembers the original, and unfence restores it', async () => {
    const p = port({ fence: { type: 'ec2-isolate', isolationSecurityGroupId: isolationGroup } });
    const fenced = await p.run(request('fence', { epoch: 2, token: fencingToken(2, 'fence') }));
    expect(fenced).toMatchObject({ status: 'succeeded' });
    let a = await instanceA();
    expect(a?.SecurityGroups?.map((g) => g.GroupId)).toEqual([isolationGroup]);
    expect(a?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'failover:isolated-from', Value: originalGroup },
        { Key: 'failover:fencing-token', Value: String(fencingToken(2, 'fence')) },
      ]),
    );

    const undone = await p.run(request('unfence', { epoch: 2, token: fencingToken(2, 'unfence') }));
    expect(undone).toMatchObject({ status: 'succeeded' });
    a = await instanceA();
    expect(a?.SecurityGroups?.map((g) => g.GroupId)).toEqual([originalGroup]);
    expect(a?.Tags?.some((t) => t.Key === 'failover:isolated-from')).toBe(false);

    // The fence of the same epoch arriving after its unfence is refused by the token tag.
    const late = await p.run(request('fence', { epoch: 2, token: fencingToken(2, 'fence') }));
    expect(late.status).toBe('failed');
    expect((await instanceA())?.SecurityGroups?.map((g) => g.GroupId)).toEqual([originalGroup]);
  });

  it('ec2-stop stops the instance and waits until stopped; unfence starts it again', async () => {
    const p = port({ fence: { type: 'ec2-stop', force: true } });
    const stopped = await p.run(request('fence', { epoch: 3, token: fencingToken(3, 'fence') }));
    expect(stopped).toMatchObject({ status: 'succeeded' });
    expect((await instanceA())?.State?.Name).toBe('stopped');
    const started = await p.run(request('unfence', { epoch: 3, token: fencingToken(3, 'unfence') }));
    expect(started).toMatchObject({ status: 'succeeded' });
    expect((await instanceA())?.State?.Name).toBe('running');
  });

  it('ec2-stop on an unknown instance fails with the real error name', async () => {
    const saved = instances[0] as string;
    instances[0] = 'i-0000000000000dead';
    try {
      const p = port({ fence: { type: 'ec2-stop' } });
      const result = await p.run(request('fence'));
      expect(result).toMatchObject({
        status: 'failed',
        error: { name: 'InvalidInstanceID.NotFound', retryable: false },
      });
    } finally {
      instances[0] = saved;
    }
  });

  it('ssm-command sends the templated command and reads the invocation until Success', async () => {
    const p = port({ promote: { type: 'ssm-command', commands: ['promote --token {token} --node {node}'] } });
    const result = await p.run(request('promote', { epoch: 5, token: fencingToken(5, 'promote') }));
    expect(result).toMatchObject({ status: 'succeeded', ids: { instanceIds: instances[1] } });
    const listed = await ssm.send(new ListCommandsCommand({ CommandId: result.ids?.commandId }));
    expect(listed.Commands?.[0]?.Parameters?.commands).toEqual([
      `promote --token ${fencingToken(5, 'promote')} --node b`,
    ]);
    expect(listed.Commands?.[0]?.DocumentName).toBe('AWS-RunShellScript');
  });

  it('rds-promote-read-replica sends PromoteReadReplica for an available replica', async () => {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'orders-a',
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        MasterUsername: 'admin',
        MasterUserPassword: 'password-1234',
        AllocatedStorage: 20,
      }),
    );
    await rds.send(
      new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: 'orders-b',
        SourceDBInstanceIdentifier: 'orders-a',
      }),
    );
    const p = port({ promote: { type: 'rds-promote-read-replica', timeoutSeconds: 5 } });
    const result = await p.run(request('promote', { timeoutMs: 5_000 }));
    const b = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-b' })))
      .DBInstances?.[0];
    if (b?.ReadReplicaSourceDBInstanceIdentifier) {
      // moto keeps the source after PromoteReadReplica (real RDS clears it when the promotion
      // ends), so the action waits for a completion moto never shows, and says so.
      expect(result.status).toBe('timed-out');
      expect(result.detail, JSON.stringify(result)).toContain('promotion requested');
    } else {
      expect(result.status).toBe('succeeded');
    }
  });
});
