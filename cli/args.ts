/**
 * The operator CLI's command line: commands, their flags, and the help texts. Parsing is strict
 * (node:util parseArgs): an unknown flag, a missing argument or a bad number is a UsageError
 * (exit status 2) that names the problem and the command whose --help to read.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../lambdas/domain/errors.ts';

export const COMMANDS = [
  'status',
  'check',
  'switchover',
  'failover',
  'pause',
  'resume',
  'history',
  'rejoin',
  'cost',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export const DEFAULT_CONFIG_FILE = 'config/failover.json';
export const DEFAULT_HISTORY_LIMIT = 10;
export const MAX_HISTORY_LIMIT = 1000;
/** Long enough for a catch-up timeout (at most 3600 s) plus hooks and verification. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 7200;

/** Options every command takes. */
export interface GlobalOptions {
  readonly configFile: string;
  /** --endpoint-url, else AWS_ENDPOINT_URL (read by the SDK itself). */
  readonly endpointUrl?: string;
  readonly region?: string;
  readonly json: boolean;
  /** Act although the local configuration differs from the deployed one (ConfigHash output). */
  readonly allowConfigDrift?: boolean;
  /** Overrides the stack outputs. */
  readonly stackName?: string;
  readonly tableName?: string;
  readonly stateMachineArn?: string;
  readonly topicArn?: string;
}

export interface WorkflowCommandOptions {
  readonly serviceId: string;
  readonly to?: string;
  readonly wait: boolean;
  readonly waitTimeoutSeconds: number;
  readonly dryRun: boolean;
  readonly reason?: string;
  readonly requestId?: string;
  /** The epoch the operator saw (`failover status`): refused if the service changed since. */
  readonly expectedEpoch?: number;
}

export type Command =
  | { readonly name: 'help'; readonly topic?: CommandName }
  | { readonly name: 'status'; readonly serviceId?: string }
  | { readonly name: 'check'; readonly serviceId?: string }
  | ({ readonly name: 'switchover' } & WorkflowCommandOptions)
  | ({ readonly name: 'failover'; readonly force: boolean } & WorkflowCommandOptions)
  | { readonly name: 'pause' | 'resume'; readonly serviceId: string; readonly reason?: string }
  | { readonly name: 'history'; readonly serviceId: string; readonly limit: number }
  | { readonly name: 'cost' }
  | {
      readonly name: 'rejoin';
      readonly serviceId: string;
      readonly nodeId: string;
      readonly reason?: string;
    };

export interface ParsedCommandLine {
  readonly command: Command;
  readonly globals: GlobalOptions;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string };

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string' },
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  'allow-config-drift': { type: 'boolean' },
  'stack-name': { type: 'string' },
  'table-name': { type: 'string' },
  'state-machine-arn': { type: 'string' },
  'topic-arn': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const WORKFLOW_OPTIONS: Record<string, OptionSpec> = {
  to: { type: 'string' },
  wait: { type: 'boolean' },
  'wait-timeout': { type: 'string' },
  'dry-run': { type: 'boolean' },
  reason: { type: 'string' },
  'request-id': { type: 'string' },
  'expected-epoch': { type: 'string' },
};

const COMMAND_OPTIONS: Record<CommandName, Record<string, OptionSpec>> = {
  status: {},
  check: {},
  switchover: WORKFLOW_OPTIONS,
  failover: { ...WORKFLOW_OPTIONS, force: { type: 'boolean' } },
  pause: { reason: { type: 'string' } },
  resume: { reason: { type: 'string' } },
  history: { limit: { type: 'string' } },
  rejoin: { reason: { type: 'string' } },
  cost: {},
};

