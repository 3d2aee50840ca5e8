/**
 * `failover cost`: the resources the model counts are the resources the stack synthesizes (the
 * sample, the AWS-signals example and a generated fleet that exercises every branch: two
 * placements, more than 25 services in one, mixed probe kinds and intervals, HTTPS and fast
 * health checks, existing alarms), and the prices are applied as docs/cost.md states them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ASSUMPTIONS,
  monthlyCost,
  PRICES,
  type StackResources,
  stackResources,
} from '../../cli/cost.ts';
import { type FailoverConfig, parseConfig } from '../../lambdas/domain/config.ts';
import { readConfigFile } from '../../lambdas/runtime/config.ts';
import { type Json, synth } from '../infra/helpers.ts';
import { cliHarness, PROJECT_ROOT } from './helpers.ts';

const SAMPLE = join(PROJECT_ROOT, 'config', 'failover.json');
const AWS_SIGNALS = join(PROJECT_ROOT, 'config', 'examples', 'aws-signals.json');

/** What the synthesized templates (parent and every nested stack) bill for. */
interface TemplateCounts {
  healthChecks: string[];
  alarms: string[];
  compositeAlarms: number;
  dashboards: number;
  logQueryWidgets: number;
  kmsKeys: number;
  pitrTables: number;
  probeFunctions: number;
  probeSchedules: string[][];
}

function templateCounts(config: FailoverConfig): TemplateCounts {
  const { app } = synth(config);
  const dir = app.synth().directory;
  const counts: TemplateCounts = {
    healthChecks: [],
    alarms: [],
    compositeAlarms: 0,
    dashboards: 0,
    logQueryWidgets: 0,
    kmsKeys: 0,
    pitrTables: 0,
    probeFunctions: 0,
    probeSchedules: [],
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json;
    for (const resource of Object.values(template.Resources ?? {}) as Json[]) {
      const p = resource.Properties ?? {};
      switch (resource.Type) {
        case 'AWS::Route53::HealthCheck': {
          const c = p.HealthCheckConfig;
          const features = [
            ...(c.Type === 'HTTPS' ? ['https'] : []),
            ...(c.RequestInterval === 10 ? ['fast-interval'] : []),
          ];
          counts.healthChecks.push(features.join('+'));
          break;
        }
        case 'AWS::CloudWatch::Alarm': {
          const stats = (p.Metrics ?? []).filter((m: Json) => m.MetricStat);
          const metrics = p.Metrics ? stats.length : 1;
          const period = p.Period ?? Math.max(...stats.map((m: Json) => m.MetricStat.Period));
          counts.alarms.push(`${metrics}x${period}`);
          break;
        }
        case 'AWS::CloudWatch::CompositeAlarm':
          counts.compositeAlarms++;
          break;
        case 'AWS::CloudWatch::Dashboard':
          counts.dashboards++;
          counts.logQueryWidgets += JSON.stringify(p.DashboardBody).split('\\"type\\":\\"log\\"').length - 1;
          break;
        case 'AWS::KMS::Key':
          counts.kmsKeys++;
          break;
        case 'AWS::DynamoDB::Table':
          if (p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled) counts.pitrTables++;
          break;
        case 'AWS::Lambda::Function':
          if (p.VpcConfig) counts.probeFunctions++;
          break;
        case 'AWS::Events::Rule':
          // A probe schedule rule carries up to 5 targets, one invocation (and its services) each.
          if (p.ScheduleExpression === 'rate(1 minute)') {
            for (const target of p.Targets) counts.probeSchedules.push(JSON.parse(target.Input).serviceIds);
          }
          break;
      }
    }
  }
  return counts;
}

function modelCounts(r: StackResources): TemplateCounts {
  return {
    healthChecks: r.healthChecks.map((h) => h.features.join('+')),
    alarms: r.alarms.map((a) => `${a.metrics}x${a.periodSeconds}`),
    compositeAlarms: r.compositeAlarms.length,
    dashboards: r.dashboards.length,
    logQueryWidgets: r.logQueryWidgets,
    kmsKeys: r.kmsKeys,
    pitrTables: r.pitrTables.length,
    probeFunctions: r.probeFunctions,
    probeSchedules: r.probeSchedules.map((s) => [...s.serviceIds]),
  };
}

const sorted = (c: TemplateCounts) => ({
  ...c,
  healthChecks: [...c.healthChecks].sort(),
  alarms: [...c.alarms].sort(),
  probeSchedules: c.probeSchedules.map((s) => s.join(',')).sort(),
});

