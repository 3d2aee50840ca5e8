/**
 * The three-node `orders` service (a primary; b and c replicas; Route 53) on the in-memory AWS, with
 * fresh lag datapoints for both replicas: the world the automatic-failover tests start from (the
 * use case, the role-change engine with node actions, the fence gate, commit retries, the
 * in-memory races).
 */
import { expect } from 'vitest';
import { type AutoFailoverDeps, runAutoFailover } from '../../lambdas/app/auto-failover.ts';
import type { FailoverConfig, FailoverConfigInput } from '../../lambdas/domain/config.ts';
import { TransientAwsError } from '../../lambdas/domain/errors.ts';
import { tokenParts } from '../../lambdas/domain/node-actions.ts';
import type {
  AlarmStateValue,
  AlarmTransition,
  OperationKind,
  StoredClusterState,
} from '../../lambdas/domain/types.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { type InstrumentHooks, instrument } from '../../lambdas/testing/instrument.ts';
import { createMemoryEnvironment, type MemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../lambdas/testing/node-actions.ts';

export const ORDERS = 'orders';

type ServicePolicy = NonNullable<FailoverConfigInput['services'][number]['policy']>;

/** A 10 s lag budget, datapoints up to a minute old, a 10 min cooldown; `policy` adds to it. */
export function ordersConfig(policy: ServicePolicy = {}): FailoverConfig {
  return testConfig([
    route53Service({
      id: ORDERS,
      nodes: ['a', 'b', 'c'],
      policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600, ...policy },
    }),
  ]);
}

export interface OrdersWorldOptions {
  /** Added to the default policy of `ordersConfig`. */
  readonly policy?: ServicePolicy;
  /** Used instead of `ordersConfig(policy)`. */
  readonly config?: FailoverConfig;
  /** The replicas' lag in seconds. @default { b: 2, c: 4 } */
  readonly lag?: { readonly b: number; readonly c: number };
  /** How old the lag datapoints are. @default 5_000 */
  readonly lagAgeMs?: number;
}

/** The memory environment of `orders`, both replicas' lag published `lagAgeMs` ago. */
export function ordersWorld(options: OrdersWorldOptions = {}): MemoryEnvironment {
  const env = createMemoryEnvironment(options.config ?? ordersConfig(options.policy));
  publishReplicaLag(env, options.lag ?? { b: 2, c: 4 }, options.lagAgeMs ?? 5_000);
  return env;
}

/** The probe publishes both replicas' lag (datapoints `ageMs` old). */
export function publishReplicaLag(
  env: MemoryEnvironment,
  lag: { readonly b: number; readonly c: number },
  ageMs = 5_000,
): void {
  env.lag.put(ORDERS, 'b', lag.b, env.clock.now() - ageMs);
  env.lag.put(ORDERS, 'c', lag.c, env.clock.now() - ageMs);
}

/** The alarm of `node` goes into `state` (in CloudWatch too) and the event for it arrives 2 s later. */
export function alarmFires(
  env: MemoryEnvironment,
  node = 'a',
  state: AlarmStateValue = 'ALARM',
  eventId = 'evt-1',
): AlarmTransition {
  const alarmName = env.alarms.setNode(ORDERS, node, state);
  const timestamp = env.clock.now();
  env.clock.advance(2_000);
  return { alarmName, state, previousState: state === 'ALARM' ? 'OK' : 'ALARM', timestamp, eventId };
}

/** The record of `orders` with a lease its `holder` took `heldForMs` ago for `leaseMs` in all. */
export function seedLeased(
  env: MemoryEnvironment,
  lease: {
    readonly holder: string;
    readonly operation: OperationKind;
    readonly heldForMs?: number;
    readonly leaseMs: number;
  },
  record: Partial<Omit<StoredClusterState, 'serviceId' | 'lease'>> = {},
): void {
  const now = env.clock.now();
  const acquiredAt = now - (lease.heldForMs ?? 0);
  env.state.seed({
    serviceId: ORDERS,
    primary: 'a',
    epoch: 0,
    paused: false,
    ...record,
    lease: {
      holder: lease.holder,
      operation: lease.operation,
      acquiredAt,
      expiresAt: acquiredAt + lease.leaseMs,
    },
  });
}

/** The five ports the failover reads and writes, each recorded and shaped by the same `hooks`. */
export function instrumentedFailoverPorts(env: MemoryEnvironment, hooks: InstrumentHooks) {
  return {
    alarms: instrument(env.alarms, 'alarms', hooks),
    lag: instrument(env.lag, 'lag', hooks),
    state: instrument(env.state, 'state', hooks),
    traffic: instrument(env.traffic, 'traffic', hooks),
    notifier: instrument(env.notifier, 'notifier', hooks),
  };
}

/** `orders` whose nodes run scripted fence/promote/demote actions of `durationMs` each. */
export function ordersWithNodeActions(
  options: OrdersWorldOptions & {
    readonly durationMs: number;
    readonly roles?: ('fence' | 'unfence' | 'promote' | 'demote')[];
  },
) {
  const config = options.config ?? ordersConfig(options.policy);
  const env = ordersWorld({ ...options, config });
  const actions = new MemoryNodeActions(config, {
    clock: env.clock,
    sleep: env.clock.sleep,
    durationMs: options.durationMs,
    ...(options.roles ? { roles: { [ORDERS]: options.roles } } : {}),
  });
  const deps: AutoFailoverDeps = { ...env, actions, holderId: 'req-1' };
  return { env, actions, deps };
}

/** Each node-action call as `role node epoch/attempt/sequence outcome` (the token taken apart). */
export const actionCalls = (actions: MemoryNodeActions): string[] =>
  actions.calls.map((c) => {
    const t = tokenParts(c.request.token);
    return `${c.request.role} ${c.request.nodeId} ${t.epoch}/${t.attempt}/${t.sequence} ${c.outcome}`;
  });

/**
 * The primary's alarm fires and the first invocation's shift is throttled: it throws
 * TransientAwsError keeping its lease, so Lambda's retry of the returned event resumes under it.
 */
export async function throttledFirstAttempt(
  env: MemoryEnvironment,
  deps: AutoFailoverDeps,
): Promise<AlarmTransition> {
  env.traffic.failNext(ORDERS, { errorName: 'Throttling', apply: false });
  const transition = alarmFires(env);
  await expect(runAutoFailover(deps, transition)).rejects.toBeInstanceOf(TransientAwsError);
  return transition;
}
