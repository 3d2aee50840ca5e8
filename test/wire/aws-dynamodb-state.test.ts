/**
 * DynamoDbState against moto_server: the condition and update expressions are parsed and
 * evaluated by a real DynamoDB emulation, not just compared as strings.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbState } from '../../lambdas/aws/dynamodb-state.ts';
import {
  LeaseConflictError,
  LeaseLostError,
  LeasePausedError,
  PauseChangedError,
} from '../../lambdas/domain/errors.ts';
import type { HistoryEntry, Lease } from '../../lambdas/domain/types.ts';
import { useMotoWithClient } from '../support/moto.ts';
import { createStateTable } from '../support/state-table.ts';

const wire = useMotoWithClient((config) => new DynamoDBClient(config));
let tableSeq = 0;

async function freshState(): Promise<DynamoDbState> {
  const tableName = `state-${++tableSeq}`;
  const { client } = wire.current;
  await createStateTable(client, tableName);
  return new DynamoDbState({ tableName, client });
}

const T0 = 1_735_732_800_000;
const lease = (holder: string, at = T0): Lease => ({
  holder,
  operation: 'auto-failover',
  acquiredAt: at,
  expiresAt: at + 60_000,
});
const entry = (epoch: number, from: string, to: string): HistoryEntry => ({
  serviceId: 'svc',
  epoch,
  at: T0 + epoch,
  operation: 'auto-failover',
  from,
  to,
  reason: 'test',
  actor: 'wire-test',
});

interface TakeOptions {
  /** The epoch the lease expects. @default 0 */
  readonly epoch?: number;
  /** @default T0 */
  readonly now?: number;
  /** When the lease says it was taken. @default T0 */
  readonly acquiredAt?: number;
  /** @default 'a' */
  readonly seedPrimary?: string;
  /** The automatic path's first lease: refused while paused. @default false */
  readonly unlessPaused?: boolean;
}

/** `holder` takes the lease on svc. */
const takeLease = (s: DynamoDbState, holder: string, options: TakeOptions = {}) =>
  s.acquireLease({
    serviceId: 'svc',
    expectedEpoch: options.epoch ?? 0,
    seedPrimary: options.seedPrimary ?? 'a',
    lease: lease(holder, options.acquiredAt ?? T0),
    now: options.now ?? T0,
    ...(options.unlessPaused ? { unlessPaused: true } : {}),
  });

/** `holder` commits `history` (its `to` the new primary) at epoch `history.epoch - 1`. */
const commitAs = (s: DynamoDbState, holder: string, at: number, history: HistoryEntry) =>
  s.commit({
    serviceId: 'svc',
    expectedEpoch: history.epoch - 1,
    holder,
    newPrimary: history.to,
    at,
    history,
  });

