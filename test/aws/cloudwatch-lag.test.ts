import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchLag } from '../../lambdas/aws/cloudwatch-lag.ts';
import type { LagMetric } from '../../lambdas/domain/config.ts';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import type { LagQuery } from '../../lambdas/domain/ports.ts';
import { type AwsErrorKind, awsErrors } from './fixtures.ts';

const cw = mockClient(CloudWatchClient);
const lag = () => new CloudWatchLag({ client: new CloudWatchClient({ region: 'us-east-1' }) });

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const metric = (node: string, over: Partial<LagMetric> = {}): LagMetric => ({
  namespace: 'Custom/Postgres',
  metricName: 'ReplicationLagSeconds',
  dimensions: { Node: node },
  statistic: 'Maximum',
  periodSeconds: 10,
  ...over,
});
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000);

beforeEach(() => cw.reset());

describe('CloudWatchLag', () => {
  it('sends every query in one GetMetricData call with the exact window and shape', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const queries: LagQuery[] = [
      { key: 'orders-db/db-a', metric: metric('db-a') },
      {
        key: 'git/git-2',
        metric: metric('git-2', {
          namespace: 'Custom/Git',
          dimensions: { Node: 'git-2', Cluster: 'main' },
          statistic: 'p99',
          periodSeconds: 60,
        }),
      },
    ];
    await lag().getLatest(queries, NOW, 120);
    expect(cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input)).toEqual([
      {
        MetricDataQueries: [
          {
            Id: 'q0',
            MetricStat: {
              Metric: {
                Namespace: 'Custom/Postgres',
                MetricName: 'ReplicationLagSeconds',
                Dimensions: [{ Name: 'Node', Value: 'db-a' }],
              },
              Period: 10,
              Stat: 'Maximum',
            },
            ReturnData: true,
          },
          {
            Id: 'q1',
            MetricStat: {
              Metric: {
                Namespace: 'Custom/Git',
                MetricName: 'ReplicationLagSeconds',
                Dimensions: [
                  { Name: 'Node', Value: 'git-2' },
                  { Name: 'Cluster', Value: 'main' },
                ],
              },
              Period: 60,
              Stat: 'p99',
            },
            ReturnData: true,
          },
        ],
        StartTime: new Date(NOW - 120_000),
        EndTime: new Date(NOW),
        ScanBy: 'TimestampDescending',
      },
    ]);
  });

  it('maps the newest datapoint of each query back to its key; no datapoint is undefined', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'q0', StatusCode: 'Complete', Timestamps: [at(10), at(20)], Values: [2.5, 7] },
        { Id: 'q1', StatusCode: 'Complete', Timestamps: [], Values: [] },
        { Id: 'q2', StatusCode: 'PartialData', Timestamps: [], Values: [] },
        { Id: 'q3', StatusCode: 'InternalError' },
        // Partial data that has points is still data: its timestamp tells the decision how old it is.
        { Id: 'q4', StatusCode: 'PartialData', Timestamps: [at(30)], Values: [0] },
      ],
    });
    const keys = ['a/0', 'a/1', 'a/2', 'a/3', 'a/4'];
    const samples = await lag().getLatest(
      keys.map((key, i) => ({ key, metric: metric(`n${i}`) })),
      NOW,
      300,
    );
    expect(samples).toEqual(
      new Map([
        ['a/0', { lagSeconds: 2.5, timestamp: NOW - 10_000 }],
        ['a/1', undefined],
        ['a/2', undefined],
        ['a/3', undefined],
        ['a/4', { lagSeconds: 0, timestamp: NOW - 30_000 }],
      ]),
    );
  });

  it('keeps a key absent from the response as undefined', async () => {
    cw.on(GetMetricDataCommand).resolves({});
    const samples = await lag().getLatest([{ key: 'k', metric: metric('x') }], NOW, 60);
    expect([...samples]).toEqual([['k', undefined]]);
  });

  it('follows NextToken and keeps the newest point across pages', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: 'q0', Timestamps: [at(5)], Values: [1] }],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'q0', Timestamps: [at(50)], Values: [9] },
          { Id: 'q1', Timestamps: [at(15)], Values: [4] },
        ],
      });
    const samples = await lag().getLatest(
      [
        { key: 'a', metric: metric('a') },
        { key: 'b', metric: metric('b') },
      ],
      NOW,
      60,
    );
    const inputs = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.NextToken)).toEqual([undefined, 'page-2']);
    expect(samples.get('a')).toEqual({ lagSeconds: 1, timestamp: NOW - 5_000 });
    expect(samples.get('b')).toEqual({ lagSeconds: 4, timestamp: NOW - 15_000 });
  });

  it('splits more than 500 queries into calls of 500 with ids unique across calls', async () => {
    cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
      MetricDataResults: input.MetricDataQueries.map((q) => ({
        Id: q.Id,
        Timestamps: [at(1)],
        Values: [Number(q.Id.slice(1))],
      })),
    }));
    const queries = Array.from({ length: 1001 }, (_, i) => ({ key: `s/n${i}`, metric: metric(`n${i}`) }));
    const samples = await lag().getLatest(queries, NOW, 60);
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries ?? []);
    expect(calls.map((c) => c.length)).toEqual([500, 500, 1]);
    expect(calls.flat().map((q) => q.Id)).toEqual(queries.map((_, i) => `q${i}`));
    expect(samples.get('s/n1000')).toEqual({ lagSeconds: 1000, timestamp: NOW - 1000 });
    expect(samples.get('s/n499')?.lagSeconds).toBe(499);
  });

  it('makes no call for no queries', async () => {
    expect(await lag().getLatest([], NOW, 60)).toEqual(new Map());
    expect(cw.calls()).toHaveLength(0);
  });

  it.each<AwsErrorKind>(['throttling', 'serviceUnavailable503', 'socketTimeout'])(
    'maps %s to TransientAwsError',
    async (kind) => {
      cw.on(GetMetricDataCommand).rejects(awsErrors[kind]());
      await expect(lag().getLatest([{ key: 'k', metric: metric('x') }], NOW, 60)).rejects.toBeInstanceOf(
        TransientAwsError,
      );
    },
  );
});
