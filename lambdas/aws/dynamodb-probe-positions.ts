/**
 * The last primary WAL position of each PostgreSQL service, kept in the probe's own DynamoDB table
 * (partition key `serviceId`) so that a probe started cold after the primary died can still say
 * how far behind its replicas are. Positions are written only when they moved; a write never goes
 * backwards (conditional on the stored position being older), since two overlapping invocations
 * may both write.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { formatLsn, type PrimaryPosition, parseLsn } from '../domain/probe.ts';
import type { PrimaryPositionStore } from '../probe/sampler.ts';
import { rethrowAws } from './errors.ts';

export interface DynamoDbProbePositionsProps {
  readonly tableName: string;
  /** @default - a new DynamoDBClient with the default providers */
  readonly client?: DynamoDBClient;
}

export class DynamoDbProbePositions implements PrimaryPositionStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly written = new Map<string, bigint>();

  constructor(props: DynamoDbProbePositionsProps) {
    this.doc = DynamoDBDocumentClient.from(props.client ?? new DynamoDBClient({}));
    this.tableName = props.tableName;
  }

  async get(serviceId: string): Promise<PrimaryPosition | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { serviceId }, ConsistentRead: true }),
      );
      item = out.Item;
    } catch (err) {
      rethrowAws('GetItem', err);
    }
    if (!item || typeof item.lsn !== 'string' || typeof item.at !== 'number') return undefined;
    return { lsn: parseLsn(item.lsn), at: item.at };
  }

  async put(serviceId: string, position: PrimaryPosition): Promise<void> {
    if (this.written.get(serviceId) === position.lsn) return;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { serviceId, lsn: formatLsn(position.lsn), at: position.at },
          ConditionExpression: 'attribute_not_exists(serviceId) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': position.at },
        }),
      );
    } catch (err) {
      // A newer position is stored already: nothing to do.
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return;
      rethrowAws('PutItem', err);
    }
    this.written.set(serviceId, position.lsn);
  }
}
