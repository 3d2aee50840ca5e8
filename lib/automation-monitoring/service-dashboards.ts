/**
 * Per-service dashboards: one row per service (what it is, its alarm states, lag against the
 * budget, role changes), `servicesPerDashboard` services per dashboard in configuration order, and
 * the dashboards in nested stacks, a fixed number per stack. A service dashboard is ~2.8 KB of
 * template per service; in the parent, 1,000 services would be 2.8 MB of a 1 MB template.
 *
 * Dashboard n always lives in stack n / DASHBOARDS_PER_STACK, so adding services appends
 * dashboards and stacks and never moves a (named) dashboard from one stack to another.
 */
import { Duration, NestedStack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  AlarmStatusWidgetSortBy,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/contract/metrics.ts';
import { healthAlarmName, type ServiceConfig } from '../../lambdas/domain/config.ts';
import { serviceAlarmNames } from './service-alarms.ts';

/** 5 dashboards of 20 services: ~340 KB of template, a third of the 1 MB limit. */
export const DASHBOARDS_PER_STACK = 5;

export interface ServiceDashboards {
  readonly dashboards: Dashboard[];
  /** Nested stacks holding the dashboards, by number. */
  readonly stacks: Map<number, NestedStack>;
}

export function createServiceDashboards(
  scope: Construct,
  services: readonly ServiceConfig[],
  perDashboard: number,
  prefix: string,
): ServiceDashboards {
  const chunks: ServiceConfig[][] = [];
  for (let i = 0; i < services.length; i += perDashboard) chunks.push(services.slice(i, i + perDashboard));
  const stacks = new Map<number, NestedStack>();
  const dashboards = chunks.map((chunk, i) => {
    const k = Math.floor(i / DASHBOARDS_PER_STACK);
    let stack = stacks.get(k);
    if (!stack) {
      stack = new NestedStack(scope, `Dashboards${String(k).padStart(2, '0')}`, {
        description: `Failover automation: service dashboards ${k * DASHBOARDS_PER_STACK + 1}-${(k + 1) * DASHBOARDS_PER_STACK}`,
      });
      stacks.set(k, stack);
    }
    const first = i * perDashboard + 1;
    return new Dashboard(stack, `ServicesDashboard${i + 1}`, {
      dashboardName: `${prefix}-services-${i + 1}`,
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new TextWidget({
            markdown: `# Failover automation: services ${first}-${first + chunk.length - 1} of ${services.length}\nOne row per service. The live state (primary, epoch, lease, lag verdicts) is \`npx failover status <service>\`; the overview dashboard is **${prefix}-overview**.`,
            width: 24,
            height: 2,
          }),
        ],
        ...chunk.map((service) => serviceRow(stack, service)),
      ],
    });
  });
  return { dashboards, stacks };
}

/** Header, alarm state, health alarms, lag against the budget, role changes. */
function serviceRow(scope: Construct, service: ServiceConfig): IWidget[] {
  const nodes = service.nodes
    .map((n) => `${n.id}${n.id === service.initialPrimary ? ' (initial primary)' : ''}`)
    .join(', ');
  const p = service.policy;
  const text = new TextWidget({
    markdown: [
      `### ${service.id}`,
      service.description ?? '',
      `**Nodes:** ${nodes}`,
      `**Router:** ${routerText(service)}`,
      `**Policy:** lag <= ${p.maxLagSeconds} s (datapoint <= ${p.maxLagAgeSeconds} s old), cooldown ${p.cooldownSeconds} s, automatic failover ${p.autoFailover ? (p.dryRun ? 'dry run' : 'on') : 'off'}`,
      `Live: \`npx failover status ${service.id}\``,
    ]
      .filter((l) => l !== '')
      .join('\n\n'),
    width: 6,
    height: 6,
  });
  const status = new AlarmStatusWidget({
    title: `${service.id}: node health and automation alarms`,
    alarms: [...serviceAlarmNames(service), ...service.nodes.map((n) => healthAlarmName(service, n))].map(
      (name) => importAlarm(scope, name),
    ),
    sortBy: AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
    width: 6,
    height: 6,
  });
  const lag = new GraphWidget({
    title: `${service.id}: replication lag vs ${p.maxLagSeconds} s budget`,
    left: service.nodes.map(
      (n) =>
        new Metric({
          namespace: n.lag.namespace,
          metricName: n.lag.metricName,
          dimensionsMap: n.lag.dimensions,
          statistic: n.lag.statistic,
          period: Duration.seconds(Math.max(60, n.lag.periodSeconds)),
          label: `${n.id} lag (s)`,
        }),
    ),
    leftAnnotations: [
      { value: p.maxLagSeconds, label: 'budget: automatic failover refused above', color: '#d62728' },
    ],
    leftYAxis: { min: 0, label: 'seconds', showUnits: false },
    width: 6,
    height: 6,
  });
  const dims = { serviceId: service.id };
  const count = (metricName: string, label: string) =>
    new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: dims, statistic: 'Sum', label });
  const changes = new SingleValueWidget({
    title: `${service.id}: role changes and holds in range`,
    metrics: [
      count('FailoverCompleted', 'automatic failovers'),
      count('Switchover', 'switchovers'),
      count('OperatorFailover', 'operator failovers'),
      new MathExpression({
        expression: `SUM(SEARCH('{${METRICS_NAMESPACE},action,reason,serviceId} MetricName="FailoverDecision" action="hold" serviceId="${service.id}"', 'Sum', 300))`,
        label: 'held failover decisions',
      }),
    ],
    setPeriodToTimeRange: true,
    width: 6,
    height: 6,
  });
  return [text, status, lag, changes];
}

/**
 * An alarm by name, once per scope. By name, not by reference: a reference into another nested
 * stack would add an output and a parameter per alarm (200 of each at most).
 */
export function importAlarm(scope: Construct, name: string): IAlarm {
  const id = `Ref-${name.replace(/\//g, '_')}`;
  const existing = scope.node.tryFindChild(id) as IAlarm | undefined;
  return existing ?? Alarm.fromAlarmName(scope, id, name);
}

function routerText(service: ServiceConfig): string {
  const r = service.router;
  switch (r.type) {
    case 'route53':
      return `Route 53 ${r.recordName} ${r.recordType}, TTL ${r.ttlSeconds} s`;
    case 'elbv2-target':
      return `ELB target group ${r.targetGroupArn.split(':').pop()}`;
    case 'elbv2-weighted':
      return `ELB listener weights ${r.listenerArn.split(':').pop()}`;
  }
}
