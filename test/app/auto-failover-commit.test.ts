/**
 * A commit that fails transiently after traffic moved: the invocation throws so Lambda's retry
 * (same request id, so it resumes under its own lease) finds traffic already on the target and
 * commits. Only the last attempt Lambda makes reports needs-attention.
 */
import { describe, expect, it } from 'vitest';
import { type AutoFailoverDeps, runAutoFailover } from '../../lambdas/app/auto-failover.ts';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import { faultTimes, instrument } from '../../lambdas/testing/instrument.ts';
import { alarmFires, ordersWorld } from '../support/orders-world.ts';

function setup() {
  const env = ordersWorld();
  const transition = alarmFires(env);
  const deps: AutoFailoverDeps = { ...env, holderId: 'req-1' };
  return { env, deps, transition };
}

/** DynamoDbState turns a throttled or 5xx TransactWriteItems (after the SDK's retries) into this. */
const throttledCommit = (times: number) =>
  faultTimes(times, (c) => c.method === 'commit', {
    mode: 'throw',
    error: new TransientAwsError('TransactWriteItems'),
  });

describe('case 5: a transient DynamoDB error at commit after traffic moved', () => {
  it('case 5: throws so the retry commits (the retry finds its own lease and traffic already on the target)', async () => {
    const { env, deps, transition } = setup();
    const state = instrument(env.state, 'state', { fault: throttledCommit(1) });

    await expect(runAutoFailover({ ...deps, state }, transition)).rejects.toBeInstanceOf(TransientAwsError);
    expect(env.traffic.pointsAt('orders')).toBe('b');
    expect(env.state.snapshot('orders')).toMatchObject({
      primary: 'a',
      epoch: 0,
      lease: { holder: 'req-1' },
    });
    expect(env.notifier.ofKind('failover-failed')).toEqual([]);

    // Lambda retries the invocation a minute later under the same request id.
    env.clock.advance(60_000);
    const retry = await runAutoFailover(deps, transition);
    expect(retry).toMatchObject({ outcome: 'failed-over', from: 'a', to: 'b', epoch: 1 });
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'b', epoch: 1 });
    expect(env.state.snapshot('orders')?.lease).toBeUndefined();
    expect(env.traffic.appliedChanges).toEqual([{ serviceId: 'orders', from: 'a', to: 'b' }]);
    expect(env.notifier.published.map((n) => n.kind)).toEqual(['failover']);
  });

  it('case 5: needs-attention only on the last attempt Lambda makes, with the lease left to expire', async () => {
    const { env, deps, transition } = setup();
    const state = instrument(env.state, 'state', { fault: throttledCommit(3) });

    await expect(runAutoFailover({ ...deps, state }, transition)).rejects.toBeInstanceOf(TransientAwsError);
    env.clock.advance(60_000);
    await expect(runAutoFailover({ ...deps, state }, transition)).rejects.toBeInstanceOf(TransientAwsError);
    env.clock.advance(120_000);
    const last = await runAutoFailover({ ...deps, state }, transition);
    expect(last).toMatchObject({ outcome: 'needs-attention', reason: 'commit-failed', to: 'b' });
    expect(env.notifier.ofKind('failover-failed')).toHaveLength(1);
    expect(env.traffic.pointsAt('orders')).toBe('b');
    expect(env.state.snapshot('orders')).toMatchObject({ primary: 'a', epoch: 0 });
  });
});
