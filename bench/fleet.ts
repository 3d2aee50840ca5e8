/**
 * A large fleet as a new user builds one: a sample configuration's PostgreSQL service (`orders-db`)
 * copied `count` times, each copy with its own id, record name and node addresses. From
 * config/examples/aws-signals.json (the default) each copy's nodes get `alarm` health signals
 * (alarms the user already has) and their own lag dimensions; from config/failover.json they keep
 * the probe the sample configures (health and lag published by a probe next to the database). The
 * scale tests, `npm run bench -- scale` and a by-hand `cdk synth` all use this one generator:
 *
 *   npx tsx bench/fleet.ts 1000 > /tmp/fleet-1000.json
 *   npx cdk synth --quiet -c config=/tmp/fleet-1000.json
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FailoverConfig, parseConfig } from '../lambdas/domain/config.ts';

const SAMPLES = {
  'aws-signals': join(import.meta.dirname, '..', 'config', 'examples', 'aws-signals.json'),
  probe: join(import.meta.dirname, '..', 'config', 'failover.json'),
} as const;

export interface FleetOptions {
  /**
   * Hosted zones the records are spread over (round robin). One zone is the worst case for IAM:
   * every record name sits in the same zone's statements.
   * @default 1
   */
  readonly zones?: number;
  /**
   * Health signal of every node: `alarm` (an existing alarm, nothing created) as the user in the
   * issue had, or `route53-health-check` (a health check and an alarm per node, the most resources).
   * @default 'alarm'
   */
  readonly health?: 'alarm' | 'route53-health-check';
  /**
   * Which sample the service comes from: `aws-signals` (health from the signals above) or `probe`
   * (the probe of config/failover.json; `health` is then ignored).
   * @default 'aws-signals'
   */
  readonly sample?: keyof typeof SAMPLES;
}

/** The raw (unparsed) configuration: the JSON a user would write. */
export function fleetJson(count: number, options: FleetOptions = {}): Record<string, unknown> {
  const zones = options.zones ?? 1;
  const health = options.health ?? 'alarm';
  const file = SAMPLES[options.sample ?? 'aws-signals'];
  const sample = JSON.parse(readFileSync(file, 'utf8'));
  const template = sample.services.find((s: { id: string }) => s.id === 'orders-db');
  if (!template) throw new Error(`${file} no longer has the orders-db service the fleet copies`);
  const probed = options.sample === 'probe';
  const services = Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(4, '0');
    const id = `orders-db-${n}`;
    const zone = zones === 1 ? '' : `${i % zones}.`;
    return {
      ...template,
      id,
      description: `copy ${i + 1} of ${template.description}`,
      router: {
        ...template.router,
        ...(zones === 1
          ? {}
          : { hostedZoneId: `Z0123456789EXAMPLE${i % zones}`, zoneName: `${zone}example.com` }),
        recordName: `db-${n}.${zone}example.com`,
      },
      nodes: template.nodes.map((node: Record<string, unknown>, j: number) => {
        // The benchmarking range (RFC 2544, 198.18.0.0/15): reachable-looking for a Route 53 health
        // check, which refuses private addresses.
        const n = i * 8 + j;
        const address = `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
        if (probed) return { ...node, address, probe: { ...(node.probe as object), host: address } };
        return {
          ...node,
          address,
          health:
            health === 'alarm'
              ? { type: 'alarm', alarmName: `${id}-${node.id}-health` }
              : { type: 'route53-health-check', protocol: 'TCP', host: address, port: 5432 },
          lag: {
            ...(node.lag as object),
            dimensions: { Node: `${id}-${node.id}` },
          },
        };
      }),
    };
  });
  return { ...sample, stackName: 'Fleet', services };
}

/** The fleet, validated. */
export function fleetConfig(count: number, options: FleetOptions = {}): FailoverConfig {
  return parseConfig(fleetJson(count, options));
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const count = Number(process.argv[2] ?? '200');
  const zones = Number(process.argv[3] ?? '1');
  const sample = process.argv[4] ?? 'aws-signals';
  if (
    !Number.isInteger(count) ||
    count < 1 ||
    !Number.isInteger(zones) ||
    zones < 1 ||
    !(sample in SAMPLES)
  ) {
    console.error('usage: tsx bench/fleet.ts <services> [zones] [aws-signals|probe]');
    process.exit(2);
  }
  process.stdout.write(
    `${JSON.stringify(fleetJson(count, { zones, sample: sample as keyof typeof SAMPLES }), null, 1)}\n`,
  );
}
