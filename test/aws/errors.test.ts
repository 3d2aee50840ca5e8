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
  const table: [AwsErrorKind, { throttling: boolean; transient: boolean; uncertain: boolean }][] = [
    ['throttling', { throttling: true, transient: true, uncertain: false }],
    ['throttlingException', { throttling: true, transient: true, uncertain: false }],
    ['tooManyRequests429', { throttling: true, transient: true, uncertain: false }],
    ['priorRequestNotComplete', { throttling: true, transient: true, uncertain: false }],
    ['internalFailure500', { throttling: false, transient: true, uncertain: false }],
    ['serviceUnavailable503', { throttling: false, transient: true, uncertain: false }],
    ['requestTimeout', { throttling: false, transient: true, uncertain: true }],
    ['socketTimeout', { throttling: false, transient: true, uncertain: true }],
    ['connectTimeout', { throttling: false, transient: true, uncertain: false }],
    ['econnreset', { throttling: false, transient: true, uncertain: true }],
    ['econnrefused', { throttling: false, transient: true, uncertain: false }],
    ['accessDenied', { throttling: false, transient: false, uncertain: false }],
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
