#!/usr/bin/env node
/**
 * The CDK app: one stack per configuration file.
 *
 *   cdk synth                                  # config/failover.json (cdk.json context)
 *   cdk synth -c config=path/to/other.json     # another configuration
 *   cdk deploy -c account=111122223333 -c region=eu-west-1
 *
 * Env-agnostic unless an account/region is given (context, or CDK_DEFAULT_ACCOUNT/REGION when
 * `-c useDefaultEnv=true`), so `cdk synth` works offline without credentials.
 */
import { ConfigValidationError } from '../lambdas/domain/errors.ts';
import { createFailoverApp, type FailoverAppOptions, loadAppConfig } from '../lib/app-config.ts';

const app = createFailoverApp();
const configPath = String(app.node.tryGetContext('config') ?? 'config/failover.json');
const useDefaultEnv = String(app.node.tryGetContext('useDefaultEnv') ?? 'false') === 'true';

const options: FailoverAppOptions = {
  configPath,
  account: app.node.tryGetContext('account') ?? (useDefaultEnv ? process.env.CDK_DEFAULT_ACCOUNT : undefined),
  region: app.node.tryGetContext('region') ?? (useDefaultEnv ? process.env.CDK_DEFAULT_REGION : undefined),
  credentialsAccount: process.env.CDK_DEFAULT_ACCOUNT,
  // Where `cdk deploy` would send the env-agnostic stack: its region checks run against it.
  defaultRegion: process.env.CDK_DEFAULT_REGION,
};

try {
  // A configuration that cannot work is reported before the construct libraries and cdk-nag load.
  loadAppConfig(options);
  const { buildFailoverApp } = await import('../lib/failover-app.ts');
  buildFailoverApp(app, options);
} catch (err) {
  if (err instanceof ConfigValidationError) {
    // One clean report of every problem; a stack trace would only bury it.
    process.stderr.write(`${configPath}: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

// cdk-nag (AwsSolutions) runs on this configuration at synth: see lib/failover-app.ts.
app.synth();
