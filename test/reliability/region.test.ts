/**
 * Surviving the failure it handles: the automation runs in another region than the primary it
 * protects (config/examples/cross-region.json), refuses at synth what could not work from its own
 * region, and a Route 53 change it cannot confirm (control plane impaired: the change call times
 * out and the read-back fails) ends visible: needs-attention, a notification and a metric.
 */
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CLIENT_CONFIG } from '../../lambdas/aws/clients.ts';
import { TrafficRouter } from '../../lambdas/aws/traffic-router.ts';
import { makeHandler } from '../../lambdas/handlers/failover.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { loadConfigFile } from '../../lib/config-loader.ts';
import { FailoverStack } from '../../lib/failover-stack.ts';
import { configOf, elbWeightedService, route53Service } from '../aws/fixtures.ts';
import { PROJECT_ROOT } from '../infra/helpers.ts';
import { alarmEvent } from '../support/alarm-events.ts';
import { FaultInjector } from './support/faults.ts';
import { FakeRoute53 } from './support/sdk-fakes.ts';

const crossRegion = () => loadConfigFile(join(PROJECT_ROOT, 'config', 'examples', 'cross-region.json'));
const synthIn = (region: string, config = crossRegion()) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FailoverStack(app, 'Dr', { config, env: { account: '111122223333', region } });
  return Template.fromStack(stack);
};

describe('deployed in another region than the primary', () => {
  it('the cross-region example deploys next to the replica and depends on nothing in the primary region', () => {
    const template = synthIn('eu-central-1');
    const json = JSON.stringify(template.toJSON());
    // No ARN, endpoint or asset in the primary's region (its name appears only in descriptions).
    expect(json.match(/[:.]eu-west-1[:.]/g) ?? []).toEqual([]);
    // Route 53 is global: the record swap is granted by record name and type, whatever the region.
    expect(json).toContain('route53:ChangeResourceRecordSets');
    // Two regional tables of its own (the state table and the readiness verdicts), no global table
    // or replica reaching back into the primary's region.
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    const tables = Object.keys(template.findResources('AWS::DynamoDB::Table')).sort();
    expect(tables).toHaveLength(2);
    expect(tables.some((id) => id.includes('AutomationStateTable'))).toBe(true);
    expect(tables.some((id) => /Readiness/.test(id))).toBe(true);
  });

  it('refuses at synth what would not work from its region: Route 53 health-check metrics (us-east-1 only)', () => {
    const config = crossRegion();
    const withHealthCheck = {
      ...config,
      services: config.services.map((s) => ({
        ...s,
        nodes: s.nodes.map((n, i) => ({
          ...n,
          health: {
            type: 'route53-health-check' as const,
            protocol: 'TCP' as const,
            // Route 53's checkers run on the internet: a public (documentation) address.
            host: `198.51.100.${10 + i}`,
            port: 5432,
            requestIntervalSeconds: 10 as const,
            failureThreshold: 3,
          },
        })),
      })),
    };
    expect(() => synthIn('eu-central-1', withHealthCheck)).toThrow(
      /route53-health-check needs the stack in us-east-1/,
    );
    expect(() => synthIn('us-east-1', withHealthCheck)).not.toThrow();
  });

  it('refuses at synth a load balancer router in another region (the Lambdas call ELBv2 in their own)', () => {
    const config = configOf(elbWeightedService('git', ['g1', 'g2']));
    expect(() => synthIn('eu-central-1', config)).toThrow(
      /listenerArn must be in the stack's region eu-central-1, got: arn:aws:elasticloadbalancing:us-east-1/,
    );
    expect(() => synthIn('us-east-1', config)).not.toThrow();
  });

  it('every SDK client retries adaptively (client-side rate limiting on throttling) with bounded timeouts', () => {
    expect(CLIENT_CONFIG).toMatchObject({
      retryMode: 'adaptive',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
    });
  });
});

describe('a Route 53 change that cannot be confirmed (control plane impaired)', () => {
  const config = configOf(route53Service('orders', { addresses: { a: '10.0.1.10', b: '10.0.2.10' } }));

  it.each([
    ['applied, then the answer lost', true],
    ['never applied, and the answer lost', false],
  ])('%s, and every read-back failing: needs-attention, notified, counted', async (_name, applied) => {
    const env = createMemoryEnvironment(config);
    env.lag.put('orders', 'b', 1, env.clock.now() - 5_000);
    const injector = new FaultInjector([
      { target: 'route53.ChangeResourceRecordSets#1', kind: 'timeout', persistence: 'once' },
      { target: 'route53.ListResourceRecordSets', kind: 'server-error', persistence: 'always' },
    ]);
    const route53 = new FakeRoute53((site) => {
      const kind = injector.visit(site);
      // The unapplied variant: a timeout before Route 53 accepted the batch looks the same to us.
      if (kind === 'timeout' && !applied)
        throw Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
      return kind;
    });
    route53.records.set('orders.example.com. A', { ttl: 30, values: ['10.0.1.10'] });
    const handler = makeHandler({ ...env, traffic: new TrafficRouter({ config, route53: route53.client }) });
    const name = env.alarms.setNode('orders', 'a', 'ALARM');
    const out = await handler(alarmEvent(name, 'ALARM', 'OK', env.clock.now(), 'e-1'), {
      awsRequestId: 'req-1',
    });

    expect(out).toMatchObject({ outcome: 'needs-attention', reason: 'shift-uncertain', from: 'a', to: 'b' });
    expect(out.detail).toMatch(/TimeoutError .* an unknown target \(read-back failed/);
    expect(env.notifier.published).toHaveLength(1);
    expect(env.notifier.published[0]).toMatchObject({ kind: 'failover-failed' });
    expect(env.notifier.published[0]?.subject).toMatch(/needs attention \(shift-uncertain\)/);
    expect(env.metrics.named('FailoverNeedsAttention')).toHaveLength(1);
    // Nothing automatic touches the service until a human looks: the lease is left to expire.
    expect(env.state.snapshot('orders')?.lease?.holder).toBe('req-1');
    expect(route53.records.get('orders.example.com. A')?.values).toEqual([
      applied ? '10.0.2.10' : '10.0.1.10',
    ]);
  });
});
