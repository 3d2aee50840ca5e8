/**
 * `failover check [service]`: would a failover of each service work if its primary failed now?
 * The same judgement as the stack's scheduled readiness check (lambdas/app/readiness.ts), on
 * demand, from the operator's machine. Exit 1 when a service is not ready or could not be checked.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { checkReadiness } from '../lambdas/app/readiness.ts';
import { Pacer, paceClient } from '../lambdas/aws/pacing.ts';
import { AwsResources } from '../lambdas/aws/readiness-resources.ts';
import { AwsRoutingReader } from '../lambdas/aws/readiness-routing.ts';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { FailoverError } from '../lambdas/domain/errors.ts';
import type {
  CheckResult,
  ResourcePort,
  RoutingReadPort,
  ServiceReadiness,
} from '../lambdas/domain/readiness.ts';
import { READINESS_ROUTE53_REQUESTS_PER_SECOND } from '../lambdas/domain/readiness-config.ts';
import type { GlobalOptions } from './args.ts';
import type { CommandContext } from './context.ts';
import { table, timeText } from './output.ts';
import { requireService } from './status.ts';

export async function runCheck(ctx: CommandContext, serviceId: string | undefined): Promise<number> {
  const { config, out, services: ports } = ctx;
  const services = serviceId === undefined ? config.services : [requireService(config, serviceId)];
  if (!ports.readiness) throw new FailoverError('this CLI build has no readiness readers wired');
  const results = await checkReadiness(
    {
      alarms: ports.alarms,
      lag: ports.lag,
      state: await ports.state(),
      routing: ports.readiness.routing,
      resources: ports.readiness.resources,
      clock: ctx.clock,
    },
    services,
  );
  const ready = results.every((r) => r.status === 'ready');
  out.result({ ready, services: results, at: timeText(ctx.clock.now()) });
  results.forEach((r, i) => {
    if (i > 0) out.text();
    for (const line of checkLines(r)) out.text(line);
  });
  if (results.length > 1) {
    out.text();
    const notReady = results.filter((r) => r.status !== 'ready');
    out.text(
      notReady.length === 0
        ? `all ${results.length} services ready`
        : `${notReady.length} of ${results.length} services not ready: ${notReady.map((r) => r.serviceId).join(', ')}`,
    );
  }
  return ready ? 0 : 1;
}

const STATUS_TEXT = { ready: 'READY', 'not-ready': 'NOT READY', unknown: 'UNKNOWN (a read failed)' } as const;

/** `pg  NOT READY (routing)` then one row per check, every reason on its own line. */
export function checkLines(r: ServiceReadiness): string[] {
  const failed = r.checks.filter((c) => c.status !== 'pass').map((c) => c.check);
  const lines = [`${r.serviceId}  ${STATUS_TEXT[r.status]}${failed.length ? ` (${failed.join(', ')})` : ''}`];
  const rows = r.checks.flatMap((c) => {
    const texts = textsOf(c);
    return texts.map((t, i) => [i === 0 ? c.check : '', i === 0 ? resultText(c) : '', t]);
  });
  lines.push(...table(['check', 'result', 'detail'], rows, '  '));
  return lines;
}

function resultText(c: CheckResult): string {
  return c.status === 'pass' ? 'ok' : c.status === 'fail' ? 'FAIL' : 'unknown';
}

function textsOf(c: CheckResult): readonly string[] {
  const texts = c.status === 'pass' ? c.notes : c.reasons;
  return texts.length ? texts : [''];
}

/**
 * The readers `check` needs beyond the other commands' ports, for --region / --endpoint-url. Route 53
 * goes through its own paced client (the same 1 request/s as the scheduled check): an operator
 * running `check` during an incident must not take the requests a failover needs.
 */
export function awsReadinessReaders(
  config: FailoverConfig,
  globals: GlobalOptions,
  elb: ElasticLoadBalancingV2Client,
): { routing: RoutingReadPort; resources: ResourcePort } {
  const clientConfig = {
    retryMode: 'adaptive',
    maxAttempts: 5,
    ...(globals.region ? { region: globals.region } : {}),
    ...(globals.endpointUrl ? { endpoint: globals.endpointUrl } : {}),
  } as const;
  const route53 = paceClient(
    new Route53Client(clientConfig),
    new Pacer({ requestsPerSecond: READINESS_ROUTE53_REQUESTS_PER_SECOND }),
  );
  return {
    routing: new AwsRoutingReader({ config, route53, elb }),
    resources: new AwsResources({
      ec2: new EC2Client(clientConfig),
      ssm: new SSMClient(clientConfig),
      rds: new RDSClient(clientConfig),
      lambda: new LambdaClient(clientConfig),
      secretsManager: new SecretsManagerClient(clientConfig),
    }),
  };
}
