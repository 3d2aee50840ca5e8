/**
 * EventBridge delivers at least once, late, and out of order. A blip's ALARM event arrives after
 * the alarm is OK again (stale), the real crash's event is delivered three times at once, and an
 * old event is replayed after the failover. Exactly one role change, announced once.
 */
import type { Scenario } from '../scenario.ts';
import { check, count, holdsOf, notificationKinds, onDnsRecord, replicaBehind } from './common.ts';

export const duplicateAndStaleEvents: Scenario = {
  name: 'duplicate-and-stale-events',
  title: 'Duplicate and stale events: nothing changes twice',
  summary:
    'A 31 s blip of db-a raises an ALARM event that EventBridge delivers 12 s late, after the alarm is OK again; then db-a really crashes and its ALARM event is delivered three times within 240 ms; later the same event is replayed. One failover, one epoch, one announcement.',
  ...onDnsRecord({
    id: 'inventory-db',
    description: 'PostgreSQL primary with a streaming replica',
    nodes: { 'db-a': '10.0.1.40', 'db-b': '10.0.2.40' },
    record: 'inventory',
    policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
  }),
  nodes: replicaBehind(1),
  durationSeconds: 160,
  async run(d) {
    await d.at(13);
    d.nextEvent('db-a', { delayMs: 12_000 });
    d.crash('db-a');
    await d.at(44);
    d.recover('db-a');
    await d.at(83);
    d.nextEvent('db-a', { duplicates: 2, spacingMs: 120 });
    d.crash('db-a');
    await d.at(140);
    const crashEvent = [...d.events].reverse().find((e) => e.nodeId === 'db-a' && e.state === 'ALARM');
    if (!crashEvent) throw new Error('no ALARM event for db-a was delivered');
    await d.redeliver(crashEvent.eventId);
    await d.at(150);
    d.recover('db-a', { lagSeconds: 2 });
  },
  checks: (o) => {
    const holds = holdsOf(o).map((h) => h.reason);
    const ignoredOrHeld = o.invocations.filter((i) => i.result?.outcome !== 'failed-over').length;
    return [
      check(
        'exactly one role change (epoch 1)',
        o.epoch === 1 && o.history.length === 1,
        `epoch ${o.epoch}, ${o.history.length} history entr(ies)`,
      ),
      check('one traffic change', o.trafficChanges.length === 1, `${o.trafficChanges.length} change(s)`),
      check(
        'the late ALARM after recovery was recognised as stale',
        holds.includes('primary-healthy'),
        holds.join(', '),
      ),
      // Copies of one delivery run concurrently: which one wins the lease is arbitrary (against
      // moto or AWS a later copy can get there first). What must hold: one of them changed roles,
      // every other copy of that delivery stood down: it held, or (on a slow machine, when a copy
      // outlived its lease and another finished the same change) it found at commit that the
      // change was already made and stayed quiet as `conflict/superseded`.
      check(
        'duplicates stood down',
        (() => {
          const duplicated = new Set(o.invocations.filter((i) => i.copy > 1).map((i) => i.eventId));
          const copies = o.invocations.filter((i) => i.attempt === 1 && duplicated.has(i.eventId));
          return (
            duplicated.size > 0 &&
            count(copies, (i) => i.result?.outcome === 'failed-over') === 1 &&
            count(
              copies,
              (i) =>
                i.result?.outcome === 'held' ||
                (i.result?.outcome === 'conflict' && i.result.reason === 'superseded'),
            ) ===
              copies.length - 1
          );
        })(),
        o.invocations
          .filter((i) => i.copy > 1 || o.invocations.some((j) => j.copy > 1 && j.eventId === i.eventId))
          .map((i) => `#${i.copy} ${i.result?.outcome}/${i.result?.reason}`)
          .join(', '),
      ),
      check('the replayed event changed nothing', holds.includes('not-primary-alarm'), holds.join(', ')),
      check(
        'announced once, no false alerts',
        count(notificationKinds(o), (k) => k === 'failover') === 1 &&
          !notificationKinds(o).includes('failover-held'),
        notificationKinds(o).join(', '),
      ),
      check(
        'every other invocation changed nothing',
        ignoredOrHeld === o.invocations.length - 1,
        `${o.invocations.length} invocations`,
      ),
    ];
  },
};
