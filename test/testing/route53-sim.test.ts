import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { isThrottling, isTransient } from '../../lambdas/aws/errors.ts';
import { Route53Router } from '../../lambdas/aws/route53-router.ts';
import { ManualClock } from '../../lambdas/testing/clock.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { SimulatedRoute53, seededRandom, withSdkRetries } from '../../lambdas/testing/route53-sim.ts';

const ZONE = 'Z0000000000TEST';

function setup(count = 3, options: Partial<ConstructorParameters<typeof SimulatedRoute53>[0]> = {}) {
  const config = testConfig(
    Array.from({ length: count }, (_, i) => route53Service({ id: `s${i}`, index: i })),
  );
  const clock = new ManualClock();
  const sim = SimulatedRoute53.fromConfig(config, { clock, ...options });
  const router = new Route53Router({ services: config.services, client: sim as unknown as Route53Client });
  return { config, clock, sim, router };
}

const value = (sim: SimulatedRoute53, id: string) =>
  sim.get(ZONE, `${id}.example.com`, 'A')?.ResourceRecords?.map((r) => r.Value);

const swap = (id: string, from: string, to: string, ttl = 15) =>
  (['DELETE', 'CREATE'] as const).map((Action, i) => ({
    Action,
    ResourceRecordSet: {
      Name: `${id}.example.com.`,
      Type: 'A' as const,
      TTL: ttl,
      ResourceRecords: [{ Value: i === 0 ? from : to }],
    },
  }));

