import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../lambdas/domain/errors.ts';
import { makeZoneShiftHandler } from '../../lambdas/handlers/zone-shift.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryShiftQueue } from '../../lambdas/testing/shift-queue.ts';
import { leaseAndQueue } from '../support/queued-shifts.ts';

function setup() {
  const config = testConfig([route53Service({ id: 's0', index: 0 }), route53Service({ id: 's1', index: 1 })]);
  const env = createMemoryEnvironment(config);
  const queue = new MemoryShiftQueue();
  for (const service of config.services) {
    env.lag.put(service.id, 'b', 1, env.clock.now() - 2_000);
    void queue.enqueue(
      leaseAndQueue(env, service.id, { reason: 'Throttling', eventId: `e-${service.id}`, alarmAgeMs: 0 }),
    );
  }
  const handler = makeZoneShiftHandler({ ...env, sleep: env.clock.sleep, retry: { budgetMs: 2_000 } });
  return { env, queue, handler };
}

describe('zone-shift handler', () => {
  it('shifts every decodable message and reports none back', async () => {
    const { env, queue, handler } = setup();
    const out = await handler(MemoryShiftQueue.event(queue.take()), { awsRequestId: 'inv-1' });
    expect(out).toEqual({ batchItemFailures: [] });
    expect(env.state.snapshot('s0')).toMatchObject({ primary: 'b', epoch: 1 });
    expect(env.state.snapshot('s1')).toMatchObject({ primary: 'b', epoch: 1 });
    expect(env.metrics.flushes).toBe(1);
    expect(env.notifier.ofKind('failover')[0]?.detail).toMatchObject({ zoneBatch: { shifter: 'inv-1' } });
  });

  it('reports a malformed message back (it ends in the dead-letter queue) without holding up the others', async () => {
    const { env, queue, handler } = setup();
    const records = queue.take();
    const event = MemoryShiftQueue.event([
      ...records,
      { messageId: 'bad-1', body: '{"v":1,"serviceId":"s0"}' },
    ]);
    const out = await handler(event);
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-1' }] });
    expect(env.logger.find('malformed zone-shift message')[0]?.data).toMatchObject({
      messageId: 'bad-1',
      problems: expect.arrayContaining([expect.stringMatching(/^from: /)]),
    });
    expect(env.state.stats.commits).toBe(2);
  });

  it('reports the changes Route 53 still refused at the end of the budget, and an unknown service', async () => {
    const { env, queue, handler } = setup();
    for (let i = 0; i < 40; i++) env.traffic.failNext('s1', { errorName: 'Throttling', apply: false });
    const records = queue.take();
    const stray = JSON.parse(records[0]!.body);
    const event = MemoryShiftQueue.event([
      ...records,
      { messageId: 'stray', body: JSON.stringify({ ...stray, serviceId: 'gone' }) },
    ]);
    const out = await handler(event);
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [...records.map((r) => r.messageId), 'stray'].sort(),
    );
  });

  it('hands every change back when too little of the invocation is left to send and settle it (the Lambda context counts down)', async () => {
    const { env, queue, handler } = setup();
    const records = queue.take();
    const out = await handler(MemoryShiftQueue.event(records), {
      awsRequestId: 'inv-late',
      getRemainingTimeInMillis: () => 10_000,
    });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    expect(env.traffic.calls).toEqual([]);
    expect(env.state.snapshot('s0')).toMatchObject({ primary: 'a', epoch: 0 });
  });

  it('reports back a change whose batch timed out and could not be read back (never deleted unsettled)', async () => {
    const { env, queue } = setup();
    env.traffic.failNext('s0', { errorName: 'TimeoutError', apply: true });
    const blind = Object.assign(Object.create(env.traffic), {
      currentAll: async () => {
        throw new Error('ListResourceRecordSets: Rate exceeded');
      },
    });
    const handler = makeZoneShiftHandler({
      ...env,
      traffic: blind,
      sleep: env.clock.sleep,
      retry: { budgetMs: 2_000 },
    });
    const records = queue.take();
    const out = await handler(MemoryShiftQueue.event(records), { awsRequestId: 'inv-1' });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    expect(env.notifier.published).toEqual([]);
  });

  it('throws for an event that is not an SQS batch, so the mistake is loud', async () => {
    const { handler, env } = setup();
    await expect(handler({ detail: {} })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(handler({ Records: [{ body: 'x' }] })).rejects.toThrow(/Records\[0\] has no messageId/);
    expect(env.metrics.flushes).toBe(2);
  });
});
