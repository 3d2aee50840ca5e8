/**
 * Creates a state table with the stack's key schema (pk, sk; on-demand) over any DynamoDB endpoint:
 * moto_server in the wire suites, the drill's AWS backend. Plain SDK: no vitest, so drill/ may use it.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The stack's keys: partition key `pk`, sort key `sk`, both strings. */
const KEYS = [
  ['pk', 'HASH'],
  ['sk', 'RANGE'],
] as const;

export async function createStateTable(dynamoDb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamoDb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: KEYS.map(([AttributeName]) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: KEYS.map(([AttributeName, KeyType]) => ({ AttributeName, KeyType })),
    }),
  );
}
