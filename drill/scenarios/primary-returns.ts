/**
 * The primary hangs (its health checks fail, but its host still answers the control plane), the
 * role-change engine fences it, promotes the replica and moves traffic; when the old primary's
 * alarm returns to OK it is demoted with the rejoin token, recorded and announced. The nodes'
 * actions run on MemoryNodeActions: at no moment do two nodes accept writes.
 */
import type { NodeActionsOutcome, Scenario, ScenarioOutcome } from '../scenario.ts';
import { check, neverTwoWriters, notificationKinds, onDnsRecord, replicaBehind, scripted } from './common.ts';

function actionCalls(o: ScenarioOutcome): NodeActionsOutcome['calls'] {
  return o.nodeActions?.calls ?? [];
}

export const primaryReturns: Scenario = {
  name: 'primary-returns',
  title: 'Primary returns: fenced, replaced, then demoted with the rejoin token',
  summary:
    "db-a, the primary of accounts-db, hangs: its health checks fail, but the fence action still reaches its host. The failover Lambda fences db-a, promotes db-b (1 s behind), moves the DNS record and records epoch 1, marking db-a needs-rejoin. When db-a's alarm returns to OK it is demoted with the rejoin token, recorded and announced; at no moment do two nodes accept writes.",
  ...onDnsRecord({
    id: 'accounts-db',
    description: 'PostgreSQL primary with a streaming replica, fenced/promoted/demoted by Lambda actions',
    nodes: { 'db-a': '10.0.1.80', 'db-b': '10.0.2.80' },
    record: 'accounts',
    policy: { cooldownSeconds: 600, maxLagSeconds: 10, maxLagAgeSeconds: 60 },
    actions: true,
  }),
  nodes: replicaBehind(1),
  durationSeconds: 170,
  run: scripted([
    [13, (d) => d.crash('db-a', { actionsReach: true })],
    [105, (d) => d.recover('db-a', { lagSeconds: 4 })],
  ]),
  checks: (o) => {
    const calls = actionCalls(o);
    const seq = calls.map((c) => `${c.role} ${c.nodeId} ${c.outcome}`);
    const fence = calls.find((c) => c.role === 'fence' && c.nodeId === 'db-a');
    const promote = calls.find((c) => c.role === 'promote' && c.nodeId === 'db-b');
    const demote = calls.find((c) => c.role === 'demote' && c.nodeId === 'db-a');
    const shift = o.trafficChanges[0];
    const rejoin = o.history.find((h) => h.operation === 'rejoin');
    const lines = o.timeline.map((e) => e.text);
    return [
      check(
        'db-b is the primary at epoch 1, traffic on db-b',
        o.primary === 'db-b' && o.epoch === 1 && o.traffic === 'db-b',
        `primary ${o.primary}, epoch ${o.epoch}, traffic ${o.traffic}`,
      ),
      check(
        'fence db-a, then promote db-b, then the one traffic change',
        fence?.outcome === 'succeeded' &&
          promote?.outcome === 'succeeded' &&
          fence.at <= promote.at &&
          o.trafficChanges.length === 1 &&
          shift !== undefined &&
          shift.at >= promote.at,
        `${seq.join(', ')}; traffic ${o.trafficChanges.map((c) => `${c.from}->${c.to} at ${c.at} s`).join(', ')}`,
      ),
      check(
        'db-a demoted with the rejoin token after its alarm returned to OK',
        demote?.applied === true &&
          shift !== undefined &&
          demote.at > shift.at &&
          calls.every((c) => c.nodeId !== 'db-a' || c === demote || c.token <= demote.token),
        demote ? `demote at ${demote.at} s, token ${demote.token}, ${demote.outcome}` : 'no demote of db-a',
      ),
      check(
        'the rejoin is recorded and announced',
        rejoin?.from === 'db-a' && notificationKinds(o).includes('rejoin'),
        `history ${o.history.map((h) => h.operation).join(', ')}; notices ${notificationKinds(o).join(', ')}`,
      ),
      neverTwoWriters(o, 'db-b'),
      check(
        'the timeline shows fence, promote, shift and demote',
        [
          'node action fence db-a',
          'node action promote db-b',
          'traffic db-a -> db-b',
          'node action demote db-a',
        ].every((text) => lines.some((l) => l.includes(text))),
        lines.filter((l) => l.startsWith('node action') || l.startsWith('traffic ')).join(' | '),
      ),
    ];
  },
};
