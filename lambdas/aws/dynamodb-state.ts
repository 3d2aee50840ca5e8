/**
 * Cluster state in one DynamoDB table: the fencing epoch and the lease live on one item per
 * service, so every role change is a conditional write on that item (compare-and-swap), and the
 * history entry is written in the same transaction as the change it records.
 *
 * Layout: pk = `service#<id>`; sk = `state` (the state item) or `history#<epoch, 10 digits>`.
 * Epochs and times are DynamoDB numbers (epoch milliseconds), never strings.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandOutput,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import {
  FailoverError,
  LeaseConflictError,
  LeaseLostError,
  LeasePausedError,
  PauseChangedError,
  RejoinConflictError,
} from '../domain/errors.ts';
import type {
  AcquireLeaseRequest,
  CommitRequest,
  LeaseGrant,
  PauseArguments,
  RejoinedRequest,
  StatePort,
} from '../domain/ports.ts';
import type { HistoryEntry, Lease, OperationKind, StoredClusterState } from '../domain/types.ts';
import { documentClient, requireTableName } from './adapter-props.ts';
import { rethrowAws, toTransient } from './errors.ts';

export const STATE_SK = 'state';
export const HISTORY_PREFIX = 'history#';

export const partitionKey = (serviceId: string): string => `service#${serviceId}`;
/** Zero-padded so that the string sort order of sk is the numeric order of epochs. */
export const historySortKey = (epoch: number): string =>
  `${HISTORY_PREFIX}${String(epoch).padStart(10, '0')}`;

export interface DynamoDbStateProps {
  readonly tableName: string;
  /**
   * A document client, or a plain DynamoDB client to wrap in one.
   * @default - a new DynamoDBClient with the default providers
   */
  readonly client?: DynamoDBDocumentClient | DynamoDBClient;
}

/** Transaction cancellation codes that are worth retrying. */
const TRANSIENT_CANCEL_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

export class DynamoDbState implements StatePort {
  private readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;

