/**
 * Runs the real CLI (`runCli`) against the in-memory ports and an SFN client mocked with
 * aws-sdk-client-mock: no AWS, a virtual clock, stdout and stderr captured.
 */
import { join } from 'node:path';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-sfn';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../cli/main.ts';
import type { CliServices } from '../../cli/services.ts';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import type { NotifierPort, StatePort, TrafficPort } from '../../lambdas/domain/ports.ts';
import type { AlarmSettings, TargetGroupHealthCheck } from '../../lambdas/domain/rto.ts';
import type { StoredClusterState } from '../../lambdas/domain/types.ts';
import { readConfigFile } from '../../lambdas/runtime/config.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryResources, MemoryRouting } from '../../lambdas/testing/readiness.ts';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const SAMPLE_CONFIG_FILE = join(PROJECT_ROOT, 'config', 'failover.json');
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:FailoverWorkflow';
export const ACTOR = 'alice@ops-laptop';
/** 2026-03-01T12:00:00Z */
export const START = Date.UTC(2026, 2, 1, 12, 0, 0);
export const POLL_MS = 2000;

export function sampleConfig(): FailoverConfig {
  return readConfigFile(SAMPLE_CONFIG_FILE);
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  // biome-ignore lint/suspicious/noExplicitAny: CLI JSON output is checked structurally
  json(): any;
}

export interface CliHarnessOptions {
  readonly config?: FailoverConfig;
  /** Replace ports (fault injection) after the in-memory environment is built. */
  readonly ports?: (env: MemoryEnvironment) => {
    state?: StatePort;
    notifier?: NotifierPort;
    traffic?: TrafficPort;
  };
  /** Replace the SFN client (e.g. one bound to a local state machine). */
  readonly sfn?: SFNClient;
  /** The deployed configuration's hash (stack output ConfigHash). @default - not checked */
  readonly deployedConfigHash?: () => Promise<string>;
  /** The caller's IAM identity (STS GetCallerIdentity). @default - not read (the local user) */
  readonly callerIdentity?: () => Promise<string>;
  /** The environment the CLI sees (AWS_ENDPOINT_URL). @default {} */
  readonly processEnv?: Readonly<Record<string, string | undefined>>;
  /** What DescribeAlarms / DescribeTargetGroups would say about existing alarms and target groups. */
  readonly rto?: {
    readonly alarms?: ReadonlyMap<string, AlarmSettings>;
    readonly targetGroups?: ReadonlyMap<string, TargetGroupHealthCheck>;
    readonly error?: Error;
  };
}

export interface CliHarness {
  readonly config: FailoverConfig;
  readonly env: MemoryEnvironment;
  readonly sfn: SFNClient;
  readonly sfnMock: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClient['config']>;
  /** How many times the CLI asked for each service (state table, topic, state machine). */
  readonly resolved: { state: number; notifier: number; stateMachineArn: number };
  /** What `failover check` reads beyond the failover's ports: the live record/targets and action resources. */
  readonly readiness: { readonly routing: MemoryRouting; readonly resources: MemoryResources };
  run(...argv: string[]): Promise<CliRun>;
  /** Seeds the state table's record of `serviceId` (not paused unless `state` says so). */
  record(
    serviceId: string,
    state: Omit<StoredClusterState, 'serviceId' | 'paused'> & { paused?: boolean },
  ): void;
}

export function cliHarness(options: CliHarnessOptions = {}): CliHarness {
  const config = options.config ?? sampleConfig();
  const env = createMemoryEnvironment(config, { clock: { start: START } });
  const overrides = options.ports?.(env) ?? {};
  const sfn =
    options.sfn ??
    new SFNClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  const sfnMock = mockClient(sfn);
  // Like Step Functions before anything started: every execution name is free.
  sfnMock.on(DescribeExecutionCommand).rejects(notStarted());
  const resolved = { state: 0, notifier: 0, stateMachineArn: 0 };
  const readiness = {
    routing: new MemoryRouting(config, env.traffic),
    resources: new MemoryResources(config),
  };
  const services: CliServices = {
    alarms: env.alarms,
    lag: env.lag,
    traffic: overrides.traffic ?? env.traffic,
    state: async () => {
      resolved.state++;
      return overrides.state ?? env.state;
    },
    notifier: async () => {
      resolved.notifier++;
      return overrides.notifier ?? env.notifier;
    },
    sfn,
    stateMachineArn: async () => {
      resolved.stateMachineArn++;
      return STATE_MACHINE_ARN;
    },
    ...(options.deployedConfigHash ? { deployedConfigHash: options.deployedConfigHash } : {}),
    ...(options.callerIdentity ? { callerIdentity: options.callerIdentity } : {}),
    alarmSettings: async (names) => {
      if (options.rto?.error) throw options.rto.error;
      const known = options.rto?.alarms ?? new Map();
      return new Map(names.flatMap((n) => (known.has(n) ? [[n, known.get(n)!] as const] : [])));
    },
    targetGroupHealthChecks: async (arns) => {
      if (options.rto?.error) throw options.rto.error;
      const known = options.rto?.targetGroups ?? new Map();
      return new Map(arns.flatMap((a) => (known.has(a) ? [[a, known.get(a)!] as const] : [])));
    },
    readiness,
  };
  return {
    config,
    env,
    sfn,
    sfnMock,
    resolved,
    readiness,
    async run(...argv: string[]): Promise<CliRun> {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, {
        io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
        clock: env.clock,
        sleep: env.clock.sleep,
        actor: ACTOR,
        // The real file reader; tests that need another configuration return it for any path.
        readConfig: options.config ? () => config : readConfigFile,
        services: () => services,
        pollIntervalMs: POLL_MS,
        env: options.processEnv ?? {},
      });
      return { code, stdout, stderr, json: () => JSON.parse(stdout) };
    },
    record(serviceId, state) {
      env.state.seed({ serviceId, paused: false, ...state });
    },
  };
}

/** What DescribeExecution answers for a name nothing has started. */
export function notStarted(): ExecutionDoesNotExist {
  return new ExecutionDoesNotExist({
    message: 'Execution Does Not Exist',
    $metadata: { httpStatusCode: 400 },
  });
}
