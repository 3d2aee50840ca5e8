import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { REAL_TIMING } from '../../../lambdas/aws/actions/common.ts';
import { AwsNodeActions } from '../../../lambdas/aws/actions/index.ts';
import { UnknownServiceError } from '../../../lambdas/domain/errors.ts';
import { actionConfig, request } from './helpers.ts';

const lambda = mockClient(LambdaClient);
const FN = 'arn:aws:lambda:us-east-1:111122223333:function:orders-promote';

describe('AwsNodeActions', () => {
  beforeEach(() => lambda.reset());

  it('never waits longer than timeoutMs, even for a call that never answers, and aborts it', async () => {
    let signal: AbortSignal | undefined;
    lambda.on(InvokeCommand).callsFake((_input, getClient) => {
      void getClient;
      return new Promise(() => undefined);
    });
    const client = new LambdaClient({ region: 'us-east-1' });
    const send = client.send.bind(client);
    client.send = ((command: never, options?: { abortSignal?: AbortSignal }) => {
      signal = options?.abortSignal;
      return send(command, options as never);
    }) as typeof client.send;
    const port = new AwsNodeActions({
      config: actionConfig({ promote: { type: 'lambda', functionArn: FN } }),
      clients: { lambda: () => client },
      timing: REAL_TIMING,
    });
    const started = Date.now();
    const result = await port.run(request('promote', { timeoutMs: 150 }));
    const took = Date.now() - started;
    expect(result.status).toBe('timed-out');
    expect(result.error).toMatchObject({ uncertain: true, retryable: false });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(signal?.aborted).toBe(true);
  });

  it('throws for a programming error: unknown service, unknown node, no action for the role', async () => {
    const port = new AwsNodeActions({
      config: actionConfig({ promote: { type: 'lambda', functionArn: FN } }),
      clients: {},
    });
    await expect(port.run(request('promote', { serviceId: 'nope' }))).rejects.toThrow(UnknownServiceError);
    await expect(port.run(request('promote', { nodeId: 'z' }))).rejects.toThrow(UnknownServiceError);
    await expect(port.run(request('fence'))).rejects.toThrow(/has no fence action/);
    expect(port.has('orders', 'b', 'promote')).toBe(true);
    expect(port.has('orders', 'b', 'fence')).toBe(false);
    expect(port.has('nope', 'b', 'promote')).toBe(false);
  });

  it('reports a missing client as a failed action naming it', async () => {
    const port = new AwsNodeActions({
      config: actionConfig({ fence: { type: 'ec2-stop' } }),
      clients: {},
    });
    const result = await port.run(request('fence'));
    expect(result).toMatchObject({ status: 'failed', detail: expect.stringMatching(/no EC2 client/) });
  });
});
