/**
 * Route53Router against moto_server: requests are accepted by a Route 53 implementation, a
 * refused DELETE refuses the whole batch (nothing half-applied), moto's InvalidInput is read back
 * as a conflict, and the per-service fallback lets the other services through.
 *
 * moto's limit (5.x): it checks a DELETE against its change *journal* (was this exact value ever
 * created under this name?), not against the live record, so a stale DELETE of a value that was
 * live earlier is accepted. Real Route 53 refuses it. The stale cases below therefore use a value
 * that was never created, which both refuse; the live-value semantics are covered by the
 * in-memory Route 53 in lambdas/testing and by the unit tests with real InvalidChangeBatch errors.
 */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Route53Router } from '../../lambdas/aws/route53-router.ts';
import { route53Service, servicesOf } from '../aws/fixtures.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';

let moto: MotoServer;
let client: Route53Client;

beforeAll(async () => {
  moto = await startMoto();
  client = new Route53Client(moto.clientConfig);
});
afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

async function zoneWith(zoneName: string, records: Record<string, string>): Promise<string> {
  const out = await client.send(
    new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `${zoneName}-${Date.now()}` }),
  );
  const zoneId = (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  await client.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: Object.entries(records).map(([name, value]) => ({
          Action: 'CREATE',
          ResourceRecordSet: { Name: name, Type: 'A', TTL: 30, ResourceRecords: [{ Value: value }] },
        })),
      },
    }),
  );
  return zoneId;
}

describe('Route53Router on moto_server', () => {
  it('swaps, refuses a stale swap, and falls back per service in a mixed batch', async () => {
    const zone = await zoneWith('wire1.example.com', {
      'a.wire1.example.com': '10.0.0.1',
      'b.wire1.example.com': '10.0.1.1',
    });
    const service = (id: string, prefix: string) =>
      route53Service(id, {
        zoneName: 'wire1.example.com',
        record: `${id.slice(-1)}.wire1.example.com`,
        addresses: { n1: `${prefix}.1`, n2: `${prefix}.2`, n3: `${prefix}.3` },
      });
    // moto's zone ids do not start with Z like Route 53's, so the validated config gets moto's id afterwards.
    const services = servicesOf(service('svc-a', '10.0.0'), service('svc-b', '10.0.1')).map((s) =>
      s.router.type === 'route53' ? { ...s, router: { ...s.router, hostedZoneId: zone } } : s,
    );
    const router = new Route53Router({ services, client });

    const [first] = await router.shift([{ serviceId: 'svc-a', from: 'n1', to: 'n2' }]);
    expect(first).toMatchObject({ serviceId: 'svc-a', status: 'shifted', changeId: expect.any(String) });
    expect(await router.current('svc-a')).toBe('n2');
    if (first?.status === 'shifted' && first.changeId) {
      expect(['PENDING', 'INSYNC']).toContain(await router.changeStatus(first.changeId));
    }

    // An operation that believes n3 is primary loses, and changes nothing.
    const [stale] = await router.shift([{ serviceId: 'svc-a', from: 'n3', to: 'n1' }]);
    expect(stale).toMatchObject({ status: 'conflict', observed: 'n2' });
    expect(await router.current('svc-a')).toBe('n2');

    // A batch is all-or-nothing: a stale DELETE refuses the valid swap next to it.
    const raw = await client
      .send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone,
          ChangeBatch: {
            Changes: [
              swapChange('DELETE', 'b.wire1.example.com.', '10.0.1.1'),
              swapChange('CREATE', 'b.wire1.example.com.', '10.0.1.2'),
              swapChange('DELETE', 'a.wire1.example.com.', '10.0.0.3'),
              swapChange('CREATE', 'a.wire1.example.com.', '10.0.0.1'),
            ],
          },
        }),
      )
      .catch((e: unknown) => e);
    expect(raw).toMatchObject({ name: expect.stringMatching(/^(InvalidChangeBatch|InvalidInput)$/) });
    expect(await router.current('svc-b')).toBe('n1');

    // Through the router the same mixed batch lets svc-b through and reports svc-a's conflict.
    const results = await router.shift([
      { serviceId: 'svc-b', from: 'n1', to: 'n2' },
      { serviceId: 'svc-a', from: 'n3', to: 'n1' },
    ]);
    expect(results).toEqual([
      expect.objectContaining({ serviceId: 'svc-b', status: 'shifted' }),
      expect.objectContaining({ serviceId: 'svc-a', status: 'conflict', observed: 'n2' }),
    ]);
    expect(await router.current('svc-b')).toBe('n2');
    expect(await router.current('svc-a')).toBe('n2');
  });
});

function swapChange(Action: 'DELETE' | 'CREATE', Name: string, Value: string) {
  return { Action, ResourceRecordSet: { Name, Type: 'A' as const, TTL: 30, ResourceRecords: [{ Value }] } };
}
