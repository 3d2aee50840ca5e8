/**
 * What `bin/app.ts` builds, as a function the tests can call: the stack from one configuration
 * file, with cdk-nag's AwsSolutions checks applied to the user's own configuration, so a finding
 * nobody acknowledged with a reason fails `cdk synth` (not only the tests' sample configurations).
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type FailoverAppOptions, loadAppConfig } from './app-config.ts';
import { FailoverStack } from './failover-stack.ts';

export { createFailoverApp, type FailoverAppOptions } from './app-config.ts';

/** Adds the stack to `app`; throws ConfigValidationError listing every configuration problem. */
export function buildFailoverApp(app: App, options: FailoverAppOptions): FailoverStack {
  const { account, region } = options;
  const config = loadAppConfig(options);
  const stack = new FailoverStack(app, 'FailoverStack', {
    stackName: config.stackName,
    config,
    ...(account || region ? { env: { account, region } } : {}),
    automationOptions: { expectedAccountId: account ?? options.credentialsAccount },
    description: `Failover automation for ${config.services.length} service(s)`,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
