/**
 * The drill against real AWS APIs (moto_server): the same scenarios and driver, every port the
 * project's AWS adapter, the simulated world writing to AWS the way the real one does (alarm
 * states with SetAlarmState, lag with PutMetricData). The outcomes must match the simulation's,
 * and what the drill reports is read back from moto directly, not through the code under test.
 * Also runs `npm run drill` itself with AWS_ENDPOINT_URL set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DrillReport, outcomeOf, runDrill } from '../../drill/run.ts';
import type { ScenarioOutcome } from '../../drill/scenario.ts';
import { SCENARIOS } from '../../drill/scenarios/index.ts';
import { awsEnvironment } from '../../drill/sim/aws-backend.ts';
import { PROJECT_ROOT } from '../../drill/sim/stack.ts';
import { dummyCredentials, useMoto } from '../support/moto.ts';

const moto = useMoto();
const RUN_ID = 'drill-wire';
let report: DrillReport;

beforeAll(async () => {
  report = await runDrill({
    scenarios: SCENARIOS,
    environment: awsEnvironment({
      endpoint: moto.current.endpoint,
      credentials: dummyCredentials,
      runId: RUN_ID,
    }),
  });
}, 240_000);

const outcome = (name: string) => outcomeOf(report, name);

const holds = (o: ScenarioOutcome) =>
  o.invocations.filter((i) => i.result?.outcome === 'held').map((i) => i.result?.reason);

describe('drill on moto_server (--endpoint-url)', () => {
  it('passes every scenario with the same outcomes as the simulation', () => {
    expect(report.mode).toBe('endpoint');
    for (const s of report.scenarios)
      expect(
        s.checks.filter((c) => !c.ok),
        s.name,
      ).toEqual([]);
    const summary = Object.fromEntries(
      report.scenarios.map((s) => [s.name, `${s.primary}@${s.epoch} -> ${s.traffic}`]),
    );
    expect(summary).toEqual({
      'primary-crash': 'db-b@1 -> db-b',
      'replica-lagging': 'db-a@0 -> db-a',
      'flapping-primary': 'db-b@1 -> db-b',
      'duplicate-and-stale-events': 'db-b@1 -> db-b',
      'planned-failback': 'db-a@2 -> db-a',
      'forced-failover': 'db-b@1 -> db-b',
      'several-replicas': 'git-3@1 -> git-3',
      'primary-returns': 'db-b@1 -> db-b',
      'promote-fails': 'db-c@1 -> db-c',
    });
    expect(holds(outcome('replica-lagging'))).toContain('lag-over-budget');
    expect(holds(outcome('flapping-primary'))).toContain('cooldown');
    expect(outcome('forced-failover').history[0]).toMatchObject({ forced: true, lagSeconds: 45 });
    expect(outcome('several-replicas').history[0]).toMatchObject({ to: 'git-3', lagSeconds: 1.5 });
  });

  it('left in DynamoDB exactly the epochs and history it reports', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(moto.current.clientConfig));
    const items = async (serviceId: string) =>
      (
        await doc.send(
          new QueryCommand({
            TableName: `${RUN_ID}-state`,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `service#${serviceId}` },
          }),
        )
      ).Items ?? [];
    const dup = await items('inventory-db');
    expect(dup.map((i) => i.sk).sort()).toEqual(['history#0000000001', 'state']);
    expect(dup.find((i) => i.sk === 'state')).toMatchObject({ primary: 'db-b', epoch: 1 });
    const failback = await items('payments-db');
    expect(failback.find((i) => i.sk === 'state')).toMatchObject({ primary: 'db-a', epoch: 2 });
    expect(failback.find((i) => i.sk === 'state')?.lease).toBeUndefined();
    expect(await items('billing-db')).toEqual([]);
  });

  it('moved the Route 53 records it says it moved, and only those', async () => {
    const route53 = new Route53Client(moto.current.clientConfig);
    const zones = await route53.send(new ListHostedZonesByNameCommand({ DNSName: `${RUN_ID}.example.com` }));
    const zoneId = zones.HostedZones?.[0]?.Id?.replace('/hostedzone/', '');
    const records = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    const value = (name: string) =>
      records.ResourceRecordSets?.find((r) => r.Name === `${name}.${RUN_ID}.example.com.` && r.Type === 'A')
        ?.ResourceRecords?.[0]?.Value;
    expect(value('db')).toBe('10.0.2.10'); // orders-db on db-b
    expect(value('billing')).toBe('10.0.1.20'); // never moved
    expect(value('payments')).toBe('10.0.1.50'); // failed back to db-a
    expect(value('ledger')).toBe('10.0.2.60'); // forced to db-b
  });

  it('drove CloudWatch like the real world: SetAlarmState on the alarms, PutMetricData for the lag', async () => {
    const cw = new CloudWatchClient(moto.current.clientConfig);
    const alarms = await cw.send(
      new DescribeAlarmsCommand({
        AlarmNames: ['failover-orders-db-db-a-health', 'failover-orders-db-db-b-health'],
      }),
    );
    const state = Object.fromEntries((alarms.MetricAlarms ?? []).map((a) => [a.AlarmName, a.StateValue]));
    expect(state).toEqual({
      'failover-orders-db-db-a-health': 'ALARM',
      'failover-orders-db-db-b-health': 'OK',
    });
    const reason = alarms.MetricAlarms?.find(
      (a) => a.AlarmName === 'failover-orders-db-db-a-health',
    )?.StateReason;
    expect(reason).toMatch(/^Threshold Crossed: 3 out of the last 3 datapoints/);

    const stats = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Drill/Replication',
        MetricName: 'ReplicationLagSeconds',
        Dimensions: [
          { Name: 'Service', Value: 'billing-db' },
          { Name: 'Node', Value: 'db-b' },
          { Name: 'Run', Value: RUN_ID },
        ],
        StartTime: new Date(Date.now() - 3 * 3600_000),
        EndTime: new Date(Date.now()),
        Period: 10,
        Statistics: ['Maximum'],
      }),
    );
    const values = (stats.Datapoints ?? []).map((d) => d.Maximum);
    // The replica's lag ramped from 1 s to 45 s: both ends were published.
    expect(values).toContain(1);
    expect(values).toContain(45);
  });

  it('reports measured API latency, not the model', () => {
    expect(report.model['API latency']).toMatch(/measured/);
    const r = outcome('primary-crash').recovery!;
    // Against a local endpoint the calls take milliseconds, not the modelled 380 ms of Route 53.
    expect(r.phases.find((p) => p.name === 'traffic shift')!.ms).toBeLessThan(380);
  });
});

describe('npm run drill with AWS_ENDPOINT_URL', () => {
  it('runs a scenario against the endpoint and writes both reports', () => {
    const out = mkdtempSync(join(tmpdir(), 'drill-wire-'));
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const run = spawnSync(
      process.execPath,
      [tsx, 'drill/main.ts', 'primary-crash', '--quiet', '--out', out],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...moto.current.env, NO_COLOR: '1' },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`running against the AWS APIs at ${moto.current.endpoint}`);
    expect(run.stdout).toMatch(/PASS {2}primary-crash/);
    expect(existsSync(join(out, 'drill-primary-crash.html'))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'drill-primary-crash.json'), 'utf8'));
    expect(json).toMatchObject({ mode: 'endpoint', endpoint: moto.current.endpoint, passed: true });
    expect(json.scenarios[0].outcome).toMatchObject({ primary: 'db-b', epoch: 1, traffic: 'db-b' });
  });
});
