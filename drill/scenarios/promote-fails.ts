/**
 * Three nodes; the primary crashes and the chosen replica's promote action fails. Nothing moves:
 * the on-call is told, the next eligible candidate is promoted and traffic goes there. The nodes'
 * actions run on MemoryNodeActions: at no moment do two nodes accept writes.
 */
import type { Scenario } from '../scenario.ts';
import { check, neverTwoWriters, notificationKinds, onDnsRecord } from './common.ts';

export const promoteFails: Scenario = {
  name: 'promote-fails',
  title: 'Promote fails: the next candidate is promoted instead',
  summary:
    "db-a, the primary of catalog-db, crashes. db-b (1 s behind) is chosen, but its promote action fails: no traffic moves, the on-call is told (promote-failed, trying db-c next), and db-c (3 s behind, the next eligible candidate) is promoted; only then does the DNS record move, to db-c. db-a's fence is best effort (it is down: the fence times out) and no two nodes ever accept writes.",
  ...onDnsRecord({
    id: 'catalog-db',
    description: 'PostgreSQL primary with two streaming replicas, fenced/promoted/demoted by Lambda actions',
    nodes: { 'db-a': '10.0.1.70', 'db-b': '10.0.2.70', 'db-c': '10.0.3.70' },
    record: 'catalog',
    policy: { cooldownSeconds: 600, maxLagSeconds: 10, maxLagAgeSeconds: 60 },
    actions: true,
  }),
  nodes: { 'db-a': {}, 'db-b': { lagSeconds: 1 }, 'db-c': { lagSeconds: 3 } },
  durationSeconds: 150,
  async run(d) {
    d.scriptAction('db-b', 'promote', {
      status: 'failed',
      detail: 'pg_promote() on db-b: the replica is still replaying WAL and refused to promote',
    });
    await d.at(13);
    d.crash('db-a');
  },
  checks: (o) => {
    const calls = o.nodeActions?.calls ?? [];
    const promotes = calls.filter((c) => c.role === 'promote');
    const seq = calls.map((c) => `${c.role} ${c.nodeId} ${c.outcome}`);
    const promoteC = promotes.find((c) => c.nodeId === 'db-c');
    const failed = o.notifications.find((n) => n.kind === 'promote-failed');
    const lines = o.timeline.map((e) => e.text);
    return [
      check(
        'db-c is the primary at epoch 1, traffic on db-c',
        o.primary === 'db-c' && o.epoch === 1 && o.traffic === 'db-c',
        `primary ${o.primary}, epoch ${o.epoch}, traffic ${o.traffic}`,
      ),
      check(
        "db-b's promote failed, then db-c's succeeded",
        promotes.length === 2 &&
          promotes[0]?.nodeId === 'db-b' &&
          promotes[0].outcome === 'failed' &&
          promoteC?.outcome === 'succeeded',
        seq.join(', '),
      ),
      check(
        'traffic moved once, db-a -> db-c, only after db-c was promoted',
        o.trafficChanges.length === 1 &&
          o.trafficChanges[0]?.from === 'db-a' &&
          o.trafficChanges[0].to === 'db-c' &&
          promoteC !== undefined &&
          o.trafficChanges[0].at >= promoteC.at,
        o.trafficChanges.map((c) => `${c.from}->${c.to} at ${c.at} s`).join(', ') || 'no traffic change',
      ),
      check(
        'the on-call was told the promote failed, then the failover',
        failed?.subject.includes('db-b') === true &&
          notificationKinds(o).join() === 'promote-failed,failover',
        notificationKinds(o).join(', '),
      ),
      check(
        'history records db-a -> db-c',
        o.history.length === 1 && o.history[0]?.from === 'db-a' && o.history[0]?.to === 'db-c',
        o.history.map((h) => `${h.operation} ${h.from}->${h.to}`).join(', '),
      ),
      neverTwoWriters(o, 'db-c'),
      check(
        'the timeline shows the failed promote and the promote that worked',
        lines.some((l) => l.startsWith('node action promote db-b') && l.includes('failed')) &&
          lines.some((l) => l.startsWith('node action promote db-c') && l.includes('accepts writes')),
        lines.filter((l) => l.startsWith('node action')).join(' | '),
      ),
    ];
  },
};