/** 27 PostgreSQL services in one placement (two schedules), a tcp + http pair at 30 s in another, r53 and tg signals. */
function fleet(): FailoverConfig {
  const lag = (id: string) => ({
    namespace: 'Custom/Lag',
    metricName: 'LagSeconds',
    dimensions: { Node: id },
  });
  const pg = Array.from({ length: 27 }, (_, i) => ({
    id: `pg-${i}`,
    initialPrimary: 'a',
    router: {
      type: 'route53',
      hostedZoneId: 'Z0123456789EXAMPLE',
      zoneName: 'example.com',
      recordName: `pg-${i}.example.com`,
      recordType: 'A',
    },
    probe: {
      kind: 'postgres',
      port: 5432,
      secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:pg-probe-AbCdEf',
      subnets: ['subnet-0123456789abcdef0'],
      securityGroups: ['sg-0123456789abcdef0'],
    },
    nodes: ['a', 'b', 'c'].map((n, j) => ({
      id: n,
      address: `10.1.${i}.${j + 1}`,
      probe: { host: `10.1.${i}.${j + 1}` },
    })),
  }));
  const mixed = {
    id: 'appliance',
    initialPrimary: 'x',
    router: {
      type: 'route53',
      hostedZoneId: 'Z0123456789EXAMPLE',
      zoneName: 'example.com',
      recordName: 'appliance.example.com',
      recordType: 'A',
    },
    nodes: [
      {
        id: 'x',
        address: '10.2.0.1',
        probe: {
          kind: 'tcp',
          host: '10.2.0.1',
          port: 22,
          intervalSeconds: 30,
          subnets: ['subnet-0fedcba9876543210'],
          securityGroups: ['sg-0fedcba9876543210'],
        },
        lag: lag('x'),
      },
      {
        id: 'y',
        address: '10.2.0.2',
        probe: {
          kind: 'http',
          host: '10.2.0.2',
          protocol: 'https',
          port: 8443,
          path: '/status',
          lagPointer: '/lag',
          intervalSeconds: 30,
          subnets: ['subnet-0fedcba9876543210'],
          securityGroups: ['sg-0fedcba9876543210'],
        },
      },
    ],
  };
  const signals = {
    id: 'signals',
    initialPrimary: 'r',
    router: {
      type: 'route53',
      hostedZoneId: 'Z0123456789EXAMPLE',
      zoneName: 'example.com',
      recordName: 'signals.example.com',
      recordType: 'A',
    },
    nodes: [
      {
        id: 'r',
        address: '10.3.0.1',
        health: {
          type: 'route53-health-check',
          protocol: 'HTTPS',
          host: 'r.example.com',
          port: 443,
          path: '/',
        },
        lag: lag('r'),
      },
      {
        id: 's',
        address: '203.0.113.2',
        health: {
          type: 'route53-health-check',
          protocol: 'TCP',
          host: '203.0.113.2',
          port: 5432,
          requestIntervalSeconds: 30,
        },
        lag: lag('s'),
      },
      {
        id: 't',
        address: '10.3.0.3',
        health: { type: 'alarm', alarmName: 'existing-t-health' },
        lag: lag('t'),
      },
    ],
  };
  return parseConfig({ services: [...pg, mixed, signals] });
}

describe('failover cost: the resources counted are the resources synthesized', () => {
  it.each([
    ['config/failover.json (probes)', () => readConfigFile(SAMPLE)],
    ['config/examples/aws-signals.json', () => readConfigFile(AWS_SIGNALS)],
    ['a fleet: 2 placements, 29 services, every probe kind and signal type', fleet],
  ])(
    '%s',
    (_, load) => {
      const config = load();
      expect(sorted(modelCounts(stackResources(config)))).toEqual(sorted(templateCounts(config)));
    },
    120_000,
  );
});

