/**
 * The primary is dead and the only replica is 45 s behind. Automatic failover holds; the operator
 * first asks for a normal failover (it waits for the lag to come within the budget, times out and
 * rolls back), then decides the outage costs more than the data and forces it. The accepted data
 * loss is written to history.
 */
import type { Scenario } from '../scenario.ts';
import { check, holdReasons, holdsOf, onDnsRecord, primaryAt, replicaBehind, scripted } from './common.ts';

export const forcedFailover: Scenario = {
  name: 'forced-failover',
  title: 'Forced failover: data-loss bound recorded',
  summary:
    'db-a crashes while db-b is 45 s behind. Automatic failover holds (lag-over-budget). A failover without force waits 60 s for the lag, times out and rolls back. With force the operator accepts the loss: db-b is promoted and history records the 45 s bound.',
  ...onDnsRecord({
    id: 'ledger-db',
    description: 'Ledger database pair with fence/promote/demote hooks',
    nodes: { 'db-a': '10.0.1.60', 'db-b': '10.0.2.60' },
    record: 'ledger',
    hooks: true,
    policy: { maxLagSeconds: 10, maxLagAgeSeconds: 60 },
    switchover: { pollIntervalSeconds: 10, catchUpTimeoutSeconds: 60 },
  }),
  nodes: replicaBehind(2),
  durationSeconds: 240,
  run: scripted([
    [2, (d) => d.setLag('db-b', 45, { overSeconds: 12 })],
    [23, (d) => d.crash('db-a')],
    [
      75,
      (d) =>
        d.startWorkflow({
          mode: 'failover',
          to: 'db-b',
          reason: 'db-a is down: fail over if db-b is within budget',
        }),
    ],
    [
      150,
      (d) =>
        d.startWorkflow({
          mode: 'failover',
          to: 'db-b',
          force: true,
          reason: 'db-a host lost; accept up to 45 s of ledger writes, to be replayed from the queue',
        }),
    ],
  ]),
  checks: (o) => {
    const [first, second] = o.executions;
    const entry = o.history[0];
    return [
      check(
        'automatic failover held for the lag',
        holdsOf(o).some((h) => h.reason === 'lag-over-budget'),
        holdReasons(o),
      ),
      check(
        'the unforced failover rolled back',
        first?.status === 'FAILED' && first.error === 'FailoverRolledBack',
        `${first?.status} ${first?.error ?? ''}`,
      ),
      check(
        'the forced failover succeeded',
        second?.status === 'SUCCEEDED',
        `${second?.status} ${second?.error ?? ''}`,
      ),
      primaryAt(o, 'db-b', 1),
      check(
        'history records the forced change and its 45 s bound',
        entry?.forced === true && entry.lagSeconds === 45 && o.recovery?.rpoSeconds === 45,
        `forced ${entry?.forced}, lag ${entry?.lagSeconds}`,
      ),
      check('traffic points at db-b', o.traffic === 'db-b', `router points at ${o.traffic}`),
      check(
        'the failed demote of the dead db-a is reported, not rolled back',
        ((second?.output as { warnings?: string[] } | undefined)?.warnings ?? []).some((w) =>
          w.includes('demote of db-a failed'),
        ),
        ((second?.output as { warnings?: string[] } | undefined)?.warnings ?? []).join('; ') || 'no warning',
      ),
    ];
  },
};
