import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { fleetConfig } from '../../bench/fleet.ts';
import { PROBE_NAMESPACE } from '../../lambdas/contract/metrics.ts';
import { loadConfigFile } from '../../lib/config-loader.ts';
import { healthShardOf } from '../../lib/health-alarms.ts';
import { SPLIT_BRAIN_STACK_SHARDS } from '../../lib/node-probe.ts';
import { type Json, resourcesOf, synth } from './helpers.ts';

const probed = () => loadConfigFile(join(import.meta.dirname, '..', '..', 'config', 'failover.json'));

describe('NodeProbe (the probed sample configuration)', () => {
  const s = synth(probed());
  const functions = Object.entries(resourcesOf(s.template, 'AWS::Lambda::Function')).filter(([id]) =>
    id.includes('NodeProbe'),
  ) as [string, Json][];

  it('runs one VPC Lambda per placement in the configured subnets and security groups', () => {
    expect(functions).toHaveLength(2);
    const vpcs = functions
      .map(([, f]) => f.Properties.VpcConfig)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(vpcs).toEqual([
      {
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      },
      {
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
        SecurityGroupIds: ['sg-0fedcba9876543210'],
      },
    ]);
    for (const [, f] of functions) {
      expect(f.Properties.Timeout).toBe(75);
      expect(JSON.stringify(f.Properties.Environment)).not.toMatch(/password|secret/i);
    }
  });

  it('starts each probe once a minute with its services, without retries', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Input: JSON.stringify({ serviceIds: ['orders-db'] }),
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      ],
    });
  });

  it('may put metrics only into the probe namespace, and read only the named secrets', () => {
    const statements = Object.values(resourcesOf(s.template, 'AWS::IAM::Policy'))
      .filter((p: Json) => JSON.stringify(p.Properties.Roles).includes('NodeProbe'))
      .flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
    const put = statements.filter((st: Json) =>
      JSON.stringify(st.Action).includes('cloudwatch:PutMetricData'),
    );
    expect(put.length).toBeGreaterThan(0);
    for (const st of put)
      expect(st.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': PROBE_NAMESPACE } });
    const secrets = statements.filter((st: Json) => JSON.stringify(st.Action).includes('secretsmanager'));
    expect(secrets.map((st: Json) => st.Resource).sort()).toEqual([
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:git-server/probe-AbCdEf',
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:orders-db/probe-AbCdEf',
    ]);
    expect(secrets.every((st: Json) => JSON.stringify(st.Action) === '"secretsmanager:GetSecretValue"')).toBe(
      true,
    );
  });

  it('alarms on Healthy: 10 s period, 2 of 2, missing data breaching', () => {
    const all = [s.template, ...s.nested.values()].flatMap((t) =>
      Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')),
    );
    const health = all.filter((a: Json) => a.Properties.MetricName === 'Healthy');
    expect(health).toHaveLength(4);
    for (const a of health as Json[]) {
      expect(a.Properties).toMatchObject({
        Namespace: PROBE_NAMESPACE,
        Period: 10,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    }
  });

  it('has a split-brain detector per service (sum of Writable >= 2) routed to the failover Lambda', () => {
    // In a nested stack hashed by service id, never in the parent (500 resources near 320 services).
    expect(
      Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).filter((a: Json) =>
        String(a.Properties.AlarmName).endsWith('-split-brain'),
      ),
    ).toEqual([]);
    const probe = s.stack.automation.nodeProbe!;
    const shard = healthShardOf('orders-db', SPLIT_BRAIN_STACK_SHARDS);
    const nested = Template.fromStack(probe.splitBrainStacks.get(shard)!);
    const alarm = Object.values(resourcesOf(nested, 'AWS::CloudWatch::Alarm')).find(
      (a: Json) => a.Properties.AlarmName === 'failover-orders-db-split-brain',
    ) as Json;
    expect(alarm.Properties).toMatchObject({
      Threshold: 2,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.Properties.Metrics[0].Expression).toBe('FILL(w0, 0) + FILL(w1, 0)');
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        account: [{ Ref: 'AWS::AccountId' }],
        region: [{ Ref: 'AWS::Region' }],
        detail: {
          alarmName: Match.arrayWith(['failover-orders-db-split-brain']),
          state: { value: ['ALARM'] },
        },
      }),
    });
  });

  it('keeps a service in the same split-brain stack when services are added', () => {
    const stackOf = (services: number) =>
      new Map(
        [
          ...synth(fleetConfig(services, { sample: 'probe' })).stack.automation.nodeProbe!.splitBrainAlarms,
        ].map(([id, a]) => [id, Stack.of(a).node.id]),
      );
    const before = stackOf(12);
    const after = stackOf(40);
    expect(before.size).toBe(12);
    for (const [id, stack] of before) expect(after.get(id), id).toBe(stack);
    expect(new Set(after.values()).size).toBeGreaterThan(1);
  });

  it('cdk-nag reports no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack.automation);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('refuses probed nodes of one service in different subnets', () => {
    const config = probed();
    const service = config.services[0]!;
    const node = service.nodes[1]!;
    const moved = {
      ...config,
      services: [
        {
          ...service,
          nodes: [
            service.nodes[0]!,
            { ...node, probe: { ...node.probe!, subnets: ['subnet-0aaaaaaaaaaaaaaaa'] } },
          ],
        },
        config.services[1]!,
      ],
    };
    expect(() => synth(moved)).toThrow(
      /services\[orders-db\]\.nodes\[\]\.probe: every probed node of a service needs the same subnets/,
    );
  });
});
