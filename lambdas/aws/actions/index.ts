/**
 * The NodeActionPort for AWS: built from the validated configuration, one runner per kind, each
 * with its injected SDK client. Every run is bounded by `request.timeoutMs`: the SDK calls get an
 * abort signal that fires at the deadline, wait loops stop before it, and the run itself is raced
 * against it, so `run` never takes longer than asked (plus the time to write the result).
 *
 * `run` never throws for the action's own failure or an AWS error: both become a result with
 * `status` and a classified `error` (retryable, uncertain). It throws for a programming error
 * only: an unknown service or node, or a role the node has no action for.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { actionForRole, type NodeActionConfig, type NodeActionKind } from '../../domain/action-config.ts';
import { type FailoverConfig, findService } from '../../domain/config.ts';
import { NodeActionFailedError, UnknownServiceError } from '../../domain/errors.ts';
import type {
  NodeActionPort,
  NodeActionRequest,
  NodeActionResult,
  NodeActionRole,
} from '../../domain/node-actions.ts';
import { ec2Client, lambdaClient, rdsClient, secretsManagerClient, ssmClient } from '../clients.ts';
import { describeAwsError, isTransient, isUncertain } from '../errors.ts';
import { type ActionContext, type ActionTiming, type KindRunner, REAL_TIMING } from './common.ts';
import { ec2IsolateRunner } from './ec2-isolate.ts';
import { ec2StopRunner } from './ec2-stop.ts';
import { lambdaRunner } from './lambda-action.ts';
import { rdsPromoteRunner } from './rds-promote-read-replica.ts';
import { driverConnect, type SqlDeps, secretsManagerCredentials, sqlRunner } from './sql.ts';
import { ssmCommandRunner } from './ssm-command.ts';

/** Clients by kind; a getter is called only when a configured action of that kind runs. */
export interface NodeActionClients {
  readonly lambda?: () => LambdaClient;
  readonly ssm?: () => SSMClient;
  readonly ec2?: () => EC2Client;
  readonly rds?: () => RDSClient;
  /** postgres / mysql: secrets and drivers. */
  readonly sql?: () => SqlDeps;
}

export interface AwsNodeActionsOptions {
  readonly config: FailoverConfig;
  readonly clients: NodeActionClients;
  /** @default real timers, status read every 5 s */
  readonly timing?: ActionTiming;
}

export class AwsNodeActions implements NodeActionPort {
  private readonly runners = new Map<NodeActionKind, KindRunner>();

  constructor(private readonly options: AwsNodeActionsOptions) {}

  has(serviceId: string, nodeId: string, role: NodeActionRole): boolean {
    const service = findService(this.options.config, serviceId);
    return service !== undefined && actionForRole(service, nodeId, role) !== undefined;
  }

  async run(request: NodeActionRequest): Promise<NodeActionResult> {
    const service = findService(this.options.config, request.serviceId);
    if (!service) throw new UnknownServiceError(request.serviceId);
    const node = service.nodes.find((n) => n.id === request.nodeId);
    if (!node) throw new UnknownServiceError(`${request.serviceId}/${request.nodeId}`);
    const action = actionForRole(service, request.nodeId, request.role);
    if (!action) {
      throw new NodeActionFailedError(
        'none',
        'failed',
        `${request.serviceId}/${request.nodeId} has no ${request.role} action (check has() first)`,
      );
    }
    const timing = this.options.timing ?? REAL_TIMING;
    const started = timing.now();
    const controller = new AbortController();
    const ctx: ActionContext = {
      request,
      action,
      service,
      node,
      deadline: started + request.timeoutMs,
      signal: controller.signal,
      timing,
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new NodeActionFailedError(
            action.type,
            'timed-out',
            `no final status within ${request.timeoutMs} ms`,
          ),
        );
      }, request.timeoutMs);
    });
    try {
      const outcome = await Promise.race([this.runner(action.type)(ctx), deadline]);
      return {
        status: 'succeeded',
        kind: action.type,
        detail: outcome.detail,
        ...(outcome.outputTail !== undefined ? { outputTail: outcome.outputTail } : {}),
        ...(outcome.ids ? { ids: outcome.ids } : {}),
        durationMs: timing.now() - started,
      };
    } catch (err) {
      return failure(action, err, controller.signal.aborted, timing.now() - started);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  private runner(kind: NodeActionKind): KindRunner {
    let runner = this.runners.get(kind);
    if (!runner) {
      runner = this.build(kind);
      this.runners.set(kind, runner);
    }
    return runner;
  }

  private build(kind: NodeActionKind): KindRunner {
    const c = this.options.clients;
    const need = <T>(get: (() => T) | undefined, name: string): T => {
      if (!get)
        throw new NodeActionFailedError(kind, 'failed', `no ${name} client was wired for ${kind} actions`);
      return get();
    };
    switch (kind) {
      case 'lambda':
        return lambdaRunner({ client: need(c.lambda, 'Lambda') }) as KindRunner;
      case 'ssm-command':
        return ssmCommandRunner({ client: need(c.ssm, 'SSM') }) as KindRunner;
      case 'ec2-stop':
        return ec2StopRunner({ client: need(c.ec2, 'EC2') }) as KindRunner;
      case 'ec2-isolate':
        return ec2IsolateRunner({ client: need(c.ec2, 'EC2') }) as KindRunner;
      case 'rds-promote-read-replica':
        return rdsPromoteRunner({ client: need(c.rds, 'RDS') }) as KindRunner;
      case 'postgres':
      case 'mysql':
        return sqlRunner(need(c.sql, 'SQL')) as KindRunner;
    }
  }
}

/** The runtime's port: the shared SDK clients of clients.ts and the real database drivers. */
export function awsNodeActions(config: FailoverConfig): AwsNodeActions {
  return new AwsNodeActions({
    config,
    clients: {
      lambda: lambdaClient,
      ssm: ssmClient,
      ec2: ec2Client,
      rds: rdsClient,
      sql: () => ({ credentials: secretsManagerCredentials(secretsManagerClient()), connect: driverConnect }),
    },
  });
}

/**
 * Errors that say the action never reached the node: no connection to its database (refused, no
 * route, no such host), SSM's "not a valid managed instance" (agent offline, instance gone), or a
 * user's function that says so by failing with `NodeUnreachableError`. The fence gate may then
 * promote (the node is down by our reach and by its alarm); any other failure holds.
 */
const UNREACHABLE =
  /\b(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|InvalidInstanceId|NodeUnreachableError)\b/;

function failure(
  action: NodeActionConfig,
  err: unknown,
  aborted: boolean,
  durationMs: number,
): NodeActionResult {
  if (err instanceof NodeActionFailedError) {
    return {
      status: err.status,
      kind: action.type,
      detail: err.message,
      durationMs,
      error: {
        name: err.name,
        message: err.message,
        retryable: false,
        uncertain: err.status === 'timed-out',
        ...(UNREACHABLE.test(err.message) ? { unreachable: true } : {}),
      },
    };
  }
  const { errorName, message } = describeAwsError(err);
  // Aborted at our deadline: the request may have reached AWS, so the outcome is uncertain.
  const timedOut = aborted || errorName === 'AbortError';
  return {
    status: timedOut ? 'timed-out' : 'failed',
    kind: action.type,
    detail: `${errorName}: ${message}`,
    durationMs,
    error: {
      name: errorName,
      message,
      retryable: isTransient(err),
      uncertain: timedOut || isUncertain(err),
      ...(!timedOut && UNREACHABLE.test(`${errorName} ${message}`) ? { unreachable: true } : {}),
    },
  };
}
