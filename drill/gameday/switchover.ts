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

/** Runs `failover <args>` with the game day's configuration, moto and the local state machine. */
export async function runFailoverCli(
  world: GameDayWorld,
  args: readonly string[],
  onLine: (line: string, at: number) => void = () => {},
): Promise<CliRun> {
  // The file the stack was synthesized from: the operator's CLI reads the same configuration.
  const configFile = join(world.synthesized.outdir, 'gameday-config.json');
  const sfn = new SFNClient({ region: 'us-east-1' });
  const local = new LocalStepFunctions({
    synthesized: world.synthesized.stateMachine,
    invoke: (event) => world.step.invoke(event, `gameday-step-${Date.now()}`),
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
    mock.restore();
    sfn.destroy();
  }
}
