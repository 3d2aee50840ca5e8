/**
 * The races of races.test.ts again, over moto_server through the real SDK clients and the
 * production composition root: DynamoDB evaluates the lease and commit conditions (the fencing
 * token), Route 53 refuses a DELETE of a value that is not live, and the concurrency is real
 * (parallel HTTP requests, real time). moto's Route 53 quirks: see test/wire/auto-failover.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeStatusPort } from '../../lambdas/app/workflow/deps.ts';
import { DynamoDbState } from '../../lambdas/aws/dynamodb-state.ts';
import type { FailoverConfigInput } from '../../lambdas/domain/config.ts';
import { LeaseLostError } from '../../lambdas/domain/errors.ts';
import { makeHandler } from '../../lambdas/handlers/failover.ts';
import { ManualClock } from '../../lambdas/testing/clock.ts';
import { alarmEvent } from '../support/alarm-events.ts';
import { type MotoScene, useMotoScene } from '../support/moto-scene.ts';
import { motoAlarmName, motoDbService, motoLagMetric } from '../support/moto-services.ts';
import { stalledTraffic } from '../support/stalled-traffic.ts';
import { TestHooks, WorkflowRunner } from '../workflow/harness.ts';
import { recordFigures } from './support/results.ts';

const SVC = 'orders-db';
const RECORD = 'db.race.example.com';
const ADDRESS: Record<string, string> = { a: '10.0.1.10', b: '10.0.2.10', c: '10.0.3.10' };
const LAG = { periodSeconds: 1, statistic: 'Maximum' } as const;
const alarmName = (node: string) => motoAlarmName('race', SVC, node);
const lagMetric = (node: string) => motoLagMetric('race', SVC, node, LAG);

const config: FailoverConfigInput = {
  services: [
    motoDbService({
      label: 'race',
      id: SVC,
      record: RECORD,
      addresses: ADDRESS,
      lag: LAG,
      rest: { policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600 } },
    }),
  ],
};

// Serialized: moto's threaded server lets two concurrent DynamoDB conditional writes both pass.
const suite = useMotoScene({ config, moto: { serialized: true } });
const figures = { duplicates: 0, races: 0, autoWon: 0, operatorWon: 0, stale: 0, violations: 0 };

afterAll(() => {
  recordFigures('races-moto', {
    label: 'races (moto_server)',
    tried: figures.duplicates > 0 ? 1 + figures.races + figures.stale : 0,
    violations: figures.violations,
    detail: `${figures.duplicates} concurrent duplicates; ${figures.races} auto-vs-operator races (automation won ${figures.autoWon}, operator ${figures.operatorWon}); ${figures.stale} stale lease holders fenced by DynamoDB`,
    order: 21,
  });
});

function scene(): Promise<MotoScene> {
  const now = Date.now();
  return suite.scene({
    zone: { name: 'race.example.com', record: RECORD, value: ADDRESS.a as string },
    alarms: { [alarmName('a')]: 'ALARM', [alarmName('b')]: 'OK', [alarmName('c')]: 'OK' },
    lag: [
      { metric: lagMetric('b'), seconds: 1, at: now - 3_000 },
      { metric: lagMetric('c'), seconds: 2, at: now - 3_000 },
    ],
  });
}

let seq = 0;
const event = () => alarmEvent(alarmName('a'), 'ALARM', 'OK', Date.now() - 1_000, `race-${++seq}`);

/** The record and the recorded primary agree, one role change in history, epoch 1. */
async function expectOneChange(s: MotoScene): Promise<{ primary: string; operation: string }> {
  const { state, history } = await s.readService(SVC);
  const values = await s.recordValues(RECORD);
  const violations: string[] = [];
  if (state?.epoch !== 1) violations.push(`epoch ${state?.epoch}`);
  if (history.length !== 1) violations.push(`${history.length} history items`);
  if (values.length !== 1 || values[0] !== ADDRESS[state?.primary]) {
    violations.push(`record ${values.join(',')} but primary ${state?.primary}`);
  }
  if (state?.lease) violations.push(`lease left: ${JSON.stringify(state.lease)}`);
  figures.violations += violations.length;
  expect(violations).toEqual([]);
  return { primary: state.primary, operation: history[0].operation };
}

