/**
 * The readiness check against moto_server, through the production composition roots: the
 * scheduled Lambda's (`awsReadinessDeps`, shared SDK clients on AWS_ENDPOINT_URL) and the CLI's
 * (`failover check` with --endpoint-url). A service with a record TTL other than the configured one,
 * a missing health alarm, stale lag or a terminated fence instance is not ready; the pass announces
 * it on the topic and its NotReadyServices datapoint puts the stack's alarm in ALARM; once fixed, the
 * service is ready again (announced, alarm OK).
 */
import { DeleteAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import { evaluate } from '../../drill/gameday/alarms.ts';
import type { AlarmDefinition } from '../../drill/gameday/synth.ts';
import { resetAwsClientsForTests } from '../../lambdas/aws/clients.ts';
import { type FailoverConfig, parseConfig } from '../../lambdas/domain/config.ts';
import { awsReadinessDeps, makeReadinessHandler } from '../../lambdas/handlers/readiness.ts';
import { JsonLogger } from '../../lambdas/runtime/logger.ts';
import { EmfMetrics } from '../../lambdas/runtime/metrics.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';
import { createAlarm, putLag, useMotoScene, withZoneId } from '../support/moto-scene.ts';
import { createRecord } from '../support/route53-records.ts';

// biome-ignore lint/suspicious/noExplicitAny: template and EMF JSON are walked structurally
type Json = any;

const base = route53Service({ id: 'pg' });
/** The suite's stack: the state and verdict tables' key schemas and the readiness alarm come from it. */
const suite = useMotoScene({ config: { services: [base] } });

const VERDICTS = 'ReadinessVerdicts';

async function world(options: { lagAgeSeconds?: number } = {}) {
  const now = Date.now();
  const config0 = parseConfig({ services: [base] });
  const [a, b] = config0.services[0]!.nodes;
  const s = await suite.scene({
    zone: { name: 'example.com', record: 'pg.example.com', value: a!.address!, ttlSeconds: 15 },
    alarms: { 'pg-a-health': 'OK', 'pg-b-health': 'OK' },
    lag: [{ metric: b!.lag, seconds: 1, at: now - (options.lagAgeSeconds ?? 5) * 1000 }],
  });
  const ec2 = new EC2Client(suite.moto.clientConfig);
  const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId as string;
  const run = await ec2.send(
    new RunInstancesCommand({ ImageId: image, MinCount: 2, MaxCount: 2, InstanceType: 't3.micro' }),
  );
  const instances = (run.Instances ?? []).map((i) => i.InstanceId as string);
  const configWith = (ids: readonly string[]): FailoverConfig =>
    withZoneId(
      parseConfig({
        services: [
          {
            ...base,
            actions: { fence: { type: 'ec2-stop' } },
            nodes: base.nodes.map((n, i) => ({ ...n, instanceId: ids[i] })),
          },
        ],
      }),
      s.zoneId as string,
    );
  // The verdict table exactly as the stack declares it.
  const [verdicts] = Object.entries(suite.workflow.template.findResources('AWS::DynamoDB::Table'))
    .filter(([id]) => id.startsWith('AutomationReadinessVerdicts'))
    .map(([, t]) => (t as Json).Properties);
  await suite.clients.dynamoDb.send(
    new CreateTableCommand({
      TableName: VERDICTS,
      KeySchema: verdicts.KeySchema,
      AttributeDefinitions: verdicts.AttributeDefinitions,
      BillingMode: verdicts.BillingMode,
    }),
  );
  // moto's zone ids do not look like Route 53's (Z...), so the configuration is handed over
  // validated and then pointed at the zone, as the other moto suites do (withZoneId).
  let config = configWith(instances);
  // What a redeploy does: the next cold start reads the new configuration.
  const deploy = (ids: readonly string[]) => {
    config = configWith(ids);
  };
  const env = {
    ...process.env,
    TABLE_NAME: s.tableName,
    READINESS_TABLE: VERDICTS,
    TOPIC_ARN: s.inbox.topicArn,
  };
  const emf: Json[] = [];
  const pass = async () => {
    resetAwsClientsForTests();
    const deps = awsReadinessDeps(env, config);
    const handler = makeReadinessHandler({
      ...deps,
      metrics: new EmfMetrics({ write: (line) => emf.push(JSON.parse(line)) }),
      logger: new JsonLogger({ service: 'readiness', write: () => {} }),
    });
    return handler({ source: 'failover-readiness-schedule' }, { awsRequestId: 'wire' });
  };
  const cli = async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(
      [
        'check',
        ...args,
        '--endpoint-url',
        suite.moto.endpoint,
        '--region',
        'us-east-1',
        '--table-name',
        s.tableName,
      ],
      {
        io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
        clock: { now: () => Date.now() },
        sleep: async () => {},
        actor: 'wire@test',
        readConfig: () => config,
        env: {},
      },
    );
    return { code, stdout, stderr };
  };
  return { s, ec2, image, instances, deploy, pass, cli, emf, a: a!, b: b! };
}