describe('DynamoDbState on moto_server', () => {
  it('counts every lease written at an epoch (renewals and takeovers too), across releases; the commit resets the count', async () => {
    const s = await freshState();
    const take = (holder: string, expectedEpoch: number, now: number) =>
      takeLease(s, holder, { epoch: expectedEpoch, now, acquiredAt: now });
    expect(await take('h1', 0, T0)).toEqual({ sequence: 1 });
    expect(await take('h1', 0, T0 + 1)).toEqual({ sequence: 2 });
    await s.releaseLease('svc', 'h1');
    expect(await take('h2', 0, T0 + 2)).toEqual({ sequence: 3 });
    await commitAs(s, 'h2', T0 + 3, entry(1, 'a', 'b'));
    // Not part of the state the decision reads.
    expect(await s.get('svc')).not.toHaveProperty('leaseSequence');
    expect(await take('h3', 1, T0 + 4)).toEqual({ sequence: 1 });
  });

  it('seeds at epoch 0, fences a second holder, commits, and keeps history newest first', async () => {
    const s = await freshState();
    expect(await s.get('svc')).toBeUndefined();

    await takeLease(s, 'h1');
    expect(await s.get('svc')).toEqual({
      serviceId: 'svc',
      primary: 'a',
      epoch: 0,
      paused: false,
      lease: lease('h1'),
    });

    // A live lease held by someone else refuses; the same holder may take it again.
    await expect(takeLease(s, 'h2', { now: T0 + 1 })).rejects.toBeInstanceOf(LeaseConflictError);
    await takeLease(s, 'h1', { now: T0 + 1 });

    // A stale holder cannot commit.
    await expect(commitAs(s, 'h2', T0 + 2, entry(1, 'a', 'b'))).rejects.toBeInstanceOf(LeaseLostError);
    await commitAs(s, 'h1', T0 + 2, entry(1, 'a', 'b'));
    expect(await s.get('svc')).toEqual({
      serviceId: 'svc',
      primary: 'b',
      epoch: 1,
      paused: false,
      lastChangeAt: T0 + 2,
      lastChange: entry(1, 'a', 'b'),
    });

    // The old epoch is gone for everyone; an expired lease can be taken over at the new epoch.
    await expect(takeLease(s, 'h3', { now: T0 + 3 })).rejects.toThrow('epoch is 1, expected 0');
    await takeLease(s, 'h3', { epoch: 1, now: T0 + 3 });
    await takeLease(s, 'h4', { epoch: 1, now: T0 + 70_000, acquiredAt: T0 + 70_000 });
    await commitAs(s, 'h4', T0 + 70_001, entry(2, 'b', 'a'));

    expect(await s.history('svc', 10)).toEqual([entry(2, 'b', 'a'), entry(1, 'a', 'b')]);
    expect(await s.history('svc', 1)).toEqual([entry(2, 'b', 'a')]);
  });

  it('refuses a first lease at a non-zero epoch on a missing item', async () => {
    const s = await freshState();
    await expect(takeLease(s, 'h1', { epoch: 2 })).rejects.toBeInstanceOf(LeaseConflictError);
    expect(await s.get('svc')).toBeUndefined();
  });

  it('releases only its own lease; pausing never records a primary and never moves the epoch', async () => {
    const s = await freshState();
    await s.setPaused('svc', true, {
      by: 'arn:aws:iam::111122223333:user/alice',
      at: T0,
      reason: 'patching',
    });
    expect(await s.get('svc')).toEqual({
      serviceId: 'svc',
      epoch: 0,
      paused: true,
      pause: { by: 'arn:aws:iam::111122223333:user/alice', at: T0, reason: 'patching' },
    });
    await takeLease(s, 'h1', { seedPrimary: 'z' });
    await s.releaseLease('svc', 'other');
    expect((await s.get('svc'))?.lease).toEqual(lease('h1'));
    await s.releaseLease('svc', 'h1');
    await s.releaseLease('never-written', 'h1');
    await s.setPaused('svc', false);
    // The lease seeded the primary (the deployed configuration's), the resume dropped the record.
    expect(await s.get('svc')).toEqual({ serviceId: 'svc', primary: 'z', epoch: 0, paused: false });
  });

  it('resume clears only the pause it read: the map condition is evaluated, a newer pause is kept', async () => {
    const s = await freshState();
    const first = { by: 'arn:aws:iam::111122223333:user/alice', at: T0, reason: 'patching' };
    const newer = {
      by: 'arn:aws:sts::111122223333:assumed-role/failover/fn',
      at: T0 + 5,
      reason: 'rollback failed',
    };
    await s.setPaused('svc', true, first);
    await s.setPaused('svc', true, newer);
    await expect(s.setPaused('svc', false, undefined, { pause: first })).rejects.toBeInstanceOf(
      PauseChangedError,
    );
    expect((await s.get('svc'))?.pause).toEqual(newer);
    await s.setPaused('svc', false, undefined, { pause: newer });
    expect((await s.get('svc'))?.paused).toBe(false);
    // Resumed meanwhile: a second resume of the same pause is refused too.
    await expect(s.setPaused('svc', false, undefined, { pause: newer })).rejects.toBeInstanceOf(
      PauseChangedError,
    );
  });

  it('one attempt per lease: the same holder under another attempt is refused; commit and release must name the attempt', async () => {
    const s = await freshState();
    const acquire = (attempt?: string) =>
      s.acquireLease({
        serviceId: 'svc',
        expectedEpoch: 0,
        seedPrimary: 'a',
        lease: { ...lease('h1'), ...(attempt ? { attempt } : {}) },
        now: T0 + 1,
      });
    await acquire(); // the failover Lambda's own lease, no attempt
    await acquire('tok@shifter-A'); // a shifter claims it
    await expect(acquire('tok@shifter-B')).rejects.toBeInstanceOf(LeaseConflictError);
    await expect(acquire()).rejects.toBeInstanceOf(LeaseConflictError); // the holder's own retry
    await s.releaseLease('svc', 'h1', 'tok@shifter-B');
    await s.releaseLease('svc', 'h1');
    expect((await s.get('svc'))?.lease?.attempt).toBe('tok@shifter-A');
    const commit = (attempt?: string) =>
      s.commit({
        serviceId: 'svc',
        expectedEpoch: 0,
        holder: 'h1',
        ...(attempt ? { attempt } : {}),
        newPrimary: 'b',
        at: T0 + 2,
        history: entry(1, 'a', 'b'),
      });
    await expect(commit('tok@shifter-B')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(commit()).rejects.toBeInstanceOf(LeaseLostError);
    await commit('tok@shifter-A');
    expect(await s.get('svc')).toMatchObject({ primary: 'b', epoch: 1 });
  });

  it('refuses to commit an automatic failover while paused, and commits an operator switchover', async () => {
    const s = await freshState();
    await takeLease(s, 'h1');
    await s.setPaused('svc', true);
    await expect(commitAs(s, 'h1', T0 + 1, entry(1, 'a', 'b'))).rejects.toBeInstanceOf(LeaseLostError);
    await commitAs(s, 'h1', T0 + 1, { ...entry(1, 'a', 'b'), operation: 'switchover' });
    expect(await s.get('svc')).toMatchObject({ primary: 'b', epoch: 1, paused: true });
  });

  it("refuses the automatic path's first lease while paused (an item only a pause wrote, and a seeded one); an operator's lease is granted; after resume it is granted", async () => {
    const s = await freshState();
    await s.setPaused('svc', true, { by: 'alice', at: T0, reason: 'db work' });
    await expect(takeLease(s, 'h1', { unlessPaused: true })).rejects.toBeInstanceOf(LeasePausedError);
    expect((await s.get('svc'))?.lease).toBeUndefined();
    // An operator's operation runs while automation is paused.
    expect(await takeLease(s, 'op-1')).toEqual({ sequence: 1 });
    await s.releaseLease('svc', 'op-1');
    await expect(takeLease(s, 'h1', { unlessPaused: true })).rejects.toBeInstanceOf(LeasePausedError);
    await s.setPaused('svc', false);
    expect(await takeLease(s, 'h1', { unlessPaused: true })).toEqual({ sequence: 2 });
  });
});
