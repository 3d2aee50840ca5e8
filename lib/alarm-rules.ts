/**
 * EventBridge rules that deliver the health alarms' state changes to the failover Lambda.
 *
 * EventBridge's "Event pattern size" quota is 2,048 characters per pattern by default (adjustable
 * to 4,096; Amazon EventBridge quotas). Listing 400 alarm names in one pattern would exceed it, so
 * the names are packed, in configuration order, into as many rules as needed, each filled to
 * PATTERN_FILL of the quota. Appending a service only changes the last rule.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ruleName, StackRuleTarget } from './rule-targets.ts';

/** EventBridge's default per-pattern quota, in characters. */
export const EVENT_PATTERN_QUOTA_CHARS = 2048;

/**
 * Share of the quota a rule's pattern is filled to. A full pattern leaves no room to add a field
 * without repacking every rule, and the deploy-limit figures aim for 60 % of each limit; the price
 * is more rules (1,000 services of 2 nodes: ~60 of the bus's 300).
 */
export const PATTERN_FILL = 0.6;

/** Where the alarms live: this stack's account and region (tokens when the stack is env-agnostic). */
export interface AlarmSource {
  readonly account: string;
  readonly region: string;
}

/** Placeholders as long as the longest account id and region names, for measuring patterns. */
const LONGEST_SOURCE: AlarmSource = { account: '123456789012', region: 'ap-southeast-99-xx' };

/**
 * State changes of exactly these alarms, in this account and region: an event that names one of
 * our alarms but comes from elsewhere (another account's bus forwarding to ours, a same-named alarm
 * in another region) is never delivered to the failover Lambda.
 */
export function alarmEventPattern(alarmNames: readonly string[], where: AlarmSource = LONGEST_SOURCE) {
  return {
    source: ['aws.cloudwatch'],
    'detail-type': ['CloudWatch Alarm State Change'],
    account: [where.account],
    region: [where.region],
    detail: { alarmName: [...alarmNames] },
  };
}

/**
 * The size EventBridge would count, measured generously: JSON with a space after every ':' and
 * ',' (the longest usual serialization), and the longest account and region, so a pattern that
 * fits here fits however CloudFormation renders it.
 */
export function eventPatternSize(alarmNames: readonly string[]): number {
  return JSON.stringify(alarmEventPattern(alarmNames), null, 1).replace(/\n */g, ' ').length;
}

/** Packs names, in order, into groups whose patterns stay within `maxChars`. */
export function packAlarmNames(
  alarmNames: readonly string[],
  maxChars: number = EVENT_PATTERN_QUOTA_CHARS,
): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  for (const name of alarmNames) {
    if (eventPatternSize([name]) > maxChars) {
      throw new Error(
        `alarm name too long for an EventBridge pattern of ${maxChars} characters, got: ${name}`,
      );
    }
    if (current.length > 0 && eventPatternSize([...current, name]) > maxChars) {
      groups.push(current);
      current = [];
    }
    current.push(name);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export interface AlarmRulesProps {
  /** Exactly the alarm names to listen to. */
  readonly alarmNames: readonly string[];
  /** Invoked asynchronously with each matching event. */
  readonly target: IFunction;
  /** Events EventBridge could not deliver after its retries land here. */
  readonly deadLetterQueue: IQueue;
  /**
   * The pattern size quota of the account; patterns are filled to PATTERN_FILL of it.
   * @default 2048 (EventBridge's default quota)
   */
  readonly maxPatternChars?: number;
}

export class AlarmRules extends Construct {
  readonly rules: readonly Rule[];

  constructor(scope: Construct, id: string, props: AlarmRulesProps) {
    super(scope, id);
    const unique = new Set(props.alarmNames);
    if (unique.size !== props.alarmNames.length) {
      throw new Error(`alarm names must be unique, got duplicates in: ${props.alarmNames.join(', ')}`);
    }
    const quota = props.maxPatternChars ?? EVENT_PATTERN_QUOTA_CHARS;
    const groups = packAlarmNames(props.alarmNames, Math.floor(quota * PATTERN_FILL));
    this.rules = groups.map(
      (names, i) =>
        new Rule(this, `Rule${i}`, {
          ruleName: ruleName(this, `alarms-${i}`),
          description: `Health alarm state changes -> failover Lambda (${i + 1}/${groups.length})`,
          eventPattern: alarmEventPattern(names, {
            account: Stack.of(this).account,
            region: Stack.of(this).region,
          }),
          targets: [
            new StackRuleTarget(props.target, {
              // Delivery retries by EventBridge (target unreachable, throttled). The Lambda's own
              // async retries are configured on the function. Stale events are useless: the
              // handler re-reads the alarm state, but an hour-old alarm is a page, not a failover.
              retryAttempts: 2,
              maxEventAge: Duration.hours(1),
              deadLetterQueue: props.deadLetterQueue,
            }),
          ],
        }),
    );
  }
}
