import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { ConfigValidationError } from '../../lambdas/domain/errors.ts';
import { POSTGRES_PROBE, probedServiceInput } from '../support/probed-service.ts';

const base = (service: Record<string, unknown>) => probedServiceInput(service);
const probe = POSTGRES_PROBE;

function problems(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('probe configuration', () => {
  it('a probed node gets its health alarm on the probe and its lag from the probe metric', () => {
    const config = parseConfig(base({ probe }));
    const node = config.services[0]?.nodes[1];
    expect(node?.health).toEqual({ type: 'probe' });
    expect(node?.lag).toEqual({
      namespace: 'FailoverAutomation/Probe',
      metricName: 'ReplicationLagSeconds',
      dimensions: { ServiceId: 'orders-db', NodeId: 'b' },
      statistic: 'Maximum',
      periodSeconds: 10,
    });
    expect(node?.probe).toMatchObject({
      kind: 'postgres',
      host: '10.0.0.2',
      intervalSeconds: 10,
      timeoutSeconds: 2,
    });
  });

  it('a lag the config names wins over the probe metric', () => {
    const lag = { namespace: 'Custom/Db', metricName: 'Lag', dimensions: {} };
    const input = base({ probe });
    (input.services[0]?.nodes[0] as Record<string, unknown>).lag = lag;
    expect(parseConfig(input).services[0]?.nodes[0]?.lag).toMatchObject(lag);
  });

  it('refuses a probe without subnets, secret or port, with the field and the value, all at once', () => {
    const { subnets: _s, secretArn: _a, port: _p, ...rest } = probe;
    const found = problems(base({ probe: { ...rest, subnets: [] } }));
    for (const node of [0, 1]) {
      expect(found).toContain(
        `services[0].nodes[${node}].probe.subnets: at least one subnet: the probe runs next to the databases`,
      );
      expect(found.some((p) => p.startsWith(`services[0].nodes[${node}].probe.secretArn:`))).toBe(true);
      expect(found.some((p) => p.startsWith(`services[0].nodes[${node}].probe.port:`))).toBe(true);
    }
  });

  it('refuses a timeout that is not shorter than the interval, and an interval that does not divide a minute', () => {
    expect(problems(base({ probe: { ...probe, intervalSeconds: 5, timeoutSeconds: 5 } }))).toContain(
      'services[0].nodes[0].probe.timeoutSeconds: must be shorter than intervalSeconds (5)',
    );
    expect(problems(base({ probe: { ...probe, intervalSeconds: 7 } }))[0]).toMatch(
      /intervalSeconds: must be one of 5, 10/,
    );
  });

  it('a tcp probe measures no lag: the node must name one', () => {
    const found = problems(
      base({
        probe: { kind: 'tcp', port: 22, subnets: probe.subnets, securityGroups: probe.securityGroups },
      }),
    );
    expect(found).toContain(
      'services[0].nodes[0].lag: required unless the node has a probe that measures lag (postgres, mysql, or http with lagPointer)',
    );
  });

  it('a probe health signal without a probe is refused', () => {
    const input = base({});
    for (const n of input.services[0]?.nodes ?? []) {
      delete (n as Record<string, unknown>).probe;
      Object.assign(n, { health: { type: 'probe' }, lag: { namespace: 'X', metricName: 'Y' } });
    }
    expect(problems(input)[0]).toMatch(/health: a probe health signal needs a probe/);
  });

  it('parsing the parsed config again gives the same config', () => {
    const once = parseConfig(base({ probe }));
    expect(parseConfig(once)).toEqual(once);
  });
});
