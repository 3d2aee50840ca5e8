/**
 * SDK errors built the way the SDK builds them: service exceptions through their generated
 * classes (name, $fault, $metadata), protocol-level errors as plain Errors with the same fields
 * the deserializer sets, and Node HTTP handler failures with their real names, codes and messages.
 */
import { PriorRequestNotComplete } from '@aws-sdk/client-route-53';
import { type FailoverConfig, parseConfig, type ServiceConfig } from '../../lambdas/domain/config.ts';

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1', attempts: 3 });

/** An error the query/JSON protocol deserializer builds for a code with no modelled class. */
const serviceError = (name: string, message: string, fault: 'client' | 'server', status: number) =>
  Object.assign(new Error(message), { name, $fault: fault, $metadata: meta(status) });

/** A failure of @smithy/node-http-handler, with the fields it sets. */
const httpHandlerError = (message: string, fields: Record<string, unknown>) =>
  Object.assign(new Error(`@smithy/node-http-handler - ${message}`), fields);

export const awsErrors = {
  /** Query-protocol throttling (CloudWatch, SNS, ELBv2): no modelled class. */
  throttling: () => serviceError('Throttling', 'Rate exceeded', 'client', 400),
  throttlingException: () => serviceError('ThrottlingException', 'Rate exceeded', 'client', 400),
  tooManyRequests429: () =>
    Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequests', $metadata: meta(429) }),
  priorRequestNotComplete: () =>
    new PriorRequestNotComplete({
      message: 'The request was rejected because Route 53 was still processing a prior request.',
      $metadata: meta(400),
    }),
  internalFailure500: () =>
    serviceError('InternalFailure', 'We encountered an internal error. Please try again.', 'server', 500),
  serviceUnavailable503: () => serviceError('ServiceUnavailable', 'Service Unavailable', 'server', 503),
  /** @smithy/node-http-handler, requestTimeout with throwOnRequestTimeout: the request was sent. */
  requestTimeout: () =>
    httpHandlerError('[ERROR] a request has exceeded the configured 10000 ms requestTimeout.', {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
      $metadata: { attempts: 3 },
    }),
  socketTimeout: () =>
    httpHandlerError(
      'the request socket timed out after 300000 ms of inactivity (service default socket timeout).',
      { name: 'TimeoutError' },
    ),
  /** Connection timeout: no socket, nothing was sent. */
  connectTimeout: () =>
    httpHandlerError(
      'the request socket did not establish a connection with the server within the configured timeout of 3000 ms.',
      { name: 'TimeoutError' },
    ),
  econnreset: () =>
    Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: { attempts: 3 } }),
  econnrefused: () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    }),
  accessDenied: () =>
    serviceError('AccessDenied', 'User is not authorized to perform this action', 'client', 403),
} as const;

export type AwsErrorKind = keyof typeof awsErrors;

// ---------------------------------------------------------------------------------------------
// Validated services for the router adapters
// ---------------------------------------------------------------------------------------------

const lag = (node: string) => ({
  namespace: 'Custom/Lag',
  metricName: 'LagSeconds',
  dimensions: { Node: node },
});
const alarm = (service: string, node: string) => ({ type: 'alarm', alarmName: `${service}-${node}-health` });
const ACCOUNT = '111122223333';
export const tgArn = (name: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/${name}/0123456789abcdef`;
export const listenerArn = (lb: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/${lb}/0123456789abcdef/fedcba9876543210`;

/** A service on `router` whose nodes carry `fields`, alarm health `<service>-<node>-health` and a lag metric. */
function serviceOn(
  id: string,
  router: Record<string, unknown>,
  fields: [node: string, fields: Record<string, unknown>][],
): Record<string, unknown> {
  const nodes = fields.map(([node, extra]) => ({
    id: node,
    ...extra,
    health: alarm(id, node),
    lag: lag(node),
  }));
  return { id, initialPrimary: nodes[0]?.id, router, nodes };
}

export function route53Service(
  id: string,
  opts: {
    zone?: string;
    zoneName?: string;
    record?: string;
    type?: 'A' | 'AAAA' | 'CNAME';
    ttl?: number;
    addresses: Record<string, string>;
  },
): Record<string, unknown> {
  const router = {
    type: 'route53',
    hostedZoneId: opts.zone ?? 'Z0123456789EXAMPLE',
    zoneName: opts.zoneName ?? 'example.com',
    recordName: opts.record ?? `${id}.example.com`,
    recordType: opts.type ?? 'A',
    ...(opts.ttl !== undefined ? { ttlSeconds: opts.ttl } : {}),
  };
  return serviceOn(
    id,
    router,
    Object.entries(opts.addresses).map(([node, address]) => [node, { address }]),
  );
}

export function elbTargetService(
  id: string,
  targets: Record<string, { id: string; port?: number }>,
): Record<string, unknown> {
  const router = { type: 'elbv2-target', targetGroupArn: tgArn(id) };
  return serviceOn(
    id,
    router,
    Object.entries(targets).map(([node, target]) => [node, { target }]),
  );
}

export function elbWeightedService(id: string, nodeIds: string[]): Record<string, unknown> {
  const router = { type: 'elbv2-weighted', listenerArn: listenerArn(id) };
  return serviceOn(
    id,
    router,
    nodeIds.map((node) => [node, { targetGroupArn: tgArn(`${id}-${node}`) }]),
  );
}

export function configOf(...services: Record<string, unknown>[]): FailoverConfig {
  return parseConfig({ services });
}

export function servicesOf(...services: Record<string, unknown>[]): ServiceConfig[] {
  return configOf(...services).services;
}
