/**
 * The alarm on a probed node's `Healthy` metric (lambdas/contract/metrics.ts). HealthAlarms creates
 * it next to the other health signals; the props live here, with the probe's other alarms.
 */
import { Duration } from 'aws-cdk-lib';
import { type AlarmProps, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { PROBE_DIMENSIONS, PROBE_METRICS, PROBE_NAMESPACE } from '../lambdas/contract/metrics.ts';
import type { NodeConfig, ServiceConfig } from '../lambdas/domain/config.ts';
import { PROBE_HEALTH_DATAPOINTS, probeAlarmPeriodSeconds } from '../lambdas/domain/probe-config.ts';

export function probeMetric(
  service: ServiceConfig,
  node: NodeConfig,
  metricName: string,
  periodSeconds: number,
) {
  return new Metric({
    namespace: PROBE_NAMESPACE,
    metricName,
    dimensionsMap: { [PROBE_DIMENSIONS.service]: service.id, [PROBE_DIMENSIONS.node]: node.id },
    statistic: 'Minimum',
    period: Duration.seconds(periodSeconds),
  });
}

export function probeHealthAlarmProps(
  service: ServiceConfig,
  node: NodeConfig,
  alarmName: string,
  description: string,
): AlarmProps {
  if (!node.probe) {
    throw new Error(
      `services[${service.id}].nodes[${node.id}].health: type 'probe' needs a probe, got: none`,
    );
  }
  return {
    alarmName,
    alarmDescription: description,
    // Minimum: a period in which any sample failed is unhealthy. High resolution (10 s periods)
    // needs the probe's 1-second storage resolution.
    metric: probeMetric(service, node, PROBE_METRICS.healthy, probeAlarmPeriodSeconds(node.probe)),
    threshold: 1,
    comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: PROBE_HEALTH_DATAPOINTS,
    datapointsToAlarm: PROBE_HEALTH_DATAPOINTS,
    // A probe that cannot publish is no evidence of health; two periods, so one lost sample
    // never fails over a healthy primary.
    treatMissingData: TreatMissingData.BREACHING,
  };
}
