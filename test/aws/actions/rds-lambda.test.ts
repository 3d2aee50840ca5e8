import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DBInstanceNotFoundFault,
  DescribeDBInstancesCommand,
  InvalidDBInstanceStateFault,
  PromoteReadReplicaCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsNodeActions } from '../../../lambdas/aws/actions/index.ts';
import { actionConfig, fakeTiming, meta, request, T, unmodelledError } from './helpers.ts';

const rds = mockClient(RDSClient);
const lambda = mockClient(LambdaClient);
const FN = 'arn:aws:lambda:us-east-1:111122223333:function:orders-promote';

function port(actions: Record<string, unknown>) {
  return new AwsNodeActions({
    config: actionConfig(actions),
    clients: { rds: () => new RDSClient({}), lambda: () => new LambdaClient({}) },
    timing: fakeTiming(10_000),
  });
}

const replica = (status: string) => ({
  DBInstances: [
    {
      DBInstanceIdentifier: 'orders-b',
      DBInstanceStatus: status,
      ReadReplicaSourceDBInstanceIdentifier: 'orders-a',
    },
  ],
});
const standalone = { DBInstances: [{ DBInstanceIdentifier: 'orders-b', DBInstanceStatus: 'available' }] };
const PROMOTE = { promote: { type: 'rds-promote-read-replica', backupRetentionPeriodDays: 7 } };

describe('rds-promote-read-replica action', () => {
  beforeEach(() => rds.reset());

  it('promotes an available replica and waits until it is available without a source', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(replica('available'))
      .resolvesOnce(replica('modifying'))
      .resolvesOnce(replica('available'))
      .resolves(standalone);
    const result = await port(PROMOTE).run(request('promote'));
    expect(rds.commandCalls(PromoteReadReplicaCommand).map((c) => c.args[0].input)).toEqual([
      { DBInstanceIdentifier: 'orders-b', BackupRetentionPeriod: 7 },
    ]);
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: 'orders-b',
    });
    expect(result).toMatchObject({ status: 'succeeded', ids: { dbInstanceIdentifier: 'orders-b' } });
  });

  it('succeeds at once for an instance that is already standalone', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(standalone);
    const result = await port(PROMOTE).run(request('promote'));
    expect(result.detail).toContain('already a standalone instance');
    expect(rds.commandCalls(PromoteReadReplicaCommand)).toHaveLength(0);
  });

  it('waits for a promotion already under way instead of failing on InvalidDBInstanceState', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(replica('available'))
      .resolvesOnce(replica('modifying'))
      .resolves(standalone);
    rds.on(PromoteReadReplicaCommand).rejects(
      new InvalidDBInstanceStateFault({
        message: 'DB Instance is not a read replica or is in an invalid state.',
        $metadata: meta(400),
      }),
    );
    const result = await port(PROMOTE).run(request('promote'));
    expect(result.status).toBe('succeeded');
    expect(result.detail).toContain('already under way');
  });

  it('does not request a promotion while the replica is in another status', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(replica('backing-up'));
    const result = await port({ promote: { type: 'rds-promote-read-replica', timeoutSeconds: 30 } }).run(
      request('promote', { timeoutMs: 30_000 }),
    );
    expect(result.status).toBe('timed-out');
    expect(result.detail).toContain('orders-b backing-up, replica of orders-a');
    expect(rds.commandCalls(PromoteReadReplicaCommand)).toHaveLength(0);
  });

  it('reports DBInstanceNotFound and throttling with their classification', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(
        new DBInstanceNotFoundFault({ message: 'DBInstance orders-b not found.', $metadata: meta(404) }),
      );
    expect(await port(PROMOTE).run(request('promote'))).toMatchObject({
      status: 'failed',
      error: { name: 'DBInstanceNotFoundFault', retryable: false },
    });
    rds.on(DescribeDBInstancesCommand).rejects(unmodelledError('Throttling', 'Rate exceeded'));
    expect(await port(PROMOTE).run(request('promote'))).toMatchObject({
      status: 'failed',
      error: { name: 'Throttling', retryable: true },
    });
  });
});

describe('lambda action', () => {
  beforeEach(() => lambda.reset());
  const payloadOf = (i: number) =>
    JSON.parse(
      new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[i]!.args[0].input.Payload as Uint8Array),
    );

  it('invokes the function with the hook payload plus the token', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"ok":true}') as never });
    const result = await port({ promote: { type: 'lambda', functionArn: FN, timeoutSeconds: 45 } }).run(
      request('promote', { timeoutMs: 45_000, execution: 'switchover-orders-b-1234' }),
    );
    expect(lambda.commandCalls(InvokeCommand)[0]!.args[0].input).toMatchObject({
      FunctionName: FN,
      InvocationType: 'RequestResponse',
    });
    expect(payloadOf(0)).toEqual({
      serviceId: 'orders',
      node: 'b',
      epoch: 4,
      token: T.promote,
      mode: 'switchover',
      action: 'promote',
      execution: 'switchover-orders-b-1234',
      timeoutSeconds: 45,
    });
    expect(result).toMatchObject({ status: 'succeeded', outputTail: '{"ok":true}' });
  });

  it('fails with the function error message', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(
        JSON.stringify({
          errorType: 'StaleTokenError',
          errorMessage: `token ${T.promote} < ${T.demoteTarget}`,
        }),
      ) as never,
    });
    const result = await port({ promote: { type: 'lambda', functionArn: FN } }).run(request('promote'));
    expect(result.status).toBe('failed');
    expect(result.detail).toContain(`StaleTokenError: token ${T.promote} < ${T.demoteTarget}`);
    // The node answered (a stale token): not unreachable, so a fence like this holds a failover.
    expect(result.error?.unreachable).toBeUndefined();
  });

  it('a function that fails with NodeUnreachableError says the node could not be reached', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(
        JSON.stringify({ errorType: 'NodeUnreachableError', errorMessage: 'no route to 10.0.1.10:5432' }),
      ) as never,
    });
    const result = await port({ fence: { type: 'lambda', functionArn: FN } }).run(request('fence'));
    expect(result).toMatchObject({ status: 'failed', error: { unreachable: true } });
  });

  it('reads the hooks shorthand as a lambda action that also unfences', async () => {
    const config = actionConfig({});
    config.services[0] = { ...config.services[0]!, hooks: { fence: FN, timeoutSeconds: 60 } };
    const p = new AwsNodeActions({
      config,
      clients: { lambda: () => new LambdaClient({}) },
      timing: fakeTiming(),
    });
    expect(p.has('orders', 'a', 'unfence')).toBe(true);
    expect(p.has('orders', 'a', 'promote')).toBe(false);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await p.run(request('unfence'));
    expect(payloadOf(0)).toMatchObject({ action: 'unfence', token: T.unfence });
  });
});
