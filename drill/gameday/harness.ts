/**
 * The game day's world: real PostgreSQL pairs (test/support/realdb/postgres.ts), a private
 * moto_server (test/support/moto.ts) standing in for Route 53, CloudWatch, DynamoDB, SNS, SQS and
 * Secrets Manager, and around it the real automation:
 * - the stack synthesized with bundling (synth.ts); the state table, topic, zone-shift queue and
 *   alarms created in moto as the templates declare them;
 * - the probe publishing to moto's CloudWatch every PROBE_INTERVAL_SECONDS (`ProbeRunner`);
 * - alarm evaluation over those datapoints (alarms.ts), each state change matched against the
 *   synthesized EventBridge rule patterns and delivered to the bundled failover Lambda
 *   asynchronously, retried twice on error as EventBridge/Lambda do;
 * - the bundled workflow step Lambda for the CLI's switchover (switchover.ts).
 * Everything started here is registered for cleanup on exit and on Ctrl-C (SIGINT/SIGTERM).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CreateHostedZoneCommand, DeleteHostedZoneCommand } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { resetAwsClientsForTests } from '../../lambdas/aws/clients.ts';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { INSTALL_HINT as MOTO_INSTALL_HINT, type MotoServer, startMoto } from '../../test/support/moto.ts';
import {
  createStateTable,
  destroyClients,
  NotificationInbox,
  type ReceivedNotification,
  type SceneClients,
  sceneClients,
} from '../../test/support/moto-scene.ts';
import {
  PG_BIN,
  PG_INSTALL_HINT,
  PG_SUPERUSER_PASSWORD,
  type PgCluster,
  startPgCluster,
} from '../../test/support/realdb/postgres.ts';
import { registerCleanup } from '../../test/support/realdb/process.ts';
import { createRecord } from '../../test/support/route53-records.ts';
import { AlarmEvaluator, type AlarmTransition } from './alarms.ts';
import { WRITES_DDL, WRITES_TABLE } from './client.ts';
import {
  gameDayConfig,
  NODE_IDS,
  type NodeId,
  nodeAddress,
  recordName,
  type ServiceSpec,
  TTL_SECONDS,
  ZONE_NAME,
} from './config.ts';
import { BundledLambda, type LogLine, matchesPattern } from './lambda.ts';
import { type Schedule, type Synthesized, synthesize } from './synth.ts';

// biome-ignore lint/suspicious/noExplicitAny: Lambda results and events are JSON
type Json = any;

export const TOPIC_NAME = 'failover-gameday-events';
/** EventBridge's async invocation retries of a failed Lambda invocation. */
const RETRY_DELAYS_MS = [60_000, 120_000] as const;

/** The probe, plugged in: publishes every node's metrics to CloudWatch until stopped. */
export interface ProbeRunner {
  start(): void;
  stop(): Promise<void>;
}

export type ProbeFactory = (world: {
  readonly config: FailoverConfig;
  readonly moto: MotoServer;
  readonly clusters: ReadonlyMap<string, PgCluster>;
  /** Where the probe's structured log lines go (the world's logs). */
  readonly onLog: (line: LogLine) => void;
}) => ProbeRunner | Promise<ProbeRunner>;

export interface Delivery {
  readonly alarmName: string;
  readonly eventId: string;
  readonly state: string;
  readonly at: number;
  readonly attempt: number;
  readonly finishedAt: number;
  readonly result?: Json;
  readonly error?: string;
}

export interface GameDayWorld {
  readonly moto: MotoServer;
  readonly clients: SceneClients;
  readonly zoneId: string;
  readonly config: FailoverConfig;
  readonly synthesized: Synthesized;
  readonly clusters: ReadonlyMap<string, PgCluster>;
  readonly inbox: NotificationInbox;
  readonly failover: BundledLambda;
  readonly step: BundledLambda;
  /** The environment of the bundled Lambdas (what the stack declares, bound to moto's resources). */
  readonly lambdaEnv: Readonly<Record<string, string>>;
  /** The state table (the failover function's TABLE_NAME). */
  readonly tableName: string;
  readonly evaluator: AlarmEvaluator;
  readonly logs: LogLine[];
  readonly transitions: AlarmTransition[];
  readonly deliveries: Delivery[];
  readonly notifications: (ReceivedNotification & { readonly receivedAt: number })[];
  /**
   * Invokes a function of the stack by the ARN the state machine definition names it with (its
   * logical id), in an execution environment of its own, created on first use.
   */
  invokeFunction(functionArn: string, payload: Json): Promise<Json>;
  /** Every delivery still running (scenarios wait for these before reading the outcome). */
  settle(): Promise<void>;
  /** Reads new notifications from the inbox into `notifications`. */
  drainNotifications(): Promise<void>;
  /** The cluster behind `serviceId`, its nodes by id. */
  nodesOf(serviceId: string): Readonly<Record<NodeId, PgCluster['primary']>>;
  stop(): Promise<void>;
}

