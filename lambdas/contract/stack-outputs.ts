/**
 * The CloudFormation outputs the stack publishes for the operator CLI (and for scripts): the CLI
 * reads them with DescribeStacks on the configuration's stackName, so an operator needs nothing
 * but the configuration file. Shared by lib/failover-stack.ts (writes) and lambdas/cli (reads).
 */
export const STACK_OUTPUTS = {
  tableName: 'StateTableName',
  stateMachineArn: 'StateMachineArn',
  topicArn: 'TopicArn',
  dashboardName: 'DashboardName',
  /** lambdas/contract/config-hash.ts of the deployed configuration: the CLI refuses to act on another. */
  configHash: 'ConfigHash',
  /** The operator managed policy (lib/operator-policy.ts): attach it to the operators' role. */
  operatorPolicyArn: 'OperatorPolicyArn',
} as const;

export type StackOutputName = keyof typeof STACK_OUTPUTS;
