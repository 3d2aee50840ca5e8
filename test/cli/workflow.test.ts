import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { executionArnOf, ProgressFilter, progressEntry } from '../../cli/workflow.ts';
import { executionName } from '../../lambdas/domain/workflow.ts';
import { ACTOR, cliHarness, notStarted, POLL_MS, START, STATE_MACHINE_ARN } from './helpers.ts';

const SEC = 1000;
/** The workflow's output for a clean switchover of orders-db from db-a to db-b. */
const SWITCHED_OVER = {
  outcome: 'switched-over',
  serviceId: 'orders-db',
  from: 'db-a',
  to: 'db-b',
  epoch: 1,
  dataLossBound: '0 s',
  forced: false,
  warnings: [],
};
const alreadyExists = () =>
  new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } });

function started(h: ReturnType<typeof cliHarness>) {
  return h.sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
}

/** A history as Step Functions returns it: ids in order, Choice states included. */
function events(at: number, list: [string, Record<string, unknown>?][], firstId = 1): HistoryEvent[] {
  return list.map(([type, details], i) => ({
    id: firstId + i,
    timestamp: new Date(at + i * SEC),
    type: type as HistoryEvent['type'],
    ...details,
  }));
}
const entered = (type: string, name: string): [string, Record<string, unknown>] => [
  type,
  { stateEnteredEventDetails: { name } },
];
const exited = (name: string, output: unknown): [string, Record<string, unknown>] => [
  'TaskStateExited',
  { stateExitedEventDetails: { name, output: JSON.stringify(output) } },
];