export interface GameDayOptions {
  readonly serviceIds: readonly string[];
  /** The probe to run when the stack schedules none of its own. @default none: refuse */
  readonly probe?: ProbeFactory;
  readonly log?: (line: string) => void;
}

/** Refuses, naming the install command, when PostgreSQL or moto_server is missing. */
export function preflight(): void {
  for (const tool of ['initdb', 'pg_ctl', 'pg_basebackup', 'pg_rewind', 'postgres']) {
    if (!existsSync(join(PG_BIN, tool)))
      throw new Error(`${join(PG_BIN, tool)} not found. ${PG_INSTALL_HINT}`);
  }
}

export async function startGameDay(options: GameDayOptions): Promise<GameDayWorld> {
  preflight();
  const log = options.log ?? (() => {});
  const undo: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch {
        // Keep going: one failed stop must not leave the rest running.
      }
    }
    undo.length = 0;
  };
  try {
    log('starting moto_server');
    // Threaded, as moto_server runs by default: the game day's probe, clients and automation all
    // talk to it at once, and answering one request at a time would stretch every figure it measures.
    const moto = await startMoto({ serialized: false }).catch((err: Error) => {
      throw new Error(
        `${err.message.split('\n')[0]}${err.message.includes('pip install') ? '' : ` ${MOTO_INSTALL_HINT}`}`,
        {
          cause: err,
        },
      );
    });
    // Ctrl-C: the realdb cleanup registry runs on SIGINT/SIGTERM (moto's own hook only on exit).
    const unregisterMoto = registerCleanup(() => {
      try {
        process.kill(moto.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    });
    undo.push(async () => {
      await moto.stop();
      unregisterMoto();
    });
    for (const [k, v] of Object.entries(moto.env)) process.env[k] = v;
    const clients = sceneClients(moto);
    undo.push(() => destroyClients(clients));
    const zoneId = await createZone(clients);

    const clusters = new Map<string, PgCluster>();
    log(`starting a PostgreSQL primary and streaming replica for each of ${options.serviceIds.join(', ')}`);
    const started = await Promise.allSettled(
      options.serviceIds.map(async (serviceId) => {
        const cluster = await startPgCluster();
        clusters.set(serviceId, cluster);
        undo.push(() => cluster.stop());
        await cluster.primary.sql(WRITES_DDL);
        await cluster.primary.sql(
          `DO $$ BEGIN CREATE ROLE app LOGIN PASSWORD 'app'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
        );
        await cluster.primary.sql(`GRANT SELECT, INSERT ON ${WRITES_TABLE} TO app`);
      }),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const specs: ServiceSpec[] = options.serviceIds.map((serviceId) => {
      const cluster = clusters.get(serviceId) as PgCluster;
      return {
        serviceId,
        nodes: [
          { nodeId: 'db-a', port: cluster.primary.port },
          { nodeId: 'db-b', port: cluster.replica.port },
        ],
      };
    });
    const secrets = new SecretsManagerClient(moto.clientConfig);
    undo.push(() => secrets.destroy());
    const secret = await secrets.send(
      new CreateSecretCommand({
        Name: 'failover-gameday/postgres',
        SecretString: JSON.stringify({ username: 'postgres', password: PG_SUPERUSER_PASSWORD }),
      }),
    );
    const config = gameDayConfig(zoneId, secret.ARN as string, specs);

    log('synthesizing the stack with bundling (cdk synth)');
    const synthesized = await synthesize(config);
    undo.push(() => synthesized.dispose());
    log(`synthesized in ${(synthesized.synthMs / 1000).toFixed(1)} s`);

    // Every table and queue the stack declares, created in moto as declared; the functions'
    // `Ref`s to them are bound to what was created.
    const bound = new Map<string, string>();
    for (const [id, t] of Object.entries(synthesized.tables)) {
      const name = `gameday-${id}`;
      await createStateTable(
        clients,
        {
          keySchema: t.KeySchema,
          attributeDefinitions: t.AttributeDefinitions,
          billingMode: t.BillingMode ?? 'PROVISIONED',
        },
        name,
      );
      bound.set(id, name);
    }
    for (const id of synthesized.queues) {
      const queue = await clients.sqs.send(new CreateQueueCommand({ QueueName: `gameday-${id}` }));
      bound.set(id, queue.QueueUrl as string);
    }
    const inbox = await NotificationInbox.create(clients, TOPIC_NAME);
    for (const s of config.services) {
      if (s.router.type !== 'route53') continue;
      await createRecord(clients.route53, zoneId, {
        name: recordName(s.id),
        type: 'CNAME',
        ttl: TTL_SECONDS,
        value: nodeAddress(s.id, s.initialPrimary),
      });
    }

    const lambdaEnv = bindEnvironment(synthesized, moto, bound, inbox.topicArn);
    const tableName = lambdaEnv.TABLE_NAME;
    if (!tableName) throw new Error('the failover function declares no TABLE_NAME');
    const logs: LogLine[] = [];
    const onLog = (l: LogLine) => logs.push(l);
    const failover = new BundledLambda('failover', synthesized.failover.assetDir, lambdaEnv, onLog);
    undo.push(() => failover.stop());
    const step = new BundledLambda('workflow-step', synthesized.step.assetDir, lambdaEnv, onLog);
    undo.push(() => step.stop());

    const byId = new Map<string, BundledLambda>();
    const transitions: AlarmTransition[] = [];
    const deliveries: Delivery[] = [];
    const running = new Set<Promise<void>>();
    let requestSeq = 0;
    const deliver = async (t: AlarmTransition): Promise<void> => {
      const requestId = `gameday-req-${++requestSeq}`;
      for (let attempt = 1; attempt <= RETRY_DELAYS_MS.length + 1; attempt++) {
        const at = Date.now();
        const delivered = (outcome: Pick<Delivery, 'result' | 'error'>) =>
          deliveries.push({
            alarmName: t.alarmName,
            eventId: t.event.id,
            state: t.to,
            at,
            attempt,
            finishedAt: Date.now(),
            ...outcome,
          });
        try {
          delivered({ result: await failover.invoke(t.event, requestId) });
          return;
        } catch (err) {
          delivered({ error: `${(err as Error).name}: ${(err as Error).message}` });
          const delay = RETRY_DELAYS_MS[attempt - 1];
          if (delay === undefined || stopped) return;
          await new Promise((r) => setTimeout(r, delay));
          if (stopped) return;
        }
      }
    };
    let stopped = false;
    const alarms = [
      ...[...synthesized.alarms.values()].filter((a) =>
        synthesized.failoverRulePatterns.some((p) => p.detail?.alarmName?.includes(a.alarmName)),
      ),
    ];
    const evaluator = new AlarmEvaluator({
      cloudWatch: clients.cloudWatch,
      alarms,
      onTransition: (t) => {
        transitions.push(t);
        // EventBridge: every rule whose pattern matches gets the event; each invokes asynchronously.
        for (const pattern of synthesized.failoverRulePatterns) {
          if (!matchesPattern(pattern, t.event)) continue;
          const run = deliver(t);
          running.add(run);
          void run.finally(() => running.delete(run));
        }
      },
    });

    // EventBridge schedules (the probe's rule): each invokes its bundled function at once, then
    // at its rate. Without one, the plugged-in probe runs.
    for (const schedule of synthesized.schedules) {
      const fn = synthesized.functions[schedule.functionId] as Synthesized['failover'];
      const lambda = new BundledLambda(schedule.functionId, fn.assetDir, lambdaEnv, onLog);
      undo.push(() => lambda.stop());
      const runner = scheduleRunner(lambda, schedule, (error) =>
        logs.push({
          at: Date.now(),
          function: schedule.functionId,
          line: { level: 'error', message: 'scheduled invocation failed', error },
        }),
      );
      undo.push(() => runner.stop());
      runner.start();
    }
    if (synthesized.schedules.length === 0 && options.probe) {
      const probe = await options.probe({ config, moto, clusters, onLog });
      undo.push(() => probe.stop());
      probe.start();
    }
    if (synthesized.schedules.length === 0 && !options.probe) {
      throw new Error(
        "the synthesized stack has no scheduled probe: nothing would publish the nodes' health and lag",
      );
    }
    // The alarms are evaluated once their windows hold the probe's datapoints (missing data is
    // breaching: an empty window would fire). They start OK, as deployed alarms on a healthy pair.
    const warmUpMs = Math.max(...alarms.map((a) => a.periodSeconds * a.evaluationPeriods)) * 1000 + 1000;
    log(`probe publishing; alarms evaluated from ${(warmUpMs / 1000).toFixed(0)} s on (windows full)`);
    await new Promise((r) => setTimeout(r, warmUpMs));
    await evaluator.create('OK');
    evaluator.start();
    undo.push(async () => {
      stopped = true;
      await evaluator.stop();
    });

    const notifications: GameDayWorld['notifications'] = [];
    const world: GameDayWorld = {
      moto,
      clients,
      zoneId,
      config,
      synthesized,
      clusters,
      inbox,
      failover,
      step,
      lambdaEnv,
      tableName,
      evaluator,
      logs,
      transitions,
      deliveries,
      notifications,
      invokeFunction: (functionArn, payload) => {
        const id = functionArn.split(':').at(-1) as string;
        let lambda = byId.get(id);
        if (!lambda) {
          const fn = synthesized.functions[id];
          if (!fn) {
            return Promise.reject(
              Object.assign(new Error(`Function not found: ${functionArn}`), {
                name: 'Lambda.ResourceNotFoundException',
              }),
            );
          }
          lambda = new BundledLambda(id, fn.assetDir, lambdaEnv, onLog);
          const created = lambda;
          undo.push(() => created.stop());
          byId.set(id, lambda);
        }
        return lambda.invoke(payload, `gameday-invoke-${++requestSeq}`);
      },
      settle: async () => {
        while (running.size > 0) await Promise.race([...running, new Promise((r) => setTimeout(r, 50))]);
      },
      drainNotifications: async () => {
        const now = Date.now();
        for (const n of await inbox.drain()) notifications.push({ ...n, receivedAt: now });
      },
      nodesOf: (serviceId) => {
        const cluster = clusters.get(serviceId);
        if (!cluster) throw new Error(`no cluster for ${serviceId}`);
        return { 'db-a': cluster.primary, 'db-b': cluster.replica };
      },
      stop: async () => {
        stopped = true;
        await stopAll();
        resetAwsClientsForTests();
      },
    };
    void NODE_IDS;
    return world;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * A hosted zone whose id Route 53 would accept in the configuration (`Z` + upper-case letters and
 * digits). moto draws 22 random characters from A-Z0-9, so about one zone in 36 qualifies; the
 * others are deleted at once.
 */
async function createZone(clients: SceneClients): Promise<string> {
  for (let attempt = 1; attempt <= 500; attempt++) {
    const out = await clients.route53.send(
      new CreateHostedZoneCommand({ Name: ZONE_NAME, CallerReference: `gameday-${Date.now()}-${attempt}` }),
    );
    const id = (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    if (/^Z[A-Z0-9]{1,31}$/.test(id)) return id;
    await clients.route53.send(new DeleteHostedZoneCommand({ Id: id }));
  }
  throw new Error('moto_server gave no hosted zone id starting with Z in 500 attempts');
}

/** The functions' declared environment with each `Ref` bound to the resource created in moto. */
function bindEnvironment(
  s: Synthesized,
  moto: MotoServer,
  bound: ReadonlyMap<string, string>,
  topicArn: string,
): Record<string, string> {
  const resources = s.template.Resources as Record<string, Json>;
  const env: Record<string, string> = { ...moto.env, LOG_LEVEL: 'info' };
  for (const f of Object.values(s.functions)) {
    for (const [name, value] of Object.entries(f.environment)) {
      if (typeof value === 'string') {
        env[name] = value;
        continue;
      }
      const ref = value?.Ref as string | undefined;
      const bind =
        ref && resources[ref]?.Type === 'AWS::SNS::Topic' ? topicArn : ref ? bound.get(ref) : undefined;
      if (bind === undefined) {
        throw new Error(`cannot bind the Lambda environment variable ${name} = ${JSON.stringify(value)}`);
      }
      env[name] = bind;
    }
  }
  return env;
}

/** Invokes `lambda` with the schedule's input now and then every `everySeconds`, as EventBridge does. */
function scheduleRunner(
  lambda: BundledLambda,
  schedule: Schedule,
  onError: (message: string) => void,
): { start(): void; stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let seq = 0;
  const fire = () => {
    if (!running) return;
    lambda.invoke(schedule.input, `schedule-${schedule.functionId}-${++seq}`).catch((err: Error) => {
      if (running) onError(`${err.name}: ${err.message}`);
    });
    // rate() schedules fire on boundaries of their period (a per-minute probe samples until the
    // minute ends, so the next invocation must start as it does).
    const period = schedule.everySeconds * 1000;
    timer = setTimeout(fire, period - (Date.now() % period));
  };
  return {
    start: () => {
      running = true;
      fire();
    },
    stop: async () => {
      running = false;
      clearTimeout(timer);
    },
  };
}
