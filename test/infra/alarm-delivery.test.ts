/**
 * Can the automation's alarms actually notify? CloudWatch alarm actions publish as the service
 * principal `cloudwatch.amazonaws.com`, not as a role, so an alarm reaches its topic only if the
 * topic policy allows that principal and, for a KMS-encrypted topic, the key policy lets it use
 * the key. moto enforces neither, so this walks the synthesized templates: every alarm action
 * (parent and nested stacks) -> topic -> topic policy -> key policy.
 */
import { NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { generateConfig, type Json, type Synthesized, sampleConfig, synth } from './helpers.ts';

const CLOUDWATCH = 'cloudwatch.amazonaws.com';

interface Scope {
  readonly name: string;
  readonly template: Json;
  /** The nested stack's parameters as the parent passes them, and the parent's scope. */
  readonly parent?: { readonly scope: Scope; readonly parameters: Record<string, Json> };
}

/** A resource a value refers to: `{ Ref: id }` or `{ Fn::GetAtt: [id, ...] }`, followed through nested-stack parameters. */
function referencedResource(scope: Scope, value: Json): { scope: Scope; id: string } | undefined {
  const id: string | undefined = value?.Ref ?? value?.['Fn::GetAtt']?.[0];
  if (typeof id !== 'string') return undefined;
  if (scope.template.Resources?.[id]) return { scope, id };
  if (scope.template.Parameters?.[id] && scope.parent) {
    return referencedResource(scope.parent.scope, scope.parent.parameters[id]);
  }
  return undefined;
}

/** An intrinsic-bearing string as text, pseudo parameters as `<AWS::...>`. */
function render(value: Json): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'] as [string, Json[]];
    return parts.map(render).join(sep);
  }
  return JSON.stringify(value);
}

const asArray = (v: Json): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function allowsCloudWatch(statement: Json, actions: readonly string[]): boolean {
  if (statement.Effect !== 'Allow') return false;
  const services = asArray(statement.Principal?.Service);
  if (!services.includes(CLOUDWATCH)) return false;
  const granted = asArray(statement.Action).map((a: string) => a.toLowerCase());
  return actions.every((a) => granted.includes(a.toLowerCase()));
}

/**
 * The grant names this account's alarms in this region: aws:SourceAccount is the stack's account
 * and aws:SourceArn an alarm ARN pattern in that account and region.
 */
function conditionProblems(statement: Json, where: string): string[] {
  const account = render(statement.Condition?.StringEquals?.['aws:SourceAccount']);
  const arn = render(
    statement.Condition?.ArnLike?.['aws:SourceArn'] ?? statement.Condition?.ArnEquals?.['aws:SourceArn'],
  );
  const problems: string[] = [];
  if (account !== '<AWS::AccountId>' && !/^\d{12}$/.test(account))
    problems.push(`${where}: aws:SourceAccount is not this account, got: ${account}`);
  const m =
    /^arn:<AWS::Partition>:cloudwatch:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):alarm:.+$/.exec(
      arn,
    );
  if (!m) problems.push(`${where}: aws:SourceArn is not a CloudWatch alarm ARN, got: ${arn}`);
  else {
    if (m[2] !== account) problems.push(`${where}: aws:SourceArn names account ${m[2]}, not ${account}`);
  }
  return problems;
}

