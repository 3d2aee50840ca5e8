/**
 * Least-privilege IAM for the node actions, derived from the validated configuration: every write
 * action is scoped to the resources the actions name (instances, documents, DB instances,
 * functions, secrets). The only `Resource: '*'` statement holds reads that IAM cannot scope
 * (ec2:DescribeInstances, ssm:GetCommandInvocation).
 *
 * One exception, stated: `ec2-isolate` restores groups only known at run time (the ones it
 * replaced), and ModifyInstanceAttribute checks the security groups too, so those are allowed as
 * `security-group/*` of this account and Region; the same statement still needs one of the
 * configured instances, so no other instance can be touched.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { Effect, Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { nodeInstanceIds, serviceNodeActions, sqlConnectionOf } from '../lambdas/domain/action-config.ts';
import type { FailoverConfig } from '../lambdas/domain/config.ts';

const AWS_DOCUMENTS = /^AWS-/;

function instanceArn(id: string): string {
  return `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:instance/${id}`;
}

function documentArn(name: string): string {
  if (name.startsWith('arn:')) return name;
  // AWS-owned documents have no account in their ARN.
  return AWS_DOCUMENTS.test(name)
    ? `arn:${Aws.PARTITION}:ssm:${Aws.REGION}::document/${name}`
    : `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:document/${name}`;
}

/** A secret ARN without its random suffix matches the secret only with `-??????` appended. */
function secretArn(arn: string): string {
  return /-[A-Za-z0-9]{6}$/.test(arn) ? arn : `${arn}-??????`;
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** The statements the configured actions need; empty when the configuration has none. */
export function nodeActionStatements(config: FailoverConfig): PolicyStatement[] {
  const functions = new Set<string>();
  const documents = new Set<string>();
  const ssmInstances = new Set<string>();
  const stopInstances = new Set<string>();
  const isolateInstances = new Set<string>();
  const dbInstances = new Set<string>();
  const secrets = new Set<string>();
  for (const service of config.services) {
    for (const { node, action } of serviceNodeActions(service)) {
      switch (action.type) {
        case 'lambda':
          functions.add(action.functionArn);
          break;
        case 'ssm-command':
          documents.add(documentArn(action.document));
          for (const id of nodeInstanceIds(node)) ssmInstances.add(instanceArn(id));
          break;
        case 'ec2-stop':
          for (const id of nodeInstanceIds(node)) stopInstances.add(instanceArn(id));
          break;
        case 'ec2-isolate':
          for (const id of nodeInstanceIds(node)) isolateInstances.add(instanceArn(id));
          break;
        case 'rds-promote-read-replica':
          dbInstances.add(
            `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:${node.dbInstanceIdentifier}`,
          );
          break;
        case 'postgres':
        case 'mysql':
          {
            const connection = sqlConnectionOf(node, action.type);
            if (connection) secrets.add(secretArn(connection.secretArn));
          }
          break;
      }
    }
  }
  const statements: PolicyStatement[] = [];
  const allow = (
    sid: string,
    actions: string[],
    resources: Iterable<string>,
    conditions?: Record<string, unknown>,
  ) => {
    const list = sorted(resources);
    if (list.length === 0) return;
    statements.push(
      new PolicyStatement({
        sid,
        effect: Effect.ALLOW,
        actions,
        resources: list,
        ...(conditions ? { conditions } : {}),
      }),
    );
  };
  allow('NodeActionInvokeFunctions', ['lambda:InvokeFunction'], functions);
  if (documents.size > 0) {
    // SendCommand is authorized against the document AND every target instance.
    allow('NodeActionSsmSendCommand', ['ssm:SendCommand'], [...documents, ...ssmInstances]);
  }
  allow('NodeActionEc2StopStart', ['ec2:StopInstances', 'ec2:StartInstances'], stopInstances);
  allow('NodeActionEc2Isolate', ['ec2:ModifyInstanceAttribute'], isolateInstances);
  if (isolateInstances.size > 0) {
    allow(
      'NodeActionEc2IsolateGroups',
      ['ec2:ModifyInstanceAttribute'],
      [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:security-group/*`],
    );
  }
  // The fencing-token and isolated-from tags, on the configured instances and nothing else.
  allow('NodeActionEc2Tags', ['ec2:CreateTags', 'ec2:DeleteTags'], [...stopInstances, ...isolateInstances], {
    'ForAllValues:StringLike': { 'aws:TagKeys': ['failover:*'] },
  });
  allow('NodeActionRdsPromote', ['rds:PromoteReadReplica', 'rds:DescribeDBInstances'], dbInstances);
  allow('NodeActionSecrets', ['secretsmanager:GetSecretValue'], secrets);
  const reads = [
    ...(stopInstances.size + isolateInstances.size > 0 ? ['ec2:DescribeInstances'] : []),
    ...(documents.size > 0 ? ['ssm:GetCommandInvocation'] : []),
  ];
  if (reads.length > 0) {
    statements.push(
      new PolicyStatement({ sid: 'NodeActionReads', effect: Effect.ALLOW, actions: reads, resources: ['*'] }),
    );
  }
  return statements;
}

/** Whether the configuration has any node action the given function would run. */
export function hasNodeActions(config: FailoverConfig): boolean {
  return config.services.some((s) => serviceNodeActions(s).length > 0);
}

/**
 * Grants `grantee` what running the configured actions needs, and acknowledges the cdk-nag
 * findings this deliberately raises on `scope` (the grantee's role), each with its reason.
 */
export function grantNodeActions(grantee: IGrantable, config: FailoverConfig, scope?: Construct): Grant {
  let grant: Grant | undefined;
  for (const statement of nodeActionStatements(config)) {
    const g = Grant.addToPrincipal({
      grantee,
      actions: [...statement.actions],
      resourceArns: ([] as string[]).concat(statement.resources),
      ...(statement.conditions && Object.keys(statement.conditions).length > 0
        ? { conditions: statement.conditions }
        : {}),
    });
    grant = grant ? grant.combine(g) : g;
  }
  if (scope) {
    const findings = [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'read actions that support no resource-level permissions only: ec2:DescribeInstances, ssm:GetCommandInvocation',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*]',
        reason:
          'ec2-isolate restores the security groups it replaced, known only at run time; the same call needs one of the configured instances',
      },
    ];
    Validations.of(scope).acknowledge(...findings);
  }
  return grant ?? Grant.drop(grantee, 'no node actions configured');
}
