import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { LagMetric } from '../domain/config.ts';
import type { LagPort, LagQuery } from '../domain/ports.ts';
import type { LagSample } from '../domain/types.ts';
import { CloudWatchAdapter, type CloudWatchAdapterProps } from './adapter-props.ts';
import { allPages, sendClassified } from './errors.ts';

/** GetMetricData accepts at most 500 queries per call. */
export const QUERIES_PER_CALL = 500;

export type CloudWatchLagProps = CloudWatchAdapterProps;

/**
 * Newest replication-lag datapoint per node, all nodes in one GetMetricData call (per 500).
 * Only values CloudWatch returned count: a query with no datapoint is undefined, which the
 * decision treats as "lag unknown" and never as zero.
 */
export class CloudWatchLag extends CloudWatchAdapter implements LagPort {
  async getLatest(
    queries: readonly LagQuery[],
    now: number,
    lookbackSeconds: number,
  ): Promise<ReadonlyMap<string, LagSample | undefined>> {
    const result = new Map<string, LagSample | undefined>(queries.map((q) => [q.key, undefined]));
    if (queries.length === 0) return result;
    // Ids must start with a lowercase letter and be unique in one request; keys are free-form.
    const byId = new Map<string, string>(queries.map((q, i) => [`q${i}`, q.key]));
    const dataQueries = queries.map((q, i) => toMetricDataQuery(`q${i}`, q.metric));
    const window = { StartTime: new Date(now - lookbackSeconds * 1000), EndTime: new Date(now) };
    const chunks: MetricDataQuery[][] = [];
    for (let i = 0; i < dataQueries.length; i += QUERIES_PER_CALL) {
      chunks.push(dataQueries.slice(i, i + QUERIES_PER_CALL));
    }
    await Promise.all(
      chunks.map(async (chunk) => {
        const pages = allPages((nextToken) =>
          sendClassified('GetMetricData', () =>
            this.client.send(
              new GetMetricDataCommand({
                MetricDataQueries: chunk,
                ...window,
                ScanBy: 'TimestampDescending',
                ...(nextToken ? { NextToken: nextToken } : {}),
              }),
            ),
          ),
        );
        for await (const out of pages) {
          for (const r of out.MetricDataResults ?? []) {
            const key = r.Id === undefined ? undefined : byId.get(r.Id);
            if (key === undefined) continue;
            const newest = newestOf(r.Timestamps ?? [], r.Values ?? []);
            const prev = result.get(key);
            // Pages may split one query's datapoints: keep the newest across pages.
            if (newest && (!prev || newest.timestamp > prev.timestamp)) result.set(key, newest);
          }
        }
      }),
    );
    return result;
  }
}

function toMetricDataQuery(id: string, metric: LagMetric): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: metric.namespace,
        MetricName: metric.metricName,
        Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: metric.periodSeconds,
      Stat: metric.statistic,
    },
    ReturnData: true,
  };
}

/**
 * TimestampDescending puts the newest first, but a result with PartialData/InternalError status
 * is still usable for the points it has, so pick the maximum timestamp rather than trust order.
 */
function newestOf(timestamps: readonly Date[], values: readonly number[]): LagSample | undefined {
  let best: LagSample | undefined;
  timestamps.forEach((ts, i) => {
    const value = values[i];
    if (value === undefined || !Number.isFinite(value)) return;
    const t = ts.getTime();
    if (!best || t > best.timestamp) best = { lagSeconds: value, timestamp: t };
  });
  return best;
}
