/**
 * The deployable stack: one FailoverAutomation (and the switchover workflow) per configuration.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { configHash } from '../lambdas/contract/config-hash.ts';
import { STACK_OUTPUTS } from '../lambdas/contract/stack-outputs.ts';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { AutomationMonitoring, type AutomationMonitoringProps } from './automation-monitoring.ts';
import { FailoverAutomation, type FailoverAutomationProps } from './failover-automation.ts';
import { OperatorPolicy } from './operator-policy.ts';
import { SwitchoverWorkflow } from './switchover-workflow.ts';

export interface FailoverStackProps extends StackProps {
  /** The validated configuration. */
  readonly config: FailoverConfig;
  /**
   * Options for the automation construct (shards, retention, keys).
   * @default - the construct's defaults
   */
  readonly automationOptions?: Omit<FailoverAutomationProps, 'config'>;
  /**
   * Options for the dashboards and the alarms on the automation (shards, dashboard names).
   * @default - the construct's defaults
   */
  readonly monitoringOptions?: Omit<AutomationMonitoringProps, 'automation' | 'workflow'>;
}

export class FailoverStack extends Stack {
  readonly automation: FailoverAutomation;
  /** Switchover and operator failover (Step Functions). */
  readonly workflow: SwitchoverWorkflow;
  /** Dashboards and alarms on the automation itself. */
  readonly monitoring: AutomationMonitoring;
  /** What operators running `npx failover` need (stack output `OperatorPolicyArn`). */
  readonly operatorPolicy: OperatorPolicy;

  constructor(scope: Construct, id: string, props: FailoverStackProps) {
    super(scope, id, props);
    this.automation = new FailoverAutomation(this, 'Automation', {
      ...props.automationOptions,
      config: props.config,
    });

    // --- Switchover / operator failover workflow (engineer D) -----------------------------------
    this.workflow = new SwitchoverWorkflow(this, 'Workflow', { automation: this.automation });
    // ---------------------------------------------------------------------------------------------

    // --- Monitoring of the automation and the operator CLI's stack outputs (engineer F) ----------
    this.operatorPolicy = new OperatorPolicy(this, 'Operators', {
      automation: this.automation,
      stateMachine: this.workflow.stateMachine,
    });
    this.monitoring = new AutomationMonitoring(this, 'Monitoring', {
      ...props.monitoringOptions,
      automation: this.automation,
      workflow: this.workflow,
    });
    const outputs: Record<keyof typeof STACK_OUTPUTS, { value: string; description: string }> = {
      tableName: {
        value: this.automation.table.tableName,
        description: 'State table (epochs, leases, history)',
      },
      stateMachineArn: {
        value: this.workflow.stateMachine.stateMachineArn,
        description: 'Switchover / operator failover workflow',
      },
      topicArn: { value: this.automation.topic.topicArn, description: 'Notification topic' },
      dashboardName: { value: this.monitoring.overviewDashboardName, description: 'Overview dashboard' },
      operatorPolicyArn: {
        value: this.operatorPolicy.policy.managedPolicyArn,
        description:
          'Managed policy for operators (npx failover): read, start the workflow, pause/resume; never primary, epoch, lease or history',
      },
      configHash: {
        value: configHash(this.automation.config),
        description: 'Hash of the deployed configuration: the CLI refuses to act with a different one',
      },
    };
    // `npx failover` reads these by key (DescribeStacks), so the keys are fixed, not generated.
    for (const [name, { value, description }] of Object.entries(outputs)) {
      new CfnOutput(this, STACK_OUTPUTS[name as keyof typeof STACK_OUTPUTS], { value, description });
    }
    // ---------------------------------------------------------------------------------------------
  }
}
