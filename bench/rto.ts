/**
 * The RTO model (lambdas/domain/rto.ts) for the sample configuration and for the "fast profile"
 * that meets issue 6's aims (<= 45 s behind DNS, <= 35 s behind a load balancer): a health alarm
 * on a high-resolution metric, 2 datapoints of 10 s, and a 10 s TTL.
 */
import { join } from 'node:path';
import { type FailoverConfig, parseConfig } from '../lambdas/domain/config.ts';
import { type AlarmSettings, estimateRto, formatRto, type RtoEstimate } from '../lambdas/domain/rto.ts';
import { loadConfigFile } from '../lib/config-loader.ts';
import type { Figure } from './report.ts';

const PROJECT_ROOT = join(import.meta.dirname, '..');
const FAST_ALARM: AlarmSettings = { periodSeconds: 10, datapointsToAlarm: 2 };
const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/lb/0123456789abcdef/0123456789abcdef';
const tg = (n: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/${n}/0123456789abcdef`;
const lag = { namespace: 'Custom/Db', metricName: 'Lag', dimensions: {} };

/** Two services with the fast profile: one behind DNS (TTL 10 s), one behind a weighted listener. */
export function fastProfileConfig(): FailoverConfig {
  const node = (service: string, id: string, extra: Record<string, unknown>) => ({
    id,
    ...extra,
    health: { type: 'alarm', alarmName: `${service}-${id}-fast-health` },
    lag,
  });
  return parseConfig({
    services: [
      {
        id: 'fast-dns',
        initialPrimary: 'a',
        router: {
          type: 'route53',
          hostedZoneId: 'Z123',
          zoneName: 'example.com',
          recordName: 'db.example.com',
          recordType: 'A',
          ttlSeconds: 10,
        },
        nodes: [
          node('fast-dns', 'a', { address: '10.0.0.1' }),
          node('fast-dns', 'b', { address: '10.0.0.2' }),
        ],
      },
      {
        id: 'fast-lb',
        initialPrimary: 'a',
        router: { type: 'elbv2-weighted', listenerArn: LISTENER },
        nodes: [
          node('fast-lb', 'a', { targetGroupArn: tg('a') }),
          node('fast-lb', 'b', { targetGroupArn: tg('b') }),
        ],
      },
    ],
  });
}

export interface RtoResult {
  readonly sample: readonly RtoEstimate[];
  readonly fast: readonly RtoEstimate[];
}

export function measureRto(): RtoResult {
  const sample = loadConfigFile(join(PROJECT_ROOT, 'config', 'failover.json'));
  const fast = fastProfileConfig();
  const fastAlarms = new Map(
    fast.services.flatMap((s) => s.nodes.map((n) => [`${s.id}-${n.id}-fast-health`, FAST_ALARM] as const)),
  );
  // The sample's one existing alarm (git-2) is the replica's: the primary's signal decides here.
  return {
    sample: sample.services.map((s) => estimateRto(s)),
    fast: fast.services.map((s) => estimateRto(s, { alarms: fastAlarms })),
  };
}

export function rtoLines(r: RtoResult): string[] {
  return [
    'sample configuration (config/failover.json), stack-created health signals:',
    ...r.sample.map((e) => `  ${formatRto(e)}`),
    'fast profile (alarm signal on a high-resolution metric, 2 x 10 s; TTL 10 s):',
    ...r.fast.map((e) => `  ${formatRto(e)}`),
  ];
}

export function rtoFigures(r: RtoResult): Figure[] {
  const section = 'RTO model (worst case, s)';
  const dnsGoal = { op: '<=' as const, value: 45 };
  const lbGoal = { op: '<=' as const, value: 35 };
  const figures: Figure[] = [];
  const fastDns = r.fast.find((e) => e.router === 'route53');
  const fastLb = r.fast.find((e) => e.router !== 'route53');
  for (const e of r.sample) {
    if (!e.total) continue;
    const dns = e.router === 'route53';
    const fast = dns ? fastDns : fastLb;
    figures.push({
      section,
      name: `${e.serviceId} (sample, ${dns ? 'DNS' : 'load balancer'}): ${e.detection?.basis.split(',')[0]}`,
      value: e.total.worst,
      unit: 's',
      ...(fast?.total ? { baseline: { label: 'fast profile', value: fast.total.worst } } : {}),
      goal: dns ? dnsGoal : lbGoal,
    });
  }
  const sampleDns = r.sample.find((e) => e.router === 'route53' && e.total);
  const sampleLb = r.sample.find((e) => e.router !== 'route53' && e.total);
  for (const e of r.fast) {
    if (!e.total) continue;
    const dns = e.router === 'route53';
    figures.push({
      section,
      name: `${e.serviceId} (fast profile, ${dns ? 'DNS, TTL 10 s' : 'load balancer'})`,
      value: e.total.worst,
      unit: 's',
      ...((dns ? sampleDns : sampleLb)?.total
        ? { baseline: { label: 'stack-created signal', value: (dns ? sampleDns : sampleLb)!.total!.worst } }
        : {}),
      goal: dns ? dnsGoal : lbGoal,
    });
  }
  return figures;
}
