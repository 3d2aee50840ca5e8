import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbState, historySortKey } from '../../lambdas/aws/dynamodb-state.ts';
import {
  LeaseConflictError,
  LeaseLostError,
  LeasePausedError,
  PauseChangedError,
  RejoinConflictError,
  TransientAwsError,
} from '../../lambdas/domain/errors.ts';
import type { AcquireLeaseRequest, CommitRequest } from '../../lambdas/domain/ports.ts';
import type { HistoryEntry } from '../../lambdas/domain/types.ts';
import { type AwsErrorKind, awsErrors } from './fixtures.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'failover-state';
const state = () =>
  new DynamoDbState({
    tableName: TABLE,
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  });

const T0 = 1_735_732_800_000;
const lease = {
  holder: 'req-1',
  operation: 'auto-failover',
  acquiredAt: T0,
  expiresAt: T0 + 60_000,
} as const;
const acquire = (over: Partial<AcquireLeaseRequest> = {}): AcquireLeaseRequest => ({
  serviceId: 'orders-db',
  expectedEpoch: 3,
  seedPrimary: 'db-a',
  lease,
  now: T0,
  ...over,
});
const entry: HistoryEntry = {
  serviceId: 'orders-db',
  epoch: 4,
  at: T0 + 5_000,
  operation: 'auto-failover',
  from: 'db-a',
  to: 'db-b',
  reason: 'primary alarm db-a-health in ALARM',
  lagSeconds: 2,
  timings: { detectMs: 1200, shiftMs: 300 },
  actor: 'failover-lambda',
};
const commitReq = (over: Partial<CommitRequest> = {}): CommitRequest => ({
  serviceId: 'orders-db',
  expectedEpoch: 3,
  holder: 'req-1',
  newPrimary: 'db-b',
  at: T0 + 5_000,
  history: entry,
  ...over,
});

const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(item ? { Item: item as never } : {}),
  });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) =>
      Code === 'None' ? { Code } : { Code, Message: 'The conditional request failed' },
    ),
  });

/** ExpressionAttributeNames naming each attribute `#<attribute>`. */
const names = (...attributes: string[]) => Object.fromEntries(attributes.map((a) => [`#${a}`, a]));
const LEASE_NAMES = names('lease', 'leaseSequence', 'expiresAt', 'holder', 'attempt');

/** A GetItem answer holding the state item of orders-db. */
const stateItem = (fields: Record<string, unknown>) => ({
  Item: { pk: 'service#orders-db', sk: 'state', ...fields },
});

/** `call` turns each of `kinds`, thrown by the command `rejectWith` stubs, into TransientAwsError. */
function mapsToTransient(
  rejectWith: (error: Error) => unknown,
  kinds: AwsErrorKind[],
  call: () => Promise<unknown>,
) {
  it.each(kinds)('maps %s to TransientAwsError', async (kind) => {
    rejectWith(awsErrors[kind]());
    await expect(call()).rejects.toBeInstanceOf(TransientAwsError);
  });
}

beforeEach(() => ddb.reset());

describe('DynamoDbState.get', () => {
  it('reads the state item strongly consistently and maps it', async () => {
    // The item holds the record's fields next to its keys; get answers the record alone.
    const stored = {
      serviceId: 'orders-db',
      primary: 'db-b',
      epoch: 4,
      paused: false,
      lease,
      lastChangeAt: T0 + 5_000,
      lastChange: entry,
    };
    ddb.on(GetCommand).resolves(stateItem(stored));
    expect(await state().get('orders-db')).toEqual(stored);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'service#orders-db', sk: 'state' },
      ConsistentRead: true,
    });
  });

  it('returns undefined when the service was never written', async () => {
    ddb.on(GetCommand).resolves({});
    expect(await state().get('orders-db')).toBeUndefined();
  });

  it('omits absent optional fields', async () => {
    ddb.on(GetCommand).resolves({ Item: { primary: 'db-a', epoch: 0, paused: true } });
    expect(await state().get('x')).toEqual({ serviceId: 'x', primary: 'db-a', epoch: 0, paused: true });
  });
});

