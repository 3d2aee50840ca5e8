import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  InvalidChangeBatch,
  InvalidInput,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { correlatedConfig } from '../../bench/correlated.ts';
import { Route53Router } from '../../lambdas/aws/route53-router.ts';
import { recordGroupKeys } from '../../lambdas/contract/route53-permissions.ts';
import { TransientAwsError, UnknownServiceError } from '../../lambdas/domain/errors.ts';
import type { TrafficChange } from '../../lambdas/domain/types.ts';
import { ManualClock } from '../../lambdas/testing/clock.ts';
import { SimulatedRoute53, seededRandom, withSdkRetries } from '../../lambdas/testing/route53-sim.ts';
import { type AwsErrorKind, awsErrors, elbWeightedService, route53Service, servicesOf } from './fixtures.ts';

const r53 = mockClient(Route53Client);

const ZONE = 'Z0123456789EXAMPLE';
const OTHER_ZONE = 'Z0OTHERZONE1';
const services = servicesOf(
  route53Service('orders-db', { ttl: 15, addresses: { 'db-a': '10.0.1.10', 'db-b': '10.0.2.10' } }),
  route53Service('users-db', { addresses: { 'u-1': '10.1.1.10', 'u-2': '10.1.2.10' } }),
  route53Service('search', {
    zone: OTHER_ZONE,
    zoneName: 'example.org',
    record: 'search.example.org',
    type: 'CNAME',
    addresses: { blue: 'blue.search.example.org', green: 'green.search.example.org' },
  }),
  elbWeightedService('git', ['git-1', 'git-2']),
);
const router = () => new Route53Router({ services, client: new Route53Client({ region: 'us-east-1' }) });

const swap = (name: string, type: string, ttl: number, from: string, to: string) => [
  {
    Action: 'DELETE',
    ResourceRecordSet: { Name: name, Type: type, TTL: ttl, ResourceRecords: [{ Value: from }] },
  },
  {
    Action: 'CREATE',
    ResourceRecordSet: { Name: name, Type: type, TTL: ttl, ResourceRecords: [{ Value: to }] },
  },
];
const ORDERS_SWAP = swap('orders-db.example.com.', 'A', 15, '10.0.1.10', '10.0.2.10');
const USERS_SWAP = swap('users-db.example.com.', 'A', 30, '10.1.1.10', '10.1.2.10');

const mismatch = (name = 'orders-db.example.com.') =>
  new InvalidChangeBatch({
    message: `[Tried to delete resource record set [name='${name}', type='A'] but the values provided do not match the current values]`,
    messages: [
      `Tried to delete resource record set [name='${name}', type='A'] but the values provided do not match the current values`,
    ],
    $metadata: { httpStatusCode: 400 },
  });
const changeInfo = (id: string) => ({
  ChangeInfo: { Id: `/change/${id}`, Status: 'PENDING' as const, SubmittedAt: new Date(0) },
});
const recordSet = (name: string, type: 'A' | 'CNAME', ttl: number, ...values: string[]) => ({
  ResourceRecordSets: [
    { Name: name, Type: type, TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) },
  ],
  IsTruncated: false,
  MaxItems: 1,
});

const rrs = (name: string, type: 'A' | 'CNAME', ttl: number, ...values: string[]) => ({
  Name: name,
  Type: type,
  TTL: ttl,
  ResourceRecords: values.map((Value) => ({ Value })),
});
const page = (...sets: ReturnType<typeof rrs>[]) => ({
  ResourceRecordSets: sets,
  IsTruncated: false,
  MaxItems: 300,
});
/** Every zone listing answers one page holding `sets`. */
const zoneHolds = (...sets: ReturnType<typeof rrs>[]) =>
  r53.on(ListResourceRecordSetsCommand).resolves(page(...sets));

beforeEach(() => r53.reset());

