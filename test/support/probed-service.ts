/**
 * A configuration with one Route 53 service whose two nodes are watched by the node probe (no
 * health alarms or lag metrics named): the input the probe-configuration and lag-in-bytes tests
 * start from, as an operator writes it.
 */

/** A PostgreSQL probe, placed in one subnet, reading its credentials from Secrets Manager. */
export const POSTGRES_PROBE = {
  kind: 'postgres',
  port: 5432,
  secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf',
  subnets: ['subnet-0123456789abcdef0'],
  securityGroups: ['sg-0123456789abcdef0'],
};

/** `{ services: [ <service `id`, nodes a and b probed at their addresses, plus `fields`> ] }` */
export function probedServiceInput(fields: Record<string, unknown>, id = 'orders-db') {
  return {
    services: [
      {
        id,
        initialPrimary: 'a',
        router: {
          type: 'route53',
          hostedZoneId: 'Z123',
          zoneName: 'example.com',
          recordName: 'db.example.com',
          recordType: 'A',
        },
        nodes: [
          { id: 'a', address: '10.0.0.1', probe: { host: '10.0.0.1' } },
          { id: 'b', address: '10.0.0.2', probe: { host: '10.0.0.2' } },
        ],
        ...fields,
      },
    ],
  };
}
