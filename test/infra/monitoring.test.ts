/**
 * AutomationMonitoring in the synthesized templates: the dashboards (what each shows, for every
 * service), the alarms on the automation (all to the topic), and resource counts at 200 services.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { STACK_OUTPUTS } from '../../lambdas/contract/stack-outputs.ts';
import { type FailoverConfig, healthAlarmName, parseConfig } from '../../lambdas/domain/config.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import {
  AutomationMonitoring,
  DASHBOARDS_PER_STACK,
  DEFAULT_ALARM_STACK_SHARDS,
  lagOverBudgetAlarmName,
  maxLagExpression,
  noHealthyReplicaAlarmName,
  noHealthyReplicaRule,
} from '../../lib/automation-monitoring.ts';
import { FailoverAutomation, STACK_RESOURCE_LIMIT } from '../../lib/failover-automation.ts';
import { healthShardOf } from '../../lib/health-alarms.ts';
import {
  generateConfig,
  type Json,
  resourcesOf,
  type Synthesized,
  sampleConfig,
  sampleStack,
  synth,
  synthShared,
} from './helpers.ts';

/** The dashboard body with CloudFormation's Fn::Join flattened (tokens become `{Ref}` placeholders). */
function dashboardBody(resource: Json): Json {
  const body = resource.Properties.DashboardBody;
  const text =
    typeof body === 'string'
      ? body
      : (body['Fn::Join'][1] as Json[])
          .map((p) => (typeof p === 'string' ? p : `{${p.Ref ?? p['Fn::GetAtt']?.join('.') ?? '?'}}`))
          .join('');
  return JSON.parse(text);
}

/** Every dashboard of the monitoring construct (all in nested stacks), by name. */
function dashboards(m: AutomationMonitoring): Map<string, Json> {
  const stacks = [m.overviewStack, ...m.dashboardStacks.values()];
  return new Map(
    stacks.flatMap((st) =>
      Object.values(resourcesOf(Template.fromStack(st), 'AWS::CloudWatch::Dashboard')).map(
        (d) => [d.Properties.DashboardName as string, dashboardBody(d)] as const,
      ),
    ),
  );
}

function monitoringTemplates(s: Synthesized): Template[] {
  return [...s.stack.monitoring.alarmStacks.values()].map((st) => Template.fromStack(st));
}

function serviceAlarms(s: Synthesized): Json[] {
  return monitoringTemplates(s).flatMap((t) => [
    ...Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')),
    ...Object.values(resourcesOf(t, 'AWS::CloudWatch::CompositeAlarm')),
  ]);
}

