import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { GlobalOptions } from '../../cli/args.ts';
import { awsServices, cliClients } from '../../cli/services.ts';
import { STACK_OUTPUTS } from '../../lambdas/contract/stack-outputs.ts';
import { sampleConfig } from './helpers.ts';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const globals = (extra: Partial<GlobalOptions> = {}): GlobalOptions => ({
  configFile: 'config/failover.json',
  json: false,
  ...extra,
});

function clients() {
  const cloudFormation = new CloudFormationClient({ region: 'us-east-1', credentials });
  const dynamoDbDocument = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials }),
  );
  const sns = new SNSClient({ region: 'us-east-1', credentials });
  return {
    clients: { cloudFormation, dynamoDbDocument, sns },
    cfn: mockClient(cloudFormation),
    ddb: mockClient(dynamoDbDocument),
    snsMock: mockClient(sns),
  };
}

const outputs = [
  { OutputKey: STACK_OUTPUTS.tableName, OutputValue: 'FailoverAutomation-StateTable-ABC' },
  {
    OutputKey: STACK_OUTPUTS.stateMachineArn,
    OutputValue: 'arn:aws:states:us-east-1:111122223333:stateMachine:Wf',
  },
  { OutputKey: STACK_OUTPUTS.topicArn, OutputValue: 'arn:aws:sns:us-east-1:111122223333:FailoverTopic' },
];

describe('awsServices', () => {
  it('reads the table, topic and state machine from the stack outputs, with one DescribeStacks', async () => {
    const c = clients();
    c.cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'FailoverAutomation',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: outputs,
        },
      ],
    });
    c.ddb.on(GetCommand).resolves({});
    c.snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const s = awsServices(sampleConfig(), globals(), { clients: c.clients });
    // Nothing is read until a command needs it.
    expect(c.cfn.calls()).toHaveLength(0);

    await expect((await s.state()).get('orders-db')).resolves.toBeUndefined();
    expect(c.ddb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({
      TableName: 'FailoverAutomation-StateTable-ABC',
      Key: { pk: 'service#orders-db', sk: 'state' },
      ConsistentRead: true,
    });
    await (await s.notifier()).publish({ kind: 'paused', serviceId: 'orders-db', subject: 's', detail: {} });
    expect(c.snsMock.commandCalls(PublishCommand)[0]!.args[0].input.TopicArn).toBe(
      'arn:aws:sns:us-east-1:111122223333:FailoverTopic',
    );
    await expect(s.stateMachineArn()).resolves.toBe('arn:aws:states:us-east-1:111122223333:stateMachine:Wf');
    expect(c.cfn.commandCalls(DescribeStacksCommand).map((x) => x.args[0].input)).toEqual([
      { StackName: 'FailoverAutomation' },
    ]);
  });

  it('uses --stack-name instead of the configured stack name', async () => {
    const c = clients();
    c.cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: outputs },
      ],
    });
    const s = awsServices(sampleConfig(), globals({ stackName: 'Other' }), { clients: c.clients });
    await s.stateMachineArn();
    expect(c.cfn.commandCalls(DescribeStacksCommand)[0]!.args[0].input).toEqual({ StackName: 'Other' });
  });

  it('needs no stack at all when the flags name everything', async () => {
    const c = clients();
    c.ddb.on(GetCommand).resolves({});
    const s = awsServices(
      sampleConfig(),
      globals({ tableName: 't', stateMachineArn: 'arn:sm', topicArn: 'arn:topic' }),
      { clients: c.clients },
    );
    await (await s.state()).get('orders-db');
    await expect(s.stateMachineArn()).resolves.toBe('arn:sm');
    expect(c.ddb.commandCalls(GetCommand)[0]!.args[0].input.TableName).toBe('t');
    expect(c.cfn.calls()).toHaveLength(0);
  });

  it('says which flag to pass when the stack cannot be read, and tries again next time', async () => {
    const c = clients();
    c.cfn
      .on(DescribeStacksCommand)
      .rejectsOnce(
        Object.assign(new Error('Stack with id FailoverAutomation does not exist'), {
          name: 'ValidationError',
        }),
      )
      .resolves({
        Stacks: [
          {
            StackName: 'FailoverAutomation',
            CreationTime: new Date(),
            StackStatus: 'CREATE_COMPLETE',
            Outputs: [],
          },
        ],
      });
    const s = awsServices(sampleConfig(), globals(), { clients: c.clients });
    await expect(s.state()).rejects.toThrow(
      'cannot read the outputs of stack FailoverAutomation (ValidationError: Stack with id FailoverAutomation does not exist); deploy it, pass --stack-name, or pass --table-name',
    );
    await expect(s.stateMachineArn()).rejects.toThrow(
      'stack FailoverAutomation has no output StateMachineArn; pass --state-machine-arn',
    );
  });

  it('says to set a region, not to deploy, when the SDK has no region', async () => {
    const c = clients();
    c.cfn.on(DescribeStacksCommand).rejects(new Error('Region is missing'));
    const s = awsServices(sampleConfig(), globals(), { clients: c.clients });
    await expect(s.state()).rejects.toThrow(
      "no AWS region to read stack FailoverAutomation's outputs in: set AWS_REGION (or a region in your AWS profile), or pass --region <region>",
    );
  });
});

