/**
 * A private moto_server (`pip install "moto[server]"`) for suites that talk to AWS APIs through
 * the real SDK clients: the wire suites, the drill, the reliability suites.
 *
 * - One process per suite, on 127.0.0.1 and a port that was free a moment before (bound to port
 *   0 first); if another process takes it in between, moto exits and we try another port.
 * - Ready when `/moto-api/` answers. Stopped by pid (SIGTERM, then SIGKILL), from afterAll and
 *   also when the test process exits, so a failed or interrupted suite leaves no server behind.
 * - Missing moto_server is a failure with the install command, never a skip: a suite that
 *   silently skips its wire checks would pass without testing anything.
 * - Dummy credentials and us-east-1 only. Nothing here can reach AWS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeEach } from 'vitest';
import { freePort } from './realdb/process.ts';
import { type SuiteFixture, useSuiteFixture } from './suite-fixture.ts';

export const MOTO_REGION = 'us-east-1';
/** moto's default account: ARNs it generates carry it. */
export const MOTO_ACCOUNT = '123456789012';

export const INSTALL_HINT =
  'moto_server is required by this suite: install it with `pip install "moto[server]"` (Python 3.9+), make sure `moto_server` is on the PATH, or set MOTO_SERVER to its path (MOTO_PYTHON to the Python that has moto, for the one-request-at-a-time server)';

export const dummyCredentials = {
  accessKeyId: 'testing',
  secretAccessKey: 'testing',
  sessionToken: 'testing',
} as const;

/** What moto's `/moto-api/config` accepts; only the parts the suites use. */
export interface MotoConfig {
  /** Run state machines for real (moto's own interpreter) instead of returning a canned success. */
  readonly stepfunctions?: { readonly execute_state_machine: boolean };
  readonly batch?: { readonly use_docker: boolean };
  readonly lambda?: { readonly use_docker: boolean };
}

export interface StartMotoOptions {
  /** Sent to `/moto-api/config` after start and again after every reset. @default none */
  readonly config?: MotoConfig;
  /** How long to wait for the server to answer. @default 30000 */
  readonly startTimeoutMs?: number;
  /** The executable. @default process.env.MOTO_SERVER ?? 'moto_server' */
  readonly command?: string;
  /**
   * Answer one request at a time (test/support/moto_serial.py): moto's threaded server does not
   * make DynamoDB conditional writes atomic against each other, real DynamoDB does. Off, 20
   * concurrent lease writes to one item can both pass (seen in the wire suites), which no real
   * table allows; so every suite gets the serialized server unless it asks otherwise.
   * @default true
   */
  readonly serialized?: boolean;
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the `endpoint` of an SDK client, or AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** `{ region, endpoint, credentials }` for any SDK v3 client constructor. */
  readonly clientConfig: {
    readonly region: string;
    readonly endpoint: string;
    readonly credentials: typeof dummyCredentials;
  };
  /**
   * Environment for code that builds clients with the default providers (lambdas/aws/clients.ts):
   * AWS_ENDPOINT_URL, AWS_REGION, dummy credentials.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Forgets every resource (`POST /moto-api/reset`), then re-applies the start config. */
  reset(): Promise<void>;
  /** Changes moto's behaviour (`POST /moto-api/config`); kept across resets. */
  configure(config: MotoConfig): Promise<void>;
  /** Kills the server and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
  /** The server's last output, for error messages. */
  output(): string;
}

const OUTPUT_LIMIT = 8_000;
const PORT_ATTEMPTS = 3;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a moto_server and waits until it answers. Throws INSTALL_HINT when it cannot be run. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err as Error;
      // Only a lost port race is worth another try; a missing tool or a broken install is not.
      if (!(err instanceof PortTakenError)) throw err;
    }
  }
  throw lastError ?? new Error('moto_server did not start');
}

class PortTakenError extends Error {}

const SERIAL_SCRIPT = fileURLToPath(new URL('./moto_serial.py', import.meta.url));

