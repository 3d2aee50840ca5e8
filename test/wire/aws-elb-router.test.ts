/**
 * ElbRouter against moto_server's ELBv2: register-then-deregister and the weighted ModifyListener
 * are accepted as sent, and current() reads back what the load balancer reports. (moto reports a
 * deregistered target as `unused`/Target.NotRegistered at once; AWS shows `draining` first. Both
 * count as gone.)
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElbRouter } from '../../lambdas/aws/elb-router.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';

let moto: MotoServer;
let client: ElasticLoadBalancingV2Client;
let vpcId: string;
let subnets: string[];

/** client-ec2 is not a dependency: moto's EC2 query API is enough for a VPC and two subnets. */
async function ec2(params: Record<string, string>, field: string): Promise<string> {
  const res = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    body: new URLSearchParams({ Version: '2016-11-15', ...params }),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
    },
  });
  const value = (await res.text()).match(new RegExp(`<${field}>(.*?)</${field}>`))?.[1];
  if (!value) throw new Error(`moto EC2 ${params.Action} returned no ${field}`);
  return value;
}

beforeAll(async () => {
  moto = await startMoto();
  client = new ElasticLoadBalancingV2Client(moto.clientConfig);
  vpcId = await ec2({ Action: 'CreateVpc', CidrBlock: '10.0.0.0/16' }, 'vpcId');
  subnets = [
    await ec2(
      { Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' },
      'subnetId',
    ),
    await ec2(
      { Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: '10.0.2.0/24', AvailabilityZone: 'us-east-1b' },
      'subnetId',
    ),
  ];
});
afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

async function targetGroup(name: string): Promise<string> {
  const out = await client.send(
    new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip' }),
  );
  return out.TargetGroups?.[0]?.TargetGroupArn ?? '';
}

async function listenerTo(lbName: string, tgs: string[], port: number): Promise<string> {
  const lb = await client.send(new CreateLoadBalancerCommand({ Name: lbName, Subnets: subnets }));
  const out = await client.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers?.[0]?.LoadBalancerArn,
      Protocol: 'HTTP',
      Port: port,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: tgs.map((arn, i) => ({ TargetGroupArn: arn, Weight: i === 0 ? 1 : 0 })),
          },
        },
      ],
    }),
  );
  return out.Listeners?.[0]?.ListenerArn ?? '';
}

const lag = { namespace: 'Custom/Lag', metricName: 'LagSeconds' };
const alarm = (n: string) => ({ type: 'alarm', alarmName: `wire-${n}` });

describe('ElbRouter on moto_server', () => {
  it('moves the single target of a target group, never leaving it empty', async () => {
    const tg = await targetGroup('wire-backup');
    await client.send(
      new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.5', Port: 80 }] }),
    );
    const config = parseConfig({
      services: [
        {
          id: 'backup',
          initialPrimary: 'b1',
          router: { type: 'elbv2-target', targetGroupArn: tg },
          nodes: [
            { id: 'b1', target: { id: '10.0.1.5', port: 80 }, health: alarm('b1'), lag },
            { id: 'b2', target: { id: '10.0.2.5', port: 80 }, health: alarm('b2'), lag },
          ],
        },
      ],
    });
    const router = new ElbRouter({ services: config.services, client });
    expect(await router.current('backup')).toBe('b1');
    expect(await router.shift([{ serviceId: 'backup', from: 'b1', to: 'b2' }])).toEqual([
      { serviceId: 'backup', status: 'shifted' },
    ]);
    expect(await router.current('backup')).toBe('b2');
    expect(await router.targetHealth('backup', 'b1')).toBeUndefined();
    const live = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(live.TargetHealthDescriptions?.map((d) => d.Target?.Id)).toEqual(['10.0.2.5']);
  });

  it('switches listener weights in one ModifyListener and refuses a stale move', async () => {
    const tgs = [
      await targetGroup('wire-git-1'),
      await targetGroup('wire-git-2'),
      await targetGroup('wire-git-3'),
    ];
    const listenerArn = await listenerTo('wire-git', tgs, 8080);
    const config = parseConfig({
      services: [
        {
          id: 'git',
          initialPrimary: 'g1',
          router: { type: 'elbv2-weighted', listenerArn },
          nodes: tgs.map((arn, i) => ({
            id: `g${i + 1}`,
            targetGroupArn: arn,
            health: alarm(`g${i + 1}`),
            lag,
          })),
        },
      ],
    });
    const router = new ElbRouter({ services: config.services, client });
    expect(await router.current('git')).toBe('g1');
    expect(await router.shift([{ serviceId: 'git', from: 'g1', to: 'g2' }])).toEqual([
      { serviceId: 'git', status: 'shifted' },
    ]);
    expect(await router.current('git')).toBe('g2');
    const weights = async () =>
      (await client.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))).Listeners?.[0]
        ?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups;
    expect(await weights()).toEqual([
      { TargetGroupArn: tgs[0], Weight: 0 },
      { TargetGroupArn: tgs[1], Weight: 1 },
      { TargetGroupArn: tgs[2], Weight: 0 },
    ]);

    // A second operation that still believes g1 is live loses and changes nothing.
    const [stale] = await router.shift([{ serviceId: 'git', from: 'g1', to: 'g3' }]);
    expect(stale).toMatchObject({ status: 'conflict', observed: 'g2' });
    expect(await router.current('git')).toBe('g2');
  });
});