/**
 * The stack's NotReady alarm (its synthesized definition) evaluated as CloudWatch would: one pass
 * per period (the schedule's rate is the alarm's period), each pass's NotReadyServices datapoint
 * (what CloudWatch Logs extracts from its EMF line) that period's value, the newest
 * `evaluationPeriods` periods judged.
 */
function readinessAlarmState(emf: readonly Json[]): 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' {
  const [alarm] = Object.values(suite.workflow.template.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => (a as Json).Properties)
    .filter((p) => p.MetricName === 'NotReadyServices');
  const def: AlarmDefinition = {
    alarmName: 'readiness-not-ready',
    namespace: alarm.Namespace,
    metricName: alarm.MetricName,
    dimensions: {},
    statistic: alarm.Statistic,
    periodSeconds: alarm.Period,
    evaluationPeriods: alarm.EvaluationPeriods,
    datapointsToAlarm: alarm.DatapointsToAlarm,
    threshold: alarm.Threshold,
    comparison: alarm.ComparisonOperator,
    treatMissingData: alarm.TreatMissingData,
  };
  const points = emf.filter(
    (d) =>
      'NotReadyServices' in d &&
      d._aws.CloudWatchMetrics[0].Namespace === def.namespace &&
      d._aws.CloudWatchMetrics[0].Dimensions.every((set: string[]) => set.length === 0),
  );
  expect(points.length).toBeGreaterThan(0);
  return evaluate(
    def,
    points.slice(-def.evaluationPeriods).map((d) => d.NotReadyServices as number),
    'OK',
  );
}

/** The operator rewrites pg's record (on a, as it was) with `ttlSeconds`. */
const recordTtl = (w: Awaited<ReturnType<typeof world>>, ttlSeconds: number) =>
  createRecord(suite.clients.route53, w.s.zoneId!, {
    name: 'pg.example.com.',
    type: 'A',
    ttl: ttlSeconds,
    value: w.a.address!,
    action: 'UPSERT',
  });

