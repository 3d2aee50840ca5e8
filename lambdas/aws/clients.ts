/**
 * Every SDK client the Lambdas use, built once per execution environment (module-level cache), so
 * a warm invocation reuses connections and credentials instead of paying for them again.
 *
 * Region, endpoint and credentials come from the SDK's default providers: AWS_REGION (set by
 * Lambda), AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> (moto_server, LocalStack), and the
 * default credential chain. This module reads no environment variable itself.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClients {
  readonly cloudWatch: CloudWatchClient;
  readonly dynamoDb: DynamoDBClient;
  /** Marshals plain JS objects; `undefined` attributes are dropped (optional history fields). */
  readonly dynamoDbDocument: DynamoDBDocumentClient;
  readonly route53: Route53Client;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly sns: SNSClient;
  readonly sfn: SFNClient;
  readonly lambda: LambdaClient;
}

/**
 * Shared by every client. Adaptive retry adds client-side rate limiting on throttling, which
 * matters for Route 53 (5 requests/s per account) when many services fail at once. Three
 * attempts keep a failover inside its Lambda timeout; what still fails surfaces as
 * TransientAwsError for the caller (or Step Functions) to retry.
 *
 * Timeouts: the SDK default has no request timeout, so a hung connection would eat the whole
 * Lambda timeout. A request that exceeds `requestTimeout` is an *uncertain* failure (see errors.ts).
 */
export const CLIENT_CONFIG = {
  retryMode: 'adaptive',
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

const built = new Map<string, { destroy(): void } | DynamoDBDocumentClient>();

/** One instance per execution environment and kind, built on first use. */
function once<T extends { destroy(): void } | DynamoDBDocumentClient>(key: string, make: () => T): T {
  let client = built.get(key) as T | undefined;
  if (!client) {
    client = make();
    built.set(key, client);
  }
  return client;
}

// One getter per client, so a Lambda bundle holds only the SDK clients its handler uses (the SDK
// packages are side-effect free: esbuild drops an unused getter and the client it imports). The
// failover handler needs neither Step Functions nor Lambda, about 90 KB of minified bundle.
export const cloudWatchClient = () => once('cloudWatch', () => new CloudWatchClient({ ...CLIENT_CONFIG }));
export const dynamoDbClient = () => once('dynamoDb', () => new DynamoDBClient({ ...CLIENT_CONFIG }));
/** Marshals plain JS objects over the shared DynamoDB client; `undefined` attributes are dropped. */
export const dynamoDbDocumentClient = () =>
  once('dynamoDbDocument', () =>
    DynamoDBDocumentClient.from(dynamoDbClient(), { marshallOptions: { removeUndefinedValues: true } }),
  );
export const route53Client = () => once('route53', () => new Route53Client({ ...CLIENT_CONFIG }));
/**
 * Route 53 without SDK retries, for the failover Lambda when a zone-shift queue takes over
 * refused changes: a throttled change is handed over at once instead of after seconds of backoff.
 */
export const route53FailFastClient = () =>
  once('route53FailFast', () => new Route53Client({ ...CLIENT_CONFIG, maxAttempts: 1 }));
export const elbv2Client = () => once('elbv2', () => new ElasticLoadBalancingV2Client({ ...CLIENT_CONFIG }));
export const snsClient = () => once('sns', () => new SNSClient({ ...CLIENT_CONFIG }));
export const sfnClient = () => once('sfn', () => new SFNClient({ ...CLIENT_CONFIG }));
/** The zone-shift queue (correlated failures); not part of `awsClients()`. */
export const sqsClient = () => once('sqs', () => new SQSClient({ ...CLIENT_CONFIG }));
// Hooks may run up to 900 s (the config's maximum hook timeout): a 10 s request timeout would
// abandon a hook that is still working and retry it while the first run goes on.
export const lambdaClient = () =>
  once(
    'lambda',
    () =>
      new LambdaClient({
        ...CLIENT_CONFIG,
        requestHandler: { ...CLIENT_CONFIG.requestHandler, requestTimeout: 905_000 },
      }),
  );

// Node actions (lambdas/aws/actions/): built only when a configured action of that kind runs.
export const ssmClient = () => once('ssm', () => new SSMClient({ ...CLIENT_CONFIG }));
export const ec2Client = () => once('ec2', () => new EC2Client({ ...CLIENT_CONFIG }));
export const rdsClient = () => once('rds', () => new RDSClient({ ...CLIENT_CONFIG }));
export const secretsManagerClient = () =>
  once('secretsManager', () => new SecretsManagerClient({ ...CLIENT_CONFIG }));

let cached: AwsClients | undefined;

export function awsClients(): AwsClients {
  cached ??= {
    cloudWatch: cloudWatchClient(),
    dynamoDb: dynamoDbClient(),
    dynamoDbDocument: dynamoDbDocumentClient(),
    route53: route53Client(),
    elbv2: elbv2Client(),
    sns: snsClient(),
    sfn: sfnClient(),
    lambda: lambdaClient(),
  };
  return cached;
}

/** Test hook: forget the cached clients so the next awsClients() builds new ones. */
export function resetAwsClientsForTests(): void {
  for (const client of built.values()) {
    if (!(client instanceof DynamoDBDocumentClient)) client.destroy();
  }
  built.clear();
  cached = undefined;
}
