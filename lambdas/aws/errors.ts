/**
 * Classifies AWS SDK v3 errors by their real shapes: service exceptions carry `name`, `$fault` and
 * `$metadata.httpStatusCode`; the Node HTTP handler throws `TimeoutError` or a Node system error
 * with `code` (ECONNRESET, ...). The lists follow the SDK's own retry classification
 * (@smithy/core service-error-classification), so what we call transient is what the SDK retried
 * before giving up.
 */
import { TransientAwsError } from '../domain/errors.ts';

interface AwsErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $retryable?: { readonly throttling?: unknown };
  readonly cause?: unknown;
}

const THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  // Route 53: a change to the same hosted zone is still being applied; the SDK backs off like throttling.
  'PriorRequestNotComplete',
  // ELBv2's name for the same thing.
  'PriorRequestNotCompleteException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** The connection broke or timed out after the request may have reached AWS. */
const AFTER_SEND_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
/** The request never left this host or never reached a server: nothing can have been applied. */
const BEFORE_SEND_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const SERVER_STATUS = new Set([500, 502, 503, 504]);

function shape(err: unknown): AwsErrorShape | undefined {
  return err !== null && typeof err === 'object' ? (err as AwsErrorShape) : undefined;
}

function errorName(err: unknown): string {
  const s = shape(err);
  return typeof s?.name === 'string' ? s.name : 'Error';
}

function errorCode(err: unknown): string {
  const s = shape(err);
  return typeof s?.code === 'string' ? s.code : '';
}

function statusCode(err: unknown): number | undefined {
  const status = shape(err)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function isThrottling(err: unknown): boolean {
  const s = shape(err);
  if (!s) return false;
  return statusCode(err) === 429 || THROTTLING_NAMES.has(errorName(err)) || s.$retryable?.throttling === true;
}

function isTimeout(err: unknown): boolean {
  return TIMEOUT_NAMES.has(errorName(err));
}

/**
 * The Node HTTP handler's connection timeout uses the same `TimeoutError` name as the request
 * timeout, but fires before a socket exists: the request was never sent.
 */
function isConnectTimeout(err: unknown): boolean {
  const message = shape(err)?.message;
  return (
    errorName(err) === 'TimeoutError' &&
    typeof message === 'string' &&
    message.includes('did not establish a connection')
  );
}

function isServerFault(err: unknown): boolean {
  const s = shape(err);
  const status = statusCode(err);
  return s?.$fault === 'server' || (status !== undefined && SERVER_STATUS.has(status));
}

/** Worth retrying with backoff: throttling, 5xx, timeouts, broken or refused connections. */
export function isTransient(err: unknown, depth = 0): boolean {
  const s = shape(err);
  if (!s || errorName(err) === 'AbortError') return false;
  if (isThrottling(err) || isServerFault(err) || isTimeout(err)) return true;
  const code = errorCode(err);
  if (AFTER_SEND_CODES.has(code) || BEFORE_SEND_CODES.has(code)) return true;
  // The SDK sometimes wraps the network error; look through a few levels of `cause`.
  return s.cause !== undefined && depth < 5 && isTransient(s.cause, depth + 1);
}

/**
 * The request may have been applied even though we got no answer: a timeout or a reset after
 * the request was written. A throttling or 4xx answer means AWS refused it, and a refused or
 * unresolvable connection means it never left; neither is uncertain. A 5xx is an answer
 * ("we failed"), which AWS documents as not applied, so it is not uncertain either.
 */
export function isUncertain(err: unknown, depth = 0): boolean {
  const s = shape(err);
  if (!s) return false;
  if (isTimeout(err)) return !isConnectTimeout(err);
  if (AFTER_SEND_CODES.has(errorCode(err))) return true;
  return s.cause !== undefined && depth < 5 && isUncertain(s.cause, depth + 1);
}

/** `TransientAwsError` keeping the SDK error as `cause`, so logs and Step Functions see both. */
export function toTransient(operation: string, err: unknown): TransientAwsError {
  return new TransientAwsError(operation, { cause: err });
}

/** Rethrows `err` as a TransientAwsError when it is transient, unchanged otherwise. Never returns. */
export function rethrowAws(operation: string, err: unknown): never {
  if (err instanceof TransientAwsError) throw err;
  if (isTransient(err)) throw toTransient(operation, err);
  throw err;
}

/** Sends one request; an SDK error is classified as rethrowAws does (TransientAwsError when worth retrying). */
export async function sendClassified<T>(operation: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    rethrowAws(operation, err);
  }
}

/** Every page of a paginated call, following NextToken (undefined for the first page) until there is none. */
export async function* allPages<T extends { readonly NextToken?: string | undefined }>(
  page: (nextToken: string | undefined) => Promise<T>,
): AsyncGenerator<T> {
  let nextToken: string | undefined;
  do {
    const out = await page(nextToken);
    yield out;
    nextToken = out.NextToken;
  } while (nextToken);
}

/** Name and message of an SDK error for results and logs (never the whole object: it holds request metadata). */
export function describeAwsError(err: unknown): { errorName: string; message: string } {
  const s = shape(err);
  const message = typeof s?.message === 'string' && s.message ? s.message : String(err);
  const code = errorCode(err);
  const name = errorName(err);
  return { errorName: name === 'Error' && code ? code : name, message };
}
