/**
 * The deployable stack: one FailoverAutomation (and the switchover workflow) per configuration.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { FailoverAutomation, type FailoverAutomationProps } from './failover-automation.ts';
import { SwitchoverWorkflow } from './switchover-workflow.ts';

export interface FailoverStackProps extends StackProps {
  /** The validated configuration. */
  readonly config: FailoverConfig;
  /**
   * Options for the automation construct (shards, retention, keys).
   * @default - the construct's defaults
   */
  readonly automationOptions?: Omit<FailoverAutomationProps, 'config'>;
}

export class FailoverStack extends Stack {
  readonly automation: FailoverAutomation;
  /** Switchover and operator failover (Step Functions). */
  readonly workflow: SwitchoverWorkflow;

  constructor(scope: Construct, id: string, props: FailoverStackProps) {
    super(scope, id, props);
    this.automation = new FailoverAutomation(this, 'Automation', {
      ...props.automationOptions,
      config: props.config,
    });

    // --- Switchover / operator failover workflow (engineer D) -----------------------------------
    this.workflow = new SwitchoverWorkflow(this, 'Workflow', { automation: this.automation });
    // ---------------------------------------------------------------------------------------------
  }
}
