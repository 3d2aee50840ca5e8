/**
 * CloudWatch metrics in the embedded metric format (EMF): buffered during an invocation and
 * written to stdout as JSON on `flush()`. CloudWatch Logs extracts them; no PutMetricData call,
 * so no latency, no throttling and no IAM permission in the failover path.
 */

import { METRICS_NAMESPACE } from '../contract/metrics.ts';
import type { MetricsPort } from '../domain/ports.ts';

export { METRICS_NAMESPACE };

type Unit = 'Count' | 'Milliseconds' | 'Seconds';

/** EMF limits: 100 metrics per document, 100 values per metric, 30 dimensions per set. */
const MAX_METRICS_PER_DOC = 100;
const MAX_VALUES_PER_METRIC = 100;
const MAX_DIMENSIONS = 30;

export interface EmfMetricsOptions {
  /** @default 'FailoverAutomation' */
  readonly namespace?: string;
  /** Where each EMF document goes (one JSON line). @default process.stdout */
  readonly write?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /** Dimensions added to every metric (e.g. the function name). @default {} */
  readonly defaultDimensions?: Record<string, string>;
}

interface Group {
  readonly dimensions: Record<string, string>;
  readonly metrics: Map<string, { unit: Unit; values: number[] }>;
}

export class EmfMetrics implements MetricsPort {
  private readonly namespace: string;
  private readonly write: (line: string) => void;
  private readonly now: () => number;
  private readonly defaults: Record<string, string>;
  /** One group per distinct dimension set: EMF documents share dimensions across their metrics. */
  private groups = new Map<string, Group>();

  constructor(options: EmfMetricsOptions = {}) {
    this.namespace = options.namespace ?? METRICS_NAMESPACE;
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
    this.defaults = options.defaultDimensions ?? {};
  }

  add(name: string, value: number, unit: Unit, dimensions: Record<string, string> = {}): void {
    if (!Number.isFinite(value)) return; // CloudWatch rejects NaN and Infinity
    const dims = { ...this.defaults, ...dimensions };
    if (Object.keys(dims).length > MAX_DIMENSIONS) {
      throw new Error(
        `metric ${name} has ${Object.keys(dims).length} dimensions, more than ${MAX_DIMENSIONS}`,
      );
    }
    const key = JSON.stringify(Object.entries(dims).sort(([a], [b]) => (a < b ? -1 : 1)));
    let group = this.groups.get(key);
    if (!group) {
      group = { dimensions: dims, metrics: new Map() };
      this.groups.set(key, group);
    }
    const metric = group.metrics.get(name) ?? { unit, values: [] };
    metric.values.push(value);
    group.metrics.set(name, metric);
  }

  flush(): void {
    const groups = this.groups;
    this.groups = new Map();
    const timestamp = this.now();
    for (const group of groups.values()) {
      const entries = [...group.metrics.entries()].flatMap(([name, m]) =>
        chunk(m.values, MAX_VALUES_PER_METRIC).map((values) => ({ name, unit: m.unit, values })),
      );
      // A metric split into several chunks must go to different documents (one key per name).
      const docs: (typeof entries)[] = [];
      for (const entry of entries) {
        const doc = docs.find((d) => d.length < MAX_METRICS_PER_DOC && !d.some((e) => e.name === entry.name));
        if (doc) doc.push(entry);
        else docs.push([entry]);
      }
      for (const doc of docs) {
        const body: Record<string, unknown> = {
          _aws: {
            Timestamp: timestamp,
            CloudWatchMetrics: [
              {
                Namespace: this.namespace,
                Dimensions: [Object.keys(group.dimensions)],
                Metrics: doc.map((e) => ({ Name: e.name, Unit: e.unit })),
              },
            ],
          },
          ...group.dimensions,
        };
        for (const e of doc) body[e.name] = e.values.length === 1 ? e.values[0] : e.values;
        this.write(JSON.stringify(body));
      }
    }
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
