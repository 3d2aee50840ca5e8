/**
 * What builds a local database cluster for `npm run test:db`, whatever the engine: the node and
 * cluster shapes both fixtures hand out, a scratch directory whose nodes are stopped on every exit
 * path, and one initialised data directory per run that every node copies.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { giveTo, type OsUser, registerCleanup, scratchDir, scratchRoot } from './process.ts';

/** What every node of the local database clusters offers, whatever the engine. */
export interface LocalDbNode {
  /** `primary`, `replica1`, ... (the role it was created with; it may change after promote()). */
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  /** Starts the server again (after stop()), with the same port. Waits until it accepts connections. */
  start(): Promise<void>;
  /** SIGSTOP to the server: it accepts TCP but never answers. */
  freeze(): void;
  /** SIGCONT to the same processes. */
  thaw(): void;
  /** Ends replication: the node accepts writes when it returns. */
  promote(): Promise<void>;
  /** True while the server runs. */
  isRunning(): boolean;
  /** The server's pid, when it runs. */
  pid(): number | undefined;
  /** The server log so far (for error messages). */
  log(): string;
}

/** A primary and its replicas, all replicating and caught up when the fixture hands it out. */
export interface LocalDbCluster<N extends LocalDbNode> {
  readonly primary: N;
  /** The first replica. */
  readonly replica: N;
  readonly replicas: readonly N[];
  /**
   * Waits until `replica` (default: the first) has applied everything the cluster's first primary
   * has written so far.
   */
  waitForReplay(replica?: N, timeoutMs?: number): Promise<void>;
  /** Stops every node (immediate) and removes the data directories. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartLocalDbClusterOptions {
  /** How many replicas. @default 1 */
  readonly replicas?: number;
}

/** A node of a local cluster, as the cluster scratch stops it. */
export interface ScratchNode {
  stop(mode: 'immediate'): Promise<void>;
}

/** What `startClusterIn` hands its builder: the cluster's directory and how to enlist a node. */
export interface ClusterScratch<N extends ScratchNode> {
  /** The cluster's own directory below the scratch root, owned by the servers' OS user. */
  readonly root: string;
  /** Enlists a node: it is stopped (and its directory removed) by stop(), the exit hooks or a failed start. */
  add<T extends N>(node: T): T;
  /** Stops every enlisted node (immediate) and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Builds a cluster of local servers in a fresh scratch directory (`kind-XXXX`) given to `user`.
 * Every node the builder enlists is stopped by the returned stop(), by the exit hooks (with the
 * synchronous `killSync`) when the process dies first, and at once when the build throws.
 */
export async function startClusterIn<N extends ScratchNode, C>(
  kind: string,
  user: OsUser | undefined,
  killSync: (node: N) => void,
  build: (scratch: ClusterScratch<N>) => Promise<C>,
): Promise<C> {
  const root = scratchDir(kind);
  giveTo(root, user);
  const nodes: N[] = [];
  const unregister = registerCleanup(() => {
    for (const node of nodes) killSync(node);
    rmSync(root, { recursive: true, force: true });
  });
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop('immediate').catch(() => undefined)));
    rmSync(root, { recursive: true, force: true });
    unregister();
  };
  const add = <T extends N>(node: T): T => {
    nodes.push(node);
    return node;
  };
  try {
    return await build({ root, add, stop });
  } catch (err) {
    await stop();
    throw err;
  }
}

const templates = new Map<string, Promise<string>>();

/**
 * One initialised data directory per run and `name` (initdb, mariadb-install-db: seconds each),
 * kept in the run's scratch root and copied by every node. `create(dir, data)` fills `data`; a
 * marker file says the template is complete (a worker may have died half-way). Returns `data`.
 */
export function dataTemplate(
  name: string,
  user: OsUser | undefined,
  create: (dir: string, data: string) => Promise<void>,
): Promise<string> {
  let template = templates.get(name);
  if (!template) {
    template = (async () => {
      const dir = join(scratchRoot(), name);
      const data = join(dir, 'data');
      const ready = join(dir, 'ready');
      if (existsSync(ready)) return data;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      giveTo(dir, user);
      await create(dir, data);
      writeFileSync(ready, '');
      return data;
    })();
    templates.set(name, template);
  }
  return template;
}
