import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeDocumentCommand, InvalidDocument, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbReadinessStore } from '../../lambdas/aws/dynamodb-readiness.ts';
import { MAX_GAP_MS, Pacer, paceClient } from '../../lambdas/aws/pacing.ts';
import { AwsResources } from '../../lambdas/aws/readiness-resources.ts';
import { AwsRoutingReader } from '../../lambdas/aws/readiness-routing.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import type { ResourceRef } from '../../lambdas/domain/readiness.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';
import { awsErrors } from './fixtures.ts';

const creds = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
const meta = { httpStatusCode: 400, requestId: 'r', attempts: 1 };

describe('AwsRoutingReader', () => {
  const config = parseConfig({
    services: [
      route53Service({ id: 'pg' }),
      {
        id: 'app',
        initialPrimary: 'x',
        router: {
          type: 'elbv2-target',
          targetGroupArn:
            'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/app/0123456789abcdef',
        },
        nodes: ['x', 'y'].map((id) => ({
          id,
          target: { id: `i-0000000000000000${id === 'x' ? 1 : 2}` },
          health: { type: 'alarm', alarmName: `app-${id}` },
          lag: { namespace: 'N', metricName: 'Lag', dimensions: { Node: id } },
        })),
      },
    ],
  });
  const r53 = mockClient(Route53Client);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  beforeEach(() => {
    r53.reset();
    elb.reset();
  });
  // The mocks stub every instance's send; the pacing test below needs the real one.
  afterAll(() => {
    r53.restore();
    elb.restore();
  });

  it('returns the record set with its TTL from one zone walk, and the ELB node', async () => {
    r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        { Name: 'pg.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '10.0.0.1' }] },
      ],
      IsTruncated: false,
    });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-00000000000000001' }, TargetHealth: { State: 'healthy' } },
      ],
    });
    const reader = new AwsRoutingReader({
      config,
      route53: new Route53Client(creds),
      elb: new ElasticLoadBalancingV2Client(creds),
    });
    const out = await reader.readAll(['pg', 'app']);
    expect(out.get('pg')).toEqual({
      type: 'route53',
      record: { values: ['10.0.0.1'], ttlSeconds: 300, alias: false },
    });
    expect(out.get('app')).toEqual({ type: 'elbv2-target', node: 'x' });
    expect(r53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      {
        HostedZoneId: 'Z0000000000TEST',
        StartRecordName: 'pg.example.com.',
        StartRecordType: 'A',
        MaxItems: 300,
      },
    ]);
  });

  it('says the record does not exist when the walk passes its name, and leaves out a zone it could not read', async () => {
    r53.on(ListResourceRecordSetsCommand).resolvesOnce({ ResourceRecordSets: [], IsTruncated: false });
    const reader = new AwsRoutingReader({
      config,
      route53: new Route53Client(creds),
      elb: new ElasticLoadBalancingV2Client(creds),
    });
    expect((await reader.readAll(['pg'])).get('pg')).toEqual({ type: 'route53' });
    r53.on(ListResourceRecordSetsCommand).rejects(awsErrors.throttling());
    expect((await reader.readAll(['pg'])).has('pg')).toBe(false);
  });
});

describe('AwsResources', () => {
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  const rds = mockClient(RDSClient);
  const lambda = mockClient(LambdaClient);
  const sm = mockClient(SecretsManagerClient);
  const resources = () =>
    new AwsResources({
      ec2: new EC2Client(creds),
      ssm: new SSMClient(creds),
      rds: new RDSClient(creds),
      lambda: new LambdaClient(creds),
      secretsManager: new SecretsManagerClient(creds),
    });
  beforeEach(() => {
    for (const m of [ec2, ssm, rds, lambda, sm]) m.reset();
  });

  /**
   * check() answers each `kind:id` with whether it exists and the detail; a row without them is
   * left out of the answer (it could not be checked).
   */
  async function expectChecks(rows: [key: string, exists?: boolean, detail?: string][]) {
    const refs = rows.map(([key]): ResourceRef => {
      const at = key.indexOf(':');
      return { kind: key.slice(0, at) as ResourceRef['kind'], id: key.slice(at + 1) };
    });
    const out = await resources().check(refs);
    const expected = rows.flatMap(([key, exists, detail]) =>
      exists === undefined ? [] : [[key, { exists, detail }]],
    );
    expect(Object.fromEntries(out)).toEqual(Object.fromEntries(expected));
  }

  it('finds instances by filter (missing and terminated ones count as missing) and security groups', async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            { InstanceId: 'i-00000000000000001', State: { Name: 'running' } },
            { InstanceId: 'i-00000000000000002', State: { Name: 'terminated' } },
          ],
        },
      ],
    });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    await expectChecks([
      ['ec2-instance:i-00000000000000001', true, 'running'],
      ['ec2-instance:i-00000000000000002', false, 'terminated'],
      ['ec2-instance:i-00000000000000003', false, 'not found'],
      ['security-group:sg-00000001', false, 'not found'],
    ]);
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({
      Filters: [
        {
          Name: 'instance-id',
          Values: ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003'],
        },
      ],
    });
  });

  it('maps each service’s not-found error to missing, and leaves out what it could not check', async () => {
    ssm
      .on(DescribeDocumentCommand)
      .rejects(new InvalidDocument({ message: 'Document not found', $metadata: meta }));
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'DBInstance db-2 not found.', $metadata: meta }));
    lambda
      .on(GetFunctionConfigurationCommand)
      .rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: meta }));
    sm.on(DescribeSecretCommand).rejects(awsErrors.throttling());
    const fn = 'arn:aws:lambda:us-east-1:111122223333:function:f';
    const secret = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s';
    await expectChecks([
      ['ssm-document:promote-doc', false, 'not found (InvalidDocument)'],
      ['rds-instance:db-2', false, 'not found (DBInstanceNotFoundFault)'],
      [`lambda-function:${fn}`, false, 'not found (ResourceNotFoundException)'],
      // Throttled: left out of the answer, not called missing.
      [`secret:${secret}`],
    ]);
    expect(ssm.commandCalls(DescribeDocumentCommand)[0]?.args[0].input).toEqual({ Name: 'promote-doc' });
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'db-2',
    });
  });

  it('reports existing documents, DB instances, functions and secrets with their status', async () => {
    ssm.on(DescribeDocumentCommand).resolves({ Document: { Name: 'd', Status: 'Active' } });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    lambda.on(GetFunctionConfigurationCommand).resolves({ State: 'Active' });
    sm.on(DescribeSecretCommand).resolves({ Name: 's', DeletedDate: new Date('2026-03-01T00:00:00Z') });
    await expectChecks([
      ['ssm-document:d', true, 'Active'],
      ['rds-instance:db-1', true, 'available'],
      ['lambda-function:f', true, 'Active'],
      ['secret:s', false, 'scheduled for deletion on 2026-03-01T00:00:00.000Z'],
    ]);
  });
});