describe('DynamoDbState.acquireLease', () => {
  const seedNames = names('serviceId', 'primary', 'epoch', 'paused');
  const values = (expected: number) => ({
    ':serviceId': 'orders-db',
    ':seedPrimary': 'db-a',
    ':zero': 0,
    ':notPaused': false,
    ':lease': lease,
    ':one': 1,
    ':expected': expected,
    ':now': T0,
    ':holder': 'req-1',
  });
  const update =
    'SET #lease = :lease, #leaseSequence = if_not_exists(#leaseSequence, :zero) + :one, #serviceId = if_not_exists(#serviceId, :serviceId), #primary = if_not_exists(#primary, :seedPrimary), #epoch = if_not_exists(#epoch, :zero), #paused = if_not_exists(#paused, :notPaused)';
  const free =
    '(attribute_not_exists(#lease) OR #lease.#expiresAt < :now OR (#lease.#holder = :holder AND attribute_not_exists(#lease.#attempt)))';
  const live = `(#epoch = :expected AND ${free})`;

  const granted = { Attributes: { leaseSequence: 1 } };

  it('writes the lease conditionally on the epoch and a free lease, counting it in the lease sequence', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { leaseSequence: 3, lease } });
    expect(await state().acquireLease(acquire())).toEqual({ sequence: 3 });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'service#orders-db', sk: 'state' },
      UpdateExpression: update,
      ConditionExpression: live,
      ExpressionAttributeNames: { ...seedNames, ...LEASE_NAMES },
      ExpressionAttributeValues: values(3),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ReturnValues: 'UPDATED_NEW',
    });
  });

  it('a write that answers without the lease sequence is an error: tokens could not be ordered', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { lease } });
    await expect(state().acquireLease(acquire())).rejects.toThrow(
      'lease write for orders-db returned no lease sequence (got: undefined)',
    );
  });

  it('at epoch 0 also accepts a missing item, seeding the initial primary', async () => {
    ddb.on(UpdateCommand).resolves(granted);
    await state().acquireLease(acquire({ expectedEpoch: 0 }));
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    // A missing item, or one only a pause wrote (no epoch), is at epoch 0.
    expect(input?.ConditionExpression).toBe(
      `attribute_not_exists(#pk) OR (attribute_not_exists(#epoch) AND ${free}) OR ${live}`,
    );
    expect(input?.ExpressionAttributeNames).toEqual({ '#pk': 'pk', ...seedNames, ...LEASE_NAMES });
    expect(input?.ExpressionAttributeValues).toEqual(values(0));
  });

  it('claims an attempt under the lease: the same holder under another live attempt is refused', async () => {
    ddb.on(UpdateCommand).resolves(granted);
    await state().acquireLease(acquire({ lease: { ...lease, attempt: 'tok-1@shifter-1' } }));
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      '(#epoch = :expected AND (attribute_not_exists(#lease) OR #lease.#expiresAt < :now OR (#lease.#holder = :holder AND (attribute_not_exists(#lease.#attempt) OR #lease.#attempt = :attempt))))',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':attempt': 'tok-1@shifter-1',
      ':lease': { ...lease, attempt: 'tok-1@shifter-1' },
    });
  });

  it('maps a condition failure to LeaseConflictError naming the holder', async () => {
    ddb.on(UpdateCommand).rejects(
      conditionFailed({
        epoch: { N: '3' },
        lease: {
          M: {
            holder: { S: 'exec-42' },
            operation: { S: 'switchover' },
            acquiredAt: { N: String(T0 - 1000) },
            expiresAt: { N: String(T0 + 120_000) },
          },
        },
      }),
    );
    const err = await state()
      .acquireLease(acquire())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseConflictError);
    expect(err).toMatchObject({
      serviceId: 'orders-db',
      expectedEpoch: 3,
      message: 'lease on orders-db not acquired: held by exec-42 (switchover) until 2025-01-01T12:02:00.000Z',
    });
  });

  it("the automatic path's first lease (unlessPaused) also requires the service not paused; a paused item refuses it with LeasePausedError", async () => {
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed({ epoch: { N: '3' }, primary: { S: 'db-a' }, paused: { BOOL: true } }));
    const err = await state()
      .acquireLease(acquire({ unlessPaused: true }))
      .catch((e: unknown) => e);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      `(${live}) AND (attribute_not_exists(#paused) OR #paused = :notPaused)`,
    );
    expect(input?.ExpressionAttributeNames).toEqual({ ...seedNames, ...LEASE_NAMES });
    expect(input?.ExpressionAttributeValues).toEqual(values(3));
    expect(err).toBeInstanceOf(LeasePausedError);
    expect(err).toBeInstanceOf(LeaseConflictError);
    expect(err).toMatchObject({
      name: 'LeasePausedError',
      serviceId: 'orders-db',
      expectedEpoch: 3,
      message: 'lease on orders-db not acquired: automatic failover is paused',
    });
    expect((err as Error).cause).toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('unlessPaused at epoch 0: a missing item or one only a pause wrote is still checked for the pause', async () => {
    ddb.on(UpdateCommand).resolves(granted);
    await state().acquireLease(acquire({ expectedEpoch: 0, unlessPaused: true }));
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe(
      `(attribute_not_exists(#pk) OR (attribute_not_exists(#epoch) AND ${free}) OR ${live}) AND (attribute_not_exists(#paused) OR #paused = :notPaused)`,
    );
  });

  it('unlessPaused refused on an unpaused item (epoch moved) stays a plain LeaseConflictError', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ epoch: { N: '5' }, paused: { BOOL: false } }));
    const err = await state()
      .acquireLease(acquire({ unlessPaused: true }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseConflictError);
    expect(err).not.toBeInstanceOf(LeasePausedError);
    expect((err as Error).message).toBe('lease on orders-db not acquired: epoch is 5, expected 3');
  });

  it('says the epoch moved when it did', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ epoch: { N: '5' } }));
    await expect(state().acquireLease(acquire())).rejects.toThrow(
      'lease on orders-db not acquired: epoch is 5, expected 3',
    );
  });

  it('falls back to the generic message without the old item', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(state().acquireLease(acquire())).rejects.toThrow(
      /not acquired: epoch is no longer 3 or another operation holds it/,
    );
  });

  mapsToTransient(
    (e) => ddb.on(UpdateCommand).rejects(e),
    ['throttling', 'internalFailure500', 'requestTimeout'],
    () => state().acquireLease(acquire()),
  );

  it('maps DynamoDB throughput exceptions to TransientAwsError', async () => {
    ddb.on(UpdateCommand).rejects(
      Object.assign(new Error('Throughput exceeds the current capacity of your table or index.'), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(state().acquireLease(acquire())).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('DynamoDbState.commit', () => {
  it('updates the state and writes the history item in one transaction', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await state().commit(commitReq());
    const input = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input;
    expect(input?.TransactItems).toEqual([
      {
        Update: {
          TableName: TABLE,
          Key: { pk: 'service#orders-db', sk: 'state' },
          UpdateExpression:
            'SET #primary = :primary, #epoch = :next, #lastChangeAt = :at, #lastChange = :history REMOVE #lease, #leaseSequence',
          ConditionExpression:
            '#epoch = :expected AND #lease.#holder = :holder AND attribute_not_exists(#lease.#attempt) AND (attribute_not_exists(#paused) OR #paused = :false)',
          ExpressionAttributeNames: names(
            'primary',
            'epoch',
            'lastChangeAt',
            'lastChange',
            'lease',
            'leaseSequence',
            'holder',
            'attempt',
            'paused',
          ),
          ExpressionAttributeValues: {
            ':primary': 'db-b',
            ':next': 4,
            ':at': T0 + 5_000,
            ':history': entry,
            ':expected': 3,
            ':holder': 'req-1',
            ':false': false,
          },
        },
      },
      {
        Put: {
          TableName: TABLE,
          Item: { pk: 'service#orders-db', sk: 'history#0000000004', ...entry },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        },
      },
    ]);
    expect(input?.ClientRequestToken).toMatch(/^[0-9a-f]{36}$/);
  });

  it('uses the same idempotency token for the same commit and another for a different one', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await state().commit(commitReq());
    await state().commit(commitReq());
    await state().commit(commitReq({ holder: 'req-2' }));
    const tokens = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  it('pause does not stop an in-flight zone shift: an automatic failover commits only while not paused, an operator operation also while paused', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await state().commit(commitReq({ attempt: 'tok-1@shifter-1' }));
    await state().commit(commitReq({ history: { ...entry, operation: 'switchover' } }));
    const [auto, operator] = ddb
      .commandCalls(TransactWriteCommand)
      .map((c) => c.args[0].input.TransactItems?.[0]?.Update);
    expect(auto?.ConditionExpression).toBe(
      '#epoch = :expected AND #lease.#holder = :holder AND #lease.#attempt = :attempt AND (attribute_not_exists(#paused) OR #paused = :false)',
    );
    expect(auto?.ExpressionAttributeValues).toMatchObject({ ':attempt': 'tok-1@shifter-1', ':false': false });
    expect(operator?.ConditionExpression).toBe(
      '#epoch = :expected AND #lease.#holder = :holder AND attribute_not_exists(#lease.#attempt)',
    );
    expect(operator?.ExpressionAttributeNames).not.toHaveProperty('#paused');
  });

  it('a pause does not refuse the record of an automatic failover whose traffic already moved (alreadySent)', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await state().commit(commitReq({ alreadySent: true }));
    const update = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Update;
    expect(update?.ConditionExpression).toBe(
      '#epoch = :expected AND #lease.#holder = :holder AND attribute_not_exists(#lease.#attempt)',
    );
    expect(update?.ExpressionAttributeNames).not.toHaveProperty('#paused');
    expect(update?.ExpressionAttributeValues).not.toHaveProperty(':false');
  });

  it('drops undefined optional history fields', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await state().commit(commitReq({ history: { ...entry, lagSeconds: undefined, forced: undefined } }));
    const put = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[1]?.Put;
    expect(put?.Item).not.toHaveProperty('lagSeconds');
    expect(put?.Item).not.toHaveProperty('forced');
  });

  it.each([
    ['the state condition', ['ConditionalCheckFailed', 'None']],
    ['the history condition', ['None', 'ConditionalCheckFailed']],
  ])('maps a cancellation on %s to LeaseLostError', async (_, codes) => {
    ddb.on(TransactWriteCommand).rejects(cancelled(...codes));
    const err = await state()
      .commit(commitReq())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect(err).toMatchObject({ serviceId: 'orders-db', holder: 'req-1' });
  });

  it.each([
    ['TransactionConflict', 'None'],
    ['ThrottlingError', 'None'],
  ])('maps a cancellation for %s to TransientAwsError', async (...codes) => {
    ddb.on(TransactWriteCommand).rejects(cancelled(...codes));
    await expect(state().commit(commitReq())).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('rethrows a validation cancellation unchanged', async () => {
    const err = cancelled('ValidationError', 'None');
    ddb.on(TransactWriteCommand).rejects(err);
    await expect(state().commit(commitReq())).rejects.toBe(err);
  });

  mapsToTransient(
    (e) => ddb.on(TransactWriteCommand).rejects(e),
    ['throttling', 'serviceUnavailable503', 'econnreset'],
    () => state().commit(commitReq()),
  );

  it('refuses a history entry for another epoch without writing', async () => {
    await expect(state().commit(commitReq({ history: { ...entry, epoch: 9 } }))).rejects.toThrow(
      'history entry must be for orders-db at epoch 4, got: orders-db at 9',
    );
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('DynamoDbState.releaseLease', () => {
  it('removes the lease only if the holder still holds it', async () => {
    ddb.on(UpdateCommand).resolves({});
    await state().releaseLease('orders-db', 'req-1');
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'service#orders-db', sk: 'state' },
      UpdateExpression: 'REMOVE #lease',
      ConditionExpression: '#lease.#holder = :holder AND attribute_not_exists(#lease.#attempt)',
      ExpressionAttributeNames: { '#lease': 'lease', '#holder': 'holder', '#attempt': 'attempt' },
      ExpressionAttributeValues: { ':holder': 'req-1' },
    });
  });

  it('with an attempt, removes the lease only if no other attempt claimed it', async () => {
    ddb.on(UpdateCommand).resolves({});
    await state().releaseLease('orders-db', 'req-1', 'tok-1@shifter-1');
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression:
        '#lease.#holder = :holder AND (attribute_not_exists(#lease.#attempt) OR #lease.#attempt = :attempt)',
      ExpressionAttributeValues: { ':holder': 'req-1', ':attempt': 'tok-1@shifter-1' },
    });
  });

  it('is a no-op when the lease is no longer ours', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(state().releaseLease('orders-db', 'req-1')).resolves.toBeUndefined();
  });

  it('maps throttling to TransientAwsError', async () => {
    ddb.on(UpdateCommand).rejects(awsErrors.throttlingException());
    await expect(state().releaseLease('orders-db', 'req-1')).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('DynamoDbState.setPaused', () => {
  const NAMES = { '#paused': 'paused', '#pause': 'pause' };

  it('pauses with who, when and why, and never writes a primary (a local config may be stale)', async () => {
    ddb.on(UpdateCommand).resolves({});
    const record = {
      by: 'arn:aws:iam::111122223333:user/alice (alice@laptop)',
      at: 1_000,
      reason: 'patching',
    };
    await state().setPaused('orders-db', true, record);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toEqual({
      TableName: TABLE,
      Key: { pk: 'service#orders-db', sk: 'state' },
      UpdateExpression: 'SET #paused = :paused, #pause = :pause',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':paused': true, ':pause': record },
    });
    expect(JSON.stringify(input)).not.toContain('primary');
  });

  it.each([
    [false, undefined],
    [true, undefined],
  ])('paused=%s without a record drops any earlier record', async (paused, record) => {
    ddb.on(UpdateCommand).resolves({});
    await state().setPaused('orders-db', paused, record);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'service#orders-db', sk: 'state' },
      UpdateExpression: 'SET #paused = :paused REMOVE #pause',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':paused': paused },
    });
  });

  it('resumes only the pause it read: a condition on the flag and the whole pause record', async () => {
    ddb.on(UpdateCommand).resolves({});
    const read = { by: 'alice@laptop', at: 1_000, reason: 'patching' };
    await state().setPaused('orders-db', false, undefined, { pause: read });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'service#orders-db', sk: 'state' },
      UpdateExpression: 'SET #paused = :paused REMOVE #pause',
      ConditionExpression: '#paused = :wasPaused AND #pause = :wasPause',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':paused': false, ':wasPaused': true, ':wasPause': read },
    });
  });

  it('resumes a pause read without a record only while there is still none', async () => {
    ddb.on(UpdateCommand).resolves({});
    await state().setPaused('orders-db', false, undefined, { pause: undefined });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'service#orders-db', sk: 'state' },
      UpdateExpression: 'SET #paused = :paused REMOVE #pause',
      ConditionExpression: '#paused = :wasPaused AND attribute_not_exists(#pause)',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':paused': false, ':wasPaused': true },
    });
  });

  it('throws PauseChangedError (cause kept) when the pause changed since it was read', async () => {
    const failed = conditionFailed();
    ddb.on(UpdateCommand).rejects(failed);
    const err = await state()
      .setPaused('orders-db', false, undefined, {
        pause: { by: 'alice@laptop', at: 1_000, reason: 'patching' },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PauseChangedError);
    expect(err).toMatchObject({ name: 'PauseChangedError', serviceId: 'orders-db', cause: failed });
  });

  it('maps throttling of a conditional resume to TransientAwsError', async () => {
    ddb.on(UpdateCommand).rejects(awsErrors.throttlingException());
    await expect(
      state().setPaused('orders-db', false, undefined, { pause: undefined }),
    ).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('reads an item only a pause wrote as paused with its record and no primary', async () => {
    ddb
      .on(GetCommand)
      .resolves(stateItem({ paused: true, pause: { by: 'alice@laptop', at: 1_000, reason: 'patching' } }));
    expect(await state().get('orders-db')).toEqual({
      serviceId: 'orders-db',
      epoch: 0,
      paused: true,
      pause: { by: 'alice@laptop', at: 1_000, reason: 'patching' },
    });
  });
});

describe('DynamoDbState.history', () => {
  it('queries newest first with a limit and strips the keys', async () => {
    const older = { ...entry, epoch: 3, from: 'db-b', to: 'db-a' };
    ddb.on(QueryCommand).resolves({
      Items: [
        { pk: 'service#orders-db', sk: historySortKey(4), ...entry },
        { pk: 'service#orders-db', sk: historySortKey(3), ...older },
      ],
    });
    expect(await state().history('orders-db', 2)).toEqual([entry, older]);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': 'service#orders-db', ':prefix': 'history#' },
      ScanIndexForward: false,
      Limit: 2,
    });
  });

  it('rejects a limit that is not a positive integer', async () => {
    await expect(state().history('orders-db', 0)).rejects.toThrow(/got: 0/);
  });

  it('zero-pads epochs so that string order is numeric order', () => {
    expect(historySortKey(4)).toBe('history#0000000004');
    expect(historySortKey(10) > historySortKey(9)).toBe(true);
  });
});

