/**
 * Shared by the node-action adapter tests: a validated one-service config with the given actions,
 * a request builder, and a clock that advances by exactly what the action sleeps.
 */

import type { ActionTiming } from '../../../lambdas/aws/actions/common.ts';
import type { ActionsConfig } from '../../../lambdas/domain/action-config.ts';
import {
  type FailoverConfig,
  type FailoverConfigInput,
  parseConfig,
} from '../../../lambdas/domain/config.ts';
import {
  fencingToken,
  type NodeActionRequest,
  type NodeActionRole,
  type TokenStep,
} from '../../../lambdas/domain/node-actions.ts';
import { route53Service } from '../../../lambdas/testing/fixtures.ts';

type NodeInput = FailoverConfigInput['services'][number]['nodes'][number];

export const INSTANCE_A = 'i-0aaaaaaaaaaaaaaa1';
export const INSTANCE_B = 'i-0bbbbbbbbbbbbbbb1';
export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-admin-AbCdEf';

export function actionConfig(
  actions: Record<string, unknown>,
  nodes: Partial<Record<'a' | 'b', Partial<NodeInput>>> = {},
): FailoverConfig {
  const service = route53Service({ id: 'orders' });
  service.actions = actions as ActionsConfig;
  service.nodes = service.nodes.map((n) => ({
    ...n,
    instanceId: n.id === 'a' ? INSTANCE_A : INSTANCE_B,
    dbInstanceIdentifier: `orders-${n.id}`,
    sql: { host: `db-${n.id}.internal`, port: 5432, secretArn: SECRET_ARN, tls: false },
    ...(nodes[n.id as 'a' | 'b'] ?? {}),
  }));
  return parseConfig({ services: [service] });
}

const STEP: Record<NodeActionRole, TokenStep> = {
  fence: 'fence',
  promote: 'promote',
  demote: 'demote',
  unfence: 'unfence',
};

/** The tokens of epoch 4's calls, as request() sends them. */
export const T = {
  fence: fencingToken(4, 'fence'),
  promote: fencingToken(4, 'promote'),
  demote: fencingToken(4, 'demote'),
  unfence: fencingToken(4, 'unfence'),
  demoteTarget: fencingToken(4, 'demoteTarget'),
};

export function request(role: NodeActionRole, overrides: Partial<NodeActionRequest> = {}): NodeActionRequest {
  const epoch = overrides.epoch ?? 4;
  return {
    serviceId: 'orders',
    nodeId: role === 'promote' ? 'b' : 'a',
    role,
    mode: 'switchover',
    epoch,
    token: fencingToken(epoch, STEP[role]),
    timeoutMs: 60_000,
    ...overrides,
  };
}

/** A clock that only moves when the action sleeps: waits are exact and instant. */
export function fakeTiming(pollIntervalMs = 5_000): ActionTiming & { slept: number[] } {
  let now = 1_700_000_000_000;
  const slept: number[] = [];
  return {
    slept,
    pollIntervalMs,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

export const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1', attempts: 1 });

/**
 * An error with no modelled class (EC2's query protocol has none; throttling and other common
 * errors of SSM and RDS have none either): name, $fault and status only.
 */
export function unmodelledError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: meta(status),
  });
}
