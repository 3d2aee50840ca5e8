/**
 * Nothing secret reaches the logs: the Lambdas run with credentials in their environment and talk
 * to SDK clients whose errors can carry request metadata (signed headers, credentials). Every log
 * line the real handlers write, on success and on failure, is checked for them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler as makeFailoverHandler } from '../../lambdas/handlers/failover.ts';
import { makeHandler as makeWorkflowHandler } from '../../lambdas/handlers/workflow.ts';
import { JsonLogger } from '../../lambdas/runtime/logger.ts';
import { EmfMetrics } from '../../lambdas/runtime/metrics.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { instrument } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { alarmEvent } from '../support/alarm-events.ts';

const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION = 'FwoGZXIvYXdzEXAMPLESESSIONTOKENabcdef0123456789';
const SIGNATURE =
  'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/dynamodb/aws4_request, Signature=deadbeef';
const SECRETS = [SECRET_KEY, SESSION, 'AKIAIOSFODNN7EXAMPLE', 'deadbeef'];

const config = testConfig([route53Service({ id: 'orders', nodes: ['a', 'b'] })]);

/** An SDK v3 error as the client throws it, carrying what a careless logger would print. */
function sdkError(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'r-1' },
    $response: { headers: { authorization: SIGNATURE, 'x-amz-security-token': SESSION } },
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET_KEY, sessionToken: SESSION },
  });
}

let restore: () => void;
beforeEach(() => {
  const before = { ...process.env };
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_SESSION_TOKEN: SESSION,
  });
  restore = () => {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      if (before[k] === undefined) delete process.env[k];
      else process.env[k] = before[k];
    }
  };
});
afterEach(() => restore());

function capture() {
  const lines: string[] = [];
  const logger = new JsonLogger({ service: 'failover', level: 'debug', write: (l) => lines.push(l) });
  const metrics = new EmfMetrics({ write: (l) => lines.push(l) });
  return { lines, logger, metrics };
}

/** `port`, every call of which throws the SDK error carrying signed headers and credentials. */
function failingWithSecrets<T extends object>(port: T, name: string): T {
  return instrument(port, name, { fault: () => ({ mode: 'throw', error: sdkError() }) });
}

function expectNoSecret(lines: readonly string[]) {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) for (const secret of SECRETS) expect(line).not.toContain(secret);
}

describe('nothing secret in the logs', () => {
  it('the failover Lambda, failing on an SDK error that carries signed headers and credentials', async () => {
    const env = createMemoryEnvironment(config);
    const { lines, logger, metrics } = capture();
    const state = failingWithSecrets(env.state, 'state');
    const handler = makeFailoverHandler({ ...env, logger, metrics, state });
    const name = env.alarms.setNode('orders', 'a', 'ALARM');
    const event = alarmEvent(name, 'ALARM', 'OK', env.clock.now(), 'e-1');
    await expect(handler(event, { awsRequestId: 'req-1' })).rejects.toThrow();
    expect(lines.some((l) => l.includes('ThrottlingException'))).toBe(true);
    expectNoSecret(lines);
  });

  it('the failover Lambda, failing over and logging every decision, and ignoring a hostile event', async () => {
    const env = createMemoryEnvironment(config);
    env.lag.put('orders', 'b', 1);
    const { lines, logger, metrics } = capture();
    const handler = makeFailoverHandler({ ...env, logger, metrics });
    const name = env.alarms.setNode('orders', 'a', 'ALARM');
    await handler(alarmEvent(name, 'ALARM', 'OK', env.clock.now(), 'e-1'), { awsRequestId: 'req-1' });
    await handler(
      { source: 'evil', detail: { authorization: SIGNATURE, token: SESSION } },
      { awsRequestId: 'req-2' },
    );
    expect(lines.some((l) => l.includes('failover decision'))).toBe(true);
    expectNoSecret(lines);
  });

  it('the workflow step Lambda, failing on an SDK error', async () => {
    const env = createMemoryEnvironment(config);
    const { lines, logger, metrics } = capture();
    const alarms = failingWithSecrets(env.alarms, 'alarms');
    const handler = makeWorkflowHandler({ ...env, logger, metrics, alarms });
    await expect(
      handler({
        step: 'prepare',
        input: { serviceId: 'orders', mode: 'switchover', reason: 'r' },
        executionName: 'x',
      }),
    ).rejects.toThrow();
    expectNoSecret(lines);
  });
});
