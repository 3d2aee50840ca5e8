import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TrafficRouter } from '../../lambdas/aws/traffic-router.ts';
import { UnknownServiceError } from '../../lambdas/domain/errors.ts';
import {
  configOf,
  elbTargetService,
  elbWeightedService,
  listenerArn,
  route53Service,
  tgArn,
} from './fixtures.ts';

const r53 = mockClient(Route53Client);
const elb = mockClient(elbv2.ElasticLoadBalancingV2Client);

const config = configOf(
  route53Service('orders-db', { addresses: { 'db-a': '10.0.1.10', 'db-b': '10.0.2.10' } }),
  elbWeightedService('git', ['git-1', 'git-2']),
  route53Service('users-db', { addresses: { 'u-1': '10.1.1.10', 'u-2': '10.1.2.10' } }),
  elbTargetService('backup', { 'bk-1': { id: 'i-0aaa' }, 'bk-2': { id: 'i-0bbb' } }),
);
const router = () =>
  new TrafficRouter({
    config,
    route53: new Route53Client({ region: 'us-east-1' }),
    elb: new elbv2.ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
  });

beforeEach(() => {
  r53.reset();
  elb.reset();
});

describe('TrafficRouter', () => {
  it('dispatches each change to its router, batches Route 53 per zone, and keeps input order', async () => {
    r53.on(ChangeResourceRecordSetsCommand).resolves({
      ChangeInfo: { Id: '/change/C9', Status: 'PENDING', SubmittedAt: new Date(0) },
    });
    elb.on(elbv2.DescribeListenersCommand).resolves({
      Listeners: [
        {
          ListenerArn: listenerArn('git'),
          DefaultActions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: tgArn('git-git-1'), Weight: 1 },
                  { TargetGroupArn: tgArn('git-git-2'), Weight: 0 },
                ],
              },
            },
          ],
        },
      ],
    });
    elb.on(elbv2.ModifyListenerCommand).resolves({});
    // The target move's compare read: exactly bk-1 registered.
    elb.on(elbv2.DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{ Target: { Id: 'i-0aaa' }, TargetHealth: { State: 'healthy' } }],
    });
    elb.on(elbv2.RegisterTargetsCommand).resolves({});
    elb.on(elbv2.DeregisterTargetsCommand).resolves({});

    const results = await router().shift([
      { serviceId: 'git', from: 'git-1', to: 'git-2' },
      { serviceId: 'orders-db', from: 'db-a', to: 'db-b' },
      { serviceId: 'ghost', from: 'a', to: 'b' },
      { serviceId: 'backup', from: 'bk-1', to: 'bk-2' },
      { serviceId: 'users-db', from: 'u-1', to: 'u-2' },
    ]);
    expect(results).toEqual([
      { serviceId: 'git', status: 'shifted' },
      { serviceId: 'orders-db', status: 'shifted', changeId: '/change/C9' },
      {
        serviceId: 'ghost',
        status: 'failed',
        errorName: 'UnknownServiceError',
        message: 'unknown service: "ghost"',
        uncertain: false,
      },
      { serviceId: 'backup', status: 'shifted' },
      { serviceId: 'users-db', status: 'shifted', changeId: '/change/C9' },
    ]);
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
    expect(elb.commandCalls(elbv2.ModifyListenerCommand)).toHaveLength(1);
  });

  it('makes no call when there is nothing to shift', async () => {
    expect(await router().shift([])).toEqual([]);
    expect([...r53.calls(), ...elb.calls()]).toHaveLength(0);
  });

  it('reads the current node from the right router', async () => {
    r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        { Name: 'orders-db.example.com.', Type: 'A', TTL: 30, ResourceRecords: [{ Value: '10.0.2.10' }] },
      ],
      IsTruncated: false,
      MaxItems: 1,
    });
    elb.on(elbv2.DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{ Target: { Id: 'i-0aaa' }, TargetHealth: { State: 'healthy' } }],
    });
    expect(await router().current('orders-db')).toBe('db-b');
    expect(await router().current('backup')).toBe('bk-1');
    await expect(router().current('ghost')).rejects.toBeInstanceOf(UnknownServiceError);
  });

  it('exposes the Route 53 change status and ELB target health', async () => {
    r53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C9', Status: 'INSYNC', SubmittedAt: new Date(0) } });
    elb.on(elbv2.DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{ Target: { Id: 'i-0bbb' }, TargetHealth: { State: 'healthy' } }],
    });
    expect(await router().changeStatus('/change/C9')).toBe('INSYNC');
    expect(await router().targetHealth('backup', 'bk-2')).toBe('healthy');
    expect(await router().targetHealth('orders-db', 'db-a')).toBeUndefined();
  });
});
