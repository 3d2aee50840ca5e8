/**
 * Scale of the stack: `cdk synth` time (bundling skipped: it is per function, not per service,
 * and measured in the cold-start section) and CloudFormation resources for 50, 100 and 200
 * services, in the worst case for resources (every node a stack-created Route 53 health check
 * and alarm), using engineer C's generator from the infrastructure tests.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import { STACK_RESOURCE_LIMIT } from '../lib/failover-automation.ts';
import { FailoverStack } from '../lib/failover-stack.ts';
import { generateConfig } from '../test/infra/helpers.ts';
import { type Figure, median } from './report.ts';

export interface ScalePoint {
  readonly services: number;
  readonly synthMs: number;
  /** Resources in the deployed stack itself (the 500 quota applies per stack). */
  readonly parentResources: number;
  /** The largest nested stack. */
  readonly maxNestedResources: number;
  readonly nestedStacks: number;
  readonly totalResources: number;
}

function synthOnce(config: FailoverConfig): Omit<ScalePoint, 'services'> {
  const outdir = mkdtempSync(join(tmpdir(), 'failover-scale-'));
  try {
    const started = performance.now();
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FailoverStack(app, 'Scale', { config });
    app.synth();
    const synthMs = performance.now() - started;
    const count = (file: string) =>
      Object.keys(
        (JSON.parse(readFileSync(join(outdir, file), 'utf8')) as { Resources?: object }).Resources ?? {},
      ).length;
    const parent = count(`${stack.artifactId}.template.json`);
    const nested = readdirSync(outdir)
      .filter((f) => f.endsWith('.nested.template.json'))
      .map(count);
    return {
      synthMs,
      parentResources: parent,
      maxNestedResources: Math.max(0, ...nested),
      nestedStacks: nested.length,
      totalResources: parent + nested.reduce((a, b) => a + b, 0),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function measureScale(
  options: { sizes?: readonly number[]; runs?: number; log?: (line: string) => void } = {},
): ScalePoint[] {
  const sizes = options.sizes ?? [50, 100, 200];
  const runs = options.runs ?? 3;
  // Warm-up: the first synth of a process loads and compiles aws-cdk-lib.
  synthOnce(generateConfig(5, 'route53-health-check'));
  return sizes.map((n) => {
    const config = generateConfig(n, 'route53-health-check', 2);
    const samples = Array.from({ length: runs }, () => synthOnce(config));
    const point = { services: n, ...samples[0]!, synthMs: median(samples.map((s) => s.synthMs)) };
    options.log?.(
      `synth ${n} services: ${Math.round(point.synthMs)} ms, parent ${point.parentResources} resources, ` +
        `${point.nestedStacks} nested stacks (largest ${point.maxNestedResources}), ${point.totalResources} in all`,
    );
    return point;
  });
}

export function scaleFigures(points: readonly ScalePoint[]): Figure[] {
  const section = 'scale of the stack (every node a Route 53 health check)';
  const smallest = points[0];
  return points.flatMap((p) => [
    {
      section,
      name: `${p.services} services: synth time (no bundling), median`,
      value: p.synthMs,
      unit: 'ms',
      ...(smallest && smallest !== p
        ? { baseline: { label: `${smallest.services} services`, value: smallest.synthMs } }
        : {}),
    },
    {
      section,
      name: `${p.services} services: resources in the stack`,
      value: p.parentResources,
      unit: '',
      baseline: { label: 'CloudFormation quota', value: STACK_RESOURCE_LIMIT },
      goal: { op: '<=', value: STACK_RESOURCE_LIMIT - 1 },
    },
    {
      section,
      name: `${p.services} services: largest nested stack (of ${p.nestedStacks})`,
      value: p.maxNestedResources,
      unit: '',
      baseline: { label: 'CloudFormation quota', value: STACK_RESOURCE_LIMIT },
      goal: { op: '<=', value: STACK_RESOURCE_LIMIT - 1 },
    },
    {
      section,
      name: `${p.services} services: resources in all stacks`,
      value: p.totalResources,
      unit: '',
    },
  ]);
}
