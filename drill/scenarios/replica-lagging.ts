/**
 * The replica has fallen 45 s behind (budget 10 s) when the primary crashes. Promoting it would
 * silently lose 45 s of writes, so the automation holds, and tells the operator why.
 */
import type { Scenario } from '../scenario.ts';
import { check, holdsOf, notificationKinds, onDnsRecord, replicaBehind, scripted } from './common.ts';

export const replicaLagging: Scenario = {
  name: 'replica-lagging',
  title: 'Replica lagging beyond the budget: failover refused, operator alerted',
  summary:
    'db-b falls 45 s behind (budget 10 s), then db-a crashes. The failover Lambda refuses to promote db-b (lag-over-budget), changes nothing, and alerts the operator; db-a comes back on its own.',
  ...onDnsRecord({
    id: 'billing-db',
    description: 'MySQL primary with an asynchronous replica',
    nodes: { 'db-a': '10.0.1.20', 'db-b': '10.0.2.20' },
    record: 'billing',
    policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
  }),
  nodes: replicaBehind(1),
  durationSeconds: 140,
  run: scripted([
    [3, (d) => d.setLag('db-b', 45, { overSeconds: 15 })],
    [33, (d) => d.crash('db-a')],
    [105, (d) => d.recover('db-a')],
  ]),
  checks: (o) => {
    const holds = holdsOf(o);
    return [
      check(
        'db-a is still the primary, epoch 0',
        o.primary === 'db-a' && o.epoch === 0,
        `primary ${o.primary}, epoch ${o.epoch}`,
      ),
      check(
        'traffic never moved',
        o.trafficChanges.length === 0 && o.traffic === 'db-a',
        `${o.trafficChanges.length} change(s), on ${o.traffic}`,
      ),
      check(
        'held for lag-over-budget',
        holds.some((h) => h.reason === 'lag-over-budget'),
        holds.map((h) => h.reason).join(', ') || 'no hold',
      ),
      check(
        'the operator was alerted',
        notificationKinds(o).includes('failover-held'),
        notificationKinds(o).join(', ') || 'nothing',
      ),
      check('no history entry', o.history.length === 0, `${o.history.length} entr(ies)`),
    ];
  },
};
