/**
 * The CLI end to end against the REAL workflow: `failover switchover|failover ... --wait` sends
 * its StartExecution, DescribeExecution and GetExecutionHistory to the state machine synthesized
 * by the CDK app, run by aws-local-stepfunctions with the real step handler over in-memory ports.
 * What the operator sees is what the workflow did, and what the state table then says.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { type SynthesizedWorkflow, synthesizeWorkflow } from '../workflow/harness.ts';
import { type CliHarness, cliHarness, START, STATE_MACHINE_ARN, sampleConfig } from './helpers.ts';
import { LocalStepFunctions } from './local-sfn.ts';

const SEC = 1000;
let synthesized: SynthesizedWorkflow;
beforeAll(() => {
  synthesized = synthesizeWorkflow(sampleConfig());
}, 120_000);

interface World {
  readonly h: CliHarness;
  readonly sfn: LocalStepFunctions;
}

/** orders-db: db-a primary; db-b publishes `lagScript(check)` before each catch-up check. */
function world(lagScript: (check: number) => number | undefined = (n) => (n === 0 ? 2 : 0)): World {
  const h = cliHarness();
  const deps: WorkflowDeps = {
    config: h.config,
    alarms: h.env.alarms,
    lag: h.env.lag,
    state: h.env.state,
    traffic: h.env.traffic,
    notifier: h.env.notifier,
    changes: h.env.changes,
    logger: h.env.logger,
    metrics: h.env.metrics,
    clock: h.env.clock,
  };
  let checks = 0;
  const sfn = new LocalStepFunctions({
    synthesized,
    deps,
    clock: h.env.clock,
    stateMachineArn: STATE_MACHINE_ARN,
    pageSize: 7,
    beforeStep: (step) => {
      if (step === 'prepare' || step === 'checkCatchUp') {
        const lag = lagScript(step === 'prepare' ? -1 : checks++);
        if (lag !== undefined) h.env.lag.put('orders-db', 'db-b', lag, h.env.clock.now() - SEC);
      }
    },
  });
  sfn.bind(h.sfnMock);
  return { h, sfn };
}

const progress = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('  +'))
    .map((l) => l.replace(/^ {2}\+\S+ s\s+|^ {2}\+\S+ min( \S+ s)?\s+/, '').trim());