describe('awsServices: what the RTO model reads', () => {
  it('reads existing alarms by name, 100 per call, every page, DatapointsToAlarm else EvaluationPeriods', async () => {
    const cloudWatch = new CloudWatchClient({ region: 'us-east-1', credentials });
    const cw = mockClient(cloudWatch);
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({
        MetricAlarms: [{ AlarmName: 'a0', Period: 10, EvaluationPeriods: 5, DatapointsToAlarm: 3 }],
        NextToken: 't',
      })
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'a1', Period: 60, EvaluationPeriods: 2 }] })
      .resolves({
        MetricAlarms: [
          {
            AlarmName: 'math',
            EvaluationPeriods: 1,
            Metrics: [
              { Id: 'e', Expression: 'm*1', ReturnData: true },
              { Id: 'm', ReturnData: false, MetricStat: { Metric: {}, Period: 30, Stat: 'Minimum' } },
            ],
          },
        ],
      });
    const s = awsServices(sampleConfig(), globals(), { clients: { cloudWatch } });
    const names = Array.from({ length: 150 }, (_, i) => `a${i}`);
    const settings = await s.alarmSettings(names);
    const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.AlarmNames?.length, c.NextToken])).toEqual([
      [100, undefined],
      [100, 't'],
      [50, undefined],
    ]);
    expect(calls.every((c) => c.AlarmTypes?.join() === 'MetricAlarm')).toBe(true);
    expect(Object.fromEntries(settings)).toEqual({
      a0: { periodSeconds: 10, datapointsToAlarm: 3 },
      a1: { periodSeconds: 60, datapointsToAlarm: 2 },
      math: { periodSeconds: 30, datapointsToAlarm: 1 },
    });
  });

  it('reads target group health checks, 20 ARNs per call', async () => {
    const elbv2 = new ElasticLoadBalancingV2Client({ region: 'us-east-1', credentials });
    const elb = mockClient(elbv2);
    elb.on(DescribeTargetGroupsCommand).callsFake((input: { TargetGroupArns: string[] }) => ({
      TargetGroups: input.TargetGroupArns.map((arn, i) => ({
        TargetGroupArn: arn,
        HealthCheckIntervalSeconds: 5 + i,
        UnhealthyThresholdCount: 2,
      })),
    }));
    const s = awsServices(sampleConfig(), globals(), { clients: { elbv2 } });
    const arns = Array.from({ length: 25 }, (_, i) => `arn:tg/${i}`);
    const checks = await s.targetGroupHealthChecks(arns);
    expect(
      elb.commandCalls(DescribeTargetGroupsCommand).map((c) => c.args[0].input.TargetGroupArns?.length),
    ).toEqual([20, 5]);
    expect(checks.get('arn:tg/21')).toEqual({ intervalSeconds: 6, unhealthyThreshold: 2 });
    expect(checks.size).toBe(25);
  });
});

describe('cliClients', () => {
  it('sends every call to --endpoint-url in --region', async () => {
    const built = cliClients(globals({ region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:5000' }));
    for (const client of Object.values(built)) {
      await expect(client.config.region()).resolves.toBe('eu-west-1');
      const endpoint = await client.config.endpoint?.();
      expect(endpoint?.hostname).toBe('127.0.0.1');
      expect(endpoint?.port).toBe(5000);
    }
  });

  it('leaves region and endpoint to the SDK providers (AWS_REGION, AWS_ENDPOINT_URL) without flags', async () => {
    const keys = ['AWS_REGION', 'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
    const before = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
    Object.assign(process.env, {
      AWS_REGION: 'ap-southeast-2',
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
    try {
      const { sfn } = cliClients(globals());
      await expect(sfn.config.region()).resolves.toBe('ap-southeast-2');
      const { DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
      let url: string | undefined;
      sfn.middlewareStack.add(
        (_next) => async (args) => {
          const req = args.request as { hostname: string; port?: number; protocol: string };
          url = `${req.protocol}//${req.hostname}:${req.port}`;
          return { output: { $metadata: {} } as never, response: {} };
        },
        { step: 'build', name: 'captureUrl' },
      );
      await sfn
        .send(
          new DescribeExecutionCommand({ executionArn: 'arn:aws:states:ap-southeast-2:1:execution:a:b' }),
          {},
        )
        .catch(() => {});
      expect(url).toBe('http://localhost:4566');
    } finally {
      for (const k of keys) {
        if (before[k] === undefined) delete process.env[k];
        else process.env[k] = before[k];
      }
    }
  });
});