describe('AutomationMonitoring on the sample configuration', () => {
  // Read only: the worker's one synthesis of the sample (sampleStack in helpers.ts).
  const config = sampleConfig();
  const s = sampleStack();

  it('publishes the outputs the operator CLI reads, under fixed keys', () => {
    const outputs = s.template.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual(Object.values(STACK_OUTPUTS).sort());
    expect(outputs[STACK_OUTPUTS.tableName].Value).toEqual({
      Ref: expect.stringMatching(/^AutomationStateTable/),
    });
    expect(outputs[STACK_OUTPUTS.stateMachineArn].Value).toEqual({
      Ref: expect.stringMatching(/^WorkflowStateMachine/),
    });
    expect(outputs[STACK_OUTPUTS.topicArn].Value).toEqual({ Ref: expect.stringMatching(/^AutomationTopic/) });
    // A plain string: the overview lives in a nested stack, and a token would add an output there.
    expect(outputs[STACK_OUTPUTS.dashboardName].Value).toBe('Test-overview');
  });

  it('case W3: an execution stopped by hand (StopExecution: ABORTED, no rollback ran, the old primary may be left fenced) pages like a failed one', () => {
    const [, alarm] = Object.entries(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).find(([id]) =>
      id.startsWith('MonitoringFailedExecutions'),
    )!;
    const names = (alarm.Properties.Metrics as Json[]).flatMap((m) =>
      m.MetricStat ? [m.MetricStat.Metric.MetricName] : [],
    );
    expect(names).toContain('ExecutionsAborted');
    expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });

  it('alarms on failed, timed-out and aborted workflow executions, to the topic', () => {
    const mine = Object.entries(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).filter(([id]) =>
      id.startsWith('MonitoringFailedExecutions'),
    );
    expect(mine).toHaveLength(1);
    const [, alarm] = mine[0]!;
    expect(alarm.Properties).toMatchObject({
      AlarmActions: [{ Ref: expect.stringMatching(/^AutomationTopic/) }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    const metrics = alarm.Properties.Metrics as Json[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe(
      'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
    );
    const stats = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat);
    expect(stats.map((m) => m.Metric.MetricName).sort()).toEqual([
      'ExecutionsAborted',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    for (const m of stats) {
      expect(m.Metric.Namespace).toBe('AWS/States');
      expect(m.Metric.Dimensions).toEqual([
        { Name: 'StateMachineArn', Value: { Ref: expect.stringMatching(/^WorkflowStateMachine/) } },
      ]);
      expect(m.Stat).toBe('Sum');
    }
  });

  it('alarms when the zone shifter fails or a queued failover waits a minute, to the topic', () => {
    const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm');
    const errors = Object.entries(alarms).find(([id]) => id.startsWith('MonitoringZoneShiftErrorsAlarm'))![1];
    expect(errors.Properties).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^AutomationZoneShiftFunction/) } },
      ],
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: expect.stringMatching(/^AutomationTopic/) }],
    });
    const backlog = Object.entries(alarms).find(([id]) =>
      id.startsWith('MonitoringZoneShiftBacklogAlarm'),
    )![1];
    expect(backlog.Properties).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [expect.stringMatching(/^AutomationZoneShiftQueue/), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 60,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: expect.stringMatching(/^AutomationTopic/) }],
    });
  });

  it('builds on the automation alarms FailoverAutomation already has instead of duplicating them', () => {
    // The readiness check's own alarms are tested in test/infra/readiness.test.ts.
    const parentAlarms = Object.entries(resourcesOf(s.template, 'AWS::CloudWatch::Alarm'))
      .filter(([id]) => !id.startsWith('AutomationReadiness'))
      .map(([, a]) => a);
    // Dead-letter queue, failover Lambda errors (FailoverAutomation) + zone shift errors and
    // backlog, failed executions (monitoring).
    expect(parentAlarms).toHaveLength(5);
    // Lambda errors: the failover Lambda's (FailoverAutomation's alarm) and the zone shifter's.
    expect(parentAlarms.filter((a) => a.Properties.MetricName === 'Errors')).toHaveLength(2);
    expect(
      parentAlarms.filter((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible'),
    ).toHaveLength(1);
    expect(s.stack.monitoring.automationAlarms).toHaveLength(5);
    for (const a of parentAlarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AutomationTopic/) }]);
    }
  });

  it('gives every service a no-healthy-replica composite alarm over its node health alarms', () => {
    for (const service of config.services) {
      const alarm = serviceAlarms(s).find(
        (a) => a.Properties.AlarmName === noHealthyReplicaAlarmName(service),
      );
      expect(alarm?.Type).toBe('AWS::CloudWatch::CompositeAlarm');
      const [a, b] = service.nodes.map((n) => healthAlarmName(service, n));
      expect(alarm!.Properties.AlarmRule).toBe(`(NOT OK("${b}")) OR (NOT OK("${a}"))`);
      expect(alarm!.Properties.AlarmActions).toEqual([
        { Ref: expect.stringMatching(/AutomationTopic.*Ref$/) },
      ]);
    }
  });

  it('gives every service a lag-over-budget alarm: worst replica lag against its budget, missing lag breaching', () => {
    const orders = config.services.find((x) => x.id === 'orders-db')!;
    const alarm = serviceAlarms(s).find((a) => a.Properties.AlarmName === lagOverBudgetAlarmName(orders))!;
    expect(alarm.Properties).toMatchObject({
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: expect.stringMatching(/AutomationTopic.*Ref$/) }],
    });
    const metrics = alarm.Properties.Metrics as Json[];
    expect(metrics[0]).toMatchObject({ Expression: 'MAX([lag0, lag1])', ReturnData: true });
    expect(metrics.slice(1).map((m) => m.MetricStat)).toEqual(
      orders.nodes.map((n) => ({
        Metric: {
          Namespace: 'Custom/Postgres',
          MetricName: 'ReplicationLagSeconds',
          Dimensions: [{ Name: 'Node', Value: n.id }],
        },
        Period: 60,
        Stat: 'Maximum',
      })),
    );
    const git = config.services.find((x) => x.id === 'git-server')!;
    expect(
      serviceAlarms(s).find((a) => a.Properties.AlarmName === lagOverBudgetAlarmName(git))!.Properties
        .Threshold,
    ).toBe(60);
  });

  it('creates each shard stack after the health stacks whose alarms its composite alarms name', () => {
    const nestedStacks = resourcesOf(s.template, 'AWS::CloudFormation::Stack') as Record<string, Json>;
    const monitoring = Object.entries(nestedStacks).filter(([id]) => id.startsWith('MonitoringAlarms'));
    const health = Object.keys(nestedStacks).filter((id) => id.startsWith('AutomationHealth'));
    expect(monitoring.length).toBe(s.stack.monitoring.alarmStacks.size);
    expect(health.length).toBeGreaterThan(0);
    for (const [, stack] of monitoring) expect(stack.DependsOn).toEqual(expect.arrayContaining(health));
  });

  it('shows each service on a dashboard: nodes and policy, alarm states, lag against the budget, role changes', () => {
    const boards = dashboards(s.stack.monitoring);
    expect([...boards.keys()].sort()).toEqual(['Test-overview', 'Test-services-1']);
    const widgets = boards.get('Test-services-1').widgets as Json[];
    for (const service of config.services) {
      const text = widgets.find(
        (w) => w.type === 'text' && w.properties.markdown.startsWith(`### ${service.id}`),
      );
      expect(text.properties.markdown).toContain(`**Nodes:** ${service.initialPrimary} (initial primary)`);
      expect(text.properties.markdown).toContain(`npx failover status ${service.id}`);

      const status = widgets.find(
        (w) => w.type === 'alarm' && w.properties.title.startsWith(`${service.id}:`),
      );
      const names = (status.properties.alarms as string[]).map((arn) => arn.split(':alarm:')[1]);
      expect(names).toEqual([
        noHealthyReplicaAlarmName(service),
        lagOverBudgetAlarmName(service),
        ...service.nodes.map((n) => healthAlarmName(service, n)),
      ]);

      const lag = widgets.find(
        (w) =>
          w.properties.title === `${service.id}: replication lag vs ${service.policy.maxLagSeconds} s budget`,
      );
      expect(lag.properties.annotations.horizontal).toEqual([
        expect.objectContaining({
          value: service.policy.maxLagSeconds,
          label: expect.stringContaining('budget'),
        }),
      ]);
      expect(lag.properties.metrics).toHaveLength(service.nodes.length);

      const changes = widgets.find(
        (w) => w.properties.title === `${service.id}: role changes and holds in range`,
      );
      expect(changes.properties.setPeriodToTimeRange).toBe(true);
      const metricNames = (changes.properties.metrics as Json[]).map((m) =>
        m[0]?.expression ? 'expression' : m[1],
      );
      expect(metricNames).toEqual(['FailoverCompleted', 'Switchover', 'OperatorFailover', 'expression']);
      for (const m of (changes.properties.metrics as Json[]).slice(0, 3)) {
        expect(m).toEqual(expect.arrayContaining(['FailoverAutomation', 'serviceId', service.id]));
      }
      expect(JSON.stringify(changes.properties.metrics)).toContain(
        `action=\\"hold\\" serviceId=\\"${service.id}\\"`,
      );
    }
  });

  it('shows the automation on the overview: its alarms, Lambda, DLQ, executions, role changes, primary per service', () => {
    const widgets = dashboards(s.stack.monitoring).get('Test-overview').widgets as Json[];
    const titles = widgets.map((w) => w.properties.title).filter(Boolean);
    expect(titles).toEqual([
      'The automation itself',
      'Services needing attention (1): alarms in ALARM',
      'Failover Lambda: invocations, errors, throttles',
      'Zone shift: queued failovers (Route 53 throttled) and the shifter',
      'Dead-letter queue: events and invocations that failed every retry',
      'Workflow executions (switchover, operator failover)',
      'Role changes and held failovers, all services (per hour)',
      'Automatic failover: detection and total time (max, ms)',
      'Primary per service: the last role change in range (failover status shows the live state)',
      'Automatic failover decisions (newest first)',
    ]);
    const attention = widgets.find((w) => w.properties.title?.startsWith('Services needing attention'));
    expect(attention.properties.states).toEqual(['ALARM']);
    expect(attention.properties.alarms).toHaveLength(config.services.length * 2);
    const primary = widgets.find((w) => w.properties.title?.startsWith('Primary per service'));
    expect(primary.type).toBe('log');
    // Every writer of role changes: the failover Lambda, the zone shifter, the workflow step Lambda.
    expect(primary.properties.query).toMatch(
      /^SOURCE '\{reference\w*AutomationFailoverFunctionLogs\w+\}' \| SOURCE '\{reference\w*AutomationZoneShiftFunctionLogs\w+\}' \| SOURCE '\{reference\w*AutomationWorkflowFunctionLogs\w+\}'/,
    );
    expect(primary.properties.query).toContain(
      "filter message = 'failed over' or message = 'role change committed'",
    );
    expect(primary.properties.query).toContain('stats latest(to) as primary, max(epoch) as epoch');
  });

  it('passes cdk-nag AwsSolutions', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack.monitoring);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('AutomationMonitoring at scale', () => {
  it.each([
    ['200 services, 2 nodes, Route 53 health checks', generateConfig(200, 'route53-health-check', 2)],
    ['200 services, 3 nodes, mixed signals', generateConfig(200, 'mixed', 3)],
  ])(
    '%s: one of each per-service alarm, every stack under 500 resources',
    (_name, config) => {
      const s = synthShared(config); // the same two fleets as scale.test.ts
      const parent = Object.keys(s.template.toJSON().Resources).length;
      const shards = monitoringTemplates(s).map((t) => Object.keys(t.toJSON().Resources).length);
      console.log(
        `[monitoring] ${config.services.length} services: parent ${parent} resources, alarm shards ${shards.join(' ')}, ` +
          `${s.stack.monitoring.serviceDashboards.length} service dashboards`,
      );
      expect(parent).toBeLessThan(STACK_RESOURCE_LIMIT);
      for (const n of shards) expect(n).toBeLessThan(STACK_RESOURCE_LIMIT);
      expect(shards.reduce((a, b) => a + b, 0)).toBe(config.services.length * 2);
      const names = serviceAlarms(s)
        .map((a) => a.Properties.AlarmName)
        .sort();
      expect(names).toEqual(
        config.services
          .flatMap((svc) => [noHealthyReplicaAlarmName(svc), lagOverBudgetAlarmName(svc)])
          .sort(),
      );
      // Every service appears on exactly one service dashboard, at most 100 widgets per dashboard.
      const boards = dashboards(s.stack.monitoring);
      const rows = [...boards.entries()]
        .filter(([n]) => n.includes('-services-'))
        .flatMap(([, b]) => {
          expect(b.widgets.length).toBeLessThanOrEqual(100);
          return (b.widgets as Json[])
            .filter((w) => w.type === 'text' && w.properties.markdown.startsWith('### '))
            .map((w) => w.properties.markdown.split('\n')[0].slice(4));
        });
      expect(rows).toEqual(config.services.map((svc) => svc.id));
      // The overview shows every per-service alarm, 100 per widget.
      const attention = (boards.get('Test-overview').widgets as Json[]).filter((w) =>
        w.properties.title?.startsWith('Services needing attention'),
      );
      expect(attention.map((w) => w.properties.alarms.length)).toEqual([100, 100, 100, 100]);
      // Dashboards live in nested stacks, none in the parent; each body far below the template limit.
      s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
      const m = s.stack.monitoring;
      for (const st of [m.overviewStack, ...m.dashboardStacks.values()]) {
        for (const d of Object.values(resourcesOf(Template.fromStack(st), 'AWS::CloudWatch::Dashboard'))) {
          expect(JSON.stringify(d.Properties.DashboardBody).length).toBeLessThan(200_000);
        }
      }
    },
    120_000,
  );

  it('keeps dashboard n in dashboard stack n / DASHBOARDS_PER_STACK as services are added', () => {
    const home = (n: number) => {
      const m = synth(generateConfig(n, 'alarm')).stack.monitoring;
      return new Map(
        [...m.dashboardStacks].flatMap(([k, st]) =>
          Object.values(resourcesOf(Template.fromStack(st), 'AWS::CloudWatch::Dashboard')).map(
            (d) => [d.Properties.DashboardName as string, k] as const,
          ),
        ),
      );
    };
    const before = home(90);
    const after = home(150);
    expect(before.size).toBe(5);
    expect(after.size).toBe(8);
    for (const [name, k] of before) expect(after.get(name)).toBe(k);
    for (const [name, k] of after) {
      expect(k).toBe(Math.floor((Number(name.split('-').pop()) - 1) / DASHBOARDS_PER_STACK));
    }
  });

  it('places a service in the same shard whatever else is configured (stable hash of its id)', () => {
    const small = synth(testConfig([route53Service({ id: 'orders', index: 0 })]));
    const big = synth(
      testConfig(
        Array.from({ length: 20 }, (_, i) => route53Service({ id: i ? `s${i}` : 'orders', index: i })),
      ),
    );
    const shardOf = (x: Synthesized) =>
      [...x.stack.monitoring.alarmStacks].find(([, st]) =>
        JSON.stringify(Template.fromStack(st).toJSON()).includes('failover-orders-no-healthy-replica'),
      )?.[0];
    expect(shardOf(small)).toBe(healthShardOf('orders', DEFAULT_ALARM_STACK_SHARDS));
    expect(shardOf(big)).toBe(shardOf(small));
  });
});

