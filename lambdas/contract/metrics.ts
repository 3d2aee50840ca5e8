/**
 * Names shared by the Lambdas (which publish) and the CDK constructs (which alarm and graph):
 * one place, so a SEARCH expression or an alarm never drifts from what the code emits.
 */

/** Namespace of the automation's own metrics (decisions, timings, errors), embedded metric format. */
export const METRICS_NAMESPACE = 'FailoverAutomation';

/** Namespace of the node probe's high-resolution metrics (storage resolution 1 s). */
export const PROBE_NAMESPACE = 'FailoverAutomation/Probe';

/** Probe metric names, per node, dimensions `ServiceId` and `NodeId`. */
export const PROBE_METRICS = {
  /** 1 when the node answered its check within the timeout, else 0. */
  healthy: 'Healthy',
  /** 1 when the node accepts writes (not in recovery / not read-only), else 0. */
  writable: 'Writable',
  replicationLagSeconds: 'ReplicationLagSeconds',
  replicationLagBytes: 'ReplicationLagBytes',
} as const;

/** Problems of the probe itself (a secret without its fields), no dimensions: alarmed at >= 1. */
export const PROBE_ERRORS_METRIC = 'ProbeErrors';

export const PROBE_DIMENSIONS = { service: 'ServiceId', node: 'NodeId' } as const;
