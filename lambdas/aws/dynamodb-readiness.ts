/**
 * The readiness check's last verdict per service, in a table of its own (pk `serviceId`): the
 * readiness Lambda may write there and only read the state table, so no readiness bug can touch
 * an epoch or a lease. One GetItem per service and pass; a PutItem only when the verdict changed.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ReadinessStorePort } from '../domain/readiness.ts';
import { documentClient, requireTableName } from './adapter-props.ts';
import { rethrowAws } from './errors.ts';

export interface DynamoDbReadinessStoreProps {
  readonly tableName: string;
  /** @default - a new DynamoDBClient with the default providers */
  readonly client?: DynamoDBDocumentClient | DynamoDBClient;
}

export class DynamoDbReadinessStore implements ReadinessStorePort {
  private readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;

  constructor(props: DynamoDbReadinessStoreProps) {
    this.tableName = requireTableName(props.tableName);
    this.client = documentClient(props.client);
  }

  async previous(serviceId: string): Promise<'ready' | 'not-ready' | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { serviceId },
          ProjectionExpression: '#s',
          ExpressionAttributeNames: { '#s': 'status' },
        }),
      );
      const status = out.Item?.status;
      return status === 'ready' || status === 'not-ready' ? status : undefined;
    } catch (err) {
      rethrowAws('GetItem', err);
    }
  }

  async record(serviceId: string, status: 'ready' | 'not-ready', at: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { serviceId, status, at },
        }),
      );
    } catch (err) {
      rethrowAws('PutItem', err);
    }
  }
}