describe('the CLI driving the synthesized state machine', () => {
  it('switches over with --wait: progress from the execution history, then the recorded result', async () => {
    const { h, sfn } = world();
    const r = await h.run('switchover', 'orders-db', '--wait', '--reason', 'kernel patching on db-a');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = progress(r.stdout);
    expect(lines.filter((l) => !l.includes(':'))).toEqual([
      'Prepare',
      'CheckCatchUp',
      'WaitForCatchUp',
      'ShiftTraffic',
      'CheckVerify',
      'Commit',
      'Notify',
      'Done',
    ]);
    expect(lines).toContain('Prepare: plan db-a -> db-b, epoch 1');
    // The first lag datapoint predates the fence: the workflow waits for one measured after it.
    expect(lines).toContain(
      'CheckCatchUp: no lag datapoint measured after the fence yet (newest: lag 2 s, datapoint 1 s old)',
    );
    expect(lines).toContain('CheckCatchUp: db-b caught up: lag 0');
    expect(lines).toContain('Commit: recorded: db-b is primary at epoch 1');
    expect(r.stdout).toContain(
      'SUCCEEDED: orders-db switched-over from db-a to db-b, epoch 1, data-loss bound 0 s',
    );
    expect(r.stdout).toContain('  warning: no demote hook: db-a must be re-attached as a replica by hand');

    expect(h.env.state.snapshot('orders-db')).toMatchObject({ primary: 'db-b', epoch: 1 });
    expect(await h.env.traffic.current('orders-db')).toBe('db-b');
    expect(h.env.notifier.ofKind('switchover')).toHaveLength(1);
    const history = await h.run('history', 'orders-db');
    expect(history.stdout).toMatch(
      /1\s+2026-03-01T12:00:\d\dZ\s+switchover\s+db-a -> db-b\s+0 s\s+switchover-orders-db-auto-e0-[0-9a-f]{16}\s+kernel patching on db-a/,
    );

    // The same command again: recognised as the request that made epoch 1, not run twice.
    const again = await h.run('switchover', 'orders-db', '--wait', '--reason', 'kernel patching on db-a');
    // Also with the epoch the operator saw (other words, same intent): the same execution, reported.
    const pinned = await h.run('switchover', 'orders-db', '--expected-epoch', '0', '--reason', 'r2');
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toMatch(
      /this request already started execution switchover-orders-db-auto-e0-\w+ \(SUCCEEDED/,
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /this request already ran: execution switchover-orders-db-auto-e0-\w+ changed orders-db from db-a to db-b/,
    );
    expect(sfn.executionCount).toBe(1);
    expect(h.env.state.snapshot('orders-db')).toMatchObject({ primary: 'db-b', epoch: 1 });
  });

  it('forces a failover past a lagging replica and records the data-loss bound', async () => {
    const { h } = world(() => 45);
    h.env.alarms.setNode('orders-db', 'db-a', 'ALARM');
    const r = await h.run(
      'failover',
      'orders-db',
      '--force',
      '--wait',
      '--reason',
      'db-a host lost',
      '--json',
    );
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.execution).toMatchObject({
      status: 'SUCCEEDED',
      output: { outcome: 'failed-over', from: 'db-a', to: 'db-b', epoch: 1, forced: true, lagSeconds: 45 },
    });
    expect(j.execution.output.dataLossBound).toMatch(/^45 s \(last known lag, datapoint \d+ s old\)$/);
    expect(r.stderr).toContain('CheckCatchUp: forced past lag over budget');
    const history = (await h.run('history', 'orders-db', '--json')).json();
    expect(history.entries[0]).toMatchObject({
      operation: 'failover',
      forced: true,
      lagSeconds: 45,
      to: 'db-b',
    });
  });

  it('fails with exit status 1 and the reason when the workflow refuses: nothing changes', async () => {
    const { h } = world();
    h.env.alarms.setNode('orders-db', 'db-b', 'ALARM');
    const r = await h.run('switchover', 'orders-db', '--wait');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED: PreconditionFailedError');
    expect(r.stdout).toContain('  no healthy replica of orders-db to promote: db-b ALARM');
    expect(h.env.state.snapshot('orders-db')).toBeUndefined();
    expect(await h.env.traffic.current('orders-db')).toBe('db-a');
  });

  it('is refused by the workflow when an automatic failover lands between the look and Prepare', async () => {
    const { h, sfn } = world();
    h.sfnMock.on(StartExecutionCommand).callsFake(async (input) => {
      // The automatic failover commits epoch 1 just before the execution starts.
      h.record('orders-db', { primary: 'db-b', epoch: 1 });
      return sfn.start(input);
    });
    const r = await h.run('switchover', 'orders-db', '--expected-epoch', '0', '--wait');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED: LeaseConflictError');
    expect(r.stdout).toContain('orders-db changed since the request was made: expected epoch 0, now epoch 1');
    expect(h.env.state.snapshot('orders-db')).toMatchObject({ primary: 'db-b', epoch: 1 });
  });

  it('reports a dry run without changing anything', async () => {
    const { h } = world();
    h.env.lag.put('orders-db', 'db-b', 0, START - SEC);
    const r = await h.run('switchover', 'orders-db', '--to', 'db-b', '--dry-run', '--wait');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SUCCEEDED: dry run: /m);
    expect(progress(r.stdout).filter((l) => !l.includes(':'))).toEqual(['Prepare', 'DryRunDone']);
    expect(h.env.state.snapshot('orders-db')).toBeUndefined();
  });

  it('case C1: a dry run asked again later checks the facts again, instead of answering with the earlier dry run', async () => {
    const { h, sfn } = world();
    h.env.lag.put('orders-db', 'db-b', 0, START - SEC);
    const first = await h.run('switchover', 'orders-db', '--to', 'db-b', '--dry-run', '--wait');
    expect(first.stdout).toMatch(/^SUCCEEDED: dry run: would /m);
    // Days later, same epoch: db-b is down now. A dry run is a check of the facts as they are.
    h.env.clock.advance(3 * 24 * 3600 * SEC);
    h.env.alarms.setNode('orders-db', 'db-b', 'ALARM');
    const again = await h.run('switchover', 'orders-db', '--to', 'db-b', '--dry-run', '--wait');
    expect(sfn.executionCount).toBe(2);
    expect(again.stdout).not.toContain('already started');
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('FAILED: PreconditionFailedError');
    expect(h.env.state.snapshot('orders-db')).toBeUndefined();
  });

  it('starts without waiting, and a later identical start attaches to the running execution', async () => {
    const { h, sfn } = world();
    const first = await h.run('switchover', 'orders-db', '--reason', 'rotation');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('started switchover of orders-db');
    await sfn.settled();
    const second = await h.run('switchover', 'orders-db', '--reason', 'rotation');
    expect(second.stdout).toMatch(/this request already ran: execution switchover-orders-db-auto-e0-\w+ /);
    expect(sfn.executionCount).toBe(1);
  });
});
