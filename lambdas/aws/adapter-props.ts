/**
 * What the adapters' constructors share: a required identifier checked at cold start (a wrong one
 * fails with its value before the first call, not inside a failover), and clients injected or
 * built with the SDK's default providers.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { FailoverError } from '../domain/errors.ts';

/** `value` when it matches `pattern`; else `<field> must <rule>, got: <value as JSON>`. */
export function requireFormat(field: string, value: string, pattern: RegExp, rule: string): string {
  if (!pattern.test(value)) throw new FailoverError(`${field} must ${rule}, got: ${JSON.stringify(value)}`);
  return value;
}

/** A table name: anything but empty (the stack passes its own table's name). */
export function requireTableName(tableName: string): string {
  return requireFormat('tableName', tableName, /./, 'not be empty');
}

/** The document client given, or one wrapping the plain client given (a new one by default). */
export function documentClient(
  client: DynamoDBDocumentClient | DynamoDBClient | undefined,
  translate?: TranslateConfig,
): DynamoDBDocumentClient {
  const plain = client ?? new DynamoDBClient({});
  return plain instanceof DynamoDBDocumentClient ? plain : DynamoDBDocumentClient.from(plain, translate);
}

export interface CloudWatchAdapterProps {
  /** @default - a new CloudWatchClient with the default providers */
  readonly client?: CloudWatchClient;
}

/** The CloudWatch adapters' client, injected (tests, a shared client) or built with the default providers. */
export abstract class CloudWatchAdapter {
  protected readonly client: CloudWatchClient;

  constructor(props: CloudWatchAdapterProps = {}) {
    this.client = props.client ?? new CloudWatchClient({});
  }
}
