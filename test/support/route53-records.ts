/**
 * Creates the record a service's traffic starts on, over any Route 53 endpoint (moto_server in the
 * wire suites, the drill's AWS backend, the game day). Plain SDK: no vitest, so drill/ may use it.
 */
import { ChangeResourceRecordSetsCommand, type Route53Client, type RRType } from '@aws-sdk/client-route-53';

export interface RecordSpec {
  readonly name: string;
  readonly type: RRType;
  readonly ttl: number;
  readonly value: string;
  /** `UPSERT` where moto's change journal would refuse a CREATE of an earlier value. @default 'CREATE' */
  readonly action?: 'CREATE' | 'UPSERT';
}

/** One ChangeResourceRecordSets call with one change: the record `spec` describes, one value. */
export async function createRecord(route53: Route53Client, zoneId: string, spec: RecordSpec): Promise<void> {
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: spec.action ?? 'CREATE',
            ResourceRecordSet: {
              Name: spec.name,
              Type: spec.type,
              TTL: spec.ttl,
              ResourceRecords: [{ Value: spec.value }],
            },
          },
        ],
      },
    }),
  );
}
