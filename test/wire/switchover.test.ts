/**
 * A switchover through the real SDK clients: the state machine taken from the synthesized
 * template, executed by aws-local-stepfunctions (test/workflow/harness.ts), its step Task bound
 * to the real step handler (`makeHandler` of lambdas/handlers/workflow.ts) over the production
 * composition root, which talks to moto_server: DynamoDB for the lease, epoch and history,
 * CloudWatch for health and lag, Route 53 for the record swap and GetChange, SNS for the
 * announcement. The hooks (fence, promote, demote) are test functions: moto cannot run Lambdas
 * without Docker.
 *
 * Time: the step handler's clock is a ManualClock that starts at the real time (whole second)
 * and advances by the poll interval at each Wait, as in the workflow scenarios; lag datapoints
 * are stamped on that clock. Lag uses 1 s periods so moto's GetMetricData buckets (which start
 * at StartTime, not at period boundaries) carry the datapoint's own second.
 */
import { describe, expect, it } from 'vitest';
import type { TrafficRouter } from '../../lambdas/aws/traffic-router.ts';
import type { FailoverConfigInput } from '../../lambdas/domain/config.ts';
import type { WorkflowRequestInput } from '../../lambdas/domain/workflow.ts';
import { ManualClock } from '../../lambdas/testing/clock.ts';
import { putLag, setAlarm, useMotoScene } from '../support/moto-scene.ts';
import { motoAlarmName, motoDbService, motoLagMetric } from '../support/moto-services.ts';
import { type ExecutionOutcome, TestHooks, WorkflowRunner } from '../workflow/harness.ts';