describe('DynamoDbState needs-rejoin', () => {
  it('a commit replaces the needs-rejoin list, or removes it when empty, in the same update', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await state().commit(commitReq({ needsRejoin: ['db-a'] }));
    await state().commit(commitReq({ needsRejoin: [] }));
    const [marked, cleared] = ddb
      .commandCalls(TransactWriteCommand)
      .map((c) => c.args[0].input.TransactItems![0]!.Update!);
    expect(marked?.UpdateExpression).toBe(
      'SET #primary = :primary, #epoch = :next, #lastChangeAt = :at, #lastChange = :history, #needsRejoin = :needsRejoin REMOVE #lease, #leaseSequence',
    );
    expect(marked?.ExpressionAttributeValues?.[':needsRejoin']).toEqual(['db-a']);
    expect(cleared?.UpdateExpression).toBe(
      'SET #primary = :primary, #epoch = :next, #lastChangeAt = :at, #lastChange = :history REMOVE #lease, #leaseSequence, #needsRejoin',
    );
  });

  it('reads the list back with the state', async () => {
    ddb
      .on(GetCommand)
      .resolves(stateItem({ primary: 'db-b', epoch: 4, paused: false, needsRejoin: ['db-a'] }));
    expect(await state().get('orders-db')).toMatchObject({ needsRejoin: ['db-a'] });
  });

  const rejoinEntry: HistoryEntry = {
    ...entry,
    operation: 'rejoin',
    from: 'db-a',
    to: 'db-a',
    reason: 'demoted',
  };
  const rejoinDbA = () =>
    state().markRejoined({ serviceId: 'orders-db', nodeId: 'db-a', expectedEpoch: 4, history: rejoinEntry });

  it('markRejoined removes the node by index, guarded by epoch and value, and writes a history item', async () => {
    ddb.on(GetCommand).resolves({
      Item: { primary: 'db-b', epoch: 4, paused: false, needsRejoin: ['db-c', 'db-a'] },
    });
    ddb.on(TransactWriteCommand).resolves({});
    await rejoinDbA();
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]!.Update).toMatchObject({
      UpdateExpression: 'REMOVE #needsRejoin[1]',
      ConditionExpression: '#epoch = :expected AND #needsRejoin[1] = :node',
      ExpressionAttributeValues: { ':expected': 4, ':node': 'db-a' },
    });
    expect(items[1]!.Put!.Item).toMatchObject({ sk: 'history#0000000004#rejoin#db-a', operation: 'rejoin' });
  });

  it('markRejoined refuses without writing when the epoch moved or the node is not marked', async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: { primary: 'db-b', epoch: 5, paused: false, needsRejoin: ['db-a'] } });
    await expect(rejoinDbA()).rejects.toBeInstanceOf(RejoinConflictError);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('markRejoined maps a cancelled condition to RejoinConflictError', async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: { primary: 'db-b', epoch: 4, paused: false, needsRejoin: ['db-a'] } });
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    await expect(rejoinDbA()).rejects.toBeInstanceOf(RejoinConflictError);
  });

  it('noteOnce appends a note unless present: true the first time, false after', async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    expect(await state().noteOnce('orders-db', 'primary-not-configured:db-z', 'db-a')).toBe(true);
    expect(await state().noteOnce('orders-db', 'primary-not-configured:db-z', 'db-a')).toBe(false);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#notes) OR NOT contains(#notes, :note)',
      ExpressionAttributeValues: {
        ':notes': ['primary-not-configured:db-z'],
        ':note': 'primary-not-configured:db-z',
      },
    });
  });
});