  constructor(props: DynamoDbStateProps) {
    this.tableName = requireTableName(props.tableName);
    this.client = documentClient(props.client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(serviceId: string): Promise<StoredClusterState | undefined> {
    let out: GetCommandOutput;
    try {
      out = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: this.stateKey(serviceId),
          // The decision reads the epoch it will compare against: a stale read only costs a
          // conflict later, but a strong read avoids deciding on a change that already happened.
          ConsistentRead: true,
        }),
      );
    } catch (err) {
      rethrowAws('GetItem', err);
    }
    return out.Item ? toClusterState(serviceId, out.Item) : undefined;
  }

  async acquireLease(req: AcquireLeaseRequest): Promise<LeaseGrant> {
    // Free to take: no lease, an expired lease, or our own (a retried invocation with the same holder).
    // ...and, for our own, no other attempt claimed under it (see Lease.attempt).
    const free = `(attribute_not_exists(#lease) OR #lease.#expiresAt < :now OR (#lease.#holder = :holder AND ${attemptCondition(req.lease.attempt)}))`;
    const existing = `(#epoch = :expected AND ${free})`;
    const seeding = req.expectedEpoch === 0;
    const taken = seeding
      ? `attribute_not_exists(#pk) OR (attribute_not_exists(#epoch) AND ${free}) OR ${existing}`
      : existing;
    let out: UpdateCommandOutput;
    try {
      out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.stateKey(req.serviceId),
          // The lease sequence counts the leases taken at this epoch (node-action tokens carry it);
          // the commit that moves the epoch removes it.
          UpdateExpression: `SET #lease = :lease, #leaseSequence = if_not_exists(#leaseSequence, :zero) + :one, ${SEED_EXPRESSION}`,
          // An item that does not exist yet is at epoch 0 with the configured initial primary; so
          // is one only a pause wrote (it holds no epoch: see setPaused).
          // The automatic path's first lease: a pause written after its decision read stops it here.
          ConditionExpression: req.unlessPaused ? `(${taken}) AND ${NOT_PAUSED}` : taken,
          ExpressionAttributeNames: {
            ...(seeding ? { '#pk': 'pk' } : {}),
            ...SEED_NAMES,
            '#lease': 'lease',
            '#leaseSequence': 'leaseSequence',
            '#expiresAt': 'expiresAt',
            '#holder': 'holder',
            '#attempt': 'attempt',
          },
          ExpressionAttributeValues: {
            ...seedValues(req.serviceId, req.seedPrimary),
            ':lease': leaseItem(req.lease),
            ':zero': 0,
            ':one': 1,
            ':expected': req.expectedEpoch,
            ':now': req.now,
            ':holder': req.lease.holder,
            ...(req.lease.attempt !== undefined ? { ':attempt': req.lease.attempt } : {}),
          },
          // Lets the conflict say who holds the lease, without a second read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') {
        const old = (err as { Item?: Record<string, unknown> }).Item;
        // The item comes back in wire form (the document client leaves error fields marshalled).
        if (req.unlessPaused && rawBool(old?.paused) === true) {
          throw new LeasePausedError(req.serviceId, req.expectedEpoch, { cause: err });
        }
        throw new LeaseConflictError(req.serviceId, req.expectedEpoch, {
          cause: err,
          detail: conflictDetail(req, old),
        });
      }
      rethrowAws('UpdateItem', err);
    }
    const sequence = out.Attributes?.leaseSequence;
    if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 1) {
      // The write landed, but without the count a token could not outrank an earlier attempt's.
      throw new FailoverError(
        `lease write for ${req.serviceId} returned no lease sequence (got: ${JSON.stringify(sequence)})`,
      );
    }
    return { sequence };
  }

  async commit(req: CommitRequest): Promise<void> {
    const next = req.expectedEpoch + 1;
    if (req.history.epoch !== next || req.history.serviceId !== req.serviceId) {
      throw new FailoverError(
        `history entry must be for ${req.serviceId} at epoch ${next}, got: ${req.history.serviceId} at ${req.history.epoch}`,
      );
    }
    const history = compact(req.history);
    const rejoin = rejoinUpdate(req.needsRejoin);
    const transactItems = [
      {
        Update: {
          TableName: this.tableName,
          Key: this.stateKey(req.serviceId),
          UpdateExpression: `SET #primary = :primary, #epoch = :next, #lastChangeAt = :at, #lastChange = :history${rejoin.set} REMOVE #lease, #leaseSequence${rejoin.remove}`,
          // The fencing check: same epoch as read, and the lease still ours. An expired lease that
          // nobody took over still fences correctly: the epoch has not moved.
          // The attempt: one zone-shifter invocation per lease. Paused: an automatic failover stops
          // even after its decision; an operator's own operation goes on.
          ConditionExpression: `#epoch = :expected AND #lease.#holder = :holder AND ${
            req.attempt === undefined ? 'attribute_not_exists(#lease.#attempt)' : '#lease.#attempt = :attempt'
          }${refusedWhilePaused(req) ? ' AND (attribute_not_exists(#paused) OR #paused = :false)' : ''}`,
          ExpressionAttributeNames: {
            '#primary': 'primary',
            '#epoch': 'epoch',
            '#lastChangeAt': 'lastChangeAt',
            '#lastChange': 'lastChange',
            '#lease': 'lease',
            '#leaseSequence': 'leaseSequence',
            '#holder': 'holder',
            '#attempt': 'attempt',
            ...(refusedWhilePaused(req) ? { '#paused': 'paused' } : {}),
            ...rejoin.names,
          },
          ExpressionAttributeValues: {
            ':primary': req.newPrimary,
            ':next': next,
            ':at': req.at,
            ':history': history,
            ':expected': req.expectedEpoch,
            ':holder': req.holder,
            ...(req.attempt !== undefined ? { ':attempt': req.attempt } : {}),
            ...(refusedWhilePaused(req) ? { ':false': false } : {}),
            ...rejoin.values,
          },
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: { pk: partitionKey(req.serviceId), sk: historySortKey(next), ...history },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        },
      },
    ];
    await this.transact(
      transactItems,
      (err) => new LeaseLostError(req.serviceId, req.holder, { cause: err }),
    );
  }

  /**
   * One conditional transaction, idempotent by content: the token is derived from the items, so a
   * retry of the same write (SDK retry after a timeout, or a re-invoked Lambda within DynamoDB's
   * 10-minute idempotency window) succeeds instead of failing its own condition and reporting a
   * conflict for a change that was made. A failed condition throws `conflict(err)`.
   */
  private async transact(
    transactItems: NonNullable<TransactWriteCommandInput['TransactItems']>,
    conflict: (err: unknown) => Error,
  ): Promise<void> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: transactItems,
          ClientRequestToken: idempotencyToken(this.tableName, transactItems),
        }),
      );
    } catch (err) {
      const reasons = cancellationCodes(err);
      if (reasons.includes('ConditionalCheckFailed')) throw conflict(err);
      if (reasons.some((c) => TRANSIENT_CANCEL_CODES.has(c))) throw toTransient('TransactWriteItems', err);
      rethrowAws('TransactWriteItems', err);
    }
  }

  async releaseLease(serviceId: string, holder: string, attempt?: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.stateKey(serviceId),
          UpdateExpression: 'REMOVE #lease',
          ConditionExpression: `#lease.#holder = :holder AND ${attemptCondition(attempt)}`,
          ExpressionAttributeNames: { '#lease': 'lease', '#holder': 'holder', '#attempt': 'attempt' },
          ExpressionAttributeValues: {
            ':holder': holder,
            ...(attempt !== undefined ? { ':attempt': attempt } : {}),
          },
        }),
      );
    } catch (err) {
      // Not ours any more (taken over, committed, or never written): nothing to release.
      if (errorName(err) === 'ConditionalCheckFailedException') return;
      rethrowAws('UpdateItem', err);
    }
  }

  async setPaused(serviceId: string, paused: boolean, ...[record, onlyIf]: PauseArguments): Promise<void> {
    const keep = paused && record !== undefined;
    // Only the pause that was read (the whole map compared, as the adapter wrote it): a pause a
    // rollback wrote meanwhile stays. Still only the two pause names: the operator policy allows it.
    const expected = onlyIf?.pause;
    const condition = onlyIf
      ? {
          ConditionExpression: `#paused = :wasPaused AND ${expected ? '#pause = :wasPause' : 'attribute_not_exists(#pause)'}`,
        }
      : {};
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.stateKey(serviceId),
          // Only the flag and who paused: never the epoch or the lease (pausing only gates
          // automatic decisions), nor a primary (the caller's configuration may be stale, and a
          // wrong primary would make every alarm on the real one hold). An item only a pause wrote
          // reads as epoch 0 with no primary; the first lease seeds both from the deployed
          // configuration. These names are exactly what the operator managed policy allows
          // (lambdas/contract/operator-access.ts PAUSE_ATTRIBUTES).
          UpdateExpression: `SET #paused = :paused${keep ? ', #pause = :pause' : ' REMOVE #pause'}`,
          ...condition,
          ExpressionAttributeNames: { '#paused': 'paused', '#pause': 'pause' },
          ExpressionAttributeValues: {
            ':paused': paused,
            ...(keep ? { ':pause': { by: record.by, at: record.at, reason: record.reason } } : {}),
            ...(onlyIf ? { ':wasPaused': true } : {}),
            ...(expected
              ? { ':wasPause': { by: expected.by, at: expected.at, reason: expected.reason } }
              : {}),
          },
        }),
      );
    } catch (err) {
      if (onlyIf && errorName(err) === 'ConditionalCheckFailedException') {
        throw new PauseChangedError(serviceId, { cause: err });
      }
      rethrowAws('UpdateItem', err);
    }
  }

  async history(serviceId: string, limit: number): Promise<readonly HistoryEntry[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new FailoverError(`history limit must be a positive integer, got: ${limit}`);
    }
    let out: QueryCommandOutput;
    try {
      out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': partitionKey(serviceId), ':prefix': HISTORY_PREFIX },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
    } catch (err) {
      rethrowAws('Query', err);
    }
    return (out.Items ?? []).map(({ pk: _pk, sk: _sk, ...entry }) => entry as unknown as HistoryEntry);
  }

  async markRejoined(req: RejoinedRequest): Promise<void> {
    const current = await this.get(req.serviceId);
    const index = current?.needsRejoin?.indexOf(req.nodeId) ?? -1;
    if (!current || current.epoch !== req.expectedEpoch || index < 0) {
      throw new RejoinConflictError(req.serviceId, req.nodeId, req.expectedEpoch, {
        detail: current
          ? `epoch is ${current.epoch}, ${req.nodeId} is ${index < 0 ? 'not ' : ''}marked needs-rejoin`
          : 'no state item',
      });
    }
    const history = compact(req.history);
    const transactItems = [
      {
        Update: {
          TableName: this.tableName,
          Key: this.stateKey(req.serviceId),
          // By index, guarded by the element's value: a concurrent change of the list (or of the
          // epoch) makes the condition fail instead of removing the wrong node.
          UpdateExpression: `REMOVE #needsRejoin[${index}]`,
          ConditionExpression: `#epoch = :expected AND #needsRejoin[${index}] = :node`,
          ExpressionAttributeNames: { '#epoch': 'epoch', '#needsRejoin': 'needsRejoin' },
          ExpressionAttributeValues: { ':expected': req.expectedEpoch, ':node': req.nodeId },
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: {
            pk: partitionKey(req.serviceId),
            sk: rejoinSortKey(req.expectedEpoch, req.nodeId),
            ...history,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        },
      },
    ];
    await this.transact(
      transactItems,
      (err) => new RejoinConflictError(req.serviceId, req.nodeId, req.expectedEpoch, { cause: err }),
    );
  }

  async noteOnce(serviceId: string, note: string, seedPrimary: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.stateKey(serviceId),
          UpdateExpression: `SET #notes = list_append(if_not_exists(#notes, :empty), :notes), ${SEED_EXPRESSION}`,
          ConditionExpression: 'attribute_not_exists(#notes) OR NOT contains(#notes, :note)',
          ExpressionAttributeNames: { ...SEED_NAMES, '#notes': 'notes' },
          ExpressionAttributeValues: {
            ...seedValues(serviceId, seedPrimary),
            ':empty': [],
            ':notes': [note],
            ':note': note,
          },
        }),
      );
      return true;
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return false;
      rethrowAws('UpdateItem', err);
    }
  }

  private stateKey(serviceId: string): { pk: string; sk: string } {
    return { pk: partitionKey(serviceId), sk: STATE_SK };
  }
}