const GLOBAL_HELP = `Global options:
  --config <file>            configuration file (default ${DEFAULT_CONFIG_FILE})
  --region <region>          AWS Region (default: AWS_REGION / the profile's region)
  --endpoint-url <url>       send every AWS call there (default: AWS_ENDPOINT_URL), e.g. moto_server
  --stack-name <name>        stack whose outputs name the table, topic and state machine
                             (default: the configuration's stackName)
  --table-name <name>        state table (default: stack output StateTableName)
  --state-machine-arn <arn>  workflow (default: stack output StateMachineArn)
  --topic-arn <arn>          notification topic (default: stack output TopicArn)
  --json                     machine-readable output on stdout (progress goes to stderr)
  --allow-config-drift       act although the configuration differs from the deployed one
                             (stack output ConfigHash); says so on stderr
  -h, --help                 show help

Exit status: 0 ok, 1 the operation failed, 2 usage error (unknown service, bad flag, missing argument).`;

export const HELP: Record<CommandName | 'main', string> = {
  main: `Usage: failover <command> [options]

Operate the failover automation: see who is primary, switch over, fail over, pause.

Commands:
  status [service]                          primary, epoch, health, lag vs budget, lease, last change
  check [service]                           would a failover work now? readiness against the live account
  switchover <service> [--to node] [--wait] planned role change: fence, wait for lag 0, promote, shift
  failover <service> [--to node] [--force] [--wait]
                                            operator failover when the primary is down
  pause <service>                           stop automatic failover for a service
  resume <service>                          allow automatic failover again
  history <service> [--limit n]             role changes, newest first
  rejoin <service> <node>                   record that a former primary rejoined as a replica
  cost                                      monthly cost of the stack for the configuration (offline)

Run 'failover <command> --help' for a command's options.

${GLOBAL_HELP}`,
  status: `Usage: failover status [service] [options]

Shows, per service (all of them without an argument): the recorded primary and epoch, where
traffic points, each node's health alarm and replication lag against the budget, whether
automatic failover is paused, the lease, the last role change, and what automatic failover would
do if the primary failed now.

${GLOBAL_HELP}`,
  check: `Usage: failover check [service] [options]

Checks, per service (all of them without an argument), everything a failover will need against
the live account: the record holds exactly the value and TTL the compare-and-swap deletes (or the
target group / listener points at exactly one node), the state table agrees with where traffic
points, every health alarm exists and has data, every replica's lag is fresh, the automatic
decision would promote someone if the primary failed now, and every node action's resources
exist. Route 53 is read with one paced walk per hosted zone (about 1 request/s).

Exit status: 0 every service is ready, 1 a service is not ready (or could not be checked),
2 usage error.

${GLOBAL_HELP}`,
  switchover: `Usage: failover switchover <service> [--to node] [--wait] [options]

Starts the switchover workflow: both nodes healthy, the primary is fenced, the replica must reach
lag 0, then it is promoted, traffic moves, the change is verified and recorded. Any failure rolls
back. The execution name is derived from the request, so running the same command again reports
the existing execution instead of starting a second switchover.

Options:
  --to <node>             node to promote (default: the healthy replica with the least lag)
  --wait                  follow the execution until it ends, printing each step
  --wait-timeout <s>      stop following after this many seconds (default ${DEFAULT_WAIT_TIMEOUT_SECONDS})
  --reason <text>         why (history, notifications; not part of the execution name)
                          (default: "switchover requested by <user> with the failover CLI")
  --request-id <id>       makes a new request of an otherwise identical one, e.g. to retry one
                          that rolled back (letters, digits, - and _)
  --expected-epoch <n>    the epoch failover status showed: refused if the service changed since
                          (an automatic failover got there first)
  --dry-run               check the preconditions and report the plan; change nothing

${GLOBAL_HELP}`,
  failover: `Usage: failover failover <service> [--to node] [--force] [--wait] [options]

Starts an operator failover through the workflow, for when the primary is down and automation held
back (lagging replica, paused). It waits up to the catch-up timeout for a replica whose lag is
within budget; --force accepts a lag over budget (or unknown) and records the data-loss bound.
Health is never forced: the promoted node must be healthy.

Options:
  --to <node>             node to promote (default: the healthy replica with the least lag)
  --force                 accept replication lag over the budget; the bound is recorded
  --wait                  follow the execution until it ends, printing each step
  --wait-timeout <s>      stop following after this many seconds (default ${DEFAULT_WAIT_TIMEOUT_SECONDS})
  --reason <text>         why (default: "failover requested by <user> with the failover CLI")
  --request-id <id>       makes a new request of an otherwise identical one, e.g. to retry one
                          that rolled back (letters, digits, - and _)
  --expected-epoch <n>    the epoch failover status showed: refused if the service changed since
  --dry-run               check the preconditions and report the plan; change nothing

${GLOBAL_HELP}`,
  pause: `Usage: failover pause <service> [--reason text] [options]

Stops automatic failover for the service (switchover and operator failover still work) and
announces it on the notification topic.

Options:
  --reason <text>         why (default: "paused by <user> with the failover CLI")

${GLOBAL_HELP}`,
  resume: `Usage: failover resume <service> [--reason text] [options]

Allows automatic failover for the service again and announces it on the notification topic.

Options:
  --reason <text>         why (default: "resumed by <user> with the failover CLI")

${GLOBAL_HELP}`,
  history: `Usage: failover history <service> [--limit n] [options]

Role changes of the service, newest first, from the state table.

Options:
  --limit <n>             how many entries (1-${MAX_HISTORY_LIMIT}, default ${DEFAULT_HISTORY_LIMIT})

${GLOBAL_HELP}`,
  rejoin: `Usage: failover rejoin <service> <node> [--reason text] [options]

Records that a former primary (marked needs-rejoin by an automatic failover) has been made a
replica of the current primary by hand, so it can be a candidate again. Recorded in the history.

Options:
  --reason <text>         what was done (default: "rejoined by <user> with the failover CLI")

${GLOBAL_HELP}`,
  cost: `Usage: failover cost [--config file] [--json]

Prints what the stack deployed from the configuration costs a month without incidents: health
checks, alarms (standard and high resolution, composite), dashboards and their Logs Insights
widgets, the KMS key, DynamoDB point-in-time recovery, the probe's and the readiness check's
Lambdas, metrics and API calls, at AWS's us-east-1 list prices (see docs/cost.md for the prices,
their date and the assumptions). Reads only the configuration file: no AWS call, no credentials
needed.

${GLOBAL_HELP}`,
};