describe('failover switchover / failover: starting the workflow', () => {
  it('starts one execution with the deterministic name and the validated request', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date(START) });
    const r = await h.run('switchover', 'orders-db', '--reason', 'kernel patching');
    expect(r.code).toBe(0);
    const request = {
      serviceId: 'orders-db',
      mode: 'switchover' as const,
      force: false,
      dryRun: false,
      reason: 'kernel patching',
      // The epoch read from the state table: the request names the state it was made on.
      expectedEpoch: 0,
    };
    expect(started(h)).toEqual([
      {
        stateMachineArn: STATE_MACHINE_ARN,
        name: executionName(request),
        input: JSON.stringify(request),
      },
    ]);
    expect(started(h)[0]!.name).toMatch(/^switchover-orders-db-auto-e0-[0-9a-f]{16}$/);
    expect(r.stdout).toContain('started switchover of orders-db from epoch 0');
    expect(r.stdout).toContain('  execution arn:exec');
    expect(r.stdout).toContain('not waiting: add --wait');
    expect(h.resolved.state).toBe(1);
  });

  it('passes --to, --force, --dry-run and --request-id through, and names the actor in the default reason', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date(START) });
    const r = await h.run(
      'failover',
      'orders-db',
      '--to',
      'db-b',
      '--force',
      '--dry-run',
      '--request-id',
      'chg-42',
    );
    expect(r.code).toBe(0);
    const [call] = started(h);
    const input = JSON.parse(call!.input!);
    expect(input).toEqual({
      serviceId: 'orders-db',
      mode: 'failover',
      to: 'db-b',
      force: true,
      dryRun: true,
      reason: `failover requested by ${ACTOR} with the failover CLI`,
      requestId: 'chg-42',
      expectedEpoch: 0,
    });
    expect(call!.name).toBe(executionName(input));
    expect(call!.name).toMatch(/^dryrun-failover-orders-db-db-b-e0-[0-9a-f]{16}$/);
  });

  it('names the intent and the epoch, not the words: another reason is the same request, another epoch or request id a new one', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    await h.run('switchover', 'orders-db', '--reason', 'a');
    await h.run('switchover', 'orders-db', '--reason', 'b');
    await h.run('switchover', 'orders-db', '--reason', 'a', '--request-id', 'chg-1');
    h.record('orders-db', { primary: 'db-a', epoch: 5 });
    await h.run('switchover', 'orders-db', '--reason', 'a');
    const names = started(h).map((c) => c.name);
    expect(names[1]).toBe(names[0]);
    expect(names[2]).not.toBe(names[0]);
    expect(names[3]).toMatch(/^switchover-orders-db-auto-e5-/);
  });

  it('reports the existing execution instead of starting a second one when the request already started it', async () => {
    const h = cliHarness();
    h.sfnMock.on(DescribeExecutionCommand).resolves({
      name: 'x',
      status: 'RUNNING',
      startDate: new Date(START - 30 * SEC),
    });
    const r = await h.run('switchover', 'orders-db', '--reason', 'patching', '--json');
    expect(r.code).toBe(0);
    const name = executionName({ serviceId: 'orders-db', mode: 'switchover', reason: 'x', expectedEpoch: 0 });
    const arn = `arn:aws:states:us-east-1:111122223333:execution:FailoverWorkflow:${name}`;
    expect(h.sfnMock.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: arn });
    // Step Functions would answer a repeat of a running execution with success: never asked.
    expect(h.sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(r.json().execution).toMatchObject({ arn, status: 'RUNNING', existing: true });
    const text = await h.run('switchover', 'orders-db', '--reason', 'patching');
    expect(text.stdout).toContain(
      'this request already started execution x (RUNNING, started 2026-03-01T11:59:30.000Z): not starting another',
    );
  });

  it('reports the execution a concurrent start of the same request created between the look and the start', async () => {
    const h = cliHarness();
    h.sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(notStarted())
      .resolves({ name: 'x', status: 'RUNNING', startDate: new Date(START) });
    h.sfnMock.on(StartExecutionCommand).rejects(alreadyExists());
    const r = await h.run('switchover', 'orders-db', '--json');
    expect(r.code).toBe(0);
    expect(h.sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(r.json().execution).toMatchObject({ status: 'RUNNING', existing: true });
  });

  it.each([
    ['SUCCEEDED', 0, 'SUCCEEDED: orders-db switched-over from db-a to db-b, epoch 1, data-loss bound 0 s'],
    ['FAILED', 1, 'to try again, give a --request-id'],
  ])('reports an earlier execution of the same request that ended %s', async (status, code, line) => {
    const h = cliHarness();
    h.sfnMock.on(DescribeExecutionCommand).resolves({
      status: status as 'SUCCEEDED',
      startDate: new Date(START - 3600 * SEC),
      ...(status === 'SUCCEEDED'
        ? {
            output: JSON.stringify(SWITCHED_OVER),
          }
        : { error: 'SwitchoverRolledBack', cause: 'db-b did not catch up within 300 s' }),
    });
    const r = await h.run('switchover', 'orders-db', '--wait');
    expect(r.code).toBe(code);
    expect(r.stdout).toContain(line);
    expect(h.sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    // Already over: nothing to follow.
    expect(h.sfnMock.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });

  it('passes --expected-epoch to the workflow when the service is still at that epoch', async () => {
    const h = cliHarness();
    h.record('orders-db', { primary: 'db-a', epoch: 3 });
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const r = await h.run('switchover', 'orders-db', '--expected-epoch', '3', '--reason', 'r');
    expect(r.code).toBe(0);
    const [call] = started(h);
    expect(JSON.parse(call!.input!)).toMatchObject({ expectedEpoch: 3 });
    // Part of the idempotency key: the same command after the epoch moved is a different request.
    expect(call!.name).toBe(
      executionName({ serviceId: 'orders-db', mode: 'switchover', reason: 'any', expectedEpoch: 3 }),
    );
  });

  it('refuses with exit 1, starting nothing, when the service changed since the epoch the operator saw', async () => {
    const h = cliHarness();
    h.record('orders-db', {
      primary: 'db-b',
      epoch: 4,
      lastChangeAt: START - 60_000,
      lastChange: {
        serviceId: 'orders-db',
        epoch: 4,
        at: START - 60_000,
        operation: 'auto-failover',
        from: 'db-a',
        to: 'db-b',
        reason: 'db-a alarm',
        lagSeconds: 1,
        actor: 'lambda-req-1',
      },
    });
    const r = await h.run('switchover', 'orders-db', '--to', 'db-b', '--expected-epoch', '3');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: orders-db changed since you looked: expected epoch 3, now epoch 4 with primary db-b (auto-failover db-a -> db-b by lambda-req-1): nothing started',
    );
    expect(h.sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('reports a retry of a request that already succeeded, although the state moved past its --expected-epoch', async () => {
    const h = cliHarness();
    h.record('orders-db', { primary: 'db-b', epoch: 1 });
    h.sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'SUCCEEDED',
      startDate: new Date(START - 60_000),
      output: JSON.stringify(SWITCHED_OVER),
    });
    const r = await h.run('switchover', 'orders-db', '--to', 'db-b', '--expected-epoch', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SUCCEEDED: orders-db switched-over from db-a to db-b, epoch 1');
    expect(h.sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('treats --to the current primary as nothing to do: exit 0, no execution', async () => {
    const h = cliHarness();
    const r = await h.run('switchover', 'orders-db', '--to', 'db-a');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'db-a is already the primary of orders-db (epoch 0): nothing to do, no execution started',
    );
    expect(h.sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    h.record('orders-db', { primary: 'db-b', epoch: 4 });
    const j = (await h.run('failover', 'orders-db', '--to', 'db-b', '--json')).json();
    expect(j).toMatchObject({ outcome: 'already-primary', primary: 'db-b', epoch: 4 });
  });

  it.each([
    [['switchover', 'orders-db', '--to', 'db-x'], '--to db-x is not a node of orders-db (nodes: db-a, db-b)'],
    [['failover', 'payments'], 'unknown service: "payments" (configured: orders-db, git-server)'],
    [['switchover', 'orders-db', '--force'], "unknown option '--force'"],
    [['switchover'], 'missing argument <service>'],
    [['failover', 'orders-db', '--request-id', 'has spaces'], 'requestId: must be 1-64 letters'],
    [['switchover', 'orders-db', '--reason', 'x'.repeat(600)], 'reason: Too big'],
  ])('refuses %j with exit status 2 and starts nothing', async (argv, message) => {
    const h = cliHarness();
    const r = await h.run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/run 'failover (switchover|failover) --help' for its usage/);
    expect(h.sfnMock.calls()).toHaveLength(0);
  });

  it('fails with exit status 1 when Step Functions refuses the call', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: states:StartExecution'), {
        name: 'AccessDeniedException',
      }),
    );
    const r = await h.run('switchover', 'orders-db', '--json');
    expect(r.code).toBe(1);
    expect(r.json()).toEqual({
      error: 'AccessDeniedException',
      message: 'User is not authorized to perform: states:StartExecution',
      exitCode: 1,
    });
  });

  it('derives the execution ARN Step Functions gives a name', () => {
    expect(executionArnOf('arn:aws:states:eu-west-1:123456789012:stateMachine:Wf', 'n-1')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:Wf:n-1',
    );
    expect(() => executionArnOf('arn:aws:lambda:eu-west-1:123456789012:function:f', 'n')).toThrow(
      /not a state machine ARN/,
    );
  });
});