/** The pause flag absent or false (setPaused writes it; resume writes false). Names and values: SEED_NAMES, seedValues. */
const NOT_PAUSED = '(attribute_not_exists(#paused) OR #paused = :notPaused)';

/** After the epoch's own entry in the sort order, so a newest-first query lists it first. */
export const rejoinSortKey = (epoch: number, nodeId: string): string =>
  `${historySortKey(epoch)}#rejoin#${nodeId}`;

/** The commit's part of the update for the needs-rejoin list: replaced, removed when empty, or kept. */
/** An automatic failover stops at a pause, unless its traffic already moved (CommitRequest.alreadySent). */
function refusedWhilePaused(req: CommitRequest): boolean {
  return req.history.operation === 'auto-failover' && req.alreadySent !== true;
}

function rejoinUpdate(needsRejoin: readonly string[] | undefined): {
  set: string;
  remove: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  if (needsRejoin === undefined) return { set: '', remove: '', names: {}, values: {} };
  const names = { '#needsRejoin': 'needsRejoin' };
  if (needsRejoin.length === 0) return { set: '', remove: ', #needsRejoin', names, values: {} };
  return {
    set: ', #needsRejoin = :needsRejoin',
    remove: '',
    names,
    values: { ':needsRejoin': [...needsRejoin] },
  };
}