describe('DynamoDbReadinessStore', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  beforeEach(() => ddb.reset());

  it('keeps the verdict in its own table, keyed by service id', async () => {
    ddb.on(GetCommand).resolves({ Item: { status: 'not-ready' } });
    ddb.on(PutCommand).resolves({});
    const store = new DynamoDbReadinessStore({
      tableName: 'T',
      client: DynamoDBDocumentClient.from(new DynamoDBClient(creds)),
    });
    expect(await store.previous('pg')).toBe('not-ready');
    await store.record('pg', 'ready', 1234);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'T',
      Key: { serviceId: 'pg' },
      ProjectionExpression: '#s',
      ExpressionAttributeNames: { '#s': 'status' },
    });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: 'T',
      Item: { serviceId: 'pg', status: 'ready', at: 1234 },
    });
  });

  it('answers undefined before the first verdict', async () => {
    ddb.on(GetCommand).resolves({});
    const store = new DynamoDbReadinessStore({
      tableName: 'T',
      client: DynamoDBDocumentClient.from(new DynamoDBClient(creds)),
    });
    expect(await store.previous('pg')).toBeUndefined();
  });
});

describe('Pacer', () => {
  function virtual() {
    let now = 0;
    const sleeps: number[] = [];
    const pacer = new Pacer({
      requestsPerSecond: 1,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    return { pacer, sleeps, advance: (ms: number) => (now += ms) };
  }

  it('spaces requests at the configured rate', async () => {
    const v = virtual();
    for (let i = 0; i < 4; i++) await v.pacer.take();
    expect(v.sleeps).toEqual([1000, 1000, 1000]);
  });

  it('doubles the gap on throttling up to the cap, and narrows it back on success', async () => {
    const v = virtual();
    for (let i = 0; i < 6; i++) v.pacer.settle(true);
    expect(v.pacer.currentGapMs).toBe(MAX_GAP_MS);
    for (let i = 0; i < 20; i++) v.pacer.settle(false);
    expect(v.pacer.currentGapMs).toBe(1000);
  });

  it('paces every attempt a client sends, the SDK’s retries included, and widens the gap on throttling', async () => {
    const v = virtual();
    const answers = [
      {
        statusCode: 400,
        body: '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>',
      },
      {
        statusCode: 200,
        body: '<?xml version="1.0"?><ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ResourceRecordSets></ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>300</MaxItems></ListResourceRecordSetsResponse>',
      },
    ];
    const client = paceClient(
      new Route53Client({
        ...creds,
        maxAttempts: 3,
        requestHandler: {
          handle: async () => {
            const a = answers.shift() ?? answers[0];
            return {
              response: {
                statusCode: a?.statusCode ?? 500,
                headers: { 'content-type': 'text/xml' },
                body: Buffer.from(a?.body ?? ''),
              },
            };
          },
        } as never,
      }),
      v.pacer,
    );
    const out = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }));
    expect(out.IsTruncated).toBe(false);
    // Two attempts (throttled, then answered), both paced; the throttle doubled the gap once.
    expect(v.pacer.sent).toBe(2);
    expect(v.pacer.throttled).toBe(1);
    expect(v.sleeps).toEqual([2000]);
    expect(v.pacer.currentGapMs).toBe(1500);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new Pacer({ requestsPerSecond: 0 })).toThrow(/requestsPerSecond must be positive, got: 0/);
  });
});
