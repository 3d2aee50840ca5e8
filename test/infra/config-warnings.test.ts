import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { sampleConfig, synth } from './helpers.ts';

describe('configuration warnings at synth', () => {
  it('a service that promotes with an action but cannot demote a node is a cdk synth warning naming the node and the remedy', () => {
    const raw = structuredClone(sampleConfig()) as Record<string, unknown> & {
      services: Record<string, unknown>[];
    };
    raw.services[0] = {
      ...raw.services[0],
      actions: {
        promote: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:promote' },
      },
    };
    const { stack } = synth(parseConfig(raw), { env: { account: '111122223333', region: 'us-east-1' } });
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('services\\[0\\]\\.nodes\\[\\d\\]: orders-db promotes with an action'),
    );
    expect(warnings.map((w) => String(w.entry.data))).toEqual([
      expect.stringContaining(
        "services[0].nodes[0]: orders-db promotes with an action but db-a has no demote or fence action: after a failover away from it, db-a is marked needs-rejoin and stays out of every role until someone makes it a replica and runs 'failover rejoin orders-db db-a'; add actions.demote (or actions.fence)",
      ),
      expect.stringContaining(
        'services[0].nodes[1]: orders-db promotes with an action but db-b has no demote',
      ),
    ]);
  });
});
