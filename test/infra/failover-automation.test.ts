import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type FailoverConfig, healthAlarmName, parseConfig } from '../../lambdas/domain/config.ts';
import {
  allTemplates,
  asArray,
  assertNoWriteOnStar,
  FAILOVER_ROLE,
  identityStatements,
  type Json,
  resourcesOf,
  sampleConfig,
  sampleStack,
  synth,
} from './helpers.ts';

/** The sample config with its services replaced (everything else kept). */
function withServices(services: unknown[]): FailoverConfig {
  const { stackName, notifications } = sampleConfig();
  return parseConfig({ stackName, notifications, services });
}

const lag = { namespace: 'Custom/Db', metricName: 'Lag', dimensions: { Node: 'x' } };

describe('FailoverAutomation on the sample configuration', () => {
  // Read only: the worker's one synthesis of the sample (sampleStack in helpers.ts).
  const config = sampleConfig();
  const s = sampleStack();

  it('listens to exactly the configured health alarms, created or existing', () => {
    // The alarm rules; the readiness check's schedule rule is tested in test/infra/readiness.test.ts.
    const rules = Object.values(resourcesOf(s.template, 'AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern,
    );
    expect(rules).toHaveLength(1);
    const pattern = rules[0]!.Properties.EventPattern;
    expect(pattern.source).toEqual(['aws.cloudwatch']);
    expect(pattern['detail-type']).toEqual(['CloudWatch Alarm State Change']);
    expect(Object.keys(pattern.detail)).toEqual(['alarmName']);
    expect(pattern.detail.alarmName).toEqual([
      'failover-orders-db-db-a-health',
      'failover-orders-db-db-b-health',
      'failover-git-server-git-1-health',
      'git-2-appliance-health',
    ]);
    const expected = config.services.flatMap((svc) => svc.nodes.map((n) => healthAlarmName(svc, n)));
    expect(pattern.detail.alarmName).toEqual(expected);
  });

  it('creates a Route 53 health check and a breaching-on-missing-data alarm for route53-health-check nodes', () => {
    const [nested] = [...s.nested.values()].filter(
      (t) => Object.keys(t.findResources('AWS::Route53::HealthCheck')).length > 0,
    );
    expect(nested).toBeDefined();
    nested!.resourceCountIs('AWS::Route53::HealthCheck', 2);
    nested!.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'TCP',
        IPAddress: '192.0.2.10',
        Port: 5432,
        RequestInterval: 10,
        FailureThreshold: 3,
      },
    });
    nested!.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'failover-orders-db-db-a-health',
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      Dimensions: [{ Name: 'HealthCheckId', Value: { 'Fn::GetAtt': [Match.anyValue(), 'HealthCheckId'] } }],
      Statistic: 'Minimum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('alarms on HealthyHostCount < 1 with the ARN-suffix dimensions for target-group-health nodes', () => {
    const alarms = allTemplates(s).flatMap((t) => Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')));
    const tg = alarms.find((a) => a.Properties.AlarmName === 'failover-git-server-git-1-health');
    expect(tg?.Properties).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HealthyHostCount',
      Statistic: 'Minimum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(tg?.Properties.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'TargetGroup', Value: 'targetgroup/git-1/0123456789abcdef' },
        { Name: 'LoadBalancer', Value: 'app/git-alb/0123456789abcdef' },
      ]),
    );
  });

  it("creates nothing for an 'alarm' signal: the alarm exists already", () => {
    const names = allTemplates(s).flatMap((t) =>
      Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName),
    );
    expect(names).not.toContain('git-2-appliance-health');
    expect(names.filter((n) => typeof n === 'string' && n.startsWith('failover-')).sort()).toEqual([
      'failover-git-server-git-1-health',
      'failover-orders-db-db-a-health',
      'failover-orders-db-db-b-health',
    ]);
  });

  it('keeps per-node health resources out of the parent stack', () => {
    s.template.resourceCountIs('AWS::Route53::HealthCheck', 0);
    const parentAlarmNames = Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );
    expect(parentAlarmNames.every((n) => n === undefined)).toBe(true);
    // The health shards, plus the monitoring construct's alarm shards and dashboard stacks.
    const m = s.stack.monitoring;
    s.template.resourceCountIs(
      'AWS::CloudFormation::Stack',
      s.nested.size + m.alarmStacks.size + m.dashboardStacks.size + 1,
    );
  });

  it('scopes Route 53 record changes to the zone, the record names and types, DELETE and CREATE only', () => {
    const statements = identityStatements(s.template, FAILOVER_ROLE).map((x) => x.statement);
    const change = statements.filter((st) => asArray(st.Action).includes('route53:ChangeResourceRecordSets'));
    expect(change).toHaveLength(1);
    expect(change[0].Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789EXAMPLE']],
    });
    expect(change[0].Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['db.example.com'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
        'route53:ChangeResourceRecordSetsActions': ['DELETE', 'CREATE'],
      },
    });
    const list = statements.find((st) => asArray(st.Action).includes('route53:ListResourceRecordSets'));
    expect(list.Resource).toEqual(change[0].Resource);
    const getChange = statements.find((st) => asArray(st.Action).includes('route53:GetChange'));
    expect(JSON.stringify(getChange.Resource)).toContain(':route53:::change/*');
  });

  it('scopes ModifyListener to the configured listener', () => {
    const statements = identityStatements(s.template, FAILOVER_ROLE).map((x) => x.statement);
    const modify = statements.filter((st) =>
      asArray(st.Action).includes('elasticloadbalancing:ModifyListener'),
    );
    expect(modify).toHaveLength(1);
    expect(asArray(modify[0].Resource)).toEqual([
      'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/git-alb/0123456789abcdef/0123456789abcdef',
    ]);
  });

  it('grants table read/write on the table only and sns:Publish on the topic only', () => {
    const statements = identityStatements(s.template, FAILOVER_ROLE).map((x) => x.statement);
    const dynamo = statements.filter((st) =>
      asArray(st.Action).some((a: string) => a.startsWith('dynamodb:')),
    );
    expect(dynamo.length).toBeGreaterThan(0);
    for (const st of dynamo) {
      for (const r of asArray(st.Resource)) expect(JSON.stringify(r)).toMatch(/StateTable[0-9A-F]{8}/);
    }
    expect(dynamo.flatMap((st) => asArray(st.Action))).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
      ]),
    );
    const publish = statements.filter((st) => asArray(st.Action).includes('sns:Publish'));
    expect(publish).toHaveLength(1);
    expect(JSON.stringify(publish[0].Resource)).toMatch(/^\{"Ref":"AutomationTopic[0-9A-F]{8}"\}$/);
  });

  it('has no write action on Resource "*" in any identity policy', () => {
    assertNoWriteOnStar(s);
  });

  it('creates the state table with pk/sk string keys, on-demand, PITR, encryption, retained', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('sends undeliverable events and failed invocations to the encrypted 14-day DLQ', () => {
    const queues = resourcesOf(s.template, 'AWS::SQS::Queue');
    const [dlqId, dlq] = Object.entries(queues).find(([id]) => id.startsWith('AutomationDeadLetterQueue'))!;
    // The dead-letter queue, and the zone-shift queue that redrives into it (test/infra/zone-shift.test.ts).
    expect(
      Object.keys(queues)
        .map((id) => id.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual(['AutomationDeadLetterQueue', 'AutomationZoneShiftQueue']);
    expect(dlq.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const dlqArn = { 'Fn::GetAtt': [dlqId, 'Arn'] };

    const alarmRules = Object.values(resourcesOf(s.template, 'AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern,
    );
    for (const rule of alarmRules) {
      const targets: Json[] = rule.Properties.Targets;
      expect(targets).toHaveLength(1);
      expect(targets[0].Arn).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^AutomationFailoverFunction/), 'Arn'],
      });
      expect(targets[0].DeadLetterConfig).toEqual({ Arn: dlqArn });
      expect(targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    }
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^AutomationFailoverFunction') },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: dlqArn } },
    });
    // Only EventBridge (for these rules) may write, and only over TLS.
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
          }),
        ]),
      },
    });
  });

  it('runs the failover Lambda on Node.js 22 / ARM64 with the config as a file, not in the environment', () => {
    const fns = resourcesOf(s.template, 'AWS::Lambda::Function');
    const [, fn] = Object.entries(fns).find(([id]) => id.startsWith('AutomationFailoverFunction'))!;
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 60,
      Handler: 'index.handler',
    });
    const env = fn.Properties.Environment.Variables;
    // SHIFT_QUEUE_URL: where throttled Route 53 changes go (the zone-shift queue, a reference, no config).
    expect(Object.keys(env).sort()).toEqual(['NODE_OPTIONS', 'SHIFT_QUEUE_URL', 'TABLE_NAME', 'TOPIC_ARN']);
    expect(env.SHIFT_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^AutomationZoneShiftQueue/) });
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(JSON.stringify(env)).not.toMatch(/orders-db|git-server|example\.com/);
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    expect(fn.Properties.LoggingConfig.LogGroup).toEqual({
      Ref: expect.stringMatching(/FailoverFunctionLogs/),
    });
  });

  it('encrypts the topic with a rotating KMS key, enforces TLS and subscribes the configured endpoints', () => {
    s.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TopicKey'), 'Arn'] },
    });
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    s.template.resourceCountIs('AWS::SNS::Subscription', 1);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('alarms on its own dead-letter queue and handler errors, to the topic', () => {
    // FailoverAutomation's own alarms (AutomationMonitoring adds its own beside them: engineer F).
    const own = Object.entries(resourcesOf(s.template, 'AWS::CloudWatch::Alarm'))
      .filter(([id]) => id.startsWith('Automation') && !id.startsWith('AutomationReadiness'))
      .map(([, a]) => a);
    expect(own.map((a) => a.Properties.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'Errors',
    ]);
    for (const a of own) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AutomationTopic/) }]);
      expect(a.Properties.TreatMissingData).toBe('notBreaching');
    }
  });
});

