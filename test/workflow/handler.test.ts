/**
 * The step Lambda's entry point: malformed step events are refused with InvalidInputError (a
 * state-machine bug, never retried), and the production wiring reaches AWS through the real
 * adapters (SDK calls answered by aws-sdk-client-mock), Route 53 change tracking included.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetChangeCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { makeHandler } from '../../lambdas/handlers/workflow.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { answerQuietOrders, freshModule, useLambdaEnvironment } from '../support/lambda-environment.ts';

describe('workflow step handler: event validation', () => {
  const config = testConfig([route53Service({ id: 'orders' })]);
  const env = createMemoryEnvironment(config);
  const deps: WorkflowDeps = { ...env };
  const handler = makeHandler(deps);

  it.each([
    [undefined, /step/],
    [{}, /step/],
    [{ step: 'promoteEverything' }, /step/],
    [{ step: 'prepare', input: {} }, /executionName/],
    [{ step: 'prepare', input: {}, executionName: 'x'.repeat(81) }, /executionName/],
    [{ step: 'commit' }, /state/],
    [{ step: 'commit', state: { outcome: 'proceed', plan: { serviceId: 'orders' } } }, /state\.plan\.mode/],
    [{ step: 'checkCatchUp', state: {}, extra: true }, /extra|state\.outcome/],
  ])('refuses %j with InvalidInputError and changes nothing', async (event, message) => {
    const flushes = env.metrics.flushes;
    await expect(handler(event)).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringMatching(message),
    });
    expect(env.state.snapshot('orders')).toBeUndefined();
    expect(env.traffic.calls).toEqual([]);
    // Metrics are flushed once per invocation, failed or not, once the step is known.
    if ((event as { step?: string } | undefined)?.step === 'commit')
      expect(env.metrics.flushes).toBe(flushes + 1);
  });
});

describe('workflow step handler (production wiring)', () => {
  useLambdaEnvironment('workflow');
  const cloudWatch = mockClient(CloudWatchClient);
  const dynamo = mockClient(DynamoDBDocumentClient);
  const route53 = mockClient(Route53Client);

  async function freshHandler() {
    return (await freshModule(() => import('../../lambdas/handlers/workflow.ts'))).handler;
  }

  beforeEach(() => {
    cloudWatch.reset();
    dynamo.reset();
    route53.reset();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(['TABLE_NAME', 'TOPIC_ARN'])('fails the step naming a missing %s', async (name) => {
    vi.stubEnv(name, '');
    const handler = await freshHandler();
    await expect(handler({ step: 'prepare', input: {}, executionName: 'x' })).rejects.toThrow(
      `missing environment variable ${name}`,
    );
  });

  it('prepares through the AWS adapters, takes the lease, and verifies with GetChange', async () => {
    answerQuietOrders(cloudWatch, dynamo);
    dynamo.on(UpdateCommand).resolves({ Attributes: { leaseSequence: 1 } });
    route53.on(GetChangeCommand).resolves({
      ChangeInfo: { Id: '/change/C42', Status: 'INSYNC', SubmittedAt: new Date() },
    });
    route53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        { Name: 'orders.example.com.', Type: 'A', TTL: 15, ResourceRecords: [{ Value: '10.0.0.2' }] },
      ],
      IsTruncated: false,
      MaxItems: 1,
    });
    const handler = await freshHandler();

    const prepared = (await handler({
      step: 'prepare',
      input: { serviceId: 'orders', mode: 'switchover', to: 'b', reason: 'patch' },
      executionName: 'switchover-orders-b-0123456789abcdef',
    })) as { outcome: string; plan: Record<string, unknown> };
    expect(prepared).toMatchObject({ outcome: 'proceed', plan: { from: 'a', to: 'b', epoch: 1 } });
    const lease = dynamo.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(lease).toMatchObject({ TableName: 'failover-state', Key: { pk: 'service#orders', sk: 'state' } });
    expect(JSON.stringify(lease.ExpressionAttributeValues)).toContain('switchover-orders-b-0123456789abcdef');

    // What the table now holds: the lease Prepare wrote (every later step checks it).
    const plan = prepared.plan as { holder: string; expectedEpoch: number; leaseExpiresAt: number };
    dynamo.on(GetCommand).resolves({
      Item: {
        pk: 'service#orders',
        sk: 'state',
        primary: 'a',
        epoch: plan.expectedEpoch,
        paused: false,
        lease: {
          holder: plan.holder,
          operation: 'switchover',
          acquiredAt: 0,
          expiresAt: plan.leaseExpiresAt,
        },
      },
    });
    const verified = await handler({
      step: 'checkVerify',
      state: { ...prepared, shift: { status: 'shifted', at: 0, changeId: '/change/C42', detail: 'moved' } },
    });
    expect(verified).toMatchObject({
      status: 'verified',
      detail: 'b healthy and serving traffic (Route 53 change INSYNC)',
    });
    expect(route53.commandCalls(GetChangeCommand)[0]!.args[0].input).toEqual({ Id: '/change/C42' });
  });
});
