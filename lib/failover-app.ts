/**
 * What `bin/app.ts` builds, as a function the tests can call: the stack from one configuration
 * file, with cdk-nag's AwsSolutions checks applied to the user's own configuration, so a finding
 * nobody acknowledged with a reason fails `cdk synth` (not only the tests' sample configurations).
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from './config-loader.ts';
import { FailoverStack } from './failover-stack.ts';

export interface FailoverAppOptions {
  /** Path of the configuration file. */
  readonly configPath: string;
  /** @default - env-agnostic */
  readonly account?: string;
  /** @default - env-agnostic */
  readonly region?: string;
  /**
   * The region `cdk deploy` sends an env-agnostic stack to (CDK_DEFAULT_REGION): region-bound
   * settings are checked against it when `region` is not given.
   * @default - not checked without `region`
   */
  readonly defaultRegion?: string;
  /**
   * The account the CLI's credentials name (CDK_DEFAULT_ACCOUNT): hook and subscriber ARNs are
   * checked against it when the stack has no account of its own.
   * @default - the stack's account, else the load balancer ARNs' account
   */
  readonly credentialsAccount?: string;
}

/**
 * The app `bin/app.ts` synthesizes. No tree.json: it would repeat every resource's properties,
 * subscriber endpoints (a webhook URL's token) included, in one more file of the cloud assembly.
 */
export function createFailoverApp(props: AppProps = {}): App {
  return new App({ treeMetadata: false, ...props });
}

/** Adds the stack to `app`; throws ConfigValidationError listing every configuration problem. */
export function buildFailoverApp(app: App, options: FailoverAppOptions): FailoverStack {
  const { account, region } = options;
  const config = loadConfigFile(options.configPath, {
    region: region ?? options.defaultRegion,
    regionSource: region ? 'context' : 'default',
  });
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