describe('failover cost: pricing', () => {
  const sample = monthlyCost(readConfigFile(SAMPLE));

  it('prices the sample: every line is quantity x unit price, the total their sum', () => {
    for (const l of sample.lines) expect(l.monthly).toBeCloseTo(l.quantity * l.unitPrice, 10);
    expect(sample.monthlyTotal).toBeCloseTo(
      sample.lines.filter((l) => !l.yours).reduce((n, l) => n + l.monthly, 0),
      10,
    );
    expect(sample.lines.some((l) => l.yours)).toBe(false); // the sample's lag comes from its probes
  });

  it('prices the sample as docs/cost.md shows it', () => {
    const line = (prefix: string) => sample.lines.find((l) => l.item.startsWith(prefix));
    // 15 standard alarms; the lag-over-budget ones read 2 metrics each, failed executions 3
    // (failed, timed out, aborted).
    expect(line('standard-resolution alarms')).toMatchObject({
      quantity: 19,
      unitPrice: PRICES.alarmMetricStandard,
    });
    expect(line('high-resolution alarms')).toMatchObject({
      quantity: 8,
      unitPrice: PRICES.alarmMetricHighResolution,
    });
    expect(line('composite alarms')).toMatchObject({ quantity: 2, monthly: 1 });
    expect(line('dashboards')).toMatchObject({ quantity: 2, monthly: 6 });
    expect(line('KMS key')).toMatchObject({ quantity: 1, monthly: 1 });
    // Two placements, one schedule each: 2 x 43,800 minutes x 60 s x 0.25 GB.
    expect(line('Lambda duration')?.quantity).toBe(2 * 43_800 * 60 * 0.25);
    expect(line('Lambda duration')?.monthly).toBeCloseTo(17.52, 2);
    // 10 s probes: 6 samples a minute per schedule.
    expect(line('PutMetricData')?.quantity).toBeCloseTo((2 * 6 * 43_800) / 1000, 10);
    // db-a: Healthy, Writable; db-b: + lag seconds and bytes; git-1: Healthy, Writable; git-2: + lag seconds; ProbeErrors.
    expect(line('custom metrics')?.quantity).toBe(12);
    // Readiness every 5 min: 8,760 passes of 2 s + 1 Route 53 page at 256 MB, each requesting the
    // lag of the 4 nodes (GetMetricData bills per metric); one Ready metric per service + 2.
    const readiness = sample.lines.filter((l) => l.group === 'Readiness check');
    expect(readiness.map((l) => l.quantity)).toEqual([
      (43_800 / 5) * 3 * 0.25,
      43_800 / 5 / 1e6,
      ((43_800 / 5) * 4) / 1000,
      2 + 2,
    ]);
    expect(sample.monthlyTotal).toBeCloseTo(40.88, 2);
  });

  it('a disabled readiness check costs its alarms, not its usage', () => {
    const config = readConfigFile(SAMPLE);
    const off = monthlyCost({ ...config, readiness: { ...config.readiness, enabled: false } });
    expect(off.lines.filter((l) => l.group === 'Readiness check')).toEqual([]);
    expect(off.resources.alarms.length).toBe(sample.resources.alarms.length - 1); // no not-running alarm
  });

  it('health checks: the base price plus one feature each for HTTPS and the 10 s interval', () => {
    const model = monthlyCost(fleet());
    const checks = model.lines.find((l) => l.item.startsWith('health checks'));
    const features = model.lines.find((l) => l.item.startsWith('health check features'));
    expect(checks).toMatchObject({ quantity: 2, monthly: 2 * PRICES.route53HealthCheck });
    // r: HTTPS + fast (10 s default); s: TCP at 30 s.
    expect(features).toMatchObject({ quantity: 2, monthly: 2 * PRICES.route53HealthCheckFeature });
  });

  it('lag metrics the stack does not publish are yours: shown, not in the stack total', () => {
    const model = monthlyCost(readConfigFile(AWS_SIGNALS));
    const yours = model.lines.filter((l) => l.yours);
    expect(yours.map((l) => l.quantity)).toEqual([4, (4 * 6 * 43_800) / 1000]);
    expect(model.yoursTotal).toBeCloseTo(
      yours.reduce((n, l) => n + l.monthly, 0),
      10,
    );
    expect(model.monthlyTotal + model.yoursTotal).toBeCloseTo(
      model.lines.reduce((n, l) => n + l.monthly, 0),
      10,
    );
  });

  it('scales with the assumptions and the price list it is given', () => {
    const config = readConfigFile(SAMPLE);
    const doubled = monthlyCost(config, {
      prices: Object.fromEntries(Object.entries(PRICES).map(([k, v]) => [k, v * 2])) as typeof PRICES,
    });
    expect(doubled.monthlyTotal).toBeCloseTo(2 * sample.monthlyTotal, 10);
    const shortMonth = monthlyCost(config, {
      assumptions: { hoursPerMonth: DEFAULT_ASSUMPTIONS.hoursPerMonth / 2 },
    });
    const duration = (m: typeof sample) =>
      m.lines.find((l) => l.item.startsWith('Lambda duration'))?.monthly ?? 0;
    expect(duration(shortMonth)).toBeCloseTo(duration(sample) / 2, 10);
  });
});

describe('failover cost: the command', () => {
  it('prints the model for the configuration, offline, exit 0', async () => {
    const cli = cliHarness();
    const run = await cli.run('cost');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('total, the stack: $40.88 a month');
    expect(run.stdout).toMatch(/high-resolution alarms .* \$2\.40/);
    expect(cli.resolved).toEqual({ state: 0, notifier: 0, stateMachineArn: 0 });
  });

  it('--json: one document with the lines and the total', async () => {
    const run = await cliHarness().run('cost', '--json');
    expect(run.code).toBe(0);
    const doc = run.json();
    expect(doc).toMatchObject({ region: 'us-east-1', currency: 'USD', monthlyTotal: 40.88 });
    expect(doc.lines.length).toBe(sample().lines.length);
  });

  it('refuses an argument: exit 2', async () => {
    const run = await cliHarness().run('cost', 'orders-db');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unexpected argument: orders-db');
  });
});

function sample() {
  return monthlyCost(readConfigFile(SAMPLE));
}