describe('Route53Router.shift', () => {
  it('sends one DELETE-exact + CREATE batch per service and returns the change id', async () => {
    r53.on(ChangeResourceRecordSetsCommand).resolves(changeInfo('C1'));
    const results = await router().shift([{ serviceId: 'orders-db', from: 'db-a', to: 'db-b' }]);
    expect(results).toEqual([{ serviceId: 'orders-db', status: 'shifted', changeId: '/change/C1' }]);
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      {
        HostedZoneId: ZONE,
        ChangeBatch: { Comment: 'failover: orders-db db-a->db-b', Changes: ORDERS_SWAP },
      },
    ]);
  });

  it('batches every change for one hosted zone into one call, one call per zone, results in input order', async () => {
    r53.on(ChangeResourceRecordSetsCommand, { HostedZoneId: ZONE }).resolves(changeInfo('C-zone1'));
    r53.on(ChangeResourceRecordSetsCommand, { HostedZoneId: OTHER_ZONE }).resolves(changeInfo('C-zone2'));
    const results = await router().shift([
      { serviceId: 'orders-db', from: 'db-a', to: 'db-b' },
      { serviceId: 'search', from: 'green', to: 'blue' },
      { serviceId: 'users-db', from: 'u-1', to: 'u-2' },
    ]);
    expect(results).toEqual([
      { serviceId: 'orders-db', status: 'shifted', changeId: '/change/C-zone1' },
      { serviceId: 'search', status: 'shifted', changeId: '/change/C-zone2' },
      { serviceId: 'users-db', status: 'shifted', changeId: '/change/C-zone1' },
    ]);
    const inputs = r53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs.find((i) => i.HostedZoneId === ZONE)?.ChangeBatch).toEqual({
      Comment: 'failover: orders-db db-a->db-b; users-db u-1->u-2',
      Changes: [...ORDERS_SWAP, ...USERS_SWAP],
    });
    expect(inputs.find((i) => i.HostedZoneId === OTHER_ZONE)?.ChangeBatch?.Changes).toEqual(
      swap('search.example.org.', 'CNAME', 30, 'green.search.example.org', 'blue.search.example.org'),
    );
  });

  it.each([
    ['InvalidChangeBatch (Route 53)', () => mismatch()],
    [
      'InvalidInput (moto_server)',
      () => new InvalidInput({ message: 'Invalid request', $metadata: { httpStatusCode: 400 } }),
    ],
  ])('on %s reads the record back and reports a conflict with the observed node', async (_, error) => {
    r53.on(ChangeResourceRecordSetsCommand).rejects(error());
    r53.on(ListResourceRecordSetsCommand).resolves(recordSet('orders-db.example.com.', 'A', 15, '10.0.9.99'));
    const [result] = await router().shift([{ serviceId: 'orders-db', from: 'db-a', to: 'db-b' }]);
    expect(result).toMatchObject({ serviceId: 'orders-db', status: 'conflict', observed: '10.0.9.99' });
    expect(result?.status === 'conflict' && result.message).toMatch(
      /^record orders-db\.example\.com\. A in Z0123456789EXAMPLE points at 10\.0\.9\.99, not db-a \(10\.0\.1\.10\)/,
    );
    expect(r53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: ZONE, StartRecordName: 'orders-db.example.com.', StartRecordType: 'A', MaxItems: 1 },
    ]);
    // Never retried blindly.
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('names the node when the record points at another known node', async () => {
    const three = servicesOf(
      route53Service('orders-db', {
        addresses: { 'db-a': '10.0.1.10', 'db-b': '10.0.2.10', 'db-c': '10.0.3.10' },
      }),
    );
    r53.on(ChangeResourceRecordSetsCommand).rejects(mismatch());
    r53.on(ListResourceRecordSetsCommand).resolves(recordSet('orders-db.example.com.', 'A', 30, '10.0.3.10'));
    const [result] = await new Route53Router({ services: three }).shift([
      { serviceId: 'orders-db', from: 'db-a', to: 'db-b' },
    ]);
    expect(result).toMatchObject({ status: 'conflict', observed: 'db-c' });
  });

  it('reports a missing record as a conflict with nothing observed', async () => {
    r53.on(ChangeResourceRecordSetsCommand).rejects(mismatch());
    // ListResourceRecordSets starts at the name and returns the next record when ours is gone.
    r53.on(ListResourceRecordSetsCommand).resolves(recordSet('other.example.com.', 'A', 30, '10.9.9.9'));
    const [result] = await router().shift([{ serviceId: 'orders-db', from: 'db-a', to: 'db-b' }]);
    expect(result).toMatchObject({ status: 'conflict', message: expect.stringMatching(/does not exist/) });
    expect(result).not.toHaveProperty('observed');
  });

  it('explains a mismatch where the value is right but the TTL differs', async () => {
    r53.on(ChangeResourceRecordSetsCommand).rejects(mismatch());
    r53
      .on(ListResourceRecordSetsCommand)
      .resolves(recordSet('orders-db.example.com.', 'A', 300, '10.0.1.10'));
    const [result] = await router().shift([{ serviceId: 'orders-db', from: 'db-a', to: 'db-b' }]);
    expect(result).toMatchObject({
      status: 'conflict',
      observed: 'db-a',
      message: expect.stringMatching(/TTL or other settings differ .*ttl 300, expected 15/),
    });
  });

  it('treats a mismatch whose record already points at the target as shifted (our retried request won)', async () => {
    r53.on(ChangeResourceRecordSetsCommand).rejects(mismatch());
    r53.on(ListResourceRecordSetsCommand).resolves(recordSet('orders-db.example.com.', 'A', 15, '10.0.2.10'));
    const results = await router().shift([{ serviceId: 'orders-db', from: 'db-a', to: 'db-b' }]);
    expect(results).toEqual([{ serviceId: 'orders-db', status: 'shifted' }]);
  });

  it('matches CNAME values and wildcard names as Route 53 returns them', async () => {
    const wild = servicesOf(
      route53Service('edge', {
        record: '*.edge.example.com',
        type: 'CNAME',
        addresses: { east: 'east.example.net', west: 'west.example.net' },
      }),
    );
    r53
      .on(ListResourceRecordSetsCommand)
      .resolves(recordSet('\\052.edge.example.com.', 'CNAME', 30, 'WEST.example.net.'));
    expect(await new Route53Router({ services: wild }).current('edge')).toBe('west');
  });

  it('isolates the conflicting record of a refused zone batch by reading the batch back, and resends the rest as one batch', async () => {
    r53
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(mismatch('users-db.example.com.'))
      .resolvesOnce(changeInfo('C-orders'));
    // One page holds both records: users-db was moved by someone else, orders-db is still on db-a.
    zoneHolds(
      rrs('orders-db.example.com.', 'A', 15, '10.0.1.10'),
      rrs('other.example.com.', 'A', 30, '10.9.9.9'),
      rrs('users-db.example.com.', 'A', 30, '10.1.9.9'),
    );
    const results = await router().shift([
      { serviceId: 'orders-db', from: 'db-a', to: 'db-b' },
      { serviceId: 'users-db', from: 'u-1', to: 'u-2' },
    ]);
    expect(results).toEqual([
      { serviceId: 'orders-db', status: 'shifted', changeId: '/change/C-orders' },
      expect.objectContaining({ serviceId: 'users-db', status: 'conflict', observed: '10.1.9.9' }),
    ]);
    const batches = r53
      .commandCalls(ChangeResourceRecordSetsCommand)
      .map((c) => c.args[0].input.ChangeBatch?.Changes);
    expect(batches).toEqual([[...ORDERS_SWAP, ...USERS_SWAP], ORDERS_SWAP]);
    // One list page from the first name in Route 53's order (labels reversed), not one read per record.
    expect(r53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: ZONE, StartRecordName: 'orders-db.example.com.', StartRecordType: 'A', MaxItems: 300 },
    ]);
  });

  it('settles each record of a refused batch by what it holds: already on the target is shifted, a changed TTL or a missing record is a conflict', async () => {
    const four = servicesOf(
      ...['s1', 's2', 's3', 's4'].map((id, i) =>
        route53Service(id, { ttl: 20, addresses: { a: `10.5.${i}.1`, b: `10.5.${i}.2` } }),
      ),
    );
    r53
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(mismatch('s2.example.com.'))
      .resolves(changeInfo('C-2'));
    r53
      .on(ListResourceRecordSetsCommand, { MaxItems: 300 })
      .resolves(
        page(
          rrs('s1.example.com.', 'A', 20, '10.5.0.1'),
          rrs('s2.example.com.', 'A', 20, '10.5.1.2'),
          rrs('s3.example.com.', 'A', 300, '10.5.2.1'),
        ),
      );
    // s4 is not on the page, and the listing ended: it does not exist.
    const results = await new Route53Router({ services: four }).shift(
      four.map((s) => ({ serviceId: s.id, from: 'a', to: 'b' })),
    );
    expect(results.map((r) => [r.serviceId, r.status])).toEqual([
      ['s1', 'shifted'],
      ['s2', 'shifted'],
      ['s3', 'conflict'],
      ['s4', 'conflict'],
    ]);
    expect(results[2]).toMatchObject({
      observed: 'a',
      message: expect.stringMatching(/ttl 300, expected 20/),
    });
    expect(results[3]).toMatchObject({
      message: expect.stringMatching(/s4\.example\.com\. A .* does not exist/),
    });
    const batches = r53
      .commandCalls(ChangeResourceRecordSetsCommand)
      .map((c) =>
        c.args[0].input.ChangeBatch?.Changes?.filter((ch) => ch.Action === 'DELETE').map(
          (ch) => ch.ResourceRecordSet?.Name,
        ),
      );
    expect(batches).toEqual([
      ['s1.example.com.', 's2.example.com.', 's3.example.com.', 's4.example.com.'],
      ['s1.example.com.'],
    ]);
    expect(
      r53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input.StartRecordName),
    ).toEqual(['s1.example.com.']);
  });

  it('walks the zone page by page, each page starting at the next record not yet seen (skipping the records between)', async () => {
    r53.on(ChangeResourceRecordSetsCommand).rejectsOnce(mismatch()).resolves(changeInfo('C-3'));
    r53
      .on(ListResourceRecordSetsCommand, { StartRecordName: 'orders-db.example.com.' })
      .resolves({
        ...page(rrs('orders-db.example.com.', 'A', 15, '10.0.9.9')),
        IsTruncated: true,
        NextRecordName: 'p.example.com.',
        NextRecordType: 'A',
      })
      .on(ListResourceRecordSetsCommand, { StartRecordName: 'users-db.example.com.' })
      .resolves(page(rrs('users-db.example.com.', 'A', 30, '10.1.1.10')));
    const results = await router().shift([
      { serviceId: 'users-db', from: 'u-1', to: 'u-2' },
      { serviceId: 'orders-db', from: 'db-a', to: 'db-b' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['shifted', 'conflict']);
    expect(r53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: ZONE, StartRecordName: 'orders-db.example.com.', StartRecordType: 'A', MaxItems: 300 },
      { HostedZoneId: ZONE, StartRecordName: 'users-db.example.com.', StartRecordType: 'A', MaxItems: 300 },
    ]);
    expect(
      r53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch?.Changes),
    ).toEqual([[...USERS_SWAP, ...ORDERS_SWAP], USERS_SWAP]);
  });

  it.each([
    [
      'the read-back fails',
      () => r53.on(ListResourceRecordSetsCommand).rejects(awsErrors.throttling()),
      (results: readonly { status: string }[]) =>
        expect(results.map((r) => r.status)).toEqual(['shifted', 'conflict']),
    ],
    [
      'every record still holds its old value (something else refused the batch)',
      () =>
        zoneHolds(
          rrs('orders-db.example.com.', 'A', 15, '10.0.1.10'),
          rrs('users-db.example.com.', 'A', 30, '10.1.1.10'),
        ),
      (results: readonly { status: string }[]) =>
        expect(results.map((r) => r.status)).toEqual(['shifted', 'conflict']),
    ],
  ])('splits the refused batch in halves when %s', async (_, listing, check) => {
    r53
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(mismatch('users-db.example.com.'))
      .resolvesOnce(changeInfo('C-orders'))
      .rejectsOnce(mismatch('users-db.example.com.'));
    listing();
    const results = await router().shift([
      { serviceId: 'orders-db', from: 'db-a', to: 'db-b' },
      { serviceId: 'users-db', from: 'u-1', to: 'u-2' },
    ]);
    check(results);
    const batches = r53
      .commandCalls(ChangeResourceRecordSetsCommand)
      .map((c) => c.args[0].input.ChangeBatch?.Changes);
    expect(batches).toEqual([[...ORDERS_SWAP, ...USERS_SWAP], ORDERS_SWAP, USERS_SWAP]);
  });

  it.each<[AwsErrorKind, boolean]>([
    ['throttling', false],
    ['priorRequestNotComplete', false],
    ['internalFailure500', false],
    ['connectTimeout', false],
    ['econnrefused', false],
    ['requestTimeout', true],
    ['socketTimeout', true],
    ['econnreset', true],
  ])('maps %s to failed (uncertain: %s) for every service in the batch', async (kind, uncertain) => {
    const err = awsErrors[kind]();
    r53.on(ChangeResourceRecordSetsCommand).rejects(err);
    const results = await router().shift([
      { serviceId: 'orders-db', from: 'db-a', to: 'db-b' },
      { serviceId: 'users-db', from: 'u-1', to: 'u-2' },
    ]);
    const errorName = err.name === 'Error' ? (err as { code?: string }).code : err.name;
    expect(results).toEqual([
      { serviceId: 'orders-db', status: 'failed', errorName, message: err.message, uncertain },
      { serviceId: 'users-db', status: 'failed', errorName, message: err.message, uncertain },
    ]);
    expect(r53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(0);
  });

  it('one conflicting record makes the shifter outlive its Lambda timeout: isolation is one zone walk and one resend, not a read per record', async () => {
    // 500 services in one zone with 10 other records each; an operator moved one record. The
    // isolation used to read 4 list pages, then one record at a time, sequentially: 464
    // ListResourceRecordSets and 80 s for one round.
    const clock = new ManualClock({ start: Date.UTC(2025, 0, 1) });
    const config = correlatedConfig(500, 1);
    const sim = SimulatedRoute53.fromConfig(config, { clock });
    const zone = (config.services[0]!.router as { hostedZoneId: string }).hostedZoneId;
    for (const [i, s] of config.services.entries()) {
      for (let k = 0; k < 10; k++)
        sim.put(zone, {
          Name: `x${k}.${s.id}.example.com`,
          Type: 'TXT',
          TTL: 60,
          ResourceRecords: [{ Value: '"x"' }],
        });
      if (i === 250) {
        const r = s.router as { recordName: string; recordType: 'A'; ttlSeconds: number };
        sim.put(zone, {
          Name: r.recordName,
          Type: r.recordType,
          TTL: r.ttlSeconds,
          ResourceRecords: [{ Value: '192.0.2.1' }],
        });
      }
    }
    const client = withSdkRetries(sim, { maxAttempts: 3, sleep: clock.sleep, random: seededRandom(7) });
    const r = new Route53Router({
      services: config.services,
      client: client as unknown as Route53Client,
      sleep: clock.sleep,
    });
    const started = clock.now();
    const results = await r.shift(config.services.map((s) => ({ serviceId: s.id, from: 'a', to: 'b' })));
    const elapsedMs = clock.now() - started;

    expect(results.filter((x) => x.status === 'shifted')).toHaveLength(499);
    expect(results[250]).toMatchObject({ status: 'conflict', observed: '192.0.2.1' });
    // One batch per IAM record-name group of the zone, and one resend for the conflicting group.
    const groups = new Set(recordGroupKeys(config.services).values()).size;
    expect(groups).toBeGreaterThan(1);
    expect(
      sim.stats.requests.ChangeResourceRecordSets - sim.stats.priorRequestNotComplete - sim.stats.throttled,
    ).toBeLessThanOrEqual(groups + 1);
    // 5,500 records in 300-record pages: one walk, at most one page per record asked for.
    expect(sim.stats.requests.ListResourceRecordSets).toBeLessThanOrEqual(25);
    expect(elapsedMs).toBeLessThan(20_000);
  });

  it('bounds isolation by halving when the read-back fails: k conflicts among n cost O(k log n) batches', async () => {
    const eight = servicesOf(
      ...Array.from({ length: 8 }, (_, i) =>
        route53Service(`s${i}`, { ttl: 20, addresses: { a: `10.6.${i}.1`, b: `10.6.${i}.2` } }),
      ),
    );
    r53.on(ListResourceRecordSetsCommand).rejects(awsErrors.throttling());
    r53
      .on(ChangeResourceRecordSetsCommand)
      .callsFake(
        (input: {
          ChangeBatch?: { Changes?: { Action?: string; ResourceRecordSet?: { Name?: string } }[] };
        }) => {
          const names = (input.ChangeBatch?.Changes ?? []).map((c) => c.ResourceRecordSet?.Name);
          if (names.includes('s5.example.com.')) throw mismatch('s5.example.com.');
          return changeInfo('C-ok');
        },
      );
    const results = await new Route53Router({ services: eight }).shift(
      eight.map((s) => ({ serviceId: s.id, from: 'a', to: 'b' })),
    );
    expect(results.map((x) => x.status)).toEqual([
      'shifted',
      'shifted',
      'shifted',
      'shifted',
      'shifted',
      'conflict',
      'shifted',
      'shifted',
    ]);
    const sizes = r53
      .commandCalls(ChangeResourceRecordSetsCommand)
      .map((c) => (c.args[0].input.ChangeBatch?.Changes?.length ?? 0) / 2);
    // 8 refused -> 4 ok + 4 refused -> 2 refused (split: 1 refused, 1 ok) + 2 ok
    expect(sizes).toEqual([8, 4, 4, 2, 1, 1, 2]);
  });

  it('reports a conflict without an observation when the read-back fails', async () => {
    r53.on(ChangeResourceRecordSetsCommand).rejects(mismatch());
    r53.on(ListResourceRecordSetsCommand).rejects(awsErrors.throttling());
    const [result] = await router().shift([{ serviceId: 'orders-db', from: 'db-a', to: 'db-b' }]);
    expect(result).toMatchObject({
      status: 'conflict',
      message: expect.stringMatching(/could not be read back/),
    });
    expect(result).not.toHaveProperty('observed');
  });

  it('fails bad changes without calling Route 53 and without blocking the good ones', async () => {
    r53.on(ChangeResourceRecordSetsCommand).resolves(changeInfo('C2'));
    const cases: [TrafficChange, string, string | undefined][] = [
      [{ serviceId: 'nope', from: 'a', to: 'b' }, 'failed', 'UnknownServiceError'],
      [{ serviceId: 'git', from: 'git-1', to: 'git-2' }, 'failed', 'UnknownServiceError'],
      [{ serviceId: 'orders-db', from: 'db-a', to: 'db-x' }, 'failed', 'InvalidInputError'],
      [{ serviceId: 'users-db', from: 'u-1', to: 'u-1' }, 'failed', 'InvalidInputError'],
      [{ serviceId: 'search', from: 'green', to: 'blue' }, 'shifted', undefined],
      [{ serviceId: 'search', from: 'blue', to: 'green' }, 'failed', 'InvalidInputError'],
    ];
    const results = await router().shift(cases.map(([change]) => change));
    expect(results.map((r) => [r.status, r.status === 'failed' ? r.errorName : undefined])).toEqual(
      cases.map(([, status, errorName]) => [status, errorName]),
    );
    expect(results.every((r) => r.status !== 'failed' || r.uncertain === false)).toBe(true);
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('waits for the zone and resends a follow-up group batch Route 53 refused as busy, a bounded number of times', async () => {
    const many = servicesOf(
      ...Array.from({ length: 300 }, (_, i) =>
        route53Service(`svc-${i}`, {
          addresses: { a: `10.2.${i >> 8}.${i & 255}`, b: `10.3.${i >> 8}.${i & 255}` },
        }),
      ),
    );
    const groups = new Set(recordGroupKeys(many).values()).size;
    expect(groups).toBeGreaterThan(1);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
    };
    // The first batch goes through; the second is refused twice as busy, then accepted.
    r53
      .on(ChangeResourceRecordSetsCommand)
      .resolvesOnce(changeInfo('C1'))
      .rejectsOnce(awsErrors.priorRequestNotComplete())
      .rejectsOnce(awsErrors.priorRequestNotComplete())
      .resolves(changeInfo('C2'));
    const results = await new Route53Router({ services: many, sleep }).shift(
      many.map((s) => ({ serviceId: s.id, from: 'a', to: 'b' })),
    );
    expect(results.every((r) => r.status === 'shifted')).toBe(true);
    // A pause before each follow-up batch; the refused one waits 0.5 s, then 1 s.
    expect(slept).toEqual([500, 500, 1_000, ...Array.from({ length: groups - 2 }, () => 500)]);
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(groups + 2);

    // Busy for good: after FOLLOW_UP_BUSY_RETRIES resends the group fails, transient, and the rest goes on.
    r53.reset();
    slept.length = 0;
    r53
      .on(ChangeResourceRecordSetsCommand)
      .resolvesOnce(changeInfo('C1'))
      .rejects(awsErrors.priorRequestNotComplete());
    const busy = await new Route53Router({ services: many, sleep }).shift(
      many.map((s) => ({ serviceId: s.id, from: 'a', to: 'b' })),
    );
    expect(slept).toEqual(Array.from({ length: groups - 1 }, () => [500, 500, 1_000, 2_000]).flat());
    expect(busy.filter((r) => r.status === 'shifted').length).toBeGreaterThan(0);
    expect(
      busy
        .filter((r) => r.status === 'failed')
        .every((r) => r.status === 'failed' && r.errorName === 'PriorRequestNotComplete'),
    ).toBe(true);
  });

  it('splits a zone into sequential batches, one per IAM record-name group, never mixing two groups', async () => {
    const many = servicesOf(
      ...Array.from({ length: 501 }, (_, i) =>
        route53Service(`svc-${i}`, {
          addresses: { a: `10.2.${i >> 8}.${i & 255}`, b: `10.3.${i >> 8}.${i & 255}` },
        }),
      ),
    );
    let inFlight = 0;
    let maxInFlight = 0;
    r53.on(ChangeResourceRecordSetsCommand).callsFake(async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return changeInfo('C');
    });
    const results = await new Route53Router({ services: many }).shift(
      many.map((s) => ({ serviceId: s.id, from: 'a', to: 'b' })),
    );
    expect(results.every((r) => r.status === 'shifted')).toBe(true);
    const groupOf = recordGroupKeys(many);
    const batches = r53
      .commandCalls(ChangeResourceRecordSetsCommand)
      .map((c) =>
        (c.args[0].input.ChangeBatch?.Changes ?? []).map((ch) =>
          ch.ResourceRecordSet?.Name?.replace(/\.example\.com\.$/, ''),
        ),
      );
    // Every batch within one group (a statement lists all of its names), each group in one batch.
    const groupsOfBatches = batches.map((names) => new Set(names.map((n) => groupOf.get(n!))));
    for (const g of groupsOfBatches) expect(g.size).toBe(1);
    expect(new Set(groupsOfBatches.map((g) => [...g][0])).size).toBe(batches.length);
    expect(batches.length).toBe(new Set(groupOf.values()).size);
    expect(batches.flat()).toHaveLength(1002);
    expect(maxInFlight).toBe(1);
    const comment = r53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Comment;
    expect(comment?.length).toBe(256);
  });
});

