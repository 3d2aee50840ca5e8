/**
 * SDK errors built the way the SDK builds them: service exceptions through their generated
 * classes (name, $fault, $metadata), protocol-level errors as plain Errors with the same fields
 * the deserializer sets, and Node HTTP handler failures with their real names, codes and messages.
 */
import { PriorRequestNotComplete } from '@aws-sdk/client-route-53';

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
