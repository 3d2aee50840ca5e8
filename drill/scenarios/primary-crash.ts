/**
 * The primary crashes; the health alarm fires after three failing 10 s periods; the failover
 * Lambda confirms it, finds the replica healthy and within the lag budget, takes the lease, swaps
 * the DNS record (compare-and-swap), records epoch 1 and announces it.
 */
import type { Scenario } from '../scenario.ts';
import {
  check,
  count,
  notificationKinds,
  onDnsRecord,
  primaryAt,
  replicaBehind,
  scripted,
} from './common.ts';

export const primaryCrash: Scenario = {
  name: 'primary-crash',
  title: 'Primary crash: automatic failover',
  summary:
    'db-a, the primary of orders-db, crashes. The health alarm goes to ALARM after three failing 10 s periods, and the failover Lambda promotes db-b (healthy, 2 s behind, within the 10 s budget) by swapping the DNS record.',
  ...onDnsRecord({
    id: 'orders-db',
    description: 'PostgreSQL primary with a streaming replica behind db.example.com',
    nodes: { 'db-a': '10.0.1.10', 'db-b': '10.0.2.10' },
    record: 'db',
    policy: { cooldownSeconds: 600, maxLagSeconds: 10, maxLagAgeSeconds: 60 },
  }),
  nodes: replicaBehind(2),
  durationSeconds: 110,
  run: scripted([[23, (d) => d.crash('db-a')]]),
  checks: (o) => [
    primaryAt(o, 'db-b', 1),
    check('traffic points at db-b', o.traffic === 'db-b', `router points at ${o.traffic}`),
    check('one traffic change', o.trafficChanges.length === 1, `${o.trafficChanges.length} change(s)`),
    check(
      'history records the failover with its lag',
      o.history.length === 1 && o.history[0]?.operation === 'auto-failover' && o.history[0]?.lagSeconds === 2,
      `${o.history.length} entr${o.history.length === 1 ? 'y' : 'ies'}, lag ${o.history[0]?.lagSeconds}`,
    ),
    check(
      'announced once',
      count(notificationKinds(o), (k) => k === 'failover') === 1,
      notificationKinds(o).join(', ') || 'nothing',
    ),
    check(
      'RPO bound is the replica lag (2 s)',
      o.recovery?.rpoSeconds === 2,
      `RPO ${o.recovery?.rpoSeconds} s`,
    ),
  ],
};
