import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsClients, resetAwsClientsForTests } from '../../lambdas/aws/clients.ts';

/** A local endpoint standing in for DynamoDB, so the real SDK stack (providers, retries, signing) runs. */
let server: Server;
let requests: { target: string | undefined; auth: string | undefined; body: string }[] = [];
let statuses: number[] = [];
const saved: Record<string, string | undefined> = {};
const ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: 'testing',
};

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      requests.push({
        target: req.headers['x-amz-target'] as string | undefined,
        auth: req.headers.authorization,
        body,
      });
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        status === 200
          ? JSON.stringify({ Item: { pk: { S: 'service#a' }, epoch: { N: '4' } } })
          : JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'x' }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  for (const [k, v] of Object.entries({ ...ENV, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  // Clients another file of this worker built hold that file's environment.
  resetAwsClientsForTests();
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  resetAwsClientsForTests();
  requests = [];
  statuses = [];
});

describe('awsClients', () => {
  it('builds every client once and returns the same instances afterwards', () => {
    const first = awsClients();
    expect(awsClients()).toBe(first);
    expect(Object.keys(first).sort()).toEqual([
      'cloudWatch',
      'dynamoDb',
      'dynamoDbDocument',
      'elbv2',
      'lambda',
      'route53',
      'sfn',
      'sns',
    ]);
  });

  it('configures adaptive retries with 3 attempts on every client', async () => {
    for (const client of Object.values(awsClients())) {
      expect(await client.config.maxAttempts()).toBe(3);
      const strategy = await client.config.retryStrategy();
      expect(strategy.mode).toBe('adaptive');
    }
  });

  it('honours AWS_REGION and AWS_ENDPOINT_URL through the default providers', async () => {
    const out = await awsClients().dynamoDb.send(
      new GetItemCommand({ TableName: 't', Key: { pk: { S: 'service#a' } } }),
    );
    expect(out.Item).toEqual({ pk: { S: 'service#a' }, epoch: { N: '4' } });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.target).toBe('DynamoDB_20120810.GetItem');
    expect(requests[0]?.auth).toMatch(/Credential=testing\/\d{8}\/eu-west-1\/dynamodb\/aws4_request/);
  });

  it('shares the DynamoDB client with the document client, which unmarshals', async () => {
    const out = await awsClients().dynamoDbDocument.send(
      new GetCommand({ TableName: 't', Key: { pk: 'service#a', sk: 'state' } }),
    );
    expect(out.Item).toEqual({ pk: 'service#a', epoch: 4 });
    expect(JSON.parse(requests[0]?.body ?? '{}')).toEqual({
      TableName: 't',
      Key: { pk: { S: 'service#a' }, sk: { S: 'state' } },
    });
  });

  it('gives up after 3 attempts on a 5xx', async () => {
    statuses = [500, 500, 500, 500];
    await expect(
      awsClients().dynamoDb.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } })),
    ).rejects.toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500, attempts: 3 } });
    expect(requests).toHaveLength(3);
  });
});
