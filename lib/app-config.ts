/**
 * The light half of what `bin/app.ts` builds: the app and the configuration it synthesizes, without
 * aws-cdk-lib's construct libraries or cdk-nag, so a configuration that cannot be synthesized is
 * reported before they load (lib/failover-app.ts builds the stack).
 */
import { App, type AppProps } from 'aws-cdk-lib';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { loadConfigFile } from './config-loader.ts';

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

/** The configuration file, validated with the region checks `options` call for; throws ConfigValidationError. */
export function loadAppConfig(options: FailoverAppOptions): FailoverConfig {
  return loadConfigFile(options.configPath, {
    region: options.region ?? options.defaultRegion,
    regionSource: options.region ? 'context' : 'default',
  });
}
