/**
 * Failback after a repair: db-b has been primary since last night's failover. The operator starts
 * a switchover back to db-a. The state machine fences db-b, waits until db-a has caught up (lag 0
 * measured after the fence), promotes db-a, swaps the record, waits for Route 53 INSYNC, demotes
 * db-b and commits epoch 2. No data is lost.
 */
import type { Scenario } from '../scenario.ts';
import { check, notificationKinds, onDnsRecord, primaryAt } from './common.ts';

export const plannedFailback: Scenario = {
  name: 'planned-failback',
  title: 'Planned failback: switchover with a catch-up wait',
  summary:
    'db-b has been primary since a failover six hours ago; db-a is repaired and replicating, 6 s behind. The operator runs a switchover back to db-a: fence db-b, wait for db-a to reach lag 0, promote, move traffic, verify, commit epoch 2, demote db-b.',
  ...onDnsRecord({
    id: 'payments-db',
    description: 'PostgreSQL pair with fence/promote/demote hooks',
    nodes: { 'db-a': '10.0.1.50', 'db-b': '10.0.2.50' },
    record: 'payments',
    hooks: true,
    policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
    switchover: { pollIntervalSeconds: 5, catchUpTimeoutSeconds: 120 },
  }),
  nodes: { 'db-a': { lagSeconds: 6 }, 'db-b': {} },
  before: {
    primary: 'db-b',
    secondsAgo: 6 * 3600,
    reason: 'db-a host failure last night (automatic failover)',
  },
  durationSeconds: 100,
  async run(d) {
    await d.at(8);
    await d.startWorkflow({
      mode: 'switchover',
      to: 'db-a',
      reason: 'failback to db-a after the host repair',
    });
  },
  checks: (o) => {
    const exec = o.executions[0];
    const catchUpChecks = exec?.steps.filter((s) => s.step === 'checkCatchUp').length ?? 0;
    return [
      check('the workflow succeeded', exec?.status === 'SUCCEEDED', `${exec?.status} ${exec?.error ?? ''}`),
      primaryAt(o, 'db-a', 2),
      check('traffic points at db-a', o.traffic === 'db-a', `router points at ${o.traffic}`),
      check('it waited for the catch-up', catchUpChecks > 1, `${catchUpChecks} catch-up checks`),
      check(
        'no data lost: lag 0 at promotion',
        o.history[0]?.operation === 'switchover' &&
          o.history[0]?.lagSeconds === 0 &&
          o.recovery?.rpoSeconds === 0,
        `history ${o.history[0]?.operation}, lag ${o.history[0]?.lagSeconds}`,
      ),
      check('announced', notificationKinds(o).includes('switchover'), notificationKinds(o).join(', ')),
    ];
  },
};
