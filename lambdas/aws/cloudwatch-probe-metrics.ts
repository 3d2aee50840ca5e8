/**
 * Publishes the probe's samples as high-resolution metrics (StorageResolution 1, so 10-second
 * alarms can read them), names from lambdas/contract/metrics.ts. PutMetricData takes at most 1,000
 * datapoints per call; a sample of many nodes is sent in parallel chunks.
 */
import { type MetricDatum, PutMetricDataCommand, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import {
  PROBE_DIMENSIONS,
  PROBE_ERRORS_METRIC,
  PROBE_METRICS,
  PROBE_NAMESPACE,
} from '../contract/metrics.ts';
import type { ProbeDatapoint, ProbeMetricsPort } from '../probe/sampler.ts';
import { CloudWatchAdapter, type CloudWatchAdapterProps } from './adapter-props.ts';
import { rethrowAws } from './errors.ts';

export const DATAPOINTS_PER_CALL = 1000;

const UNITS: Record<ProbeDatapoint['metric'], StandardUnit> = {
  healthy: 'Count',
  writable: 'Count',
  replicationLagSeconds: 'Seconds',
  replicationLagBytes: 'Bytes',
};

export type CloudWatchProbeMetricsProps = CloudWatchAdapterProps;

export class CloudWatchProbeMetrics extends CloudWatchAdapter implements ProbeMetricsPort {
  async publish(
    datapoints: readonly ProbeDatapoint[],
    probeErrors: number,
    timestamp: number,
  ): Promise<void> {
    const data: MetricDatum[] = datapoints.map((d) => ({
      MetricName: PROBE_METRICS[d.metric],
      Dimensions: [
        { Name: PROBE_DIMENSIONS.service, Value: d.serviceId },
        { Name: PROBE_DIMENSIONS.node, Value: d.nodeId },
      ],
      Timestamp: new Date(d.timestamp),
      Value: d.value,
      Unit: UNITS[d.metric],
      StorageResolution: 1,
    }));
    data.push({
      MetricName: PROBE_ERRORS_METRIC,
      Timestamp: new Date(timestamp),
      Value: probeErrors,
      Unit: 'Count',
      StorageResolution: 1,
    });
    const chunks: MetricDatum[][] = [];
    for (let i = 0; i < data.length; i += DATAPOINTS_PER_CALL)
      chunks.push(data.slice(i, i + DATAPOINTS_PER_CALL));
    await Promise.all(
      chunks.map(async (MetricData) => {
        try {
          await this.client.send(new PutMetricDataCommand({ Namespace: PROBE_NAMESPACE, MetricData }));
        } catch (err) {
          rethrowAws('PutMetricData', err);
        }
      }),
    );
  }
}
