/**
 * EventBridge rules of the stack that invoke its Lambdas, with ONE invoke permission per function
 * and ONE dead-letter statement on the queue, instead of one per rule.
 *
 * CDK's LambdaFunction target adds a Lambda permission per rule (a statement in the function's
 * resource policy, which Lambda caps at 20 KB) and, with a dead-letter queue, a statement per rule
 * to the queue policy (SQS caps a queue policy at 8,192 bytes and 20 statements). The alarm rules
 * grow with the fleet (packed to 60 % of the pattern quota: ~60 rules at 1,000 services, more with
 * probes), so per-rule statements fail the deploy long before anything else does. So every rule
 * here gets an explicit name under one prefix of this stack, and the function's one permission and
 * the queue's one statement name that prefix (`rule/<prefix>-*`): only this stack's rules, in this
 * account and region, whatever their number.
 */
import { Arn, ArnFormat, type Duration, NestedStack, Stack, Token } from 'aws-cdk-lib';
import type { IRuleRef, IRuleTarget, RuleTargetConfig, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';

/** EventBridge rule names: at most 64 characters of [.-_A-Za-z0-9]. */
const RULE_NAME_MAX = 64;

function rootStack(scope: IConstruct): Stack {
  let stack = Stack.of(scope);
  while (NestedStack.isNestedStack(stack) && stack.nestedStackParent) stack = stack.nestedStackParent;
  return stack;
}

/** FNV-1a, base 36: a short, stable tag of a string. */
function tag(s: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    hash ^= s.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

/**
 * The name prefix of this stack's rules: the start of the stack name and a tag of the whole name
 * (two stacks whose names share the first 24 characters still get different prefixes).
 */
export function ruleNamePrefix(scope: IConstruct): string {
  const root = rootStack(scope);
  const name = Token.isUnresolved(root.stackName) ? root.node.path : root.stackName;
  return `${name.slice(0, 24)}-${tag(name)}`;
}

/** An explicit rule name under the stack's prefix. */
export function ruleName(scope: IConstruct, suffix: string): string {
  const name = `${ruleNamePrefix(scope)}-${suffix}`;
  if (name.length > RULE_NAME_MAX || !/^[.\-_A-Za-z0-9]+$/.test(name)) {
    throw new Error(`rule name must be at most ${RULE_NAME_MAX} of [.-_A-Za-z0-9], got: ${name}`);
  }
  return name;
}

/** ARN pattern of every rule of this stack (rules on the default bus). */
export function stackRulesArn(scope: IConstruct): string {
  return Arn.format(
    {
      service: 'events',
      resource: 'rule',
      resourceName: `${ruleNamePrefix(scope)}-*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    },
    Stack.of(scope),
  );
}

const PERMISSION_ID = 'InvokedByStackRules';
const QUEUES_WITH_STATEMENT = new WeakSet<IQueue>();

export interface StackRuleTargetProps {
  /** @default - the matched event */
  readonly event?: RuleTargetInput;
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
  /** Events EventBridge could not deliver after its retries. @default - none */
  readonly deadLetterQueue?: IQueue;
}

/**
 * A Lambda target for a rule named with `ruleName`: the function and the dead-letter queue get
 * their one shared statement (added once), not one per rule.
 */
export class StackRuleTarget implements IRuleTarget {
  constructor(
    private readonly fn: IFunction,
    private readonly props: StackRuleTargetProps,
  ) {}

  bind(_rule: IRuleRef, _id?: string): RuleTargetConfig {
    const fn = this.fn;
    if (!fn.permissionsNode.tryFindChild(PERMISSION_ID)) {
      fn.addPermission(PERMISSION_ID, {
        principal: new ServicePrincipal('events.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        sourceArn: stackRulesArn(fn),
        sourceAccount: Stack.of(fn).account,
      });
    }
    const dlq = this.props.deadLetterQueue;
    if (dlq && !QUEUES_WITH_STATEMENT.has(dlq)) {
      QUEUES_WITH_STATEMENT.add(dlq);
      dlq.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowThisStacksRulesToDeadLetter',
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [dlq.queueArn],
          conditions: {
            ArnLike: { 'aws:SourceArn': stackRulesArn(dlq) },
            StringEquals: { 'aws:SourceAccount': Stack.of(dlq).account },
          },
        }),
      );
    }
    return {
      arn: fn.functionArn,
      targetResource: fn,
      ...(this.props.event ? { input: this.props.event } : {}),
      retryPolicy: {
        maximumRetryAttempts: this.props.retryAttempts,
        maximumEventAgeInSeconds: this.props.maxEventAge.toSeconds({ integral: true }),
      },
      ...(dlq ? { deadLetterConfig: { arn: dlq.queueArn } } : {}),
    };
  }
}
