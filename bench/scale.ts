/**
 * Scale of one deployment: the sample service copied 50, 200, 500 and 1,000 times (bench/fleet.ts,
 * the fleet the scale tests use), synthesized in-process with bundling skipped (bundling is per
 * function, not per service, and measured in the cold-start section). For each size: synth time
 * (the deploy-limit check included) and the largest figure of every deploy-time limit of
 * lib/limits.ts, in absolute terms and as a share of the limit. The goal: at 1,000 services every
 * figure at most 60 % of its limit and synth at most 60 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, NestedStack } from 'aws-cdk-lib';
import { FailoverStack } from '../lib/failover-stack.ts';
import { LIMITS, type LimitKey, largestPerLimit, measureStackTree } from '../lib/limits.ts';
import { type FleetOptions, fleetConfig } from './fleet.ts';
import { type Figure, median } from './report.ts';

/** The share of each limit the figures aim for. */
export const SCALE_GOAL_FRACTION = 0.6;
export const SCALE_GOAL_SYNTH_MS = 60_000;

type Sample = NonNullable<FleetOptions['sample']>;

export interface ScalePoint {
  readonly services: number;
  /** Which sample service was copied: alarm health signals, or probed nodes. */
  readonly sample: Sample;
  readonly synthMs: number;
  readonly nestedStacks: number;
  /** The largest figure per limit, with what it was measured on. */
  readonly largest: Partial<Record<LimitKey, { subject: string; value: number; fractionOfLimit: number }>>;
}

function synthOnce(services: number, sample: Sample): Omit<ScalePoint, 'services' | 'sample'> {
  const outdir = mkdtempSync(join(tmpdir(), 'failover-scale-'));
  try {
    const config = fleetConfig(services, { sample });
    const started = performance.now();
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FailoverStack(app, 'Scale', { config });
    app.synth();
    const synthMs = performance.now() - started;
    const largest = Object.fromEntries(
      [...largestPerLimit(measureStackTree(stack))].map(([k, v]) => [
        k,
        { subject: v.figure.subject, value: v.figure.value, fractionOfLimit: v.fractionOfLimit },
      ]),
    );
    const nestedStacks = stack.node.findAll().filter((c) => NestedStack.isNestedStack(c)).length;
    return { synthMs, nestedStacks, largest };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** 50 to 1,000 services with alarm health signals, and 1,000 probed (node probe, split-brain alarms). */
export const SCALE_SIZES: readonly { services: number; sample: Sample }[] = [
  { services: 50, sample: 'aws-signals' },
  { services: 200, sample: 'aws-signals' },
  { services: 500, sample: 'aws-signals' },
  { services: 1000, sample: 'aws-signals' },
  { services: 1000, sample: 'probe' },
];

export function measureScale(
  options: {
    sizes?: readonly { services: number; sample: Sample }[];
    runs?: number;
    log?: (line: string) => void;
  } = {},
): ScalePoint[] {
  const sizes = options.sizes ?? SCALE_SIZES;
  const runs = options.runs ?? 3;
  // Warm-up: the first synth of a process loads and compiles aws-cdk-lib.
  synthOnce(5, 'aws-signals');
  return sizes.map(({ services: n, sample }) => {
    const samples = Array.from({ length: runs }, () => synthOnce(n, sample));
    const point = { services: n, sample, ...samples[0]!, synthMs: median(samples.map((s) => s.synthMs)) };
    options.log?.(
      `${n} services (${sample}): synth ${Math.round(point.synthMs)} ms, ${point.nestedStacks} nested stacks; ` +
        Object.entries(point.largest)
          .map(([k, v]) => `${k} ${v.value} (${Math.round(v.fractionOfLimit * 100)} %)`)
          .join(', '),
    );
    return point;
  });
}

/** The limits the table reports, in the order of the list. */
const REPORTED: readonly LimitKey[] = [
  'templateBytes',
  'stackResources',
  'stackOutputs',
  'stackParameters',
  'roleInlinePolicyChars',
  'managedPolicyChars',
  'managedPoliciesPerRole',
  'eventPatternChars',
  'rulesPerBus',
  'lambdaEnvironmentBytes',
  'lambdaResourcePolicyBytes',
  'queuePolicyBytes',
  'queuePolicyStatements',
  'dashboardWidgets',
  'dashboardMetrics',
  'dashboardBodyBytes',
];

export function scaleFigures(points: readonly ScalePoint[]): Figure[] {
  const section = 'scale of one deployment (the sample service copied N times, one hosted zone)';
  return points.flatMap((p) => {
    const label = `${p.services} services${p.sample === 'probe' ? ' (probed)' : ''}`;
    return [
      {
        section,
        name: `${label}: synth time incl. limit checks (no bundling), median`,
        value: p.synthMs,
        unit: 'ms',
        goal: { op: '<=' as const, value: SCALE_GOAL_SYNTH_MS },
      },
      { section, name: `${label}: nested stacks`, value: p.nestedStacks, unit: '' },
      ...REPORTED.flatMap((key) => {
        const f = p.largest[key];
        if (!f) return [];
        const limit = LIMITS[key];
        return [
          {
            section,
            name: `${label}: largest ${limit.name} (${f.subject})`,
            value: f.value,
            unit: '',
            baseline: { label: 'limit', value: limit.max },
            goal: { op: '<=' as const, value: Math.floor(limit.max * SCALE_GOAL_FRACTION) },
          },
        ];
      }),
    ];
  });
}