describe('FailoverAutomation signal and router variants', () => {
  const twoNodes = (health: (i: number) => unknown) =>
    [0, 1].map((i) => ({ id: `n${i}`, address: `10.0.0.${i + 1}`, health: health(i), lag }));

  it('checks HTTPS host names with SNI and the path, and NLB target groups in AWS/NetworkELB', () => {
    const config = withServices([
      {
        id: 'web',
        initialPrimary: 'n0',
        router: {
          type: 'route53',
          hostedZoneId: 'Z1',
          zoneName: 'example.com',
          recordName: 'web.example.com',
          recordType: 'A',
        },
        nodes: twoNodes((i) => ({
          type: 'route53-health-check',
          protocol: 'HTTPS',
          host: `node${i}.example.com`,
          port: 443,
          path: '/health',
          requestIntervalSeconds: 30,
          failureThreshold: 2,
        })),
      },
      {
        id: 'tcp',
        initialPrimary: 'n0',
        router: {
          type: 'elbv2-target',
          targetGroupArn:
            'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/tcp/00000000000000aa',
        },
        nodes: [0, 1].map((i) => ({
          id: `n${i}`,
          target: { id: `10.0.0.${i + 1}`, port: 5432 },
          health: {
            type: 'target-group-health',
            targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/tcp-${i}/00000000000000b${i}`,
            loadBalancerArn:
              'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/nlb/00000000000000cc',
          },
          lag,
        })),
      },
    ]);
    const s = synth(config);
    const all = allTemplates(s);
    const checks = all.flatMap((t) => Object.values(resourcesOf(t, 'AWS::Route53::HealthCheck')));
    expect(checks.map((c) => c.Properties.HealthCheckConfig)).toContainEqual({
      Type: 'HTTPS',
      FullyQualifiedDomainName: 'node0.example.com',
      Port: 443,
      ResourcePath: '/health',
      EnableSNI: true,
      RequestInterval: 30,
      FailureThreshold: 2,
    });
    const nlbAlarm = all
      .flatMap((t) => Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')))
      .find((a) => a.Properties.AlarmName === 'failover-tcp-n1-health');
    expect(nlbAlarm?.Properties.Namespace).toBe('AWS/NetworkELB');
    expect(nlbAlarm?.Properties.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'TargetGroup', Value: 'targetgroup/tcp-1/00000000000000b1' },
        { Name: 'LoadBalancer', Value: 'net/nlb/00000000000000cc' },
      ]),
    );
    // elbv2-target router: register/deregister only on its target group.
    const statements = identityStatements(s.template, FAILOVER_ROLE).map((x) => x.statement);
    const reg = statements.filter((st) =>
      asArray(st.Action).includes('elasticloadbalancing:RegisterTargets'),
    );
    expect(reg).toHaveLength(1);
    expect(asArray(reg[0].Action).sort()).toEqual([
      'elasticloadbalancing:DeregisterTargets',
      'elasticloadbalancing:RegisterTargets',
    ]);
    expect(asArray(reg[0].Resource)).toEqual([
      'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/tcp/00000000000000aa',
    ]);
    expect(statements.some((st) => asArray(st.Action).includes('elasticloadbalancing:ModifyListener'))).toBe(
      false,
    );
    assertNoWriteOnStar(s);
  });

  it('writes one Route 53 statement per zone, with all its normalized names and types together', () => {
    const r53 = (id: string, zone: string, zoneName: string, recordName: string, recordType: string) => ({
      id,
      initialPrimary: 'n0',
      router: { type: 'route53', hostedZoneId: zone, zoneName, recordName, recordType },
      nodes: [0, 1].map((i) => ({
        id: `n${i}`,
        address: recordType === 'CNAME' ? `host${i}.${id}.net` : `10.0.${id.length}.${i + 1}`,
        health: { type: 'alarm', alarmName: `${id}-n${i}` },
        lag,
      })),
    });
    const s = synth(
      withServices([
        r53('a', 'ZONEA', 'example.com', 'A.Example.com.', 'A'),
        r53('bb', 'ZONEA', 'example.com', '*.wild.example.com', 'A'),
        r53('ccc', 'ZONEA', 'example.com', 'alias.example.com', 'CNAME'),
        r53('dddd', 'ZONEB', 'sub.example.com', 'db.sub.example.com', 'A'),
      ]),
    );
    const change = identityStatements(s.template, FAILOVER_ROLE)
      .map((x) => x.statement)
      .filter((st) => asArray(st.Action).includes('route53:ChangeResourceRecordSets'))
      .map((st) => ({
        zone: JSON.stringify(st.Resource).match(/hostedzone\/(\w+)/)?.[1],
        names:
          st.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'],
        types: st.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsRecordTypes'],
      }));
    // A batch touching several records of a zone must match ONE statement (ForAllValues).
    expect(change).toEqual([
      {
        zone: 'ZONEA',
        names: ['\\052.wild.example.com', 'a.example.com', 'alias.example.com'],
        types: ['A', 'CNAME'],
      },
      { zone: 'ZONEB', names: ['db.sub.example.com'], types: ['A'] },
    ]);
    // No health resources to create: no nested stacks at all.
    expect(s.nested.size).toBe(0);
    // Only the monitoring construct's alarm shards and dashboard stacks.
    const m = s.stack.monitoring;
    s.template.resourceCountIs('AWS::CloudFormation::Stack', m.alarmStacks.size + m.dashboardStacks.size + 1);
  });

  it('refuses route53-health-check signals in a concrete region other than us-east-1', () => {
    // Only the Route 53 health-checked service: the sample's load balancer ARNs are in us-east-1 too.
    const config = sampleConfig();
    const route53Only = {
      ...config,
      services: config.services.filter((s) => s.nodes.some((n) => n.health.type === 'route53-health-check')),
    };
    expect(() => synth(route53Only, { env: { account: '111122223333', region: 'eu-west-1' } })).toThrow(
      /route53-health-check needs the stack in us-east-1.*got region: eu-west-1/,
    );
  });

  it('accepts them in us-east-1 and in an environment-agnostic stack', () => {
    expect(() =>
      synth(sampleConfig(), { env: { account: '111122223333', region: 'us-east-1' } }),
    ).not.toThrow();
    expect(() => synth(sampleConfig())).not.toThrow();
  });

  it('accepts existing-alarm signals in any region', () => {
    const config = withServices([
      {
        id: 'db',
        initialPrimary: 'n0',
        router: {
          type: 'route53',
          hostedZoneId: 'Z1',
          zoneName: 'example.com',
          recordName: 'db.example.com',
          recordType: 'A',
        },
        nodes: twoNodes((i) => ({ type: 'alarm', alarmName: `db-${i}` })),
      },
    ]);
    expect(() => synth(config, { env: { account: '111122223333', region: 'eu-west-1' } })).not.toThrow();
  });

  it('refuses a target group in another region than a concrete stack region (ELB metrics are regional)', () => {
    const onlyGit = withServices([sampleConfig().services[1]]);
    expect(() => synth(onlyGit, { env: { region: 'us-east-2' } })).toThrow(
      /target group must be in the stack's region us-east-2/,
    );
  });
});

describe('FailoverAutomation notifications', () => {
  it('subscribes every configured protocol to the topic', () => {
    const base = sampleConfig();
    const config = parseConfig({
      ...base,
      notifications: {
        subscribers: [
          { protocol: 'email', endpoint: 'oncall@example.com' },
          { protocol: 'https', endpoint: 'https://hooks.example.com/failover' },
          { protocol: 'sqs', endpoint: 'arn:aws:sqs:us-east-1:111122223333:failover-events' },
          { protocol: 'lambda', endpoint: 'arn:aws:lambda:us-east-1:111122223333:function:pager' },
        ],
      },
    });
    const s = synth(config);
    const subs = Object.values(resourcesOf(s.template, 'AWS::SNS::Subscription')).map((r) => [
      r.Properties.Protocol,
      r.Properties.Endpoint,
    ]);
    expect(subs).toEqual(
      expect.arrayContaining([
        ['email', 'oncall@example.com'],
        ['https', 'https://hooks.example.com/failover'],
        ['sqs', 'arn:aws:sqs:us-east-1:111122223333:failover-events'],
        ['lambda', 'arn:aws:lambda:us-east-1:111122223333:function:pager'],
      ]),
    );
    expect(subs).toHaveLength(4);
  });
});

describe('FailoverAutomation and the role-change budget', () => {
  const hooked = (timeoutSeconds: number) => {
    const { services } = sampleConfig();
    const arn = 'arn:aws:lambda:us-east-1:111122223333:function:hook';
    return withServices(
      services.map((s, i) =>
        i === 0 ? { ...s, hooks: { fence: arn, promote: arn, demote: arn, timeoutSeconds } } : s,
      ),
    );
  };

  it('gives the failover Lambda the time of the worst path of node actions', () => {
    const s = synth(hooked(60));
    const fns = Object.entries(resourcesOf(s.template, 'AWS::Lambda::Function'));
    const [, fn] = fns.find(([id]) => id.startsWith('AutomationFailoverFunction')) ?? [];
    expect(fn?.Properties.Timeout).toBe(335);
  });

  it('refuses at synth a configuration whose actions cannot fit one invocation, with the service path', () => {
    expect(() => synth(hooked(300))).toThrow(
      /services\[0\]: the automatic failover's worst path .* needs 1535 s/,
    );
  });
});
