/**
 * The node probe Lambda. An EventBridge rule starts it once a minute with the services it probes
 * (`{ "serviceIds": [...] }`); it samples their nodes every intervalSeconds until the minute
 * ends (lambdas/domain/probe.ts sampleTimes), publishing each sample as high-resolution metrics.
 *
 * It fails the invocation (Lambda Errors, alarmed) when it could not publish, or when a node's
 * secret lacks its fields (also counted in ProbeErrors as it happens): loud, never silent.
 */
import { CloudWatchProbeMetrics } from '../aws/cloudwatch-probe-metrics.ts';
import { DynamoDbProbePositions } from '../aws/dynamodb-probe-positions.ts';
import { SecretsManagerSecrets } from '../aws/secrets-manager.ts';
import type { FailoverConfig } from '../domain/config.ts';
import { InvalidInputError, ProbeFailedError, UnknownServiceError } from '../domain/errors.ts';
import { sampleTimes } from '../domain/probe.ts';
import { type ProbedNode, type SamplerDeps, SamplerMemory, sampleOnce } from '../probe/sampler.ts';
import { loadRuntimeConfig, requireEnv } from '../runtime/config.ts';
import { JsonLogger } from '../runtime/logger.ts';

export interface ProbeHandlerDeps extends SamplerDeps {
  readonly config: FailoverConfig;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ProbeHandlerResult {
  readonly samples: number;
  readonly nodes: number;
  readonly unhealthy: number;
}

/** The probed nodes of the services named in the event. */
export function probedNodes(config: FailoverConfig, event: unknown): ProbedNode[] {
  const ids = (event as { serviceIds?: unknown } | null)?.serviceIds;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new InvalidInputError('probe event needs serviceIds: string[]');
  }
  return (ids as string[]).flatMap((id) => {
    const service = config.services.find((s) => s.id === id);
    if (!service) throw new UnknownServiceError(id);
    return service.nodes.flatMap((n) => (n.probe ? [{ serviceId: id, nodeId: n.id, probe: n.probe }] : []));
  });
}

export function makeProbeHandler(deps: ProbeHandlerDeps, memory = new SamplerMemory()) {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return async (event: unknown): Promise<ProbeHandlerResult> => {
    const nodes = probedNodes(deps.config, event);
    // Nodes with the same interval and timeout share a schedule.
    const groups = new Map<string, ProbedNode[]>();
    for (const n of nodes) {
      const key = `${n.probe.intervalSeconds}/${n.probe.timeoutSeconds}`;
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    const start = deps.now();
    let samples = 0;
    let unhealthy = 0;
    const problems: string[] = [];
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const first = group[0] as ProbedNode;
        for (const t of sampleTimes(start, first.probe.intervalSeconds, first.probe.timeoutSeconds)) {
          const wait = t - deps.now();
          if (wait > 0) await sleep(wait);
          try {
            const out = await sampleOnce(group, deps, memory);
            samples++;
            unhealthy += out.results.filter((r) => r.figures.healthy === 0).length;
            for (const r of out.results) {
              if (r.failure?.reason === 'secret')
                problems.push(`${r.serviceId}/${r.nodeId}: ${r.failure.message}`);
            }
          } catch (err) {
            // Publishing failed: the health alarms see missing data (breaching); say why, go on.
            deps.logger.error('probe sample not published', { error: (err as Error).message });
            problems.push(`publish: ${(err as Error).message}`);
          }
        }
      }),
    );
    if (problems.length > 0) {
      throw new ProbeFailedError(`probe problems: ${[...new Set(problems)].join('; ')}`);
    }
    return { samples, nodes: nodes.length, unhealthy };
  };
}

let cached: ((event: unknown) => Promise<ProbeHandlerResult>) | undefined;

export async function handler(event: unknown): Promise<ProbeHandlerResult> {
  cached ??= makeProbeHandler({
    config: loadRuntimeConfig(),
    secrets: new SecretsManagerSecrets(),
    metrics: new CloudWatchProbeMetrics(),
    positions: new DynamoDbProbePositions({ tableName: requireEnv('PROBE_POSITIONS_TABLE') }),
    logger: new JsonLogger({ service: 'node-probe' }),
    now: Date.now,
  });
  return cached(event);
}