const isCommand = (s: string | undefined): s is CommandName =>
  s !== undefined && (COMMANDS as readonly string[]).includes(s);

/** Parses `argv` (without node and the script). Throws UsageError. */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  // First pass, lenient: find the command among the positionals, knowing which flags take values.
  const allOptions = {
    ...GLOBAL_OPTIONS,
    ...Object.assign({}, ...Object.values(COMMAND_OPTIONS)),
  } as Record<string, OptionSpec>;
  const loose = parseArgs({ args: [...argv], options: allOptions, strict: false, allowPositionals: true });
  const [first, ...rest] = loose.positionals;

  if (first === undefined) {
    if (loose.values.help === true) return { command: { name: 'help' }, globals: globalsOf({}) };
    throw new UsageError('missing command');
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command: ${topic}`);
    return { command: topic ? { name: 'help', topic } : { name: 'help' }, globals: globalsOf({}) };
  }
  if (!isCommand(first)) throw new UsageError(`unknown command: ${first}`);
  const name = first;

  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[name] },
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (err) {
    throw new UsageError(parseArgsMessage(err), name);
  }
  const values = parsed.values;
  const globals = globalsOf(values, name);
  if (values.help === true) return { command: { name: 'help', topic: name }, globals };
  const args = parsed.positionals.slice(1);

  const service = (required: boolean): string | undefined => {
    const [serviceId, ...extra] = args;
    if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`, name);
    if (required && serviceId === undefined) throw new UsageError('missing argument <service>', name);
    if (serviceId !== undefined && serviceId.trim() === '')
      throw new UsageError('<service> must not be empty', name);
    return serviceId;
  };
  const text = (key: string): string | undefined => {
    const v = values[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${key} needs a value`, name);
    return v;
  };

  switch (name) {
    case 'status':
    case 'check': {
      const serviceId = service(false);
      return { command: serviceId === undefined ? { name } : { name, serviceId }, globals };
    }
    case 'history':
      return {
        command: {
          name,
          serviceId: service(true) as string,
          limit: integer(text('limit'), 'limit', 1, MAX_HISTORY_LIMIT, DEFAULT_HISTORY_LIMIT, name),
        },
        globals,
      };
    case 'cost':
      if (args.length > 0) throw new UsageError(`unexpected argument: ${args[0]}`, name);
      return { command: { name }, globals };
    case 'rejoin': {
      const [serviceId, nodeId, ...extra] = args;
      if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`, name);
      if (!serviceId?.trim() || !nodeId?.trim())
        throw new UsageError('missing argument <service> <node>', name);
      const reason = text('reason');
      return { command: { name, serviceId, nodeId, ...(reason !== undefined ? { reason } : {}) }, globals };
    }
    case 'pause':
    case 'resume': {
      const reason = text('reason');
      return {
        command: { name, serviceId: service(true) as string, ...(reason !== undefined ? { reason } : {}) },
        globals,
      };
    }
    case 'switchover':
    case 'failover': {
      const to = text('to');
      const reason = text('reason');
      const requestId = text('request-id');
      const expected = text('expected-epoch');
      const options: WorkflowCommandOptions = {
        serviceId: service(true) as string,
        ...(to !== undefined ? { to } : {}),
        wait: values.wait === true,
        waitTimeoutSeconds: integer(
          text('wait-timeout'),
          'wait-timeout',
          1,
          86_400,
          DEFAULT_WAIT_TIMEOUT_SECONDS,
          name,
        ),
        dryRun: values['dry-run'] === true,
        ...(reason !== undefined ? { reason } : {}),
        ...(requestId !== undefined ? { requestId } : {}),
        ...(expected !== undefined
          ? { expectedEpoch: integer(expected, 'expected-epoch', 0, 2_147_483_647, 0, name) }
          : {}),
      };
      if (values['wait-timeout'] !== undefined && !options.wait) {
        throw new UsageError('--wait-timeout needs --wait', name);
      }
      return {
        command:
          name === 'failover' ? { name, force: values.force === true, ...options } : { name, ...options },
        globals,
      };
    }
  }
}