describe('--wait: following the execution', () => {
  const catchUpWaiting = {
    catchUp: { status: 'waiting', detail: 'db-b not caught up: lag 3 s, datapoint 1 s old' },
  };
  const catchUpReady = { catchUp: { status: 'ready', detail: 'db-b caught up: lag 0' } };
  const result = {
    ...SWITCHED_OVER,
    lagSeconds: 0,
    warnings: ['no demote hook: db-a must be re-attached as a replica by hand'],
    timings: { totalMs: 21000 },
  };
  const first = events(START, [
    ['ExecutionStarted'],
    entered('TaskStateEntered', 'Prepare'),
    ['TaskScheduled'],
    exited('Prepare', { outcome: 'proceed', plan: { from: 'db-a', to: 'db-b', epoch: 1, warnings: [] } }),
    entered('ChoiceStateEntered', 'Route'),
    entered('TaskStateEntered', 'CheckCatchUp'),
    exited('CheckCatchUp', catchUpWaiting),
    entered('WaitStateEntered', 'WaitForCatchUp'),
  ]);
  const second = events(
    START + 12 * SEC,
    [
      entered('TaskStateEntered', 'CheckCatchUp'),
      exited('CheckCatchUp', catchUpReady),
      entered('TaskStateEntered', 'ShiftTraffic'),
      exited('ShiftTraffic', { shift: { status: 'shifted', detail: 'Route 53 record now points at db-b' } }),
      entered('TaskStateEntered', 'CheckVerify'),
      exited('CheckVerify', { verify: { status: 'verified', detail: 'db-b healthy and serving traffic' } }),
      entered('TaskStateEntered', 'Commit'),
      exited('Commit', { result }),
      entered('SucceedStateEntered', 'Done'),
      ['ExecutionSucceeded'],
    ],
    first.length + 1,
  );

  it('prints each state as it is first entered (Choice states left out), each new detail, and the result, polling every interval', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date(START) });
    h.sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(notStarted())
      .resolvesOnce({ status: 'RUNNING', startDate: new Date(START) })
      .resolvesOnce({ status: 'RUNNING', startDate: new Date(START) })
      .resolves({ status: 'SUCCEEDED', startDate: new Date(START), output: JSON.stringify(result) });
    // The history grows between polls; the last poll returns it in two pages.
    h.sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: first.slice(0, 4) })
      .resolvesOnce({ events: first })
      .resolvesOnce({ events: [...first, ...second.slice(0, 3)], nextToken: 'page-2' })
      .resolves({ events: second.slice(3) });
    const r = await h.run('switchover', 'orders-db', '--wait');
    expect(r.code).toBe(0);
    const progress = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('  +'))
      .map((l) => l.replace(/\s+/g, ' ').trim());
    expect(progress).toEqual([
      '+1 s Prepare',
      '+3 s Prepare: plan db-a -> db-b, epoch 1',
      '+5 s CheckCatchUp',
      '+6 s CheckCatchUp: db-b not caught up: lag 3 s, datapoint 1 s old',
      '+7 s WaitForCatchUp',
      // The loop enters CheckCatchUp again (not repeated); its new detail is shown.
      '+13 s CheckCatchUp: db-b caught up: lag 0',
      '+14 s ShiftTraffic',
      '+15 s ShiftTraffic: Route 53 record now points at db-b',
      '+16 s CheckVerify',
      '+17 s CheckVerify: db-b healthy and serving traffic',
      '+18 s Commit',
      '+19 s Commit: recorded: db-b is primary at epoch 1',
      '+20 s Done',
    ]);
    expect(r.stdout).toContain(
      'SUCCEEDED: orders-db switched-over from db-a to db-b, epoch 1, data-loss bound 0 s',
    );
    expect(r.stdout).toContain('warning: no demote hook: db-a must be re-attached as a replica by hand');
    // Every event read once: the second page asked for with the token.
    const historyCalls = h.sfnMock.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input);
    expect(historyCalls.at(-1)).toMatchObject({ executionArn: 'arn:exec', nextToken: 'page-2' });
    expect(historyCalls.every((c) => c.includeExecutionData === true)).toBe(true);
    // Two waits between three polls, on the virtual clock.
    expect(h.env.clock.now()).toBe(START + 2 * POLL_MS);
  });

  it('exits 1 with the error and the cause message of a failed execution', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date(START) });
    h.sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(notStarted())
      .resolves({
        status: 'FAILED',
        startDate: new Date(START),
        error: 'PreconditionFailedError',
        cause: JSON.stringify({
          errorType: 'PreconditionFailedError',
          errorMessage:
            'db-b is not known to be healthy (alarm failover-orders-db-db-b-health is ALARM): never promoted, not even with force',
          trace: [],
        }),
      });
    h.sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: events(START, [
        entered('TaskStateEntered', 'Prepare'),
        [
          'LambdaFunctionFailed',
          {
            lambdaFunctionFailedEventDetails: {
              error: 'PreconditionFailedError',
              cause:
                '{"errorType":"PreconditionFailedError","errorMessage":"db-b is not known to be healthy"}',
            },
          },
        ],
      ]),
    });
    const r = await h.run('failover', 'orders-db', '--to', 'db-b', '--force', '--wait');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\+0 s\s+Prepare/);
    // Lambda's error JSON reduced to its message.
    expect(r.stdout).toContain('! PreconditionFailedError: db-b is not known to be healthy\n');
    expect(r.stdout).toContain('FAILED: PreconditionFailedError');
    expect(r.stdout).toContain(
      '  db-b is not known to be healthy (alarm failover-orders-db-db-b-health is ALARM): never promoted, not even with force',
    );
  });

  it('stops following after --wait-timeout with exit status 1; the execution goes on', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date(START) });
    h.sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(notStarted())
      .resolves({ status: 'RUNNING', startDate: new Date(START) });
    h.sfnMock.on(GetExecutionHistoryCommand).resolves({ events: first });
    const r = await h.run('switchover', 'orders-db', '--wait', '--wait-timeout', '10');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('stopped following after 10 s (the execution goes on)');
    expect(h.env.clock.now()).toBe(START + 10 * SEC);
    // Each event printed once although every poll returned them all again.
    expect(r.stdout.match(/WaitForCatchUp/g)).toHaveLength(1);
  });

  it('keeps stdout one JSON document with --json: progress goes to stderr', async () => {
    const h = cliHarness();
    h.sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date(START) });
    h.sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(notStarted())
      .resolves({ status: 'SUCCEEDED', startDate: new Date(START), output: JSON.stringify(result) });
    h.sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [...first, ...second] });
    const r = await h.run('switchover', 'orders-db', '--wait', '--json');
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.request).toMatchObject({ serviceId: 'orders-db', mode: 'switchover' });
    expect(j.execution).toMatchObject({
      arn: 'arn:exec',
      status: 'SUCCEEDED',
      existing: false,
      output: result,
    });
    expect(r.stderr).toContain('CheckCatchUp: db-b caught up: lag 0');
    expect(r.stderr).toContain('waiting for switchover-orders-db-auto-');
  });
});

describe('ProgressFilter', () => {
  it('shows a loop state once and its detail only when it changes', () => {
    const filter = new ProgressFilter();
    const check = (lag: number) => [
      entered('TaskStateEntered', 'CheckCatchUp'),
      exited('CheckCatchUp', { catchUp: { status: 'waiting', detail: `lag ${lag} s` } }),
      entered('WaitStateEntered', 'WaitForCatchUp'),
    ];
    const shown = events(START, [...check(12), ...check(12), ...check(4), ...check(4)] as [
      string,
      Record<string, unknown>,
    ][])
      .map((e) => progressEntry(e))
      .filter((p) => p !== undefined && filter.show(p))
      .map((p) => p!.text.trim());
    expect(shown).toEqual([
      'CheckCatchUp',
      'CheckCatchUp: lag 12 s',
      'WaitForCatchUp',
      'CheckCatchUp: lag 4 s',
    ]);
  });
});