describe('AutomationMonitoring validation and rules', () => {
  const automation = (config: FailoverConfig) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    return { stack, automation: new FailoverAutomation(stack, 'Automation', { config }) };
  };

  it.each([
    [{ alarmStackShards: 0 }, /alarmStackShards must be an integer between 1 and 64, got: 0/],
    [{ alarmStackShards: 2.5 }, /alarmStackShards must be an integer between 1 and 64, got: 2.5/],
    [{ servicesPerDashboard: 0 }, /servicesPerDashboard must be an integer between 1 and 100, got: 0/],
    [{ dashboardNamePrefix: '' }, /dashboardNamePrefix must be 1-200 characters/],
  ])('rejects %j', (props, message) => {
    const { stack, automation: a } = automation(testConfig());
    expect(() => new AutomationMonitoring(stack, 'M', { automation: a, ...props })).toThrow(message);
  });

  it('works without a workflow: no executions alarm or widget', () => {
    const { stack, automation: a } = automation(testConfig());
    const m = new AutomationMonitoring(stack, 'M', { automation: a, dashboardNamePrefix: 'ops' });
    expect(m.failedExecutionsAlarm).toBeUndefined();
    expect(m.automationAlarms).toHaveLength(4);
    const boards = dashboards(m);
    expect([...boards.keys()].sort()).toEqual(['ops-overview', 'ops-services-1']);
    expect(JSON.stringify(boards.get('ops-overview'))).not.toContain('Workflow executions');
  });

  it.each([
    [2, 1, 2],
    [3, 2, 3],
    [4, 3, 4],
  ])(
    'a %i-node rule alarms when at most one node is OK (%i other nodes per term, %i terms)',
    (nodes, perTerm, terms) => {
      const service = testConfig([
        route53Service({ nodes: Array.from({ length: nodes }, (_, i) => `n${i}`) }),
      ]).services[0]!;
      const rule = noHealthyReplicaRule(service);
      const parts = rule.split(' OR ');
      expect(parts).toHaveLength(terms);
      for (const p of parts) expect(p.match(/NOT OK\(/g)).toHaveLength(perTerm);
      // Evaluate the rule on every combination of node states: ALARM iff fewer than two are OK.
      const names = service.nodes.map((n) => healthAlarmName(service, n));
      for (let mask = 0; mask < 1 << nodes; mask++) {
        const ok = new Set(names.filter((_, i) => mask & (1 << i)));
        const js = rule
          .replace(/NOT OK\("([^"]+)"\)/g, (_m, n) => String(!ok.has(n)))
          .replace(/ AND /g, ' && ')
          .replace(/ OR /g, ' || ');
        expect(Function(`return ${js}`)()).toBe(ok.size < 2);
      }
    },
  );

  it('refuses a rule CloudWatch would reject, naming the service', () => {
    const nodes = Array.from({ length: 14 }, (_, i) => ({
      id: `node-${i}`,
      address: `10.0.0.${i + 1}`,
      health: { type: 'alarm', alarmName: `a-rather-long-existing-health-alarm-name-for-node-${i}` },
      lag: { namespace: 'N', metricName: 'M' },
    }));
    const config = parseConfig({
      services: [
        {
          id: 'wide',
          initialPrimary: 'node-0',
          router: {
            type: 'route53',
            hostedZoneId: 'Z1',
            zoneName: 'example.com',
            recordName: 'wide.example.com',
            recordType: 'A',
          },
          nodes,
        },
      ],
    });
    expect(() => noHealthyReplicaRule(config.services[0]!)).toThrow(
      /services\[wide\]: the no-healthy-replica rule over 14 nodes is \d+ characters, over CloudWatch's 10240/,
    );
    const { stack, automation: a } = automation(config);
    expect(() => new AutomationMonitoring(stack, 'M', { automation: a })).toThrow(/over CloudWatch's 10240/);
  });

  it('refuses a lag alarm over more metrics than CloudWatch allows in one alarm', () => {
    const service = testConfig([route53Service({ nodes: Array.from({ length: 11 }, (_, i) => `n${i}`) })])
      .services[0]!;
    expect(() => maxLagExpression(service)).toThrow(
      'services[svc-0]: a lag alarm can combine at most 10 metrics (CloudWatch), got 11 nodes',
    );
  });

  it('uses the widest lag period, rounded up to whole minutes', () => {
    const config = parseConfig({
      services: [
        {
          ...route53Service({ id: 'slow' }),
          nodes: route53Service({ id: 'slow' }).nodes.map((n, i) => ({
            ...n,
            lag: { ...n.lag, periodSeconds: i === 0 ? 10 : 120 },
          })),
        },
      ],
    });
    const s = synth(config);
    const alarm = serviceAlarms(s).find((a) => a.Properties.AlarmName === 'failover-slow-lag-over-budget')!;
    const periods = (alarm.Properties.Metrics as Json[])
      .filter((m) => m.MetricStat)
      .map((m) => m.MetricStat.Period);
    expect(periods).toEqual([120, 120]);
  });
});