const SEED_EXPRESSION_WITHOUT_PAUSED =
  '#serviceId = if_not_exists(#serviceId, :serviceId), #primary = if_not_exists(#primary, :seedPrimary), #epoch = if_not_exists(#epoch, :zero)';
const SEED_EXPRESSION = `${SEED_EXPRESSION_WITHOUT_PAUSED}, #paused = if_not_exists(#paused, :notPaused)`;
const SEED_NAMES = {
  '#serviceId': 'serviceId',
  '#primary': 'primary',
  '#epoch': 'epoch',
  '#paused': 'paused',
};

function seedValuesWithoutPaused(serviceId: string, seedPrimary: string): Record<string, unknown> {
  return { ':serviceId': serviceId, ':seedPrimary': seedPrimary, ':zero': 0 };
}

function seedValues(serviceId: string, seedPrimary: string): Record<string, unknown> {
  return { ...seedValuesWithoutPaused(serviceId, seedPrimary), ':notPaused': false };
}

function leaseItem(lease: Lease): Record<string, unknown> {
  return {
    holder: lease.holder,
    operation: lease.operation,
    acquiredAt: lease.acquiredAt,
    expiresAt: lease.expiresAt,
    ...(lease.target !== undefined ? { target: lease.target } : {}),
    ...(lease.targetLagSeconds !== undefined ? { targetLagSeconds: lease.targetLagSeconds } : {}),
    ...(lease.invocation !== undefined ? { invocation: lease.invocation } : {}),
    ...(lease.attempt !== undefined ? { attempt: lease.attempt } : {}),
  };
}

