/**
 * One server (moto_server, a database cluster, ...) for the enclosing suite or describe block:
 * started in beforeAll, stopped in afterAll whatever happened. Read `.current` inside tests.
 */
import { afterAll, beforeAll } from 'vitest';

export interface SuiteFixture<T> {
  /** The running server; throws when beforeAll did not start it. */
  readonly current: T;
}

/** `what` names the server in the error a test gets when it is not running. */
export function useSuiteFixture<T extends { stop(): Promise<void> }>(
  what: string,
  start: () => Promise<T>,
  startTimeoutMs?: number,
): SuiteFixture<T> {
  let server: T | undefined;
  beforeAll(async () => {
    server = await start();
  }, startTimeoutMs);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get current(): T {
      if (!server) throw new Error(`${what} is not running (did beforeAll fail?)`);
      return server;
    },
  };
}
