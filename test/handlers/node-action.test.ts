/**
 * The node-action function's answer and errors: what Step Functions gets back from every node
 * action of the workflow, a user's function included. The answer is bounded whatever the action
 * printed (a Task result over 256 KiB fails the execution beyond any Catch), and the error name
 * says whether the call may still be running (the state machine waits those out).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  NodeActionPort,
  NodeActionRequest,
  NodeActionResult,
} from '../../lambdas/domain/node-actions.ts';
import { isAbandonedCall } from '../../lambdas/domain/workflow.ts';
import { boundedResult, MAX_ANSWER_BYTES, makeHandler } from '../../lambdas/handlers/node-action.ts';
import { MemoryLogger } from '../../lambdas/testing/memory.ts';

const QUOTA_BYTES = 256 * 1024;
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

const event = {
  serviceId: 'orders',
  node: 'b',
  epoch: 3,
  token: 3_000_000_102,
  mode: 'switchover',
  action: 'promote',
  execution: 'switchover-orders-e2-abc',
  timeoutSeconds: 30,
};

/** A port answering `result` for every request, recording what it was asked. */
function port(result: NodeActionResult): NodeActionPort & { requests: NodeActionRequest[] } {
  const requests: NodeActionRequest[] = [];
  return {
    requests,
    has: () => true,
    run: async (request) => {
      requests.push(request);
      return result;
    },
  };
}

const handlerFor = (result: NodeActionResult) =>
  makeHandler({ actions: port(result), logger: new MemoryLogger(false) });

/** Any string, including what JSON escapes worst (control characters: 6 bytes each) and non-ASCII. */
const text = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength, unit: 'grapheme' }),
    fc.string({ maxLength, unit: fc.constantFrom('\u0000', '\u001f', '"', '\\', 'é', '😀', 'x') }),
  );

describe('boundedResult', () => {
  it('answers at most MAX_ANSWER_BYTES of JSON whatever the action printed, far under the 256 KiB quota', () => {
    expect(MAX_ANSWER_BYTES).toBeLessThanOrEqual(QUOTA_BYTES / 4);
    fc.assert(
      fc.property(
        fc.record({
          kind: text(400),
          detail: text(20_000),
          outputTail: fc.option(text(50_000), { nil: undefined }),
          ids: fc.option(fc.dictionary(text(300), text(300), { maxKeys: 30 }), { nil: undefined }),
          error: fc.option(
            fc.record({
              name: text(400),
              message: text(20_000),
              retryable: fc.boolean(),
              uncertain: fc.boolean(),
            }),
            { nil: undefined },
          ),
        }),
        (r) => {
          const result: NodeActionResult = {
            status: r.error ? 'failed' : 'succeeded',
            kind: r.kind,
            detail: r.detail,
            durationMs: 12,
            ...(r.outputTail !== undefined ? { outputTail: r.outputTail } : {}),
            ...(r.ids ? { ids: r.ids } : {}),
            ...(r.error ? { error: r.error } : {}),
          };
          const bounded = boundedResult(result);
          expect(bytes(bounded)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
          expect(bounded.status).toBe(result.status);
          expect(bounded.error?.retryable).toBe(result.error?.retryable);
          expect(bounded.error?.uncertain).toBe(result.error?.uncertain);
          // Short texts pass unchanged; a long output keeps its end (where a script says how it ended).
          if (result.detail.length <= 1_000) expect(bounded.detail).toBe(result.detail);
          if (result.outputTail && result.outputTail.length > 2_000) {
            expect(result.outputTail.endsWith((bounded.outputTail ?? '').slice(3))).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('node-action handler', () => {
  it("answers a bounded summary of a user's function that answered 5 MiB", async () => {
    const out = 'x'.repeat(5 * 1024 * 1024);
    const answer = await handlerFor({
      status: 'succeeded',
      kind: 'lambda',
      detail: `arn:aws:lambda:us-east-1:111122223333:function:orders-promote answered (status 200, ${out.length} bytes)`,
      outputTail: out,
      durationMs: 900,
    })(event);
    expect(bytes(answer)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(answer).toMatchObject({ status: 'succeeded', kind: 'lambda' });
    // The size survives the cut: the history says how much the function answered.
    expect(answer.detail).toContain(`${out.length} bytes`);
  });

  it('passes the Task timeout on less the margin for its answer', async () => {
    const p = port({ status: 'succeeded', kind: 'lambda', detail: 'ok', durationMs: 1 });
    await makeHandler({ actions: p, logger: new MemoryLogger(false) })(event);
    expect(p.requests[0]).toMatchObject({ role: 'promote', token: event.token, timeoutMs: 28_000 });
  });

  it.each<[string, NodeActionResult, string, boolean]>([
    [
      "a user's function that failed by its own hand: its invocation ended, nothing to wait out",
      {
        status: 'failed',
        kind: 'lambda',
        detail:
          'HookFailedError: promote hook failed: arn:... answered PromoteRefused: timeline mismatch (70 bytes)',
        durationMs: 5,
        error: {
          name: 'HookFailedError',
          message: 'promote hook failed: arn:... answered PromoteRefused: timeline mismatch (70 bytes)',
          retryable: false,
          uncertain: false,
        },
      },
      'HookFailedError',
      false,
    ],
    [
      "Lambda refused to run the user's function (throttled past the SDK's retries): retried by the Task",
      {
        status: 'failed',
        kind: 'lambda',
        detail: 'TooManyRequestsException: Rate exceeded',
        durationMs: 5,
        error: {
          name: 'TooManyRequestsException',
          message: 'Rate exceeded',
          retryable: true,
          uncertain: false,
        },
      },
      'TransientAwsError',
      true,
    ],
    [
      "a user's function that did not answer in time: it may still act on the node",
      {
        status: 'timed-out',
        kind: 'lambda',
        detail: 'lambda action timed-out: no final status within 28000 ms',
        durationMs: 28_000,
        error: {
          name: 'NodeActionFailedError',
          message: 'no final status',
          retryable: false,
          uncertain: true,
        },
      },
      'NodeActionFailedError',
      true,
    ],
    [
      'a built-in action refused by AWS keeps its own error (the action may be half done)',
      {
        status: 'failed',
        kind: 'ssm-command',
        detail: 'ThrottlingException: Rate exceeded',
        durationMs: 5,
        error: { name: 'ThrottlingException', message: 'Rate exceeded', retryable: true, uncertain: false },
      },
      'NodeActionFailedError',
      true,
    ],
  ])('%s', async (_label, result, name, abandoned) => {
    const err = await handlerFor(result)(event).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe(name);
    expect((err as Error).message).toContain('orders/b');
    // What the state machine does with the name: wait the call out before undoing it, or not.
    expect(isAbandonedCall(name)).toBe(abandoned);
  });

  it('an error message is bounded like an answer', async () => {
    const message = `PromoteRefused: ${'y'.repeat(1024 * 1024)}`;
    const err = await handlerFor({
      status: 'failed',
      kind: 'lambda',
      detail: `HookFailedError: promote hook failed: ${message}`,
      durationMs: 5,
      error: {
        name: 'HookFailedError',
        message: `promote hook failed: ${message}`,
        retryable: false,
        uncertain: false,
      },
    })(event).catch((e: Error) => e);
    expect((err as Error).message.length).toBeLessThan(2_000);
    expect((err as Error).message).toMatch(
      /^promote hook failed: orders\/b \(token 3000000102\): PromoteRefused: y/,
    );
  });
});
