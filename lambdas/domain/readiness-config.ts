/**
 * The `readiness` block of the configuration: how often the stack's readiness check runs, and the
 * budget check that keeps it inside Route 53's 5 requests/s alongside failovers.
 *
 * Pure: zod only, no AWS SDK, no environment, no clock.
 */
import * as z from 'zod';
import type { FailoverConfig } from './config.ts';
import type { ConfigProblem } from './errors.ts';

/** The readiness check's own Route 53 budget: one request per second of the account's five. */
export const READINESS_ROUTE53_REQUESTS_PER_SECOND = 1;
/** ListResourceRecordSets returns at most 300 record sets per page. */
const RECORDS_PER_PAGE = 300;
/** Share of the interval the Route 53 reads may take (the rest: cold start, other reads, slack). */
const INTERVAL_FILL = 0.5;

export const readinessSchema = z.strictObject({
  /** Run the scheduled readiness check. `failover check` works either way. @default true */
  enabled: z.boolean().default(true),
  /** Minutes between two scheduled checks (EventBridge rate). @default 5 */
  intervalMinutes: z.number().int().min(1).max(1440).default(5),
});

export type ReadinessConfig = z.output<typeof readinessSchema>;

export const DEFAULT_READINESS: ReadinessConfig = readinessSchema.parse({});

/**
 * Route 53 requests one readiness pass makes at most: one ListResourceRecordSets walk per hosted
 * zone, one page per 300 records asked for (a walk reads at most one page per record asked for).
 */
export function readinessRoute53Requests(config: Pick<FailoverConfig, 'services'>): number {
  const perZone = new Map<string, number>();
  for (const s of config.services) {
    if (s.router.type !== 'route53') continue;
    perZone.set(s.router.hostedZoneId, (perZone.get(s.router.hostedZoneId) ?? 0) + 1);
  }
  let requests = 0;
  for (const records of perZone.values()) requests += Math.ceil(records / RECORDS_PER_PAGE);
  return requests;
}

/**
 * Problems with the readiness settings that zod cannot see alone: a pass whose paced Route 53
 * reads (READINESS_ROUTE53_REQUESTS_PER_SECOND) would not fit in half of the interval.
 */
export function readinessBudgetProblems(
  config: Pick<FailoverConfig, 'services'> & { readonly readiness?: ReadinessConfig },
): ConfigProblem[] {
  const readiness = config.readiness ?? DEFAULT_READINESS;
  if (!readiness.enabled) return [];
  const requests = readinessRoute53Requests(config);
  const seconds = requests / READINESS_ROUTE53_REQUESTS_PER_SECOND;
  if (seconds <= readiness.intervalMinutes * 60 * INTERVAL_FILL) return [];
  const minutes = Math.ceil(seconds / 60 / INTERVAL_FILL);
  return [
    {
      path: 'readiness.intervalMinutes',
      message: `one readiness pass reads ${requests} Route 53 pages at ${READINESS_ROUTE53_REQUESTS_PER_SECOND} request/s (${seconds} s), more than half of the interval; use at least ${minutes}`,
      value: readiness.intervalMinutes,
    },
  ];
}
