/**
 * A flapping fleet: the primary crashes and fails over once; then the new primary blips inside the
 * cooldown (held, operator told), and the old primary, now a replica, flaps too (not the
 * primary's alarm). No second role change, and no automatic failback.
 */
import type { Scenario } from '../scenario.ts';
import { check, holdsOf, notificationKinds, onDnsRecord, replicaBehind, scripted } from './common.ts';

export const flappingPrimary: Scenario = {
  name: 'flapping-primary',
  title: 'Flapping primary: one failover, then the cooldown holds',
  summary:
    'db-a crashes and the service fails over to db-b. Inside the 600 s cooldown db-b blips and db-a flaps; the automation holds (cooldown, not-primary-alarm) instead of bouncing traffic back and forth, and never fails back by itself.',
  ...onDnsRecord({
    id: 'sessions-db',
    description: 'Redis primary with a replica',
    nodes: { 'db-a': '10.0.1.30', 'db-b': '10.0.2.30' },
    record: 'sessions',
    ttlSeconds: 10,
    policy: { cooldownSeconds: 600, maxLagSeconds: 5, maxLagAgeSeconds: 60 },
  }),
  nodes: replicaBehind(1),
  durationSeconds: 230,
  run: scripted([
    [13, (d) => d.crash('db-a')],
    [75, (d) => d.recover('db-a', { lagSeconds: 3 })],
    [103, (d) => d.crash('db-b')],
    [146, (d) => d.recover('db-b')],
    [163, (d) => d.crash('db-a')],
    [196, (d) => d.recover('db-a', { lagSeconds: 2 })],
  ]),
  checks: (o) => {
    const holds = holdsOf(o).map((h) => h.reason);
    return [
      check(
        'exactly one role change (epoch 1)',
        o.epoch === 1 && o.history.length === 1,
        `epoch ${o.epoch}, ${o.history.length} history entr(ies)`,
      ),
      check(
        'db-b stays primary, traffic on db-b',
        o.primary === 'db-b' && o.traffic === 'db-b',
        `primary ${o.primary}, traffic ${o.traffic}`,
      ),
      check(
        'one traffic change, no failback',
        o.trafficChanges.length === 1,
        o.trafficChanges.map((c) => `${c.from}->${c.to}`).join(', '),
      ),
      check("the cooldown held db-b's alarm", holds.includes('cooldown'), holds.join(', ')),
      check(
        "db-a's alarm as a replica changed nothing",
        holds.includes('not-primary-alarm'),
        holds.join(', '),
      ),
      check(
        'the cooldown hold was announced',
        o.notifications.some((n) => n.kind === 'failover-held' && n.subject.includes('cooldown')),
        notificationKinds(o).join(', '),
      ),
    ];
  },
};
