/**
 * Every drill scenario's OUTCOME, asserted here independently of the checks the drill prints:
 * who is primary, the epoch, the history, the holds and their reasons, the notifications, the
 * measured recovery and its RPO bound. The scenarios run once, together, as `npm run drill` runs
 * them (one synthesized stack, the real failover handler and state machine).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../drill/report/html.ts';
import { toJson } from '../../drill/report/json.ts';
import { type DrillReport, outcomeOf, runDrill } from '../../drill/run.ts';
import type { ScenarioOutcome } from '../../drill/scenario.ts';
import { findScenario, SCENARIOS } from '../../drill/scenarios/index.ts';
import { parseAlarmEvent } from '../../lambdas/handlers/event.ts';

let report: DrillReport;
beforeAll(async () => {
  report = await runDrill({ scenarios: SCENARIOS });
});

const outcome = (name: string) => outcomeOf(report, name);

const holds = (o: ScenarioOutcome) =>
  o.invocations.filter((i) => i.result?.outcome === 'held').map((i) => i.result?.reason);
const kinds = (o: ScenarioOutcome) => o.notifications.map((n) => n.kind);
const phase = (o: ScenarioOutcome, name: string) => o.recovery?.phases.find((p) => p.name === name)?.ms;

describe('drill scenarios', () => {
  it('runs every scenario, and each passes its own checks', () => {
    expect(report.scenarios.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    for (const s of report.scenarios) {
      expect(
        s.checks.filter((c) => !c.ok),
        s.name,
      ).toEqual([]);
      expect(s.checks.length, s.name).toBeGreaterThanOrEqual(5);
    }
    expect(report.passed).toBe(true);
    // The bound for the whole drill; the simulation itself takes a second or two, the
    // rest is synthesizing the stack.
    expect(report.wallMs).toBeLessThan(60_000);
  });

  it('primary-crash: fails over once to the replica and records its lag as the RPO bound', () => {
    const o = outcome('primary-crash');
    expect(o).toMatchObject({ primary: 'db-b', epoch: 1, traffic: 'db-b' });
    expect(o.history).toHaveLength(1);
    expect(o.history[0]).toMatchObject({
      operation: 'auto-failover',
      from: 'db-a',
      to: 'db-b',
      epoch: 1,
      lagSeconds: 2,
    });
    expect(o.trafficChanges).toEqual([{ at: expect.any(Number), from: 'db-a', to: 'db-b' }]);
    expect(kinds(o)).toEqual(['failover']);
    const r = o.recovery!;
    expect(r.kind).toBe('auto-failover');
    expect(r.rpoSeconds).toBe(2);
    // Crash at t=23; probes at 30, 40, 50 fail; the 3-of-3 alarm fires at the evaluation of t=51.
    expect(phase(o, 'detection: alarm periods')).toBe(28_000);
    expect(phase(o, 'detection: event delivery')).toBe(450);
    // One parallel read round: the slowest call (GetMetricData, 110 ms), not their sum.
    expect(phase(o, 'decision')).toBe(110);
    expect(phase(o, 'traffic shift')).toBe(380);
    expect(phase(o, 'DNS propagation')).toBeGreaterThanOrEqual(30_000);
    expect(phase(o, 'DNS TTL')).toBe(15_000);
    expect(r.totalMs).toBe(r.phases.reduce((a, p) => a + p.ms, 0));
  });

  it('replica-lagging: refuses the failover for lag-over-budget and alerts the operator, changing nothing', () => {
    const o = outcome('replica-lagging');
    expect(o).toMatchObject({ primary: 'db-a', epoch: 0, traffic: 'db-a' });
    expect(o.history).toEqual([]);
    expect(o.trafficChanges).toEqual([]);
    expect(holds(o)).toContain('lag-over-budget');
    const alert = o.notifications.find((n) => n.kind === 'failover-held');
    expect(alert?.subject).toContain('lag-over-budget');
    const held = o.invocations.find((i) => i.result?.reason === 'lag-over-budget');
    expect(held?.result?.detail).toMatch(/db-b 45 s/);
    expect(o.recovery).toBeUndefined();
  });

  it('flapping-primary: one failover, then the cooldown and not-primary-alarm hold; no failback', () => {
    const o = outcome('flapping-primary');
    expect(o).toMatchObject({ primary: 'db-b', epoch: 1, traffic: 'db-b' });
    expect(o.trafficChanges.map((c) => `${c.from}->${c.to}`)).toEqual(['db-a->db-b']);
    const h = holds(o);
    expect(h).toContain('cooldown');
    expect(h).toContain('not-primary-alarm');
    const cooldown = o.invocations.find((i) => i.result?.reason === 'cooldown');
    expect(cooldown?.alarmName).toBe('failover-sessions-db-db-b-health');
    // The old primary's OK says once that it needs an operator's rejoin (the drill has no actions).
    expect(kinds(o)).toEqual(['failover', 'rejoin', 'failover-held']);
    // Traffic never pointed back at db-a after the failover.
    const after = o.series.filter((s) => s.t > o.trafficChanges[0]!.at);
    expect(after.every((s) => s.routedTo === 'db-b')).toBe(true);
  });

  it('duplicate-and-stale-events: a stale, three duplicates and a replay change nothing twice', () => {
    const o = outcome('duplicate-and-stale-events');
    expect(o).toMatchObject({ primary: 'db-b', epoch: 1, traffic: 'db-b' });
    expect(o.history).toHaveLength(1);
    expect(o.trafficChanges).toHaveLength(1);
    const outcomes = o.invocations.map((i) => `${i.result?.outcome}:${i.result?.reason}`);
    expect(outcomes).toEqual([
      'held:not-an-alarm-transition', // the blip's OK event, delivered first
      'held:primary-healthy', // the blip's ALARM event, 12 s late: the alarm is OK again
      'failed-over:primary-alarm',
      'held:operation-in-progress', // duplicate 2: the first copy holds the lease
      'held:operation-in-progress', // duplicate 3
      'held:not-primary-alarm', // the replay after the failover
    ]);
    const crashEvent = o.invocations[2]!.eventId;
    expect(o.invocations.filter((i) => i.eventId === crashEvent)).toHaveLength(4);
    // Duplicates of an attempt in flight stay quiet: exactly one announcement.
    expect(kinds(o)).toEqual(['failover']);
  });

  it('planned-failback: switches back after waiting for lag 0 measured after the fence', () => {
    const o = outcome('planned-failback');
    expect(o).toMatchObject({ primary: 'db-a', epoch: 2, traffic: 'db-a' });
    expect(o.history.map((h) => [h.epoch, h.operation, h.to])).toEqual([
      [2, 'switchover', 'db-a'],
      [1, 'auto-failover', 'db-b'],
    ]);
    expect(o.history[0]?.lagSeconds).toBe(0);
    const exec = o.executions[0]!;
    expect(exec.status).toBe('SUCCEEDED');
    expect(exec.output).toMatchObject({ outcome: 'switched-over', from: 'db-b', to: 'db-a', epoch: 2 });
    const steps = exec.steps.map((s) => s.step);
    expect(steps.indexOf('hook:fence')).toBeLessThan(steps.indexOf('checkCatchUp'));
    expect(steps.filter((s) => s === 'checkCatchUp').length).toBeGreaterThan(1);
    expect(steps.indexOf('hook:promote')).toBeLessThan(steps.indexOf('shiftTraffic'));
    expect(steps.filter((s) => s === 'checkVerify').length).toBeGreaterThan(1);
    // The point of no return: the commit is durable before the old primary is demoted.
    expect(steps.slice(-4)).toEqual(['commit', 'hook:demote', 'recordDemote', 'notify']);
    expect(o.recovery).toMatchObject({ kind: 'switchover', rpoSeconds: 0 });
    expect(phase(o, 'catch-up wait')).toBeGreaterThan(5_000);
    // The old primary ends unfenced and replicating.
    expect(o.series.at(-1)?.nodes['db-b']).toMatchObject({ fenced: false, lag: 0 });
    expect(kinds(o)).toEqual(['switchover']);
  });

  it('forced-failover: holds, rolls back the unforced attempt, then records the forced 45 s bound', () => {
    const o = outcome('forced-failover');
    expect(o).toMatchObject({ primary: 'db-b', epoch: 1, traffic: 'db-b' });
    expect(holds(o)).toContain('lag-over-budget');
    const [first, second] = o.executions;
    expect(first).toMatchObject({ status: 'FAILED', error: 'FailoverRolledBack' });
    expect(first?.cause).toMatch(/CatchUpTimeoutError/);
    expect(second?.status).toBe('SUCCEEDED');
    expect(second?.output).toMatchObject({
      outcome: 'failed-over',
      forced: true,
      lagSeconds: 45,
      dataLossBound: expect.stringMatching(/^45 s \(last known lag/),
    });
    expect(o.history).toHaveLength(1);
    expect(o.history[0]).toMatchObject({ operation: 'failover', forced: true, lagSeconds: 45 });
    expect(o.recovery).toMatchObject({ kind: 'failover', rpoSeconds: 45 });
    expect(kinds(o)).toEqual(['failover-held', 'rollback', 'failover']);
  });

  it('several-replicas: the freshest healthy replica with fresh lag wins; no DNS phase behind an ALB', () => {
    const o = outcome('several-replicas');
    expect(o).toMatchObject({ primary: 'git-3', epoch: 1, traffic: 'git-3' });
    expect(o.history[0]).toMatchObject({ to: 'git-3', lagSeconds: 1.5 });
    expect(holds(o)).toEqual(['not-primary-alarm']);
    expect(o.recovery?.phases.map((p) => p.name)).toEqual([
      'detection: alarm periods',
      'detection: event delivery',
      'decision',
      'lease',
      'traffic shift',
    ]);
    expect(phase(o, 'traffic shift')).toBe(160);
    const decided = o.timeline.find((e) => e.kind === 'decided' && e.text.startsWith('fail over'));
    expect(decided?.text).toMatch(/git-2 eligible, lag 6 s, git-4 unhealthy, git-5 lag-stale/);
  });

  it('keeps traffic on exactly one node at every sampled second, and epochs never go backwards', () => {
    for (const o of report.scenarios) {
      for (const s of o.series) expect(o.nodes, `${o.name} t=${s.t}`).toContain(s.routedTo);
      const epochs = o.history.map((h) => h.epoch).reverse();
      expect(epochs, o.name).toEqual([...epochs].sort((a, b) => a - b));
    }
  });

  it('writes a JSON report with each outcome, its RTO phases and RPO, and the events as CloudWatch sent them', () => {
    const json = JSON.parse(JSON.stringify(toJson(report)));
    expect(json).toMatchObject({ version: 1, mode: 'simulated', passed: true });
    expect(Object.keys(json.model)).toEqual(
      expect.arrayContaining(['health alarm', 'API latency', 'DNS propagation']),
    );
    const crash = json.scenarios.find((s: { name: string }) => s.name === 'primary-crash');
    expect(crash.outcome).toMatchObject({ primary: 'db-b', epoch: 1, traffic: 'db-b', paused: false });
    // Crash 23.000 s; alarm 51.000; Lambda 51.450; decided 51.560; lease 51.574; record swapped
    // 51.954; INSYNC 81.954; TTL over 96.954: 73.954 s.
    expect(crash.recovery).toMatchObject({ kind: 'auto-failover', totalMs: 73_954, rpoSeconds: 2 });
    const lagging = json.scenarios.find((s: { name: string }) => s.name === 'replica-lagging');
    expect(lagging.recovery).toBeNull();
    expect(lagging.outcome.holds.map((h: { reason: string }) => h.reason)).toContain('lag-over-budget');
    for (const s of json.scenarios) {
      // One event per delivery (duplicates share one); a planned failback raises no alarm.
      expect(s.events.length, s.name).toBe(
        new Set(s.invocations.map((i: { eventId: string }) => i.eventId)).size,
      );
      for (const e of s.events) expect(parseAlarmEvent(e).ok, `${s.name} ${e.id}`).toBe(true);
    }
  });

  it('primary-returns: fence, promote, shift, commit; the returning primary is demoted with the rejoin token; never two writers', () => {
    const o = outcome('primary-returns');
    expect(o).toMatchObject({ primary: 'db-b', epoch: 1, traffic: 'db-b' });
    expect(o.trafficChanges).toEqual([{ at: expect.any(Number), from: 'db-a', to: 'db-b' }]);
    const calls = o.nodeActions!.calls;
    expect(calls.map((c) => [c.role, c.nodeId, c.outcome, c.applied])).toEqual([
      ['fence', 'db-a', 'succeeded', true],
      ['promote', 'db-b', 'succeeded', true],
      ['demote', 'db-a', 'succeeded', true],
    ]);
    const [fence, promote, demote] = calls;
    // Promotion before the traffic moves; the demote only after db-a's alarm returned to OK.
    expect(promote!.at).toBeLessThanOrEqual(o.trafficChanges[0]!.at);
    const ok = o.invocations.find((i) => i.transition === 'ALARM->OK' && i.alarmName.includes('db-a'));
    expect(ok?.result).toMatchObject({ outcome: 'rejoined', reason: 'demote', from: 'db-a' });
    expect(demote!.at).toBeGreaterThanOrEqual(ok!.at);
    // The rejoin token outranks every token db-a saw before.
    expect(demote!.token).toBeGreaterThan(fence!.token);
    expect(o.history.map((h) => h.operation).sort()).toEqual(['auto-failover', 'rejoin']);
    expect(o.history.find((h) => h.operation === 'rejoin')).toMatchObject({ from: 'db-a', epoch: 1 });
    expect(kinds(o)).toEqual(['failover', 'rejoin']);
    expect(o.nodeActions).toMatchObject({ maxWriters: 1, splitBrain: [], writersAtEnd: ['db-b'] });
    expect(o.nodeActions!.writerChecks).toBeGreaterThanOrEqual(o.durationSeconds);
    const text = o.timeline.map((e) => e.text);
    for (const line of [
      /^node action fence db-a .*read-only/,
      /^node action promote db-b .*accepts writes/,
      /^traffic db-a -> db-b/,
      /^node action demote db-a \(rejoin, token \d+\)/,
    ]) {
      expect(
        text.some((t) => line.test(t)),
        String(line),
      ).toBe(true);
    }
  });

  it('promote-fails: nothing moves when the chosen replica cannot be promoted; the next candidate is promoted and gets the traffic', () => {
    const o = outcome('promote-fails');
    expect(o).toMatchObject({ primary: 'db-c', epoch: 1, traffic: 'db-c' });
    const calls = o.nodeActions!.calls;
    expect(calls.map((c) => [c.role, c.nodeId, c.outcome])).toEqual([
      ['fence', 'db-a', 'timed-out'],
      ['promote', 'db-b', 'failed'],
      ['promote', 'db-c', 'succeeded'],
    ]);
    // Exactly one traffic change, and only after db-c's promote succeeded.
    expect(o.trafficChanges).toEqual([{ at: expect.any(Number), from: 'db-a', to: 'db-c' }]);
    expect(o.trafficChanges[0]!.at).toBeGreaterThanOrEqual(calls[2]!.at);
    expect(kinds(o)).toEqual(['promote-failed', 'failover']);
    expect(o.notifications[0]!.subject).toMatch(/db-b.*traffic stays on db-a; trying db-c next/);
    expect(o.history).toHaveLength(1);
    expect(o.history[0]).toMatchObject({
      operation: 'auto-failover',
      from: 'db-a',
      to: 'db-c',
      lagSeconds: 3,
    });
    expect(o.nodeActions).toMatchObject({ maxWriters: 1, splitBrain: [], writersAtEnd: ['db-c'] });
    expect(o.recovery?.rpoSeconds).toBe(3);
    // The RTO split names the time the fence and the two promotes took, not the lease (one write).
    expect(o.recovery?.phases.map((p) => p.name)).toEqual([
      'detection: alarm periods',
      'detection: event delivery',
      'decision',
      'lease',
      'fence and promote',
      'traffic shift',
      'DNS propagation',
      'DNS TTL',
    ]);
    expect(phase(o, 'lease')).toBeLessThan(100);
    // db-a's fence times out at the automatic path's 15 s bound before db-b's promote is tried.
    expect(phase(o, 'fence and promote')).toBeGreaterThanOrEqual(15_000);
  });

  it("the report carries each scenario's node actions (JSON and HTML)", () => {
    const json = JSON.parse(JSON.stringify(toJson(report)));
    const returns = json.scenarios.find((s: { name: string }) => s.name === 'primary-returns');
    expect(returns.nodeActions.calls.map((c: { role: string }) => c.role)).toEqual([
      'fence',
      'promote',
      'demote',
    ]);
    expect(json.scenarios.find((s: { name: string }) => s.name === 'primary-crash').nodeActions).toBeNull();
    const html = renderHtml(report);
    expect(html).toContain('<h3>Node actions</h3>');
    expect(html).toMatch(/writers checked \d+ times .* at most 1 at once/);
  });

  it('runs the same scenario to the same timeline every time (virtual clock, deterministic ids)', async () => {
    const again = await runDrill({ scenarios: [findScenario('duplicate-and-stale-events')!] });
    const text = (o: ScenarioOutcome) => o.timeline.map((e) => `${e.t} ${e.kind} ${e.text}`);
    expect(text(again.scenarios[0]!)).toEqual(text(outcome('duplicate-and-stale-events')));
  });

  it('prints the timeline as it runs', async () => {
    const lines: string[] = [];
    await runDrill({ scenarios: [findScenario('primary-crash')!], print: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toMatch(/t=\+23\.0s {2}world {5}db-a crashes/);
    expect(text).toMatch(/decided {3}fail over db-a -> db-b/);
    expect(text).toMatch(
      /changed {3}traffic db-a -> db-b: Route 53 db\.example\.com A 10\.0\.1\.10 -> 10\.0\.2\.10/,
    );
    expect(text).toMatch(/RTO 74\.0 s from the db-a crash/);
  });
});
