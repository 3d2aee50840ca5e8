/**
 * Four replicas behind an Application Load Balancer. The freshest-looking ones are not eligible:
 * git-4 is down (its alarm is in ALARM) and git-5's newest lag datapoint is 90 s old (stale). Of the
 * healthy replicas with fresh lag, git-3 is the least behind and wins; the listener switches in
 * one call, so there is no DNS wait.
 */
import type { Scenario } from '../scenario.ts';
import { behindAlb, check, holdReasons, holdsOf, primaryAt, scripted } from './common.ts';

export const severalReplicas: Scenario = {
  name: 'several-replicas',
  title: 'Several replicas: the freshest healthy one wins',
  summary:
    'git-1 crashes. git-4 (lag 0) is down and git-5 (lag 0.5 s) stopped publishing its lag, so neither may be promoted; git-3 (1.5 s) beats git-2 (6 s). The ALB listener forwards to git-3 after one ModifyListener: no DNS TTL.',
  ...behindAlb({
    id: 'git-server',
    description: 'Git server appliances behind an ALB, one target group each',
    nodes: ['git-1', 'git-2', 'git-3', 'git-4', 'git-5'],
    policy: { maxLagSeconds: 30, maxLagAgeSeconds: 60, cooldownSeconds: 900 },
  }),
  nodes: {
    'git-1': {},
    'git-2': { lagSeconds: 6 },
    'git-3': { lagSeconds: 1.5 },
    'git-4': { lagSeconds: 0 },
    'git-5': { lagSeconds: 0.5 },
  },
  durationSeconds: 110,
  run: scripted([
    [1, (d) => d.stopLagPublisher('git-5')],
    [3, (d) => d.crash('git-4')],
    [63, (d) => d.crash('git-1')],
  ]),
  checks: (o) => {
    const decision = o.invocations.find((i) => i.result?.outcome === 'failed-over');
    return [
      primaryAt(o, 'git-3', 1),
      check('the listener forwards to git-3', o.traffic === 'git-3', `router points at ${o.traffic}`),
      check('lag at promotion 1.5 s', o.history[0]?.lagSeconds === 1.5, `lag ${o.history[0]?.lagSeconds}`),
      check(
        "git-4's alarm as a replica changed nothing",
        holdsOf(o).some((h) => h.reason === 'not-primary-alarm'),
        holdReasons(o),
      ),
      check(
        'no DNS wait (load balancer)',
        o.recovery !== undefined && !o.recovery.phases.some((p) => p.name.startsWith('DNS')),
        o.recovery?.phases.map((p) => p.name).join(', ') ?? 'no recovery',
      ),
      check(
        'one failover invocation',
        decision !== undefined && o.trafficChanges.length === 1,
        `${o.trafficChanges.length} change(s)`,
      ),
    ];
  },
};
