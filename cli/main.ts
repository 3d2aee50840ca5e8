/**
 * The operator CLI's entry: parse the command line, load the configuration, build the services,
 * run one command, and turn the outcome into an exit status:
 *   0 ok; 1 the operation failed (AWS error, failed execution, notification not sent);
 *   2 usage error (unknown command, flag, service or node, missing argument, bad configuration).
 * Everything it touches is injected (`CliDeps`), so tests run it without AWS.
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { describeAwsError } from '../lambdas/aws/errors.ts';
import { configHash } from '../lambdas/contract/config-hash.ts';
import { type FailoverConfig, findService } from '../lambdas/domain/config.ts';
import {
  ConfigValidationError,
  FailoverError,
  UnknownServiceError,
  UsageError,
} from '../lambdas/domain/errors.ts';
import type { Clock } from '../lambdas/domain/ports.ts';
import { readConfigFile } from '../lambdas/runtime/config.ts';
import { type GlobalOptions, HELP, parseCommandLine } from './args.ts';
import { runCheck } from './check.ts';
import type { CommandContext } from './context.ts';
import { runCost } from './cost.ts';
import { endpointWarning } from './endpoint.ts';
import { type CliIo, Output } from './output.ts';
import { awsServices, type CliServices } from './services.ts';
import { runHistory, runPause, runRejoinCommand } from './state-commands.ts';
import { runStatus } from './status.ts';
import { runWorkflowCommand } from './workflow.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliDeps {
  readonly io: CliIo;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** `user@host`: recorded as the actor and in default reasons. */
  readonly actor: string;
  /** Reads and validates the configuration file. @default readConfigFile */
  readonly readConfig?: (path: string) => FailoverConfig;
  /** Builds the ports and clients. @default awsServices (SDK clients, stack outputs) */
  readonly services?: (config: FailoverConfig, globals: GlobalOptions) => CliServices;
  /** @default 2000 */
  readonly pollIntervalMs?: number;
  /** The environment (AWS_ENDPOINT_URL). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  // Known before parsing, so that even a usage error answers in JSON when JSON was asked for.
  const wantsJson = argv.includes('--json');
  let out = new Output(deps.io, wantsJson);
  let command: string | undefined;
  try {
    const { command: cmd, globals } = parseCommandLine(argv);
    out = new Output(deps.io, globals.json);
    if (cmd.name === 'help') {
      deps.io.stdout(`${HELP[cmd.topic ?? 'main']}\n`);
      return EXIT_OK;
    }
    command = cmd.name;
    const env = deps.env ?? process.env;
    const warning = globals.endpointUrl
      ? endpointWarning(globals.endpointUrl, '--endpoint-url')
      : endpointWarning(env.AWS_ENDPOINT_URL, 'AWS_ENDPOINT_URL');
    if (warning) deps.io.stderr(`${warning}\n`);
    const config = loadConfig(deps, globals.configFile, cmd.name);
    if (cmd.name === 'cost') return runCost(config, out);
    const ctx: CommandContext = {
      config,
      globals,
      services: (deps.services ?? awsServices)(config, globals),
      clock: deps.clock,
      sleep: deps.sleep,
      actor: deps.actor,
      out,
      pollIntervalMs: deps.pollIntervalMs ?? 2000,
    };
    // An unknown service is reported as such by the command itself, before any AWS call.
    if (
      cmd.name !== 'status' &&
      cmd.name !== 'check' &&
      cmd.name !== 'history' &&
      findService(config, cmd.serviceId)
    )
      await checkConfigDrift(ctx, deps.io);
    switch (cmd.name) {
      case 'status':
        return await runStatus(ctx, cmd.serviceId);
      case 'check':
        return await runCheck(ctx, cmd.serviceId);
      case 'switchover':
      case 'failover':
        return await runWorkflowCommand(ctx, cmd);
      case 'pause':
      case 'resume':
        return await runPause(ctx, cmd);
      case 'history':
        return await runHistory(ctx, cmd);
      case 'rejoin':
        return await runRejoinCommand(ctx, cmd);
    }
  } catch (err) {
    return reportError(out, deps.io, err, command);
  }
}

/**
 * Commands that change something refuse to run with a configuration other than the deployed one:
 * a stale file names another primary, other nodes or hooks, and acting on it (or seeding state from
 * it) would contradict what the Lambdas do. `--allow-config-drift` overrides, and says so.
 */