const SVC = 'orders-db';
const hookArn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${SVC}-${name}`;
const RECORD = 'db.wire.example.com';
const ADDRESS = { a: '10.0.1.10', b: '10.0.2.10' } as const;
const FENCE = hookArn('fence');
const PROMOTE = hookArn('promote');
const DEMOTE = hookArn('demote');
const POLL_SECONDS = 5;

const LAG = { periodSeconds: 1, statistic: 'Maximum' } as const;
const lagMetric = (node: string) => motoLagMetric('wire', SVC, node, LAG);
const alarmName = (node: string) => motoAlarmName('wire', SVC, node);

const config: FailoverConfigInput = {
  services: [
    motoDbService({
      label: 'wire',
      id: SVC,
      record: RECORD,
      addresses: ADDRESS,
      lag: LAG,
      rest: {
        hooks: { fence: FENCE, promote: PROMOTE, demote: DEMOTE, timeoutSeconds: 5 },
        switchover: { pollIntervalSeconds: POLL_SECONDS, catchUpTimeoutSeconds: 60 },
        policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
      },
    }),
  ],
};

const suite = useMotoScene({ config });

async function scene(beforeStep?: (step: string, clock: ManualClock) => Promise<void>) {
  const built = await suite.scene({
    // UPSERT: the rollback swaps back to a's address (see createARecord for moto's journal check).
    zone: { name: 'wire.example.com', record: RECORD, value: ADDRESS.a, action: 'UPSERT' },
    alarms: { [alarmName('a')]: 'OK', [alarmName('b')]: 'OK' },
  });
  const clock = new ManualClock({ start: Math.floor(Date.now() / 1000) * 1000, autoAdvance: false });
  const ports = built.ports({ clock, component: 'workflow' });
  const hooks = new TestHooks().register(FENCE).register(PROMOTE).register(DEMOTE);
  const runner = new WorkflowRunner({
    synthesized: suite.workflow,
    // TrafficRouter tracks Route 53 changes (GetChange), which the verify step waits on.
    deps: { ...ports, changes: ports.traffic as TrafficRouter },
    hooks,
    clock,
    beforeStep: async (step) => {
      // The replica reports lag 0 just before each check: the first datapoint predates the
      // fence, so at least one Wait must pass before it counts.
      if (step === 'prepare' || step === 'checkCatchUp') {
        await putLag(suite.clients, lagMetric('b'), 0, clock.now() - 1_000);
      }
      await beforeStep?.(step, clock);
    },
  });
  return { ports, hooks, runner, inbox: built.inbox, clock, scene: built };
}

const request = (): WorkflowRequestInput => ({
  serviceId: SVC,
  mode: 'switchover',
  to: 'b',
  reason: 'kernel patching',
});

function expectStatus<S extends ExecutionOutcome['status']>(
  out: ExecutionOutcome,
  status: S,
): Extract<ExecutionOutcome, { status: S }> {
  if (out.status !== status) throw new Error(`expected ${status}, got ${JSON.stringify(out)}`);
  return out as Extract<ExecutionOutcome, { status: S }>;
}

describe('switchover workflow over moto_server', () => {
  it('fences, waits for lag 0 after the fence, promotes, swaps the record, verifies INSYNC, demotes, commits epoch 1', async () => {
    const s = await scene();

    const out = expectStatus(await s.runner.start(request()), 'SUCCEEDED');

    expect(out.output).toMatchObject({ outcome: 'switched-over', serviceId: SVC, from: 'a', to: 'b' });
    expect(out.output).toMatchObject({ epoch: 1, lagSeconds: 0, forced: false });
    expect(s.hooks.trace).toEqual(['fence a', 'promote b', 'demote a']);
    expect(s.hooks.calls.every((c) => c.payload.epoch === 1)).toBe(true);
    // Only a datapoint measured after the fence counts: exactly one Wait in the catch-up loop.
    expect(out.states.filter((st) => st === 'WaitForCatchUp')).toHaveLength(1);
    expect(s.runner.steps).toContain('checkVerify');

    expect(await s.scene.recordValues(RECORD)).toEqual([ADDRESS.b]);
    const { state, history } = await s.scene.readService(SVC);
    expect(state).toMatchObject({ primary: 'b', epoch: 1, paused: false });
    expect(state.lease).toBeUndefined();
    expect(history).toEqual([
      expect.objectContaining({
        sk: 'history#0000000001',
        epoch: 1,
        operation: 'switchover',
        from: 'a',
        to: 'b',
      }),
    ]);
    expect(history[0]).toMatchObject({ reason: 'kernel patching', lagSeconds: 0, actor: out.name });
    const notes = await s.inbox.drain();
    expect(notes.map((n) => n.kind)).toEqual(['switchover']);
    expect(notes[0]?.subject).toBe(`switchover ${SVC}: a -> b (epoch 1)`);
  });

  it('the promoted node fails verification: the record is swapped back, the lease released, nothing committed', async () => {
    const s = await scene(async (step) => {
      // b falls over right after taking traffic.
      if (step === 'checkVerify') await setAlarm(suite.clients, alarmName('b'), 'ALARM');
    });

    const out = expectStatus(await s.runner.start(request()), 'FAILED');

    expect(out.error).toBe('SwitchoverRolledBack');
    expect(out.cause).toMatch(
      /VerificationFailedError: not verified within \d+ (s|min( \d+ s)?): b is not healthy \(alarm ALARM\)/,
    );
    expect(s.hooks.trace).toEqual(['fence a', 'promote b', 'demote b', 'unfence a']);
    // Traffic went a -> b and came back b -> a, both through Route 53 change batches.
    expect(await s.scene.recordValues(RECORD)).toEqual([ADDRESS.a]);
    const { state, history } = await s.scene.readService(SVC);
    expect(state).toMatchObject({ primary: 'a', epoch: 0 });
    expect(state.lease).toBeUndefined();
    expect(history).toEqual([]);
    const notes = await s.inbox.drain();
    expect(notes.map((n) => n.kind)).toEqual(['rollback']);
    expect(notes[0]?.body).toMatchObject({ error: 'SwitchoverRolledBack', needsHuman: [] });
    expect(notes[0]?.body.done).toContain('traffic moved back b -> a');
  });
});