describe('races over moto_server', () => {
  it('50 concurrent deliveries of one alarm event: exactly one role change, one announcement', async () => {
    const s = await scene();
    const handler = makeHandler(s.ports());
    const e = event();
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => handler(e, { awsRequestId: `dup-${i}` })),
    );
    figures.duplicates += 50;
    expect(outcomes.filter((o) => o.outcome === 'failed-over')).toHaveLength(1);
    expect(
      outcomes.filter((o) => o.outcome !== 'failed-over').every((o) => o.outcome === 'held' && o.reason),
    ).toBe(true);
    await expectOneChange(s);
    const notes = await s.inbox.drain();
    expect(notes.map((n) => n.kind)).toEqual(['failover']);
  });

  it.each([0, 1, 2, 3, 4, 5])(
    'round %i: automatic failover against an operator failover to another node: one wins, the other says why',
    async (round) => {
      const s = await scene();
      const autoPorts = s.ports();
      const workflowPorts = s.ports({ component: 'workflow' });
      const runner = new WorkflowRunner({
        synthesized: suite.workflow,
        deps: {
          ...workflowPorts,
          changes: workflowPorts.traffic as unknown as ChangeStatusPort,
        },
        hooks: new TestHooks(),
        clock: new ManualClock({ autoAdvance: false, start: Date.now() }),
      });
      const handler = makeHandler(autoPorts);
      // Alternate who starts first, by a few real milliseconds.
      const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const head = [0, 5, 20][round % 3] as number;
      const [auto, execution] = await Promise.all([
        delay(round % 2 ? head : 0).then(() => handler(event(), { awsRequestId: `auto-${round}` })),
        delay(round % 2 ? 0 : head).then(() =>
          runner.start({ serviceId: SVC, mode: 'failover', to: 'c', reason: 'operator', expectedEpoch: 0 }),
        ),
      ]);
      figures.races++;
      const { operation } = await expectOneChange(s);
      if (operation === 'auto-failover') {
        figures.autoWon++;
        expect(auto).toMatchObject({ outcome: 'failed-over', to: 'b' });
        expect(execution).toMatchObject({ status: 'FAILED', error: 'LeaseConflictError' });
      } else {
        figures.operatorWon++;
        expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { outcome: 'failed-over', to: 'c' } });
        expect(auto.outcome).toMatch(/^(held|conflict)$/);
        expect(auto.detail).toBeTruthy();
      }
    },
  );

  it('an invocation that stalls holding the lease: the lease expires, the next event fails over, the stale holder is fenced by DynamoDB', async () => {
    const s = await scene();
    const ports = s.ports();
    const stall = stalledTraffic(ports.traffic);
    // A short lease so the test waits seconds, not minutes.
    const leaseSeconds = 2;
    const stalled = makeHandler({ ...ports, leaseSeconds, traffic: stall.traffic });
    const healthy = makeHandler({ ...s.ports(), leaseSeconds });
    const a = stalled(event(), { awsRequestId: 'req-stalled' });
    while (!stall.frozen()) await new Promise((r) => setTimeout(r, 10));

    const during = await healthy(event(), { awsRequestId: 'req-during' });
    expect(during).toMatchObject({ outcome: 'held', reason: 'operation-in-progress' });

    await new Promise((r) => setTimeout(r, leaseSeconds * 1000 + 500));
    const next = await healthy(event(), { awsRequestId: 'req-next' });
    expect(next).toMatchObject({ outcome: 'failed-over', to: 'b', epoch: 1 });

    stall.thaw();
    const late = await a;
    figures.stale++;
    expect(late).toMatchObject({ outcome: 'conflict', reason: 'superseded' });
    await expectOneChange(s);

    // And directly: the stale fencing token cannot commit.
    const state = new DynamoDbState({ tableName: s.tableName });
    await expect(
      state.commit({
        serviceId: SVC,
        expectedEpoch: 0,
        holder: 'req-stalled',
        newPrimary: 'c',
        at: Date.now(),
        history: {
          serviceId: SVC,
          epoch: 1,
          at: Date.now(),
          operation: 'auto-failover',
          from: 'a',
          to: 'c',
          reason: 'stale',
          actor: 'req-stalled',
        },
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    figures.stale++;
    await expectOneChange(s);
  });
});
