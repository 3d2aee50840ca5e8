import { describe, expect, it } from 'vitest';
import { READINESS_METRICS, runScheduledReadiness } from '../../lambdas/app/readiness.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryReadinessStore, MemoryResources, MemoryRouting } from '../../lambdas/testing/readiness.ts';

function scene() {
  const config = testConfig([route53Service({ id: 'pg' }), route53Service({ id: 'web', index: 1 })]);
  const env = createMemoryEnvironment(config, { clock: { start: Date.UTC(2026, 2, 1) } });
  const routing = new MemoryRouting(config, env.traffic);
  const store = new MemoryReadinessStore();
  const freshLag = () => {
    env.lag.put('pg', 'b', 0);
    env.lag.put('web', 'b', 0);
  };
  freshLag();
  const run = () =>
    runScheduledReadiness({
      services: config.services,
      alarms: env.alarms,
      lag: env.lag,
      state: env.state,
      routing,
      resources: new MemoryResources(config),
      clock: env.clock,
      store,
      notifier: env.notifier,
      metrics: env.metrics,
      logger: env.logger,
    });
  return { config, env, routing, store, run, freshLag };
}

describe('runScheduledReadiness', () => {
  it('publishes one Ready metric per service, no per-check metric while all pass, and the count not ready', async () => {
    const s = scene();
    const out = await s.run();
    expect(out).toEqual({ ready: 2, notReady: [], unknown: [], announced: [] });
    expect(s.env.metrics.named(READINESS_METRICS.ready)).toEqual([
      expect.objectContaining({ value: 1, dimensions: { ServiceId: 'pg' } }),
      expect.objectContaining({ value: 1, dimensions: { ServiceId: 'web' } }),
    ]);
    // A custom metric is billed by the hours it receives data: nothing per check while all pass.
    expect(s.env.metrics.named(READINESS_METRICS.checkFailing)).toEqual([]);
    expect(s.env.metrics.named(READINESS_METRICS.notReadyServices)).toEqual([
      expect.objectContaining({ value: 0, dimensions: {} }),
    ]);
    expect(s.env.metrics.flushes).toBe(1);
    // A first pass that finds everything ready records it without announcing anything.
    expect(s.env.notifier.published).toEqual([]);
    expect(s.store.verdicts.get('pg')?.status).toBe('ready');
  });

  it('announces once when a service stops being ready, and once when it is ready again', async () => {
    const s = scene();
    await s.run();
    s.routing.setRecord('pg', { values: ['10.0.0.1'], ttlSeconds: 60, alias: false });
    const lost = await s.run();
    expect(lost.notReady).toEqual(['pg']);
    expect(lost.announced).toEqual(['pg']);
    expect(s.env.notifier.ofKind('not-ready')).toEqual([
      expect.objectContaining({
        serviceId: 'pg',
        subject: expect.stringMatching(
          /^NOT READY pg: a failover would not work \(routing\): record pg\.example\.com A .* TTL 60 but/,
        ),
      }),
    ]);
    const pgVerdicts = s.env.metrics
      .named(READINESS_METRICS.ready)
      .filter((d) => d.dimensions.ServiceId === 'pg');
    expect(pgVerdicts.map((d) => d.value)).toEqual([1, 0]);
    // Only the failing check of the failing service has a per-check datapoint.
    expect(s.env.metrics.named(READINESS_METRICS.checkFailing)).toEqual([
      expect.objectContaining({ value: 1, dimensions: { ServiceId: 'pg', Check: 'routing' } }),
    ]);
    expect(s.env.metrics.named(READINESS_METRICS.notReadyServices).map((d) => d.value)).toEqual([0, 1]);

    // Still broken: no second notice.
    s.env.clock.advance(300_000);
    s.freshLag();
    expect((await s.run()).announced).toEqual([]);

    s.routing.resetRecord('pg');
    const back = await s.run();
    expect(back.announced).toEqual(['pg']);
    expect(s.env.notifier.ofKind('ready')).toEqual([
      expect.objectContaining({ serviceId: 'pg', subject: 'Ready again: pg passes every readiness check' }),
    ]);
    expect(s.env.notifier.published).toHaveLength(2);
  });

  it('announces a service that is not ready on the very first pass', async () => {
    const s = scene();
    s.env.alarms.set('web-a-health', undefined);
    const out = await s.run();
    expect(out.announced).toEqual(['web']);
    expect(s.env.notifier.ofKind('not-ready')[0]?.detail).toMatchObject({
      previous: null,
      status: 'not-ready',
    });
  });

  it('neither records nor announces a verdict it could not tell (a throttled read)', async () => {
    const s = scene();
    await s.run();
    s.routing.failNext(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const out = await s.run();
    expect(out.unknown).toEqual(['pg', 'web']);
    expect(out.announced).toEqual([]);
    expect(s.store.writes).toBe(2);
    expect(s.env.metrics.named(READINESS_METRICS.unknownServices).map((d) => d.value)).toEqual([0, 2]);
  });

  it('fails the invocation when a transition could not be announced, after trying every service', async () => {
    const s = scene();
    s.env.alarms.set('pg-a-health', undefined);
    s.env.alarms.set('web-a-health', undefined);
    let calls = 0;
    s.env.notifier.publish = async () => {
      calls++;
      throw Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' });
    };
    await expect(s.run()).rejects.toThrow(/not recorded or announced for: pg, web/);
    expect(calls).toBe(2);
    // Not recorded either: the next pass announces again instead of losing the notice.
    expect(s.store.verdicts.size).toBe(0);
  });
});
