/**
 * The CloudWatch and SNS adapters against moto_server: the GetMetricData query shape, the
 * DescribeAlarms filter, and Publish with attributes are accepted and answered as expected.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchAlarms } from '../../lambdas/aws/cloudwatch-alarms.ts';
import { CloudWatchLag } from '../../lambdas/aws/cloudwatch-lag.ts';
import { SnsNotifier } from '../../lambdas/aws/sns-notifier.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';

let moto: MotoServer;
let cw: CloudWatchClient;
let sns: SNSClient;

beforeAll(async () => {
  moto = await startMoto();
  cw = new CloudWatchClient(moto.clientConfig);
  sns = new SNSClient(moto.clientConfig);
});
afterAll(async () => {
  cw?.destroy();
  sns?.destroy();
  await moto?.stop();
});

describe('CloudWatch adapters on moto_server', () => {
  it('returns the newest lag datapoint per node and undefined for a node without data', async () => {
    const now = Date.now();
    const put = (node: string, secondsAgo: number, value: number) =>
      cw.send(
        new PutMetricDataCommand({
          Namespace: 'Wire/Postgres',
          MetricData: [
            {
              MetricName: 'ReplicationLagSeconds',
              Dimensions: [{ Name: 'Node', Value: node }],
              Timestamp: new Date(now - secondsAgo * 1000),
              Value: value,
            },
          ],
        }),
      );
    await put('db-b', 125, 9);
    await put('db-b', 65, 4);
    await put('db-a', 300, 1);
    const metric = (node: string) => ({
      namespace: 'Wire/Postgres',
      metricName: 'ReplicationLagSeconds',
      dimensions: { Node: node },
      statistic: 'Maximum' as const,
      periodSeconds: 60,
    });
    const samples = await new CloudWatchLag({ client: cw }).getLatest(
      [
        { key: 'db-a', metric: metric('db-a') },
        { key: 'db-b', metric: metric('db-b') },
        { key: 'db-c', metric: metric('db-c') },
      ],
      now,
      600,
    );
    expect(samples.get('db-b')?.lagSeconds).toBe(4);
    expect(samples.get('db-a')?.lagSeconds).toBe(1);
    expect(samples.get('db-c')).toBeUndefined();
    expect(samples.get('db-b')?.timestamp).toBeGreaterThan(samples.get('db-a')?.timestamp ?? Infinity);
  });

  it('reads alarm states by name and leaves unknown names out', async () => {
    for (const name of ['wire-db-a-health', 'wire-db-b-health']) {
      await cw.send(
        new PutMetricAlarmCommand({
          AlarmName: name,
          Namespace: 'Wire/Health',
          MetricName: 'Up',
          Statistic: 'Minimum',
          Period: 10,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'LessThanThreshold',
        }),
      );
    }
    await cw.send(
      new SetAlarmStateCommand({
        AlarmName: 'wire-db-a-health',
        StateValue: 'ALARM',
        StateReason: 'wire test',
      }),
    );
    const states = await new CloudWatchAlarms({ client: cw }).getStates([
      'wire-db-a-health',
      'wire-db-b-health',
      'wire-missing',
    ]);
    expect(states.get('wire-db-a-health')).toBe('ALARM');
    expect(['OK', 'INSUFFICIENT_DATA']).toContain(states.get('wire-db-b-health'));
    expect(states.has('wire-missing')).toBe(false);
  });
});

describe('SnsNotifier on moto_server', () => {
  it('publishes a subject and JSON body, with attributes that subscription filter policies match', async () => {
    const received: { path: string; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const topic = await sns.send(new CreateTopicCommand({ Name: 'wire-failover' }));
      // moto does not copy attributes into the HTTP body, but it does apply filter policies to them.
      for (const [path, policy] of [
        ['/failovers', { kind: ['failover'], serviceId: ['orders-db'] }],
        ['/pauses', { kind: ['paused'] }],
      ] as const) {
        await sns.send(
          new SubscribeCommand({
            TopicArn: topic.TopicArn,
            Protocol: 'http',
            Endpoint: `http://127.0.0.1:${port}${path}`,
            Attributes: { FilterPolicy: JSON.stringify(policy) },
          }),
        );
      }
      await new SnsNotifier({ topicArn: topic.TopicArn ?? '', client: sns }).publish({
        kind: 'failover',
        serviceId: 'orders-db',
        subject: 'orders-db: failed over db-a -> db-b',
        detail: { epoch: 1 },
      });
      const notifications = received.filter((m) => m.body.Type === 'Notification');
      expect(notifications.map((m) => m.path)).toEqual(['/failovers']);
      expect(notifications[0]?.body.Subject).toBe('orders-db: failed over db-a -> db-b');
      expect(JSON.parse(String(notifications[0]?.body.Message))).toEqual({
        kind: 'failover',
        serviceId: 'orders-db',
        subject: 'orders-db: failed over db-a -> db-b',
        epoch: 1,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
