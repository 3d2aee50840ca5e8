/**
 * The operator managed policy: what a person running `npx failover` needs, and no more. Attach it to
 * the operators' role (the stack output `OperatorPolicyArn`) instead of writing one by hand.
 *
 * - read: the stack's outputs, the state table (GetItem, Query), alarm states and lag, where traffic
 *   points (Route 53 records of the configured zones, ELB Describe*), the workflow's executions;
 * - act: start the switchover / failover workflow (which takes the lease and checks everything
 *   itself), publish the announcement of a pause to the topic;
 * - pause and resume: `dynamodb:UpdateItem` on service items, and only of the attributes
 *   lambdas/contract/operator-access.ts lists (`dynamodb:Attributes`): the primary, the epoch, the
 *   lease, the needs-rejoin marks and the history stay out of reach of a person with the AWS CLI.
 *
 * Not included: `failover rejoin` (it clears a needs-rejoin mark and writes a history item, a
 * transaction on protected attributes): grant it separately to those who rebuild nodes.
 */
import { Arn, ArnFormat, type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import { Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PAUSE_ATTRIBUTES, SERVICE_PARTITION_KEY_PATTERN } from '../lambdas/contract/operator-access.ts';
import type { FailoverAutomation } from './failover-automation.ts';
import { route53ReadStatements } from './traffic-permissions.ts';

export interface OperatorPolicyProps {
  readonly automation: FailoverAutomation;
  /** The switchover / operator failover workflow. */
  readonly stateMachine: StateMachine;
}

/** The read-only actions the CLI uses on ELB; they support no resource-level permissions. */
const ELB_READS = [
  'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeRules',
];

export class OperatorPolicy extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { automation, stateMachine } = props;
    const table = automation.table.tableArn;
    const statements = [
      new PolicyStatement({
        sid: 'ReadStackOutputs',
        actions: ['cloudformation:DescribeStacks'],
        resources: [
          stack.formatArn({
            service: 'cloudformation',
            resource: 'stack',
            resourceName: `${stack.stackName}/*`,
          }),
        ],
      }),
      new PolicyStatement({
        sid: 'ReadState',
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [table],
      }),
      new PolicyStatement({
        sid: 'PauseAndResumeOnly',
        effect: Effect.ALLOW,
        actions: ['dynamodb:UpdateItem'],
        resources: [table],
        conditions: {
          // Every attribute the request names (key, update and condition expressions) is one of
          // these: the flag and who paused. Null=false: a request naming no attribute is no pause.
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...PAUSE_ATTRIBUTES] },
          Null: { 'dynamodb:Attributes': 'false' },
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [SERVICE_PARTITION_KEY_PATTERN] },
          // ALL_OLD / ALL_NEW would read back attributes outside the list.
          StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] },
        },
      }),
      new PolicyStatement({
        sid: 'ReadSignals',
        // No resource-level permissions for these reads.
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
      ...route53ReadStatements(automation.config).filter((s) =>
        s.actions.includes('route53:ListResourceRecordSets'),
      ),
      ...(automation.config.services.some((s) => s.router.type !== 'route53')
        ? [new PolicyStatement({ sid: 'ReadLoadBalancers', actions: ELB_READS, resources: ['*'] })]
        : []),
      new PolicyStatement({
        sid: 'StartWorkflow',
        actions: ['states:StartExecution'],
        resources: [stateMachine.stateMachineArn],
      }),
      new PolicyStatement({
        sid: 'FollowWorkflow',
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [
          Arn.format(
            {
              service: 'states',
              resource: 'execution',
              resourceName: `${stateMachine.stateMachineName}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      }),
      new PolicyStatement({
        sid: 'Announce',
        actions: ['sns:Publish'],
        resources: [automation.topic.topicArn],
      }),
      ...(automation.topic.masterKey
        ? [
            new PolicyStatement({
              sid: 'AnnounceEncrypted',
              actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
              resources: [automation.topic.masterKey.keyArn],
            }),
          ]
        : []),
    ];
    // cdk-nag names a finding by the resource as rendered: pseudo parameters while env-agnostic.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const machineId = stack.resolve(stack.getLogicalId(stateMachine.node.defaultChild as CfnElement));
    this.policy = new ManagedPolicy(this, 'Policy', {
      description:
        'Failover automation operators (npx failover): read state and signals, start the workflow, pause and resume; never write primary, epoch, lease or history',
      statements,
    });
    Validations.of(this.policy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'read actions without resource-level permissions only: cloudwatch:DescribeAlarms/GetMetricData and elasticloadbalancing:Describe*',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: "publishing the pause announcement to the KMS-encrypted topic, scoped to the topic's key",
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:${region}:${account}:stack/${stack.stackName}/*]`,
        reason: 'DescribeStacks of this stack: its id suffix is only known once it exists',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:<${machineId}.Name>:*]`,
        reason: "following the workflow's own executions, whose names the CLI picks when it starts them",
      },
    );
  }
}
