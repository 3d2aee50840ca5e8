/**
 * The node probe: a Lambda in the subnets and security groups the configuration names, started
 * once a minute per group of services by an EventBridge rule, sampling every node each
 * intervalSeconds (lambdas/handlers/probe.ts). Also here: the table of last primary positions,
 * the split-brain detector of each service (metric math over Writable), and the alarms on the
 * probe itself (its errors, its failed invocations, and invocations that stopped).
 *
 * IAM: cloudwatch:PutMetricData only into the probe's namespace, secretsmanager:GetSecretValue on
 * the named secrets only, the positions table only, and the network-interface actions a VPC
 * Lambda needs.
 */
import { Aws, Duration, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { PROBE_ERRORS_METRIC, PROBE_METRICS, PROBE_NAMESPACE } from '../lambdas/contract/metrics.ts';
import type { ServiceConfig } from '../lambdas/domain/config.ts';
import { probeAlarmPeriodSeconds } from '../lambdas/domain/probe-config.ts';
import { splitBrainAlarmName } from '../lambdas/domain/split-brain.ts';
import { alarmWhenAtLeast, watchScheduledFunction } from './alarm-props.ts';
import { alarmEventPattern, EVENT_PATTERN_QUOTA_CHARS, PATTERN_FILL, packAlarmNames } from './alarm-rules.ts';
import type { FailoverAutomation } from './failover-automation.ts';
import { healthShardOf } from './health-alarms.ts';
import { probeMetric } from './node-probe-alarms.ts';
import { rebuildableServiceTable } from './rebuildable-table.ts';
import { ruleName, StackRuleTarget } from './rule-targets.ts';

/**
 * Buckets the split-brain alarms are hashed into: one alarm per probed service, so 1,000 services
 * put ~60 alarms (the fullest ~85) in each, far under CloudFormation's 500 per stack. Fixed, so
 * adding services never moves an existing alarm (see lib/automation-monitoring/service-alarms.ts).
 */
export const SPLIT_BRAIN_STACK_SHARDS = 16;

/** EventBridge: targets per rule. */
const TARGETS_PER_RULE = 5;

/** `, "state": { "value": [ "ALARM" ] }` as eventPatternSize would count it. */
const ALARM_STATE_FILTER_CHARS = 40;

export interface NodeProbeProps {
  /** Bundling, configuration, topic and failover function come from here. */
  readonly automation: FailoverAutomation;
  /**
   * Services sampled by one invocation (each invocation runs the whole minute).
   * @default 25
   */
  readonly servicesPerInvocation?: number;
}

/** The probe's network placement: one function per distinct set of subnets and security groups. */
function placementKey(service: ServiceConfig): string | undefined {
  const keys = new Set(
    service.nodes.flatMap((n) =>
      n.probe
        ? [`${[...n.probe.subnets].sort().join(',')}|${[...n.probe.securityGroups].sort().join(',')}`]
        : [],
    ),
  );
  if (keys.size > 1) {
    throw new Error(
      `services[${service.id}].nodes[].probe: every probed node of a service needs the same subnets and securityGroups ` +
        `(one invocation reads the primary and its replicas together), got: ${[...keys].join(' / ')}`,
    );
  }
  return [...keys][0];
}

export class NodeProbe extends Construct {
  /** One function per placement (subnets and security groups). */
  readonly functions: readonly NodejsFunction[];
  /** Last primary WAL position per PostgreSQL service (pk `serviceId`). */
  readonly positions: Table;
  /** Split-brain detector alarms, by service id. */
  readonly splitBrainAlarms: ReadonlyMap<string, Alarm>;
  /** The nested stacks holding them, by bucket (healthShardOf the service id). */
  readonly splitBrainStacks: ReadonlyMap<number, NestedStack>;

  constructor(scope: Construct, id: string, props: NodeProbeProps) {
    super(scope, id);
    const automation = props.automation;
    const perInvocation = props.servicesPerInvocation ?? 25;
    if (!Number.isInteger(perInvocation) || perInvocation < 1 || perInvocation > 200) {
      throw new Error(`servicesPerInvocation must be an integer between 1 and 200, got: ${perInvocation}`);
    }
    const action = new SnsAction(automation.topic);

    // Positions are rebuilt by the next sample of a live primary: nothing to keep.
    this.positions = rebuildableServiceTable(this, 'Positions');

    const groups = new Map<string, ServiceConfig[]>();
    for (const service of automation.config.services) {
      const key = placementKey(service);
      if (key === undefined) continue;
      groups.set(key, [...(groups.get(key) ?? []), service]);
    }

    const functions: NodejsFunction[] = [];
    [...groups.entries()].forEach(([key, services], gi) => {
      const [subnets, securityGroups] = key.split('|').map((s) => s.split(',')) as [string[], string[]];
      const fn = automation.createHandlerFunction(`NodeProbe${gi}`, {
        entry: 'lambdas/handlers/probe.ts',
        description: `Node probe: samples ${services.length} service(s) every few seconds and publishes Healthy, Writable and replication lag`,
        // Each invocation samples until its minute ends; the margin covers a cold start.
        timeout: Duration.seconds(75),
        memorySize: 256,
        grantTrafficControl: false,
        grantState: false,
      });
      fn.addEnvironment('PROBE_POSITIONS_TABLE', this.positions.tableName);
      (fn.node.defaultChild as CfnFunction).addPropertyOverride('VpcConfig', {
        SubnetIds: subnets,
        SecurityGroupIds: securityGroups,
      });
      // One attempt per minute: a retry would overlap the next minute's invocation.
      fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
      this.grant(fn, services, subnets, securityGroups);

      // One invocation per group of services, up to EventBridge's 5 targets per rule on one
      // schedule rule (each target with its own input): 1,000 services take 8 rules, not 40.
      const shards: ServiceConfig[][] = [];
      for (let i = 0; i < services.length; i += perInvocation) {
        shards.push(services.slice(i, i + perInvocation));
      }
      for (let r = 0; r * TARGETS_PER_RULE < shards.length; r++) {
        const targets = shards.slice(r * TARGETS_PER_RULE, (r + 1) * TARGETS_PER_RULE);
        new Rule(this, `Schedule${gi}-${r}`, {
          ruleName: ruleName(this, `probe${gi}-${r}`),
          description: `Starts the node probe each minute for ${targets.flat().length} service(s), ${targets.length} invocation(s)`,
          schedule: Schedule.rate(Duration.minutes(1)),
          targets: targets.map(
            (shard) =>
              new StackRuleTarget(fn, {
                event: RuleTargetInput.fromObject({ serviceIds: shard.map((s) => s.id) }),
                retryAttempts: 0,
                maxEventAge: Duration.seconds(60),
              }),
          ),
        });
      }

      watchScheduledFunction(
        this,
        fn,
        Duration.minutes(1),
        {
          errors:
            'The node probe failed an invocation (a secret without its fields, metrics not published): its nodes look unhealthy until fixed',
          notRunning: 'The node probe was not started for 3 minutes: its nodes look unhealthy (missing data)',
        },
        action,
        `${gi}`,
      );
      functions.push(fn);
    });
    this.functions = functions;

    new Alarm(
      this,
      'ProbeErrors',
      alarmWhenAtLeast(
        'The node probe met a problem of its own (a secret without username/password): see its log',
        new Metric({
          namespace: PROBE_NAMESPACE,
          metricName: PROBE_ERRORS_METRIC,
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
      ),
    ).addAlarmAction(action);

    // Split brain: two writers at once is an alarm at once (one period), to the topic and to the
    // failover Lambda, which fences every node but the recorded primary. One alarm per service, in
    // nested stacks hashed by service id over a fixed number of buckets (like the per-service
    // alarms, lib/automation-monitoring/service-alarms.ts): in the parent stack they passed
    // CloudFormation's 500 resources near 320 services, and a fixed count never moves a named alarm
    // between stacks when services are added.
    const splitBrain = new Map<string, Alarm>();
    const splitBrainStacks = new Map<number, NestedStack>();
    const stackFor = (serviceId: string): NestedStack => {
      const shard = healthShardOf(serviceId, SPLIT_BRAIN_STACK_SHARDS);
      let stack = splitBrainStacks.get(shard);
      if (!stack) {
        stack = new NestedStack(this, `SplitBrain${String(shard).padStart(2, '0')}`, {
          description: `Failover automation: split-brain detector alarms, shard ${shard} of ${SPLIT_BRAIN_STACK_SHARDS}`,
        });
        splitBrainStacks.set(shard, stack);
      }
      return stack;
    };
    for (const service of automation.config.services) {
      const probed = service.nodes.filter((n) => n.probe && n.probe.kind !== 'tcp');
      if (probed.length < 2) continue;
      const period = Math.max(
        ...probed.map((n) => probeAlarmPeriodSeconds(n.probe as NonNullable<typeof n.probe>)),
      );
      const usingMetrics = Object.fromEntries(
        probed.map((n, i) => [
          `w${i}`,
          probeMetric(service, n, PROBE_METRICS.writable, period).with({ statistic: 'Maximum' }),
        ]),
      );
      const alarm = new Alarm(stackFor(service.id), `SplitBrain-${service.id}`, {
        alarmName: splitBrainAlarmName(service.id),
        alarmDescription: `Split brain in ${service.id}: more than one node reports Writable. The failover Lambda fences every node but the recorded primary`,
        metric: new MathExpression({
          expression: Object.keys(usingMetrics)
            .map((k) => `FILL(${k}, 0)`)
            .join(' + '),
          usingMetrics,
          period: Duration.seconds(period),
          label: `writers in ${service.id}`,
        }),
        threshold: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      splitBrain.set(service.id, alarm);
    }
    this.splitBrainAlarms = splitBrain;
    this.splitBrainStacks = splitBrainStacks;
    // Packed like the health alarm rules: one pattern listing every service's alarm would pass
    // EventBridge's 2,048-character pattern quota at ~50 services. The state filter is not in the
    // measured pattern, so it comes off the budget.
    const names = [...splitBrain.keys()].map((id) => splitBrainAlarmName(id));
    const stack = Stack.of(this);
    const budget = Math.floor(EVENT_PATTERN_QUOTA_CHARS * PATTERN_FILL) - ALARM_STATE_FILTER_CHARS;
    packAlarmNames(names, budget).forEach((group, i) => {
      const pattern = alarmEventPattern(group, { account: stack.account, region: stack.region });
      new Rule(this, i === 0 ? 'SplitBrainRule' : `SplitBrainRule${i}`, {
        ruleName: ruleName(this, `splitbrain-${i}`),
        description: 'Split-brain detector alarms to the failover Lambda (fence the second writer)',
        // This account's and region's alarms only, like the health alarm rules.
        eventPattern: {
          source: pattern.source,
          detailType: pattern['detail-type'],
          account: pattern.account,
          region: pattern.region,
          detail: { alarmName: group, state: { value: ['ALARM'] } },
        },
        targets: [
          new StackRuleTarget(automation.failoverFunction, {
            deadLetterQueue: automation.deadLetterQueue,
            retryAttempts: 2,
            maxEventAge: Duration.hours(1),
          }),
        ],
      });
    });
  }

  private grant(
    fn: NodejsFunction,
    services: readonly ServiceConfig[],
    subnets: string[],
    groups: string[],
  ): void {
    const stack = Stack.of(this);
    this.positions.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem');
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': PROBE_NAMESPACE } },
      }),
    );
    const secrets = [
      ...new Set(
        services.flatMap((s) =>
          s.nodes.flatMap((n) =>
            n.probe && 'secretArn' in n.probe && n.probe.secretArn ? [n.probe.secretArn] : [],
          ),
        ),
      ),
    ].sort();
    if (secrets.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secrets }),
      );
    }
    // What Lambda needs to place the function's network interfaces in the configured subnets.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [
          // Pseudo parameters, not the stack's env: the acknowledgment below names this exact string,
          // which a concrete -c account/region would otherwise turn into literals it does not match.
          `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:network-interface/*`,
          ...subnets.map((s) => stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: s })),
          ...groups.map((g) =>
            stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: g }),
          ),
        ],
      }),
    );
    Validations.of(fn.role as Construct).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:PutMetricData has no resource-level permissions (limited to the probe namespace by condition); ec2:Describe* for the VPC network interfaces has none either',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
        reason: 'Lambda creates the VPC network interfaces; their ids are not known before',
      },
    );
  }
}
