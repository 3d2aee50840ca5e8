/**
 * The scheduled readiness check: one Lambda started by one EventBridge rule every
 * `readiness.intervalMinutes` (default 5), checking every service against the live account
 * (lambdas/handlers/readiness.ts), a small table of last verdicts (so each change is announced
 * once), and three alarms to the topic: a service is not ready, the check failed, the check
 * stopped running. Nothing here grows with the number of services except IAM resource lists.
 *
 * IAM, read-only on the account: GetItem on the state table; Get/PutItem on its own verdict table
 * (never a write to the state table); Route 53 ListResourceRecordSets on the configured zones;
 * the Describe/Get calls on the resources the node actions name (functions, documents, DB
 * instances, secrets by ARN); `*` only for reads IAM cannot scope (CloudWatch DescribeAlarms and
 * GetMetricData, ELBv2 Describe*, EC2 DescribeInstances/DescribeSecurityGroups); publish to the topic.
 */
import { Aws, Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { READINESS_METRICS } from '../lambdas/app/readiness.ts';
import { METRICS_NAMESPACE } from '../lambdas/contract/metrics.ts';
import { ConfigValidationError } from '../lambdas/domain/errors.ts';
import { readinessResourceRefs } from '../lambdas/domain/readiness.ts';
import { readinessBudgetProblems } from '../lambdas/domain/readiness-config.ts';
import { watchScheduledFunction } from './alarm-props.ts';
import type { FailoverAutomation } from './failover-automation.ts';
import { rebuildableServiceTable } from './rebuildable-table.ts';
import { ruleName, StackRuleTarget } from './rule-targets.ts';

/** Lambda's maximum; a pass over a very large fleet is paced to fit well inside it (readinessBudgetProblems). */
const MAX_TIMEOUT_SECONDS = 900;

export interface ReadinessCheckProps {
  /** Bundling, configuration, state table and topic come from here. */
  readonly automation: FailoverAutomation;
}

export class ReadinessCheck extends Construct {
  readonly function: NodejsFunction;
  readonly rule: Rule;
  /** Last verdict per service (pk `serviceId`). */
  readonly verdicts: Table;
  /** In ALARM while at least one service is not ready. */
  readonly notReadyAlarm: Alarm;
  private readonly automation: FailoverAutomation;

  constructor(scope: Construct, id: string, props: ReadinessCheckProps) {
    super(scope, id);
    const automation = props.automation;
    this.automation = automation;
    const config = automation.config;
    const problems = readinessBudgetProblems(config);
    if (problems.length > 0) throw new ConfigValidationError(problems);
    const intervalMinutes = config.readiness.intervalMinutes;
    const action = new SnsAction(automation.topic);

    // Rebuilt by the next pass; losing it costs at most one repeated notice per service.
    this.verdicts = rebuildableServiceTable(this, 'Verdicts');

    this.function = automation.createHandlerFunction('ReadinessFunction', {
      entry: 'lambdas/handlers/readiness.ts',
      description: `Readiness check every ${intervalMinutes} min: record/TTL, state vs traffic, alarms, lag freshness, replayed decision, action resources`,
      timeout: Duration.seconds(Math.min(MAX_TIMEOUT_SECONDS, intervalMinutes * 60)),
      memorySize: 256,
      grantTrafficControl: false,
      grantState: false,
      // One pass at a time: two would double the Route 53 reads and race on the verdicts.
      reservedConcurrentExecutions: 1,
    });
    this.function.addEnvironment('READINESS_TABLE', this.verdicts.tableName);
    // A missed pass is made up by the next one; a retry would overlap it.
    this.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(Math.max(1, Math.min(intervalMinutes, 360))),
    });
    this.grant();

    this.rule = new Rule(this, 'Schedule', {
      ruleName: ruleName(this, 'readiness'),
      description: `Starts the readiness check every ${intervalMinutes} min`,
      schedule: Schedule.rate(Duration.minutes(intervalMinutes)),
      enabled: config.readiness.enabled,
      targets: [
        new StackRuleTarget(this.function, {
          event: RuleTargetInput.fromObject({ source: 'failover-readiness-schedule' }),
          retryAttempts: 0,
          maxEventAge: Duration.minutes(Math.max(1, Math.min(intervalMinutes, 1440))),
        }),
      ],
    });

    const period = Duration.minutes(intervalMinutes);
    this.notReadyAlarm = new Alarm(this, 'NotReady', {
      alarmDescription:
        'A service would not fail over if its primary failed now (wrong record TTL, missing alarm, stale lag, missing action resource...): run failover check, and see the not-ready notification',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: READINESS_METRICS.notReadyServices,
        statistic: 'Maximum',
        period,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // One pass per period; two periods with one datapoint tolerate a pass landing late.
      evaluationPeriods: 2,
      datapointsToAlarm: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.notReadyAlarm.addAlarmAction(action);
    this.notReadyAlarm.addOkAction(action);
    watchScheduledFunction(
      this,
      this.function,
      period,
      {
        errors:
          'The readiness check failed a pass (a not-ready notice not sent, or a crash): readiness is not being reported; read its log',
        ...(config.readiness.enabled
          ? {
              notRunning:
                'The readiness check has not run for three intervals: readiness is not being reported',
            }
          : {}),
      },
      action,
    );
  }

  private grant(): void {
    const automation = this.automation;
    const fn = this.function;
    const config = automation.config;
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [automation.table.tableArn] }),
    );
    this.verdicts.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem');
    automation.topic.grantPublish(fn);
    const zones = [
      ...new Set(
        config.services.flatMap((s) => (s.router.type === 'route53' ? [s.router.hostedZoneId] : [])),
      ),
    ].sort();
    if (zones.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['route53:ListResourceRecordSets'],
          resources: zones.map((z) => `arn:${Aws.PARTITION}:route53:::hostedzone/${z}`),
        }),
      );
    }
    const usesElb = config.services.some((s) => s.router.type !== 'route53');
    const refs = readinessResourceRefs(config.services);
    const usesEc2 = refs.some((r) => r.kind === 'ec2-instance' || r.kind === 'security-group');
    // No resource-level permissions exist for these reads: any other Resource than '*' denies them.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'cloudwatch:DescribeAlarms',
          'cloudwatch:GetMetricData',
          ...(usesElb
            ? ['elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeListeners']
            : []),
          ...(usesEc2 ? ['ec2:DescribeInstances', 'ec2:DescribeSecurityGroups'] : []),
        ],
        resources: ['*'],
      }),
    );
    const scoped = (action: string, arns: string[]) => {
      if (arns.length > 0)
        fn.addToRolePolicy(new PolicyStatement({ actions: [action], resources: [...new Set(arns)].sort() }));
    };
    const ids = (kind: string) => refs.filter((r) => r.kind === kind).map((r) => r.id);
    scoped(
      'ssm:DescribeDocument',
      ids('ssm-document').map((name) =>
        name.startsWith('arn:')
          ? name
          : /^AWS-/.test(name)
            ? `arn:${Aws.PARTITION}:ssm:${Aws.REGION}::document/${name}`
            : `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:document/${name}`,
      ),
    );
    scoped(
      'rds:DescribeDBInstances',
      ids('rds-instance').map((id) => `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:${id}`),
    );
    scoped('lambda:GetFunctionConfiguration', ids('lambda-function'));
    scoped(
      'secretsmanager:DescribeSecret',
      ids('secret').map((arn) => (/-[A-Za-z0-9]{6}$/.test(arn) ? arn : `${arn}-??????`)),
    );
    Validations.of(fn.role as Construct).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'read actions that support no resource-level permissions only: cloudwatch:DescribeAlarms/GetMetricData, elasticloadbalancing:Describe*, ec2:DescribeInstances/DescribeSecurityGroups',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: "publishing to the KMS-encrypted topic (Topic.grantPublish), scoped to the topic's key",
      },
    );
  }
}
