import { InvalidChangeBatch } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import {
  describeAwsError,
  isThrottling,
  isTransient,
  isUncertain,
  rethrowAws,
  toTransient,
} from '../../lambdas/aws/errors.ts';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import { type AwsErrorKind, awsErrors } from './fixtures.ts';

describe('error classification', () => {
  // The classes an error falls in: throttled (back off), transient (retry), uncertain (it may
  // have been applied: read back before retrying).
  const THROTTLED = { throttling: true, transient: true, uncertain: false };
  const FAILED_RETRYABLE = { throttling: false, transient: true, uncertain: false };
  const MAYBE_APPLIED = { throttling: false, transient: true, uncertain: true };
  const FINAL = { throttling: false, transient: false, uncertain: false };
  const all = (kinds: AwsErrorKind[], expected: typeof FINAL) =>
    kinds.map((kind): [AwsErrorKind, typeof FINAL] => [kind, expected]);
  const table = [
    ...all(['throttling', 'throttlingException', 'tooManyRequests429', 'priorRequestNotComplete'], THROTTLED),
    ...all(
      ['internalFailure500', 'serviceUnavailable503', 'connectTimeout', 'econnrefused'],
      FAILED_RETRYABLE,
    ),
    ...all(['requestTimeout', 'socketTimeout', 'econnreset'], MAYBE_APPLIED),
    ...all(['accessDenied'], FINAL),
  ];

  it.each(table)('%s', (kind, expected) => {
    const err = awsErrors[kind]();
    expect({
      throttling: isThrottling(err),
      transient: isTransient(err),
      uncertain: isUncertain(err),
    }).toEqual(expected);
  });

  it('treats a compare-and-swap failure as neither transient nor uncertain', () => {
    const err = new InvalidChangeBatch({ message: 'values do not match', $metadata: {} });
    expect([isThrottling(err), isTransient(err), isUncertain(err)]).toEqual([false, false, false]);
  });

  it('looks through a wrapped cause', () => {
    const wrapped = new Error('request failed', { cause: awsErrors.econnreset() });
    expect(isTransient(wrapped)).toBe(true);
    expect(isUncertain(wrapped)).toBe(true);
  });

  it('never classifies an abort or a non-object', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' });
    expect(isTransient(abort)).toBe(false);
    for (const v of [undefined, null, 'Throttling', 500]) {
      expect([isThrottling(v), isTransient(v), isUncertain(v)]).toEqual([false, false, false]);
    }
  });
});

describe('rethrowAws', () => {
  it('wraps a transient error in TransientAwsError keeping the cause', () => {
    const cause = awsErrors.throttling();
    const thrown = catchError(() => rethrowAws('DescribeAlarms', cause));
    expect(thrown).toBeInstanceOf(TransientAwsError);
    expect(thrown).toMatchObject({
      name: 'TransientAwsError',
      operation: 'DescribeAlarms',
      cause,
      message: 'transient AWS error in DescribeAlarms: Throttling: Rate exceeded',
    });
  });

  it('rethrows anything else unchanged', () => {
    const cause = awsErrors.accessDenied();
    expect(catchError(() => rethrowAws('Publish', cause))).toBe(cause);
    const already = toTransient('Query', awsErrors.throttling());
    expect(catchError(() => rethrowAws('Other', already))).toBe(already);
  });
});

describe('describeAwsError', () => {
  it('uses the Node error code when the error has no name of its own', () => {
    expect(describeAwsError(awsErrors.econnreset())).toEqual({
      errorName: 'ECONNRESET',
      message: 'socket hang up',
    });
    expect(describeAwsError(awsErrors.priorRequestNotComplete())).toEqual({
      errorName: 'PriorRequestNotComplete',
      message: 'The request was rejected because Route 53 was still processing a prior request.',
    });
    expect(describeAwsError('boom')).toEqual({ errorName: 'Error', message: 'boom' });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