/** Every problem on the way from each alarm action to its topic and key; plus how many actions were walked. */
function alarmDeliveryProblems(scopes: readonly Scope[]): { problems: string[]; walked: string[] } {
  const problems: string[] = [];
  const walked: string[] = [];
  for (const scope of scopes) {
    for (const [alarmId, alarm] of Object.entries<Json>(scope.template.Resources ?? {})) {
      if (alarm.Type !== 'AWS::CloudWatch::Alarm' && alarm.Type !== 'AWS::CloudWatch::CompositeAlarm')
        continue;
      const actions = [
        ...asArray(alarm.Properties.AlarmActions),
        ...asArray(alarm.Properties.OKActions),
        ...asArray(alarm.Properties.InsufficientDataActions),
      ];
      for (const action of actions) {
        const at = `${scope.name}/${alarmId}`;
        const target = referencedResource(scope, action);
        if (!target) {
          problems.push(`${at}: action ${render(action)} is not a topic of this app (cannot be checked)`);
          continue;
        }
        const topic = target.scope.template.Resources[target.id];
        if (topic.Type !== 'AWS::SNS::Topic') continue;
        walked.push(at);
        const policies = Object.values<Json>(target.scope.template.Resources).filter(
          (r) =>
            r.Type === 'AWS::SNS::TopicPolicy' &&
            asArray(r.Properties.Topics).some((t: Json) => t?.Ref === target.id),
        );
        const statements = policies.flatMap((p) => asArray(p.Properties.PolicyDocument.Statement));
        const publish = statements.find(
          (st) =>
            allowsCloudWatch(st, ['sns:Publish']) &&
            asArray(st.Resource).some((r: Json) => r === '*' || r?.Ref === target.id),
        );
        if (!publish) {
          problems.push(`${at}: topic ${target.id}'s policy does not allow ${CLOUDWATCH} to sns:Publish`);
        } else {
          problems.push(...conditionProblems(publish, `${at}: topic ${target.id} policy`));
        }
        for (const st of statements) {
          if (st.Effect === 'Deny' && st.Condition === undefined)
            problems.push(`${at}: topic ${target.id}'s policy has an unconditional Deny`);
        }
        const keyRef = topic.Properties.KmsMasterKeyId;
        if (keyRef === undefined) continue;
        const key = referencedResource(target.scope, keyRef);
        if (key?.scope.template.Resources[key.id].Type !== 'AWS::KMS::Key') {
          problems.push(
            `${at}: topic ${target.id} is encrypted with ${render(keyRef)}, whose policy is not in this app`,
          );
          continue;
        }
        const keyStatements = asArray(key.scope.template.Resources[key.id].Properties.KeyPolicy?.Statement);
        const use = keyStatements.find((st) => allowsCloudWatch(st, ['kms:GenerateDataKey*', 'kms:Decrypt']));
        if (!use) {
          problems.push(
            `${at}: key ${key.id}'s policy does not grant ${CLOUDWATCH} kms:GenerateDataKey* and kms:Decrypt`,
          );
        } else {
          problems.push(...conditionProblems(use, `${at}: key ${key.id} policy`));
        }
      }
    }
  }
  return { problems, walked };
}

/** The stack and every nested stack, each knowing the parameters its parent passes it. */
function scopesOf(s: Synthesized): Scope[] {
  const root: Scope = { name: s.stack.node.id, template: s.template.toJSON() };
  const byStack = new Map<Stack, Scope>([[s.stack, root]]);
  const nested = s.app.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
  // Parents before children: findAll is depth-first pre-order.
  for (const n of nested) {
    const parentStack = n.nestedStackParent!;
    const parent = byStack.get(parentStack)!;
    const resource = n.nestedStackResource!;
    const logicalId = parentStack.resolve((resource as unknown as { logicalId: string }).logicalId);
    const parameters = parent.template.Resources[logicalId].Properties.Parameters ?? {};
    const scope: Scope = {
      name: n.node.path,
      template: Template.fromStack(n).toJSON(),
      parent: { scope: parent, parameters },
    };
    byStack.set(n, scope);
  }
  return [...byStack.values()];
}

/** A deep copy of the scopes with `drop` applied to the one resource of `type` in the root. */
function withRootResource(scopes: readonly Scope[], type: string, drop: (resource: Json) => void): Scope[] {
  const copy = JSON.parse(JSON.stringify(scopes.map((sc) => ({ name: sc.name, template: sc.template }))));
  const rebuilt: Scope[] = [];
  scopes.forEach((sc, i) => {
    const parentIndex = sc.parent ? scopes.indexOf(sc.parent.scope) : -1;
    rebuilt.push({
      name: sc.name,
      template: copy[i].template,
      ...(sc.parent ? { parent: { scope: rebuilt[parentIndex]!, parameters: sc.parent.parameters } } : {}),
    });
  });
  const matches = Object.values<Json>(rebuilt[0]!.template.Resources).filter((r) => r.Type === type);
  expect(matches).toHaveLength(1);
  drop(matches[0]);
  return rebuilt;
}

