import { describe, expect, it } from 'vitest';
import { runSplitBrain } from '../../lambdas/app/split-brain.ts';
import { fencingToken } from '../../lambdas/domain/node-actions.ts';
import { splitBrainAlarmName } from '../../lambdas/domain/split-brain.ts';
import type { AlarmTransition } from '../../lambdas/domain/types.ts';
import { route53Service, testConfig } from '../../lambdas/testing/fixtures.ts';
import { createMemoryEnvironment } from '../../lambdas/testing/memory.ts';
import { MemoryNodeActions } from '../../lambdas/testing/node-actions.ts';

const transition = (alarmName: string, state: AlarmTransition['state'] = 'ALARM'): AlarmTransition => ({
  alarmName,
  state,
  previousState: 'OK',
  timestamp: 0,
  eventId: 'e1',
});

describe('runSplitBrain', () => {
  const config = testConfig([route53Service({ id: 'db', nodes: ['a', 'b', 'c'] })]);

  it('fences every node but the recorded primary with the split-brain token of the current epoch', async () => {
    const env = createMemoryEnvironment(config);
    env.state.seed({ serviceId: 'db', primary: 'b', epoch: 4, paused: false });
    env.alarms.set(splitBrainAlarmName('db'), 'ALARM');
    const actions = new MemoryNodeActions(config, { clock: env.clock });
    const out = await runSplitBrain({ ...env, actions }, transition(splitBrainAlarmName('db')));
    expect(out).toMatchObject({ outcome: 'split-brain-fenced', keep: 'b' });
    const calls = actions.callsFor('db', 'fence');
    expect(calls.map((c) => c.request.nodeId).sort()).toEqual(['a', 'c']);
    for (const c of calls)
      expect(c.request).toMatchObject({
        mode: 'split-brain',
        epoch: 4,
        token: fencingToken(4, 'splitBrainFence'),
      });
    expect(env.notifier.ofKind('split-brain')[0]?.subject).toMatch(
      /SPLIT BRAIN, kept b; fenced a \(succeeded\), c \(succeeded\)/,
    );
  });

  it('without a fence action: alarm only, announced, nothing run', async () => {
    const env = createMemoryEnvironment(config);
    env.alarms.set(splitBrainAlarmName('db'), 'ALARM');
    const actions = new MemoryNodeActions(config, { clock: env.clock, roles: { db: ['promote'] } });
    const out = await runSplitBrain({ ...env, actions }, transition(splitBrainAlarmName('db')));
    expect(out.outcome).toBe('split-brain-alarm-only');
    expect(actions.calls).toEqual([]);
    expect(env.notifier.ofKind('split-brain')).toHaveLength(1);
  });

  it.each([
    ['OK', 'the detector is OK again: EventBridge and Lambda retry an event for up to an hour'],
    ['INSUFFICIENT_DATA', 'the probe stopped publishing'],
    [undefined, 'no such alarm: an event forged by a rule under the stack prefix, or a deleted detector'],
  ] as const)(
    'case S2: an ALARM event while the detector is %s (%s) fences nobody and says why',
    async (now, _why) => {
      const env = createMemoryEnvironment(config);
      env.state.seed({ serviceId: 'db', primary: 'b', epoch: 4, paused: false });
      env.alarms.set(splitBrainAlarmName('db'), now);
      const actions = new MemoryNodeActions(config, { clock: env.clock });
      const out = await runSplitBrain({ ...env, actions }, transition(splitBrainAlarmName('db')));
      expect(out).toMatchObject({ outcome: 'ignored', serviceId: 'db', reason: 'stale-event' });
      expect(actions.calls).toEqual([]);
      expect(
        env.logger.entries.some(
          (e) => e.message === 'split-brain event is stale: the detector is not in ALARM now',
        ),
      ).toBe(true);
    },
  );

  it('ignores the alarm going back to OK, and alarms of unknown services', async () => {
    const env = createMemoryEnvironment(config);
    const actions = new MemoryNodeActions(config, { clock: env.clock });
    expect(
      (await runSplitBrain({ ...env, actions }, transition(splitBrainAlarmName('db'), 'OK'))).outcome,
    ).toBe('ignored');
    expect((await runSplitBrain({ ...env, actions }, transition(splitBrainAlarmName('nope')))).outcome).toBe(
      'ignored',
    );
    expect(actions.calls).toEqual([]);
  });
});
