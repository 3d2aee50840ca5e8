import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ServiceConfig } from '../../lambdas/domain/config.ts';
import { estimateRto, estimateRtos, formatRto, STACK_ALARM } from '../../lambdas/domain/rto.ts';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/tg-a/0123456789abcdef';
const LB = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/lb/0123456789abcdef';
const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/lb/0123456789abcdef/0123456789abcdef';
const lag = { namespace: 'N', metricName: 'Lag', dimensions: {} };

function service(
  health: Record<string, unknown>,
  router: Record<string, unknown>,
  ttl?: number,
): ServiceConfig {
  const dns = router.type === 'route53';
  const node = (id: string, i: number) => ({
    id,
    ...(dns ? { address: `10.0.0.${i + 1}` } : { targetGroupArn: TG }),
    health:
      health.type === 'alarm'
        ? { type: 'alarm', alarmName: `${id}-health` }
        : health.type === 'target-group-health' && i > 0
          ? // One target group per node: a shared one makes both nodes' alarms fire together.
            { ...health, targetGroupArn: TG.replace('tg-a', `tg-${id}`) }
          : health,
    lag,
  });
  return parseConfig({
    services: [
      {
        id: 'svc',
        initialPrimary: 'a',
        nodes: [node('a', 0), node('b', 1)],
        router: dns
          ? { ...router, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) }
          : { type: 'elbv2-weighted', listenerArn: LISTENER },
      },
    ],
  }).services[0]!;
}

const route53 = {
  type: 'route53',
  hostedZoneId: 'Z123',
  zoneName: 'example.com',
  recordName: 'db.example.com',
  recordType: 'A',
};
const hc = (requestIntervalSeconds: 10 | 30, failureThreshold: number) => ({
  type: 'route53-health-check',
  protocol: 'TCP',
  host: '192.0.2.1',
  port: 5432,
  requestIntervalSeconds,
  failureThreshold,
});

describe('estimateRto', () => {
  it.each([
    // health check 3 x 10 s (+ half / one interval), 60 s alarm (half / one period + evaluation delay), TTL/2 / TTL
    [
      'Route 53 health check 3 x 10 s, TTL 15',
      hc(10, 3),
      15,
      { typical: 70, worst: 110 },
      { typical: 78.2, worst: 128 },
    ],
    [
      'Route 53 health check 2 x 30 s, TTL 60',
      hc(30, 2),
      60,
      { typical: 110, worst: 160 },
      { typical: 140.7, worst: 223 },
    ],
  ])('%s', (_, health, ttl, detection, total) => {
    const e = estimateRto(service(health, route53, ttl));
    expect(e.detection).toMatchObject(detection);
    expect(e.traffic).toMatchObject({ typical: ttl / 2, worst: ttl });
    expect(e.total).toEqual(total);
  });

  it('adds no DNS time for a load balancer', () => {
    const e = estimateRto(
      service({ type: 'target-group-health', targetGroupArn: TG, loadBalancerArn: LB }, {}),
    );
    expect(e.router).toBe('elbv2-weighted');
    expect(e.traffic).toMatchObject({ typical: 0, worst: 0 });
    // ALB defaults: 2 x 30 s, then the 1-minute alarm.
    expect(e.detection).toMatchObject({
      typical: 110,
      worst: 160,
      basis: expect.stringMatching(/ALB defaults assumed/),
    });
  });

  it("uses a target group's own health check when given", () => {
    const e = estimateRto(
      service({ type: 'target-group-health', targetGroupArn: TG, loadBalancerArn: LB }, {}),
      {
        targetGroups: new Map([[TG, { intervalSeconds: 10, unhealthyThreshold: 2 }]]),
      },
    );
    expect(e.detection).toMatchObject({ typical: 60, worst: 100 });
    expect(e.detection?.basis).not.toMatch(/assumed/);
  });

  it('does not guess the detection time of an existing alarm: unknown until its settings are given', () => {
    const s = service({ type: 'alarm' }, route53, 10);
    const unknown = estimateRto(s);
    expect(unknown.detection).toBeUndefined();
    expect(unknown.total).toBeUndefined();
    expect(formatRto(unknown)).toMatch(/RTO unknown .*detection unknown/);

    // A high-resolution alarm, 2 of 10 s datapoints, and a 10 s TTL: the fast profile.
    const known = estimateRto(s, {
      alarms: new Map([['a-health', { periodSeconds: 10, datapointsToAlarm: 2 }]]),
    });
    expect(known.detection).toMatchObject({ typical: 20, worst: 30 });
    expect(known.total).toEqual({ typical: 25.7, worst: 43 });
    expect(formatRto(known)).toBe(
      'svc (a fails, route53): RTO ~25.7 s best case, <= 43 s worst case = detection 20-30 s + event 0.5-2 s + decision 0.2-1 s + DNS TTL 5-10 s',
    );
  });

  it('estimates the node asked for, and refuses one the service does not have', () => {
    const s = service(hc(10, 3), route53);
    expect(estimateRto(s, { nodeId: 'b' }).nodeId).toBe('b');
    expect(() => estimateRto(s, { nodeId: 'z' })).toThrow(/no node z in service svc/);
    expect(estimateRtos([s, s]).map((e) => e.serviceId)).toEqual(['svc', 'svc']);
  });

  it('never has a worst case below the typical one, and grows with the TTL and the alarm period', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 3600 }),
        fc.constantFrom(10, 30, 60, 300),
        fc.integer({ min: 1, max: 10 }),
        (ttl, periodSeconds, datapointsToAlarm) => {
          const s = service({ type: 'alarm' }, route53, ttl);
          const alarms = new Map([['a-health', { periodSeconds, datapointsToAlarm }]]);
          const e = estimateRto(s, { alarms });
          expect(e.total!.worst).toBeGreaterThanOrEqual(e.total!.typical);
          expect(e.total!.typical).toBeGreaterThan(0);
          const longer = estimateRto(service({ type: 'alarm' }, route53, Math.min(3600, ttl + 5)), {
            alarms,
          });
          expect(longer.total!.worst).toBeGreaterThanOrEqual(e.total!.worst);
          const slower = estimateRto(s, {
            alarms: new Map([['a-health', { periodSeconds: periodSeconds * 2, datapointsToAlarm }]]),
          });
          expect(slower.detection!.worst).toBeGreaterThan(e.detection!.worst);
        },
      ),
    );
  });

  it('models the stack-created alarms as one 60 s period', () => {
    expect(STACK_ALARM).toEqual({ periodSeconds: 60, datapointsToAlarm: 1 });
  });
});
