/**
 * The RTO model (lambdas/domain/rto.ts) assumes how the stack's health alarms evaluate; this keeps
 * the assumption and the synthesized alarms in step.
 */
import { describe, expect, it } from 'vitest';
import { STACK_ALARM } from '../../lambdas/domain/rto.ts';
import { generateConfig, resourcesOf, synth } from './helpers.ts';

describe('health alarms as the RTO model assumes them', () => {
  it('evaluate one period of STACK_ALARM.periodSeconds, alarming on STACK_ALARM.datapointsToAlarm datapoints', () => {
    const s = synth(generateConfig(6, 'mixed'));
    const alarms = [...s.nested.values()].flatMap((t) =>
      Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')),
    );
    const health = alarms.filter((a) => String(a.Properties.AlarmName).endsWith('-health'));
    expect(health.length).toBeGreaterThan(0);
    for (const a of health) {
      expect(a.Properties).toMatchObject({
        Period: STACK_ALARM.periodSeconds,
        EvaluationPeriods: STACK_ALARM.datapointsToAlarm,
        DatapointsToAlarm: STACK_ALARM.datapointsToAlarm,
      });
    }
  });
});