describe('Route53Router.currentAll', () => {
  it('reads many services of one zone in one walk, and says nothing about a zone it could not read', async () => {
    r53
      .on(ListResourceRecordSetsCommand, { HostedZoneId: ZONE })
      .resolves(
        page(
          rrs('orders-db.example.com.', 'A', 15, '10.0.2.10'),
          rrs('zz.example.com.', 'A', 30, '10.9.9.9'),
        ),
      )
      .on(ListResourceRecordSetsCommand, { HostedZoneId: OTHER_ZONE })
      .rejects(awsErrors.throttling());
    const out = await router().currentAll(['orders-db', 'users-db', 'search']);
    // users-db was passed without being seen: it does not exist, so it points at no node.
    expect([...out]).toEqual([
      ['orders-db', 'db-b'],
      ['users-db', undefined],
    ]);
    expect(r53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: ZONE, StartRecordName: 'orders-db.example.com.', StartRecordType: 'A', MaxItems: 300 },
      {
        HostedZoneId: OTHER_ZONE,
        StartRecordName: 'search.example.org.',
        StartRecordType: 'CNAME',
        MaxItems: 300,
      },
    ]);
  });
});

describe('Route53Router.current', () => {
  it('maps the live value to a node id', async () => {
    r53.on(ListResourceRecordSetsCommand).resolves(recordSet('orders-db.example.com.', 'A', 15, '10.0.2.10'));
    expect(await router().current('orders-db')).toBe('db-b');
  });

  it.each([
    ['an unknown value', recordSet('orders-db.example.com.', 'A', 15, '10.9.9.9')],
    ['several values', recordSet('orders-db.example.com.', 'A', 15, '10.0.1.10', '10.0.2.10')],
    ['no record', { ResourceRecordSets: [], IsTruncated: false, MaxItems: 1 }],
  ])('is undefined for %s', async (_, out) => {
    r53.on(ListResourceRecordSetsCommand).resolves(out);
    expect(await router().current('orders-db')).toBeUndefined();
  });

  it('throws UnknownServiceError for a service it does not route', async () => {
    await expect(router().current('git')).rejects.toBeInstanceOf(UnknownServiceError);
  });

  it('maps throttling to TransientAwsError', async () => {
    r53.on(ListResourceRecordSetsCommand).rejects(awsErrors.throttling());
    await expect(router().current('orders-db')).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('Route53Router.changeStatus', () => {
  it.each(['PENDING', 'INSYNC'] as const)('returns %s from GetChange', async (Status) => {
    r53.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status, SubmittedAt: new Date(0) } });
    expect(await router().changeStatus('/change/C1')).toBe(Status);
    expect(r53.commandCalls(GetChangeCommand)[0]?.args[0].input).toEqual({ Id: '/change/C1' });
  });

  it('maps PriorRequestNotComplete to TransientAwsError', async () => {
    r53.on(GetChangeCommand).rejects(awsErrors.priorRequestNotComplete());
    await expect(router().changeStatus('C1')).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('Route53Router.confirmRecord', () => {
  it("sends a no-op compare-and-swap of the node's exact value and returns its change id", async () => {
    r53.on(ChangeResourceRecordSetsCommand).resolves(changeInfo('C7'));
    expect(await router().confirmRecord('orders-db', 'db-b')).toBe('/change/C7');
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input).toEqual({
      HostedZoneId: ZONE,
      ChangeBatch: {
        Comment: 'failover: confirm orders-db on db-b',
        Changes: swap('orders-db.example.com.', 'A', 15, '10.0.2.10', '10.0.2.10'),
      },
    });
  });

  it('returns undefined when the record does not hold exactly that value (InvalidChangeBatch)', async () => {
    r53.on(ChangeResourceRecordSetsCommand).rejects(mismatch());
    expect(await router().confirmRecord('orders-db', 'db-b')).toBeUndefined();
  });

  it("returns undefined on moto's InvalidInput for the same mismatch", async () => {
    r53
      .on(ChangeResourceRecordSetsCommand)
      .rejects(new InvalidInput({ message: 'Invalid request', $metadata: { httpStatusCode: 400 } }));
    expect(await router().confirmRecord('orders-db', 'db-b')).toBeUndefined();
  });

  it('maps throttling to TransientAwsError (the step is retried)', async () => {
    r53.on(ChangeResourceRecordSetsCommand).rejects(awsErrors.throttling());
    await expect(router().confirmRecord('orders-db', 'db-b')).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('throws UnknownServiceError for a service or node it does not route', async () => {
    await expect(router().confirmRecord('git', 'git-1')).rejects.toBeInstanceOf(UnknownServiceError);
    await expect(router().confirmRecord('orders-db', 'db-z')).rejects.toBeInstanceOf(UnknownServiceError);
  });
});