describe('readiness on moto_server', () => {
  it('failover check: ready; a record TTL other than the configured one is not ready; fixed, ready again', async () => {
    const w = await world();
    const ok = await w.cli();
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^pg {2}READY$/m);
    expect(ok.code).toBe(0);

    await recordTtl(w, 300);
    const bad = await w.cli('--json');
    expect(bad.code).toBe(1);
    const out = JSON.parse(bad.stdout);
    expect(out.ready).toBe(false);
    expect(out.services[0].checks.find((c: Json) => c.check === 'routing')).toMatchObject({
      status: 'fail',
      reasons: [expect.stringMatching(/has TTL 300 but router\.ttlSeconds is 15/)],
    });

    await recordTtl(w, 15);
    expect((await w.cli()).code).toBe(0);
  });

  it('scheduled pass: a missing alarm and a terminated fence instance -> not ready, announced once, alarm; fixed -> ready again', async () => {
    const w = await world();
    const first = await w.pass();
    expect(first).toEqual({ ready: 1, notReady: [], unknown: [], announced: [] });
    expect(await w.s.inbox.drain()).toEqual([]);
    expect(readinessAlarmState(w.emf)).toBe('OK');

    await suite.clients.cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: ['pg-b-health'] }));
    await w.ec2.send(new TerminateInstancesCommand({ InstanceIds: [w.instances[1] as string] }));
    const broken = await w.pass();
    expect(broken.notReady).toEqual(['pg']);
    expect(broken.announced).toEqual(['pg']);
    const [notice, ...more] = await w.s.inbox.drain();
    expect(more).toEqual([]);
    expect(notice?.kind).toBe('not-ready');
    expect(notice?.subject).toMatch(/^NOT READY pg: a failover would not work \(alarms, decision, actions\)/);
    const checks = notice?.body.checks as Json[];
    const reasons = (name: string) => checks.find((c) => c.check === name)?.reasons?.join('\n') ?? '';
    expect(reasons('alarms')).toMatch(/pg-b-health of b does not exist/);
    expect(reasons('actions')).toMatch(
      new RegExp(
        `fence action \\(ec2-stop\\) of b needs EC2 instance ${w.instances[1]}: (terminated|shutting-down)`,
      ),
    );
    expect(readinessAlarmState(w.emf)).toBe('ALARM');
    // One Ready verdict per pass; CheckFailing only for the checks that fail, only while they fail.
    const verdicts = w.emf.filter((d) => d.ServiceId === 'pg' && d.Ready !== undefined).map((d) => d.Ready);
    expect(verdicts).toEqual([1, 0]);
    const failing = w.emf.filter((d) => d.ServiceId === 'pg' && d.CheckFailing !== undefined);
    expect(failing.map((d) => [d.Check, d.CheckFailing]).sort()).toEqual([
      ['actions', 1],
      ['alarms', 1],
      ['decision', 1],
    ]);

    // Still broken on the next pass: not announced twice.
    expect((await w.pass()).announced).toEqual([]);
    expect(await w.s.inbox.drain()).toEqual([]);

    // Fixed: the alarm is back, the node has a new instance (and the configuration names it).
    await createAlarm(suite.clients, 'pg-b-health', 'OK');
    const run = await w.ec2.send(
      new RunInstancesCommand({ ImageId: w.image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
    );
    w.deploy([w.instances[0] as string, run.Instances?.[0]?.InstanceId as string]);
    const fixed = await w.pass();
    expect(fixed).toMatchObject({ ready: 1, notReady: [], announced: ['pg'] });
    const [again] = await w.s.inbox.drain();
    expect(again).toMatchObject({ kind: 'ready', subject: 'Ready again: pg passes every readiness check' });
    // One breaching period is still inside the alarm's two-period window: OK one pass later.
    expect(readinessAlarmState(w.emf)).toBe('ALARM');
    expect((await w.pass()).announced).toEqual([]);
    expect(readinessAlarmState(w.emf)).toBe('OK');
  });

  it('scheduled pass: stale lag is not ready (the decision would hold lag-stale); fresh lag makes it ready', async () => {
    const w = await world({ lagAgeSeconds: 600 });
    const stale = await w.pass();
    expect(stale.notReady).toEqual(['pg']);
    const [notice] = await w.s.inbox.drain();
    const checks = notice?.body.checks as Json[];
    expect(checks.find((c) => c.check === 'lag')?.reasons?.[0]).toMatch(
      /^b: newest datapoint of Test\/Replication LagSeconds \(Service=pg, Node=b\) is 10 min( \d+ s)? old, over the 2 min of policy\.maxLagAgeSeconds/,
    );
    expect(checks.find((c) => c.check === 'decision')?.reasons?.[0]).toMatch(/HOLD \(lag-stale\)/);
    await putLag(suite.clients, w.b.lag, 0, Date.now() - 2000);
    const fresh = await w.pass();
    expect(fresh).toMatchObject({ ready: 1, announced: ['pg'] });
  });
});
