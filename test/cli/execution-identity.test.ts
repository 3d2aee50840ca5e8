/**
 * Execution identity, end to end: the real CLI against the state machine synthesized by the CDK
 * app (aws-local-stepfunctions, real step handler, in-memory ports). A request is an intent
 * against the state it saw: the same command again is one switchover whatever the clock, the
 * machine or the wording; a request made after the service changed is a new one.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDeps } from '../../lambdas/app/workflow/deps.ts';
import { type SynthesizedWorkflow, synthesizeWorkflow } from '../workflow/harness.ts';
import { type CliHarness, cliHarness, START, STATE_MACHINE_ARN, sampleConfig } from './helpers.ts';
import { LocalStepFunctions } from './local-sfn.ts';

const SEC = 1000;
const SVC = 'orders-db';
let synthesized: SynthesizedWorkflow;
beforeAll(() => {
  synthesized = synthesizeWorkflow(sampleConfig());
}, 120_000);

/** orders-db: db-a primary; every replica publishes lag 0 before each check. */
function world(): CliHarness {
  const h = cliHarness();
  const deps: WorkflowDeps = { ...h.env, config: h.config };
  const sfn = new LocalStepFunctions({
    synthesized,
    deps,
    clock: h.env.clock,
    stateMachineArn: STATE_MACHINE_ARN,
    beforeStep: (step) => {
      if (step === 'prepare' || step === 'checkCatchUp') {
        for (const node of ['db-a', 'db-b']) h.env.lag.put(SVC, node, 0, h.env.clock.now() - SEC);
      }
    },
  });
  sfn.bind(h.sfnMock);
  return h;
}

const startedNames = (h: CliHarness) =>
  h.sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);

/** Moves the virtual clock to `hh:mm:ss` UTC on the harness's start day (or the next day). */
function at(h: CliHarness, time: string, nextDay = false) {
  const [hh, mm, ss] = time.split(':').map(Number) as [number, number, number];
  const target = START - (START % 86_400_000) + (nextDay ? 86_400_000 : 0) + ((hh * 60 + mm) * 60 + ss) * SEC;
  h.env.clock.advance(target - h.env.clock.now());
}

describe('execution identity: a request is an intent against the epoch it saw', () => {
  it('case 5: the same command after midnight UTC is a no-op that says so, not a second switchover', async () => {
    const h = world();
    at(h, '23:59:40');
    const first = await h.run('switchover', SVC, '--reason', 'patch db-a', '--wait');
    expect(first.code).toBe(0);
    expect(h.env.state.snapshot(SVC)).toMatchObject({ primary: 'db-b', epoch: 1 });

    at(h, '00:00:20', true);
    const again = await h.run('switchover', SVC, '--reason', 'patch db-a', '--wait');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /this request already ran: execution switchover-orders-db-auto-e0-[0-9a-f]{16} changed orders-db from db-a to db-b \(epoch 1/,
    );
    expect(again.stdout).toContain('--expected-epoch 1');
    // Still one switchover: db-b primary at epoch 1, traffic on db-b.
    expect(startedNames(h)).toHaveLength(1);
    expect(h.env.state.snapshot(SVC)).toMatchObject({ primary: 'db-b', epoch: 1 });
    expect(h.env.traffic.pointsAt(SVC)).toBe('db-b');
  });

  it('case 5: the same command from another machine (another user@host in the default reason) is the same request', async () => {
    const h = world();
    // Alice asks with the default reason (alice@ops-laptop); Bob, elsewhere, with his own words.
    const alice = await h.run('switchover', SVC, '--wait');
    const bob = await h.run('switchover', SVC, '--reason', 'switchover requested by bob@jump-host', '--wait');
    expect(alice.code).toBe(0);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toContain('this request already ran');
    expect(startedNames(h)).toHaveLength(1);
    expect(h.env.state.snapshot(SVC)).toMatchObject({ primary: 'db-b', epoch: 1 });
  });

  it('case 5: a new switchover later the same day, with the same reason, is a new request once the service changed', async () => {
    const h = world();
    at(h, '12:10:00');
    expect((await h.run('switchover', SVC, '--reason', 'maintenance', '--wait')).code).toBe(0);
    // Midday: something else changes the primary back (here a switchover to db-a).
    at(h, '14:30:00');
    expect((await h.run('switchover', SVC, '--to', 'db-a', '--reason', 'failback', '--wait')).code).toBe(0);
    expect(h.env.state.snapshot(SVC)).toMatchObject({ primary: 'db-a', epoch: 2 });

    at(h, '17:00:00');
    const evening = await h.run('switchover', SVC, '--reason', 'maintenance', '--wait');
    expect(evening.code).toBe(0);
    expect(evening.stdout).toContain('started switchover of orders-db from epoch 2');
    expect(evening.stdout).toContain('SUCCEEDED: orders-db switched-over from db-a to db-b, epoch 3');
    expect(startedNames(h)).toHaveLength(3);
    expect(new Set(startedNames(h)).size).toBe(3);
    expect(h.env.state.snapshot(SVC)).toMatchObject({ primary: 'db-b', epoch: 3 });
  });

  it('with --expected-epoch the operator asks for a change from that state: a second switchover is new', async () => {
    const h = world();
    expect((await h.run('switchover', SVC, '--wait')).code).toBe(0);
    const back = await h.run('switchover', SVC, '--expected-epoch', '1', '--wait');
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('SUCCEEDED: orders-db switched-over from db-b to db-a, epoch 2');
    expect(startedNames(h)).toHaveLength(2);
  });

  it('a rolled-back request is reported, not retried, until the operator gives a request id', async () => {
    const h = world();
    h.env.alarms.setNode(SVC, 'db-b', 'ALARM');
    const first = await h.run('switchover', SVC, '--to', 'db-b', '--wait');
    expect(first.code).toBe(1);
    const again = await h.run('switchover', SVC, '--to', 'db-b', '--wait');
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('to try again, give a --request-id');
    expect(startedNames(h)).toHaveLength(1);
    h.env.alarms.setNode(SVC, 'db-b', 'OK');
    const retried = await h.run('switchover', SVC, '--to', 'db-b', '--request-id', 'retry-1', '--wait');
    expect(retried.code).toBe(0);
    expect(h.env.state.snapshot(SVC)).toMatchObject({ primary: 'db-b', epoch: 1 });
  });
});