describe('every alarm action reaches its topic: topic policy and key policy let CloudWatch publish', () => {
  it.each([
    ['the sample configuration', () => sampleConfig()],
    ['a generated 30-service configuration', () => generateConfig(30, 'mixed', 3)],
  ])('%s: every alarm action in every stack passes', (_name, config) => {
    const s = synth(config());
    const { problems, walked } = alarmDeliveryProblems(scopesOf(s));
    expect(problems).toEqual([]);
    // The automation's own (dead-letter, failover errors, failed executions, zone-shift errors and
    // backlog), the readiness check's (not ready with alarm and OK actions, errors, not running) and
    // two per service (no healthy replica, lag over budget), in nested stacks.
    const services = s.stack.automation.config.services.length;
    expect(walked.length).toBe(5 + 4 + 2 * services);
    expect(walked.some((w) => w.includes('/Monitoring/Alarms'))).toBe(true);
  });

  it('with an account and region given, the conditions name them', () => {
    const s = synth(sampleConfig(), { env: { account: '111122223333', region: 'us-east-1' } });
    const { problems, walked } = alarmDeliveryProblems(scopesOf(s));
    expect(problems).toEqual([]);
    expect(walked.length).toBeGreaterThan(0);
  });

  describe('the check fails when a grant is gone', () => {
    const scopes = scopesOf(synth(sampleConfig()));
    const alarms = alarmDeliveryProblems(scopes).walked.length;

    it('without the topic policy statement for CloudWatch, every alarm is reported', () => {
      const broken = withRootResource(scopes, 'AWS::SNS::TopicPolicy', (policy) => {
        const doc = policy.Properties.PolicyDocument;
        doc.Statement = doc.Statement.filter((st: Json) => !allowsCloudWatch(st, ['sns:Publish']));
      });
      const { problems } = alarmDeliveryProblems(broken);
      expect(problems).toHaveLength(alarms);
      expect(problems[0]).toMatch(/policy does not allow cloudwatch\.amazonaws\.com to sns:Publish/);
    });

    it('without the key policy statement for CloudWatch, every alarm is reported', () => {
      const broken = withRootResource(scopes, 'AWS::KMS::Key', (key) => {
        const doc = key.Properties.KeyPolicy;
        doc.Statement = doc.Statement.filter(
          (st: Json) => !asArray(st.Principal?.Service).includes(CLOUDWATCH),
        );
      });
      const { problems } = alarmDeliveryProblems(broken);
      expect(problems).toHaveLength(alarms);
      expect(problems[0]).toMatch(/key .* does not grant cloudwatch\.amazonaws\.com kms:GenerateDataKey\*/);
    });

    it("without the confused-deputy conditions (any account's alarms), both grants are reported", () => {
      const broken = withRootResource(scopes, 'AWS::SNS::TopicPolicy', (policy) => {
        for (const st of policy.Properties.PolicyDocument.Statement)
          if (st.Effect === 'Allow') delete st.Condition;
      });
      const unconditionedKey = withRootResource(broken, 'AWS::KMS::Key', (key) => {
        for (const st of key.Properties.KeyPolicy.Statement) delete st.Condition;
      });
      const { problems } = alarmDeliveryProblems(unconditionedKey);
      expect(problems.filter((p) => p.includes('topic') && p.includes('aws:SourceAccount'))).toHaveLength(
        alarms,
      );
      expect(problems.filter((p) => p.includes('key') && p.includes('aws:SourceArn'))).toHaveLength(alarms);
    });
  });
});
