/**
 * What the real-database probe suites share: the sampler wired to in-memory secrets, a metrics
 * sink that records what would be published, an in-memory primary-position store and a logger
 * that keeps its lines.
 */
import type { SecretsPort } from '../../lambdas/aws/secrets-manager.ts';
import type { Logger } from '../../lambdas/domain/ports.ts';
import type { PrimaryPosition } from '../../lambdas/domain/probe.ts';
import { type ProbeConfig, probeSchema } from '../../lambdas/domain/probe-config.ts';
import {
  type NodeResult,
  type PrimaryPositionStore,
  type ProbeDatapoint,
  type ProbedNode,
  SamplerMemory,
  sampleOnce,
} from '../../lambdas/probe/sampler.ts';

export const SECRET_ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:${name}`;

export class FakeSecrets implements SecretsPort {
  readonly values = new Map<string, Record<string, unknown>>();
  forgotten: string[] = [];
  async getJson(arn: string) {
    const v = this.values.get(arn);
    if (!v) throw new Error(`ResourceNotFoundException: ${arn}`);
    return v;
  }
  forget(arn: string) {
    this.forgotten.push(arn);
  }
}

export class LogLines implements Logger {
  readonly lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  debug(message: string, data?: Record<string, unknown>) {
    this.lines.push({ level: 'debug', message, ...(data ? { data } : {}) });
  }
  info(message: string, data?: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, ...(data ? { data } : {}) });
  }
  warn(message: string, data?: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, ...(data ? { data } : {}) });
  }
  error(message: string, data?: Record<string, unknown>) {
    this.lines.push({ level: 'error', message, ...(data ? { data } : {}) });
  }
}

export class MemoryPositions implements PrimaryPositionStore {
  readonly items = new Map<string, PrimaryPosition>();
  async get(serviceId: string) {
    return this.items.get(serviceId);
  }
  async put(serviceId: string, position: PrimaryPosition) {
    this.items.set(serviceId, position);
  }
}

export function probeOf(input: Record<string, unknown>): ProbeConfig {
  return probeSchema.parse({
    subnets: ['subnet-0123456789abcdef0'],
    securityGroups: ['sg-0123456789abcdef0'],
    timeoutSeconds: 2,
    ...input,
  });
}

/** `kind` probes of `serviceId`'s nodes on 127.0.0.1 (TLS off), logging in with the secret `secretName`. */
export function localProbedNode(serviceId: string, kind: 'postgres' | 'mysql', secretName: string) {
  return (nodeId: string, port: number, extra: Record<string, unknown> = {}): ProbedNode => ({
    serviceId,
    nodeId,
    probe: probeOf({
      kind,
      host: '127.0.0.1',
      port,
      secretArn: SECRET_ARN(secretName),
      tls: 'disable',
      ...extra,
    }),
  });
}

/** A probe harness: sample() runs one real sample and returns each node's published figures. */
export function probeHarness() {
  const secrets = new FakeSecrets();
  const logger = new LogLines();
  const positions = new MemoryPositions();
  let memory = new SamplerMemory();
  const published: ProbeDatapoint[][] = [];
  const deps = {
    secrets,
    logger,
    positions,
    now: () => Date.now(),
    metrics: {
      publish: async (datapoints: readonly ProbeDatapoint[]) => {
        published.push([...datapoints]);
      },
    },
  };
  return {
    secrets,
    logger,
    positions,
    published,
    /** A cold start: the in-memory state is gone, the position store is not. */
    coldStart() {
      memory = new SamplerMemory();
    },
    async sample(nodes: readonly ProbedNode[]): Promise<Map<string, NodeResult>> {
      const out = await sampleOnce(nodes, deps, memory);
      return new Map(out.results.map((r) => [r.nodeId, r]));
    },
  };
}