async function startOnce(options: StartMotoOptions): Promise<MotoServer> {
  const command = options.command ?? process.env.MOTO_SERVER ?? 'moto_server';
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let output = '';
  let spawnError: NodeJS.ErrnoException | undefined;
  const serialized = options.serialized ?? true;
  const [program, args] = serialized
    ? [process.env.MOTO_PYTHON ?? 'python3', [SERIAL_SCRIPT, '127.0.0.1', String(port)]]
    : [command, ['-H', '127.0.0.1', '-p', String(port)]];
  // What failed, in error messages: the script runs moto in the Python on the PATH (or MOTO_PYTHON).
  const name = serialized ? `${program} ${SERIAL_SCRIPT}` : command;
  const child = spawn(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...credentialEnv() },
  });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  running.add(child);
  child.once('exit', () => running.delete(child));
  installExitHook();

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || spawnError) {
      running.delete(child);
      return;
    }
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
    running.delete(child);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError) {
      running.delete(child);
      throw new Error(
        spawnError.code === 'ENOENT'
          ? `${name} not found. ${INSTALL_HINT}`
          : `${name} could not be started (${spawnError.message}). ${INSTALL_HINT}`,
        { cause: spawnError },
      );
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await exited;
      if (/address already in use/i.test(output)) throw new PortTakenError(`port ${port} was taken`);
      // pyenv and similar shims exit 127 when the active Python has no moto.
      throw new Error(
        `${name} exited with ${child.exitCode ?? child.signalCode} before answering. ${INSTALL_HINT}\n--- output ---\n${output}`,
      );
    }
    if (await answers(`${endpoint}/moto-api/`)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${name} did not answer on ${endpoint} within ${options.startTimeoutMs ?? 30_000} ms\n--- output ---\n${output}`,
      );
    }
    await sleep(100);
  }

  const configure = async (config: MotoConfig) => {
    await post(`${endpoint}/moto-api/config`, config);
  };
  if (options.config) await configure(options.config);

  return {
    endpoint,
    port,
    pid: child.pid as number,
    clientConfig: { region: MOTO_REGION, endpoint, credentials: dummyCredentials },
    env: { ...credentialEnv(), AWS_ENDPOINT_URL: endpoint },
    reset: async () => {
      await post(`${endpoint}/moto-api/reset`);
      if (options.config) await configure(options.config);
    },
    configure,
    stop,
    output: () => output,
  };
}

/**
 * One server for the enclosing suite (or describe block): started in beforeAll, stopped in
 * afterAll whatever happened, optionally reset before each test. Read `.current` inside tests.
 */
export function useMoto(
  options: StartMotoOptions & { readonly resetBeforeEach?: boolean } = {},
): SuiteFixture<MotoServer> {
  const fixture = useSuiteFixture('moto_server', () => startMoto(options));
  if (options.resetBeforeEach) {
    beforeEach(async () => {
      await fixture.current.reset();
    });
  }
  return fixture;
}

/** Applies `env` to process.env and returns a function that restores what was there before. */
export function applyEnv(env: Readonly<Record<string, string>>): () => void {
  const before = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [key, value] of before) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

function credentialEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: dummyCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: dummyCredentials.secretAccessKey,
    AWS_SESSION_TOKEN: dummyCredentials.sessionToken,
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function post(url: string, body?: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto ${url} answered ${res.status}: ${text.slice(0, 500)}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A worker that exits without running afterAll (crash, kill) must not leave servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

export interface MotoWithClient<C> {
  readonly moto: MotoServer;
  /** Built from `moto.clientConfig`; destroyed before the server stops. */
  readonly client: C;
  stop(): Promise<void>;
}

/** One moto_server and one SDK client on it for the enclosing suite (see useSuiteFixture). */
export function useMotoWithClient<C extends { destroy(): void }>(
  makeClient: (config: MotoServer['clientConfig']) => C,
): SuiteFixture<MotoWithClient<C>> {
  return useSuiteFixture('moto_server', async () => {
    const moto = await startMoto();
    const client = makeClient(moto.clientConfig);
    return {
      moto,
      client,
      stop: async () => {
        client.destroy();
        await moto.stop();
      },
    };
  });
}