/** The lease's attempt claim is `attempt`, or (with none given, or none claimed yet) absent. */
function attemptCondition(attempt: string | undefined): string {
  return attempt === undefined
    ? 'attribute_not_exists(#lease.#attempt)'
    : '(attribute_not_exists(#lease.#attempt) OR #lease.#attempt = :attempt)';
}

function toClusterState(serviceId: string, item: Record<string, unknown>): StoredClusterState {
  const lease = item.lease as Record<string, unknown> | undefined;
  const pause = item.pause as Record<string, unknown> | undefined;
  return {
    serviceId,
    // Absent on an item only a pause wrote: no role change recorded yet.
    ...(typeof item.primary === 'string' ? { primary: item.primary } : {}),
    epoch: Number(item.epoch ?? 0),
    paused: item.paused === true,
    ...(item.paused === true && pause && typeof pause.by === 'string'
      ? { pause: { by: pause.by, at: Number(pause.at), reason: String(pause.reason ?? '') } }
      : {}),
    ...(lease
      ? {
          lease: {
            holder: String(lease.holder),
            operation: lease.operation as OperationKind,
            acquiredAt: Number(lease.acquiredAt),
            expiresAt: Number(lease.expiresAt),
            ...(typeof lease.attempt === 'string' ? { attempt: lease.attempt } : {}),
            ...(typeof lease.target === 'string' ? { target: lease.target } : {}),
            ...(typeof lease.targetLagSeconds === 'number'
              ? { targetLagSeconds: lease.targetLagSeconds }
              : {}),
            ...(typeof lease.invocation === 'number' ? { invocation: lease.invocation } : {}),
          },
        }
      : {}),
    ...(typeof item.lastChangeAt === 'number' ? { lastChangeAt: item.lastChangeAt } : {}),
    ...(item.lastChange ? { lastChange: item.lastChange as HistoryEntry } : {}),
    ...(Array.isArray(item.needsRejoin) && item.needsRejoin.length > 0
      ? { needsRejoin: item.needsRejoin.map(String) }
      : {}),
    ...(Array.isArray(item.notes) && item.notes.length > 0 ? { notes: item.notes.map(String) } : {}),
  };
}

/** Why the lease was refused, from the item DynamoDB returned with the condition failure (raw attribute values). */
function conflictDetail(
  req: AcquireLeaseRequest,
  item: Record<string, unknown> | undefined,
): string | undefined {
  if (!item) return undefined;
  const epoch = rawNumber(item.epoch);
  const lease = rawMap(item.lease);
  const holder = rawString(lease?.holder);
  const expiresAt = rawNumber(lease?.expiresAt);
  if (epoch !== undefined && epoch !== req.expectedEpoch) {
    return `epoch is ${epoch}, expected ${req.expectedEpoch}`;
  }
  if (holder !== undefined && expiresAt !== undefined) {
    const operation = rawString(lease?.operation) ?? 'unknown operation';
    return `held by ${holder} (${operation}) until ${new Date(expiresAt).toISOString()}`;
  }
  return undefined;
}

function rawBool(v: unknown): boolean | undefined {
  const b = (v as { BOOL?: unknown } | undefined)?.BOOL;
  return typeof b === 'boolean' ? b : undefined;
}

function rawNumber(v: unknown): number | undefined {
  const n = (v as { N?: unknown } | undefined)?.N;
  return typeof n === 'string' ? Number(n) : undefined;
}

function rawString(v: unknown): string | undefined {
  const s = (v as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

function rawMap(v: unknown): Record<string, unknown> | undefined {
  const m = (v as { M?: unknown } | undefined)?.M;
  return m !== null && typeof m === 'object' ? (m as Record<string, unknown>) : undefined;
}

function errorName(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' ? (err as { name?: string }).name : undefined;
}

function cancellationCodes(err: unknown): string[] {
  if (errorName(err) !== 'TransactionCanceledException') return [];
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

/** Drops undefined values (optional history fields) so any document client can marshal the item. */
function compact<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** ClientRequestToken is at most 36 characters. */
function idempotencyToken(tableName: string, items: unknown): string {
  return createHash('sha256').update(tableName).update(JSON.stringify(items)).digest('hex').slice(0, 36);
}
