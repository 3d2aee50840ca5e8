import { describe, expect, it } from 'vitest';
import { type AutoFailoverDeps, runAutoFailover } from '../../lambdas/app/auto-failover.ts';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { awsError } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryShiftQueue } from '../../lambdas/testing/shift-queue.ts';
import { alarmFires } from '../support/orders-world.ts';

function setup() {
  const config = testConfig([
    route53Service({ id: 'orders', nodes: ['a', 'b'], policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 } }),
  ]);
  const env = createMemoryEnvironment(config);
  env.lag.put('orders', 'b', 3, env.clock.now() - 5_000);
  const queue = new MemoryShiftQueue();
  const deps: AutoFailoverDeps = { ...env, holderId: 'req-1', shiftQueue: queue };
  return { env, deps, queue };
}

describe('runAutoFailover with a shift queue', () => {
  it.each(['Throttling', 'PriorRequestNotComplete'])(
    'hands a change refused with %s to the zone shifter and keeps the lease for it',
    async (errorName) => {
      const { env, deps, queue } = setup();
      env.traffic.failNext('orders', { errorName, apply: false });
      const event = alarmFires(env);
      const out = await runAutoFailover(deps, event);

      expect(out).toMatchObject({ outcome: 'queued', reason: 'shift-queued', epoch: 0 });
      expect(out).toMatchObject({ serviceId: 'orders', from: 'a', to: 'b' });
      expect(queue.enqueued).toEqual([
        {
          serviceId: 'orders',
          from: 'a',
          to: 'b',
          expectedEpoch: 0,
          holder: 'req-1',
          transition: event,
          lagSeconds: 3,
          queuedAt: env.clock.now(),
          reason: errorName,
        },
      ]);
      // The lease stays with this invocation's holder: the shifter renews and commits under it.
      expect(env.state.snapshot('orders')).toMatchObject({
        primary: 'a',
        epoch: 0,
        lease: { holder: 'req-1' },
      });
      expect(env.traffic.pointsAt('orders')).toBe('a');
      expect(env.state.stats.releases).toBe(0);
      // The shifter announces the outcome; nothing is announced yet.
      expect(env.notifier.published).toEqual([]);
      expect(env.metrics.named('FailoverQueued')).toEqual([
        expect.objectContaining({ value: 1, dimensions: { serviceId: 'orders', errorName } }),
      ]);
    },
  );

  it('falls back to throwing for a retry, under the kept lease, when the queue refuses the change', async () => {
    const { env, deps, queue } = setup();
    env.traffic.failNext('orders', { errorName: 'Throttling', apply: false });
    queue.failNext(awsError('AWS.SimpleQueueService.NonExistentQueue', 'no queue'));
    await expect(runAutoFailover(deps, alarmFires(env))).rejects.toBeInstanceOf(TransientAwsError);
    expect(queue.enqueued).toEqual([]);
    expect(env.state.snapshot('orders')?.lease).toMatchObject({ holder: 'req-1', invocation: 1 });
    expect(env.logger.find('traffic shift could not be queued either')).toHaveLength(1);
  });

  it('does not queue a failure that retrying cannot fix', async () => {
    const { env, deps, queue } = setup();
    env.traffic.failNext('orders', { errorName: 'AccessDenied', apply: false });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'shift-failed' });
    expect(queue.enqueued).toEqual([]);
  });

  it('does not queue an uncertain shift that read back on the new primary: it commits', async () => {
    const { env, deps, queue } = setup();
    env.traffic.failNext('orders', { errorName: 'TimeoutError', apply: true });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'failed-over', epoch: 1 });
    expect(queue.enqueued).toEqual([]);
  });

  it('queues an uncertain, retryable shift that read back still on the old primary', async () => {
    const { env, deps, queue } = setup();
    env.traffic.failNext('orders', { errorName: 'TimeoutError', apply: false, uncertain: true });
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'queued' });
    expect(queue.enqueued).toHaveLength(1);
  });

  it('changes nothing on the single-service path when Route 53 answers', async () => {
    const { env, deps, queue } = setup();
    const out = await runAutoFailover(deps, alarmFires(env));
    expect(out).toMatchObject({ outcome: 'failed-over', epoch: 1 });
    expect(queue.enqueued).toEqual([]);
  });
});
