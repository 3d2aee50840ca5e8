/**
 * `failover switchover` through the operator CLI (cli/main.ts `runCli`, the same code `npx failover`
 * runs), against moto_server for the table, topic, record and alarms, and against the synthesized
 * state machine under aws-local-stepfunctions for Step Functions: the CLI's SFN client answers
 * StartExecution / DescribeExecution / GetExecutionHistory from it (test/cli/local-sfn.ts), and its
 * Tasks invoke the bundled workflow step Lambda. Wait states last as long as the definition says.
 */
import { join } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../cli/main.ts';
import { awsServices } from '../../cli/services.ts';
import { LocalStepFunctions } from '../../test/cli/local-sfn.ts';
import type { GameDayWorld } from './harness.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:FailoverGameDayWorkflow';

export interface CliRun {
  readonly argv: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** The execution's state transitions with their times (from the local Step Functions history). */
  readonly states: readonly { readonly name: string; readonly at: number }[];
}

/** The operator's CLI wired to the local Step Functions; built ahead so its set-up does not stall the client. */
export interface FailoverCli {
  run(args: readonly string[], onLine?: (line: string, at: number) => void): Promise<CliRun>;
  close(): void;
}

/**
 * Builds the local Step Functions (the definition is validated when it is loaded, which takes the
 * CPU for a while) and an SFN client bound to it, before the scenario starts its clock.
 */
export function prepareFailoverCli(world: GameDayWorld): FailoverCli {
  // The file the stack was synthesized from: the operator's CLI reads the same configuration.
  const configFile = join(world.synthesized.outdir, 'gameday-config.json');
  const sfn = new SFNClient({ region: 'us-east-1' });
  const local = new LocalStepFunctions({
    synthesized: world.synthesized.stateMachine,
    invoke: (event) => world.step.invoke(event, `gameday-step-${Date.now()}`),
    // The node-action function (and any hook) by the ARN the definition resolved for it.
    invokeFunction: (functionName, payload) => world.invokeFunction(functionName, payload),
    clock: { now: () => Date.now() },
    waits: 'real',
    stateMachineArn: STATE_MACHINE_ARN,
  });
  const mock = mockClient(sfn);
  local.bind(mock);
  const started: string[] = [];
  mock.on(StartExecutionCommand).callsFake((input) => {
    const out = local.start(input);
    if (out.executionArn) started.push(out.executionArn);
    return out;
  });
  return {
    run: (args, onLine = () => {}) => runCliOnce(world, configFile, sfn, local, started, args, onLine),
    close: () => {
      mock.restore();
      sfn.destroy();
    },
  };
}

async function runCliOnce(
  world: GameDayWorld,
  configFile: string,
  sfn: SFNClient,
  local: LocalStepFunctions,
  started: string[],
  args: readonly string[],
  onLine: (line: string, at: number) => void,
): Promise<CliRun> {
  const argv = [
    ...args,
    '--config',
    configFile,
    '--endpoint-url',
    world.moto.endpoint,
    '--region',
    'us-east-1',
    '--table-name',
    world.tableName,
    '--topic-arn',
    world.inbox.topicArn,
    '--state-machine-arn',
    STATE_MACHINE_ARN,
    // moto has no CloudFormation stack to publish the ConfigHash output: the game day synthesized
    // this very file, so there is nothing to compare (the CLI says so on stderr).
    '--allow-config-drift',
  ];
  let stdout = '';
  let stderr = '';
  const startedAt = Date.now();
  try {
    const code = await runCli(argv, {
      io: {
        stdout: (t) => {
          stdout += t;
          for (const line of t.split('\n').filter((l) => l.trim())) onLine(line, Date.now());
        },
        stderr: (t) => {
          stderr += t;
          for (const line of t.split('\n').filter((l) => l.trim())) onLine(line, Date.now());
        },
      },
      clock: { now: () => Date.now() },
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      actor: 'gameday@localhost',
      services: (config, globals) => awsServices(config, globals, { clients: { sfn } }),
      pollIntervalMs: 500,
    });
    await local.settled();
    const states: { name: string; at: number }[] = [];
    let nextToken: string | undefined;
    for (const arn of started) {
      do {
        const page = local.history({ executionArn: arn, ...(nextToken ? { nextToken } : {}) });
        for (const e of page.events ?? []) {
          const name = e.stateEnteredEventDetails?.name;
          if (name && e.timestamp) states.push({ name, at: e.timestamp.getTime() });
        }
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return { argv: ['failover', ...args], code, stdout, stderr, startedAt, finishedAt: Date.now(), states };
  } finally {
    started.length = 0;
  }
}