function globalsOf(values: Record<string, string | boolean | undefined>, command?: string): GlobalOptions {
  const str = (key: string): string | undefined => {
    const v = values[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${key} needs a value`, command);
    return v;
  };
  const endpointUrl = str('endpoint-url');
  if (endpointUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(endpointUrl)) {
    throw new UsageError(`--endpoint-url must be an http(s) URL, got: ${endpointUrl}`, command);
  }
  const optional = {
    endpointUrl,
    region: str('region'),
    stackName: str('stack-name'),
    tableName: str('table-name'),
    stateMachineArn: str('state-machine-arn'),
    topicArn: str('topic-arn'),
  };
  return {
    configFile: str('config') ?? DEFAULT_CONFIG_FILE,
    json: values.json === true,
    ...(values['allow-config-drift'] === true ? { allowConfigDrift: true } : {}),
    ...(Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as Partial<
      Record<keyof typeof optional, string>
    >),
  };
}

function integer(
  raw: string | undefined,
  flag: string,
  min: number,
  max: number,
  fallback: number,
  command: string,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${flag} must be an integer between ${min} and ${max}, got: ${raw}`, command);
  }
  return Number(raw);
}

/** parseArgs errors say "Unknown option '--x'. To specify a positional argument starting with a '-', ..."; keep the first sentence. */
function parseArgsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = (message.split(/\.\s/)[0] ?? message).replace(/\.$/, '');
  const missing = /^Option '(-[\w-]+)(?:, (--[\w-]+))?(?: <value>)?' argument missing/.exec(first);
  if (missing) return `${missing[2] ?? missing[1]} needs a value`;
  const ambiguous = /^Option '(-[\w-]+)(?:, (--[\w-]+))?(?: <value>)?' argument is ambiguous/.exec(first);
  if (ambiguous) {
    const flag = ambiguous[2] ?? ambiguous[1];
    return `${flag} needs a value (write a value starting with '-' as ${flag}=-...)`;
  }
  return first.replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option');
}
