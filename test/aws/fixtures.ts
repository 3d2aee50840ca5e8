/**
 * SDK errors built the way the SDK builds them: service exceptions through their generated
 * classes (name, $fault, $metadata), protocol-level errors as plain Errors with the same fields
 * the deserializer sets, and Node HTTP handler failures with their real names, codes and messages.
 */
import { PriorRequestNotComplete } from '@aws-sdk/client-route-53';
import { type FailoverConfig, parseConfig, type ServiceConfig } from '../../lambdas/domain/config.ts';

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1', attempts: 3 });

export const awsErrors = {
  /** Query-protocol throttling (CloudWatch, SNS, ELBv2): no modelled class. */
  throttling: () =>
    Object.assign(new Error('Rate exceeded'), {
      name: 'Throttling',
      $fault: 'client',
      $metadata: meta(400),
    }),
  throttlingException: () =>
    Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: meta(400),
    }),
  tooManyRequests429: () =>
    Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequests', $metadata: meta(429) }),
  priorRequestNotComplete: () =>
    new PriorRequestNotComplete({
      message: 'The request was rejected because Route 53 was still processing a prior request.',
      $metadata: meta(400),
    }),
  internalFailure500: () =>
    Object.assign(new Error('We encountered an internal error. Please try again.'), {
      name: 'InternalFailure',
      $fault: 'server',
      $metadata: meta(500),
    }),
  serviceUnavailable503: () =>
    Object.assign(new Error('Service Unavailable'), {
      name: 'ServiceUnavailable',
      $fault: 'server',
      $metadata: meta(503),
    }),
  /** @smithy/node-http-handler, requestTimeout with throwOnRequestTimeout: the request was sent. */
  requestTimeout: () =>
    Object.assign(
      new Error(
        '@smithy/node-http-handler - [ERROR] a request has exceeded the configured 10000 ms requestTimeout.',
      ),
      { name: 'TimeoutError', code: 'ETIMEDOUT', $metadata: { attempts: 3 } },
    ),
  socketTimeout: () =>
    Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket timed out after 300000 ms of inactivity (service default socket timeout).',
      ),
      { name: 'TimeoutError' },
    ),
  /** Connection timeout: no socket, nothing was sent. */
  connectTimeout: () =>
    Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 3000 ms.',
      ),
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
    Object.assign(new Error('User is not authorized to perform this action'), {
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: meta(403),
    }),
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
  const nodes = Object.entries(opts.addresses).map(([node, address]) => ({
    id: node,
    address,
    health: alarm(id, node),
    lag: lag(node),
  }));
  return {
    id,
    initialPrimary: nodes[0]?.id,
    router: {
      type: 'route53',
      hostedZoneId: opts.zone ?? 'Z0123456789EXAMPLE',
      zoneName: opts.zoneName ?? 'example.com',
      recordName: opts.record ?? `${id}.example.com`,
      recordType: opts.type ?? 'A',
      ...(opts.ttl !== undefined ? { ttlSeconds: opts.ttl } : {}),
    },
    nodes,
  };
}

export function elbTargetService(
  id: string,
  targets: Record<string, { id: string; port?: number }>,
): Record<string, unknown> {
  const nodes = Object.entries(targets).map(([node, target]) => ({
    id: node,
    target,
    health: alarm(id, node),
    lag: lag(node),
  }));
  return {
    id,
    initialPrimary: nodes[0]?.id,
    router: { type: 'elbv2-target', targetGroupArn: tgArn(id) },
    nodes,
  };
}

export function elbWeightedService(id: string, nodeIds: string[]): Record<string, unknown> {
  const nodes = nodeIds.map((node) => ({
    id: node,
    targetGroupArn: tgArn(`${id}-${node}`),
    health: alarm(id, node),
    lag: lag(node),
  }));
  return {
    id,
    initialPrimary: nodeIds[0],
    router: { type: 'elbv2-weighted', listenerArn: listenerArn(id) },
    nodes,
  };
}

export function configOf(...services: Record<string, unknown>[]): FailoverConfig {
  return parseConfig({ services });
}

export function servicesOf(...services: Record<string, unknown>[]): ServiceConfig[] {
  return configOf(...services).services;
}
