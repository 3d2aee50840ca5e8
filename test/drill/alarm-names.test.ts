/**
 * The drill's health alarms carry the names a deployed stack gives the health alarms it creates,
 * so the drill's timeline, its report and the game-day instructions in docs/drill.md name the
 * alarms an operator will find in the account.
 */
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../drill/scenarios/index.ts';
import { parseConfig, stackHealthAlarmName } from '../../lambdas/domain/config.ts';
import { HealthAlarms } from '../../lib/health-alarms.ts';

const RESOURCES = {
  hostedZoneId: 'Z0123456789EXAMPLE',
  zoneName: 'example.com',
  elb: {
    listenerArn:
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/drill/0123456789abcdef/0123456789abcdef',
    targetGroupArns: new Proxy({} as Record<string, string>, {
      get: (_, node) =>
        `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${String(node)}/0123456789abcdef`,
    }),
  },
};

describe('drill alarm names', () => {
  it('every scenario node is watched by the alarm name the stack would create for it', () => {
    for (const scenario of SCENARIOS) {
      const service = scenario.service(RESOURCES);
      for (const node of service.nodes) {
        expect(node.health, `${scenario.name}/${node.id}`).toEqual({
          type: 'alarm',
          alarmName: `failover-${service.id}-${node.id}-health`,
        });
      }
    }
  });

  it('is the name the stack gives the health alarms it creates', () => {
    const config = parseConfig({
      services: [
        {
          id: 'orders-db',
          initialPrimary: 'db-a',
          router: {
            type: 'route53',
            hostedZoneId: 'Z0123456789EXAMPLE',
            zoneName: 'example.com',
            recordName: 'db.example.com',
            recordType: 'A',
          },
          nodes: ['db-a', 'db-b'].map((id, i) => ({
            id,
            address: `192.0.2.${i + 10}`,
            health: { type: 'route53-health-check', protocol: 'TCP', host: `192.0.2.${i + 10}`, port: 5432 },
            lag: {
              namespace: 'Custom/Postgres',
              metricName: 'ReplicationLagSeconds',
              dimensions: { Node: id },
            },
          })),
        },
      ],
    });
    const alarms = new HealthAlarms(new Stack(), 'Health', { services: config.services });
    expect([...alarms.alarms.keys()]).toEqual([
      stackHealthAlarmName('orders-db', 'db-a'),
      stackHealthAlarmName('orders-db', 'db-b'),
    ]);
    expect(stackHealthAlarmName('orders-db', 'db-a')).toBe('failover-orders-db-db-a-health');
  });
});