describe('SimulatedRoute53', () => {
  it('serves the real router: a swap applies, a repeated one reads back as done, a stale one is a conflict that changes nothing', async () => {
    const { sim, router, clock } = setup(1);
    expect(await router.shift([{ serviceId: 's0', from: 'a', to: 'b' }])).toEqual([
      { serviceId: 's0', status: 'shifted', changeId: expect.stringMatching(/^\/change\/C/) },
    ]);
    expect(value(sim, 's0')).toEqual(['10.0.0.2']);
    clock.advance(1_000); // the zone is free again
    const [stale] = await router.shift([{ serviceId: 's0', from: 'a', to: 'b' }]);
    // Already on the target: the read-back calls it shifted; from b to a with a wrong from is a conflict.
    expect(stale).toMatchObject({ status: 'shifted' });
    expect(await router.current('s0')).toBe('b');
    clock.advance(1_000);
    sim.put(ZONE, { Name: 's0.example.com', Type: 'A', TTL: 15, ResourceRecords: [{ Value: '192.0.2.9' }] });
    const [conflict] = await router.shift([{ serviceId: 's0', from: 'b', to: 'a' }]);
    expect(conflict).toMatchObject({ status: 'conflict', observed: '192.0.2.9' });
    expect(value(sim, 's0')).toEqual(['192.0.2.9']);
  });

  it('applies a batch all or nothing: one DELETE that does not match refuses the others', async () => {
    const { sim, clock } = setup(2, { zoneBusyMs: 0 });
    const err = await sim
      .send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: ZONE,
          ChangeBatch: {
            Changes: [...swap('s0', '10.0.0.1', '10.0.0.2'), ...swap('s1', '10.0.1.9', '10.0.1.2')],
          },
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'InvalidChangeBatch',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      messages: [
        "Tried to delete resource record set [name='s1.example.com.', type='A'] but the values provided do not match the current values",
        "Tried to create resource record set [name='s1.example.com.', type='A'] but it already exists",
      ],
    });
    expect(value(sim, 's0')).toEqual(['10.0.0.1']);
    // A TTL that differs is not the live record either.
    clock.advance(1_000);
    await expect(
      sim.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: ZONE,
          ChangeBatch: { Changes: swap('s0', '10.0.0.1', '10.0.0.2', 300) },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
  });

  it('throttles beyond its rate with the shape Route 53 answers, and recovers as tokens refill', async () => {
    const { sim, clock } = setup(1, { requestsPerSecond: 5, burst: 5, latencyMs: 0 });
    const list = () =>
      sim.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE })).catch((e: unknown) => e);
    const answers = await Promise.all(Array.from({ length: 7 }, list));
    const errors = answers.filter((a) => a instanceof Error);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      name: 'Throttling',
      message: 'Rate exceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(isThrottling(errors[0])).toBe(true);
    expect(sim.stats.throttled).toBe(2);
    clock.advance(200); // one token per 200 ms
    expect(await list()).not.toBeInstanceOf(Error);
    expect(await list()).toBeInstanceOf(Error);
  });

  it('answers PriorRequestNotComplete while a change to the same zone is being processed', async () => {
    const { sim, router, clock } = setup(2, { zoneBusyMs: 800, latencyMs: 0 });
    await router.shift([{ serviceId: 's0', from: 'a', to: 'b' }]);
    const [busy] = await router.shift([{ serviceId: 's1', from: 'a', to: 'b' }]);
    expect(busy).toMatchObject({ status: 'failed', errorName: 'PriorRequestNotComplete', uncertain: false });
    expect(sim.stats.priorRequestNotComplete).toBe(1);
    clock.advance(800);
    expect((await router.shift([{ serviceId: 's1', from: 'a', to: 'b' }]))[0]).toMatchObject({
      status: 'shifted',
    });
  });

  it('lists in Route 53 order (labels reversed, then type) and pages with NextRecordName', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedRoute53({ clock, latencyMs: 0, requestsPerSecond: 1_000, burst: 1_000 });
    for (const name of ['b.example.com', 'a.b.example.com', 'z.example.com', 'a.example.com', 'example.org'])
      sim.put(ZONE, { Name: name, Type: 'A', TTL: 30, ResourceRecords: [{ Value: '10.0.0.1' }] });
    sim.put(ZONE, { Name: 'b.example.com', Type: 'AAAA', TTL: 30, ResourceRecords: [{ Value: '::1' }] });
    const names = async (input: Record<string, unknown>) => {
      const out = (await sim.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, ...input }))) as {
        ResourceRecordSets: { Name: string; Type: string }[];
        IsTruncated: boolean;
        NextRecordName?: string;
        NextRecordType?: string;
      };
      return out;
    };
    const all = await names({});
    expect(all.ResourceRecordSets.map((r) => `${r.Name} ${r.Type}`)).toEqual([
      'a.example.com. A',
      'b.example.com. A',
      'b.example.com. AAAA',
      'a.b.example.com. A',
      'z.example.com. A',
      'example.org. A',
    ]);
    const page = await names({ StartRecordName: 'b.example.com.', StartRecordType: 'AAAA', MaxItems: 2 });
    expect(page.ResourceRecordSets.map((r) => `${r.Name} ${r.Type}`)).toEqual([
      'b.example.com. AAAA',
      'a.b.example.com. A',
    ]);
    expect(page).toMatchObject({ IsTruncated: true, NextRecordName: 'z.example.com.', NextRecordType: 'A' });
  });

  it('lets the router isolate a few conflicts among 200 services with three requests per batch, not 200', async () => {
    const { sim, router, clock } = setup(200, { zoneBusyMs: 0 });
    for (const id of ['s7', 's42', 's199'])
      sim.put(ZONE, {
        Name: `${id}.example.com.`,
        Type: 'A',
        TTL: 15,
        ResourceRecords: [{ Value: '192.0.2.1' }],
      });
    const changes = Array.from({ length: 200 }, (_, i) => ({ serviceId: `s${i}`, from: 'a', to: 'b' }));
    const results = await router.shift(changes);
    const conflicts = results.filter((r) => r.status === 'conflict').map((r) => r.serviceId);
    expect(conflicts).toEqual(['s7', 's42', 's199']);
    expect(results.filter((r) => r.status === 'shifted')).toHaveLength(197);
    // The router sends one batch per record-name group (the IAM statements' groups); both groups
    // here hold a conflict: per group one refused batch, one zone walk, one resend.
    const groups = new Set((sim.stats.accepted ?? []).map((a) => a.changeId)).size;
    expect(groups).toBe(2);
    expect(sim.stats.requests).toEqual({
      ChangeResourceRecordSets: 2 * groups,
      ListResourceRecordSets: groups,
      GetChange: 0,
    });
    expect(sim.stats.accepted.flatMap((a) => a.names)).toHaveLength(197);
    expect(value(sim, 's42')).toEqual(['192.0.2.1']);
    expect(clock.now()).toBeGreaterThan(0);
  });
});

describe('withSdkRetries', () => {
  it('retries throttling up to maxAttempts with the SDK backoff, then throws with the attempt count', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedRoute53({ clock, requestsPerSecond: 0.001, burst: 0, latencyMs: 10 });
    const client = withSdkRetries(sim, { maxAttempts: 3, sleep: clock.sleep, random: seededRandom(1) });
    const started = clock.now();
    const err = await client
      .send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'Throttling', $metadata: { attempts: 3 } });
    expect(client.attempts).toEqual({ count: 3, retries: 2 });
    expect(sim.stats.requests.ListResourceRecordSets).toBe(3);
    // Two throttling backoffs of at most 1 s and 2 s, plus three round trips.
    expect(clock.now() - started).toBeLessThanOrEqual(30 + 1_000 + 2_000);
  });

  it('does not retry an error that retrying cannot fix', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedRoute53({ clock, latencyMs: 0 });
    const client = withSdkRetries(sim, { maxAttempts: 3, sleep: clock.sleep });
    const err = await client
      .send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZNOPE' }))
      .catch((e) => e);
    expect(err).toMatchObject({ name: 'NoSuchHostedZone' });
    expect(isTransient(err)).toBe(false);
    expect(client.attempts.count).toBe(1);
  });
});
