/**
 * Configuration checks for setups that validate field by field but can never work, and the
 * warnings for setups that work but leave a human a job. Each message names what to do instead.
 *
 * Pure: no AWS SDK, no environment, no clock. Every check tolerates a malformed shape: the schema
 * runs them even when other fields failed, so one run reports every problem.
 */
import { nodeActionConfig } from './action-config.ts';
import type { ServiceConfig } from './config.ts';
import type { ConfigProblem } from './errors.ts';

type Path = (string | number)[];
type Report = (path: Path, message: string, value: unknown) => void;

/**
 * Why Route 53's health checkers (which run on the internet) can never reach `host`, or
 * undefined when they may. Host names are not resolved here: only literal addresses and
 * `localhost` are judged.
 */
export function unreachableFromInternet(host: string): string | undefined {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return 'a loopback name';
  const v4 = h.split('.');
  if (v4.length === 4 && v4.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    const [a = 0, b = 0] = v4.map(Number);
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168))
      return 'a private address (RFC 1918)';
    if (a === 127) return 'a loopback address';
    if (a === 169 && b === 254) return 'a link-local address';
    if (a === 100 && b >= 64 && b <= 127) return 'a shared address (RFC 6598, carrier-grade NAT)';
    if (a === 0) return 'an unspecified address';
    return undefined;
  }
  if (h.includes(':') && /^[0-9a-f:.]+$/.test(h)) {
    if (h === '::1') return 'a loopback address';
    if (h === '::') return 'an unspecified address';
    if (/^fe[89ab][0-9a-f]?:/.test(h)) return 'a link-local address';
    if (/^f[cd][0-9a-f]{0,2}:/.test(h)) return 'a unique local address (fc00::/7)';
  }
  return undefined;
}

/**
 * Health signals that can never tell the primary's failure apart: a Route 53 health check of an
 * address its checkers cannot reach (always unhealthy), and two nodes watching one target group
 * (its HealthyHostCount is the group's, so both alarms fire together and no replica is ever a
 * healthy candidate).
 */
export function checkHealthSignals(
  service: ServiceConfig,
  at: (...rest: Path) => Path,
  report: Report,
): void {
  const byTargetGroup = new Map<string, number>();
  service.nodes.forEach((node, ni) => {
    const health = node?.health as { type?: unknown; host?: unknown; targetGroupArn?: unknown } | undefined;
    if (!health) return;
    if (health.type === 'route53-health-check' && typeof health.host === 'string') {
      const why = unreachableFromInternet(health.host);
      if (why) {
        report(
          at('nodes', ni, 'health', 'host'),
          `is ${why}: Route 53's health checkers run on the internet and can never reach it, so the node would always look unhealthy; for a node inside a network use the stack's node probe ("probe" on the node or service, health type "probe") or an "alarm" signal from a check inside the network`,
          health.host,
        );
      }
    }
    if (health.type === 'target-group-health' && typeof health.targetGroupArn === 'string') {
      const first = byTargetGroup.get(health.targetGroupArn);
      if (first === undefined) byTargetGroup.set(health.targetGroupArn, ni);
      else {
        report(
          at('nodes', ni, 'health', 'targetGroupArn'),
          `is also the health signal of nodes[${first}] (${service.nodes[first]?.id}): HealthyHostCount counts the whole target group, so both nodes look unhealthy together and automatic failover holds with no-healthy-candidate every time; give each node its own target group, a probe, or an alarm of its own`,
          health.targetGroupArn,
        );
      }
    }
  });
}

/**
 * Setups that work but leave a job to a human: a service that promotes with an action but has no
 * demote (or fence) action for a node, so that node, once a former primary, stays out of every
 * role until an operator runs `failover rejoin`.
 */
export function configWarnings(config: { services: readonly ServiceConfig[] }): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  config.services.forEach((service, si) => {
    const promotes = service.nodes.some((n) => nodeActionConfig(service, n.id, 'promote') !== undefined);
    if (!promotes) return;
    service.nodes.forEach((node, ni) => {
      if (nodeActionConfig(service, node.id, 'demote') || nodeActionConfig(service, node.id, 'fence')) return;
      warnings.push({
        path: `services[${si}].nodes[${ni}]`,
        message: `${service.id} promotes with an action but ${node.id} has no demote or fence action: after a failover away from it, ${node.id} is marked needs-rejoin and stays out of every role until someone makes it a replica and runs 'failover rejoin ${service.id} ${node.id}'; add actions.demote (or actions.fence) to rejoin it automatically`,
        value: node.id,
      });
    });
  });
  return warnings;
}