async function checkConfigDrift(ctx: CommandContext, io: CliIo): Promise<void> {
  const deployedHash = ctx.services.deployedConfigHash;
  if (!deployedHash) return;
  let deployed: string;
  try {
    deployed = await deployedHash();
  } catch (err) {
    if (ctx.globals.allowConfigDrift) {
      io.stderr(
        `warning: --allow-config-drift: the deployed configuration was not checked (${describeAwsError(err).message})\n`,
      );
      return;
    }
    throw new UsageError(
      `cannot check that ${ctx.globals.configFile} is the deployed configuration (${describeAwsError(err).message}); pass --allow-config-drift to act anyway`,
    );
  }
  const local = configHash(ctx.config);
  if (deployed === local) return;
  if (ctx.globals.allowConfigDrift) {
    io.stderr(
      `warning: --allow-config-drift: acting with ${ctx.globals.configFile} (${local}), which is not the deployed configuration (${deployed})\n`,
    );
    return;
  }
  throw new UsageError(
    `${ctx.globals.configFile} is not the deployed configuration (local ${local}, stack output ConfigHash ${deployed}): deploy it, use the deployed file, or pass --allow-config-drift to act anyway`,
  );
}

function loadConfig(deps: CliDeps, file: string, command: string): FailoverConfig {
  try {
    return (deps.readConfig ?? readConfigFile)(resolve(file));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Which file: the default one may not be the file the operator thinks they are using.
    throw new UsageError(
      err instanceof ConfigValidationError
        ? `${resolve(file)}: ${message}`
        : `${message} (pass --config <file>)`,
      command,
    );
  }
}

function reportError(out: Output, io: CliIo, err: unknown, command: string | undefined): number {
  let exitCode: number;
  let name: string;
  let message: string;
  let hint: string | undefined;
  if (err instanceof UsageError) {
    exitCode = EXIT_USAGE;
    name = err.name;
    message = err.message;
    const topic = err.command ?? command;
    hint = topic ? `run 'failover ${topic} --help' for its usage` : `run 'failover --help' for the commands`;
  } else if (err instanceof UnknownServiceError) {
    exitCode = EXIT_USAGE;
    name = err.name;
    message = err.message;
    hint = "run 'failover status' to list the configured services";
  } else {
    exitCode = EXIT_FAILED;
    ({ errorName: name, message } = describeAwsError(err));
    hint = awsHint(name, message);
  }
  out.result({ error: name, message, ...(hint ? { hint } : {}), exitCode });
  // An AWS error's code helps a search; our own errors' class names (FailoverError) say nothing more.
  const code =
    exitCode === EXIT_FAILED && name !== 'Error' && !(err instanceof FailoverError) ? ` (${name})` : '';
  io.stderr(`error: ${message}${code}\n`);
  if (hint) io.stderr(`${hint}\n`);
  return exitCode;
}

/** What to do about the AWS answers an operator meets first (no region, nothing deployed yet). */
function awsHint(name: string, message: string): string | undefined {
  if (/region is missing/i.test(message))
    return 'no AWS region: set AWS_REGION (or a region in your AWS profile), or pass --region <region>';
  if (name === 'StateMachineDoesNotExist')
    return "the workflow's state machine (stack output StateMachineArn, or --state-machine-arn) does not exist in this account and region: deploy the stack, check --stack-name and --region; --dry-run also needs the deployed workflow";
  if (name === 'ResourceNotFoundException' && /requested resource not found/i.test(message))
    return 'the state table (stack output TableName, or --table-name) does not exist in this account and region: deploy the stack, check --stack-name and --region';
  return undefined;
}

/** The real process: stdout/stderr, the wall clock, `user@host`. */
export function processCliDeps(): CliDeps {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return {
    io: {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    },
    clock: { now: () => Date.now() },
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
    actor: `${user}@${hostname()}`,
  };
}
