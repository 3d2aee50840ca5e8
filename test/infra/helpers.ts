/**
 * Shared helpers for the infrastructure tests: configurations (the sample and generated ones)
 * and a synth that skips bundling unless asked, so template tests stay fast.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import type { FailoverConfig } from '../../lambdas/domain/config.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { loadConfigFile } from '../../lib/config-loader.ts';
import type { FailoverAutomationProps } from '../../lib/failover-automation.ts';
import { FailoverStack, type FailoverStackProps } from '../../lib/failover-stack.ts';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/**
 * The sample services on the health signals AWS publishes (a Route 53 health check, a target
 * group, an existing alarm): config/examples/aws-signals.json. The probed config/failover.json is
 * synthesized by test/infra/node-probe.test.ts.
 */
export function sampleConfig(): FailoverConfig {
  return loadConfigFile(join(PROJECT_ROOT, 'config', 'examples', 'aws-signals.json'));
}

export interface SynthOptions {
  /** Run esbuild for real (slow); template tests skip it. */
  readonly bundle?: boolean;
  readonly env?: Environment;
  readonly outdir?: string;
  readonly automationOptions?: Omit<FailoverAutomationProps, 'config'>;
  readonly monitoringOptions?: FailoverStackProps['monitoringOptions'];
  /** Adds to the stack before it is synthesized. */
  readonly extend?: (stack: FailoverStack) => void;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: FailoverStack;
  readonly template: Template;
  /** Nested health stacks' templates, by shard. */
  readonly nested: ReadonlyMap<number, Template>;
}

export function synth(config: FailoverConfig, options: SynthOptions = {}): Synthesized {
  const app = new App({
    outdir: options.outdir ?? mkdtempSync(join(tmpdir(), 'failover-synth-')),
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new FailoverStack(app, 'Test', {
    config,
    ...(options.env ? { env: options.env } : {}),
    ...(options.automationOptions ? { automationOptions: options.automationOptions } : {}),
    ...(options.monitoringOptions ? { monitoringOptions: options.monitoringOptions } : {}),
  });
  options.extend?.(stack);
  const template = Template.fromStack(stack);
  const nested = new Map([...stack.automation.healthStacks].map(([k, s]) => [k, Template.fromStack(s)]));
  return { app, stack, template, nested };
}

let sample: Synthesized | undefined;

/**
 * The sample configuration's stack, synthesized once per worker: the files of vitest's 'shared'
 * project run in one worker and reuse it. Read only: a test that extends the stack, adds aspects or
 * changes the configuration synthesizes its own with `synth`.
 */
export function sampleStack(): Synthesized {
  sample ??= synth(sampleConfig());
  return sample;
}

const fleets = new Map<string, Synthesized>();

/**
 * A configuration's stack with default options, synthesized once per worker and memoised by the
 * configuration's JSON: the large generated fleets several suites check (test/infra/scale.test.ts
 * and monitoring.test.ts both synthesize the same two 200-service fleets, 3-4 s of CPU each) are
 * synthesized by whichever runs first in the worker. Read only, as `sampleStack`: a test that
 * extends the stack, adds aspects or needs options synthesizes its own with `synth`.
 */
export function synthShared(config: FailoverConfig): Synthesized {
  const key = JSON.stringify(config);
  let s = fleets.get(key);
  if (!s) {
    s = synth(config);
    fleets.set(key, s);
  }
  return s;
}

/** A CloudFormation value as the tests read it: JSON, loosely typed on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON is walked structurally in assertions
export type Json = any;

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Json;
}

/** Every resource of `type` in a template, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** All templates of a synthesis: the parent first, then the nested health stacks. */
export function allTemplates(s: Synthesized): Template[] {
  return [s.template, ...s.nested.values()];
}

/** The failover Lambda's role policies (inline default policy and overflow managed policies). */
export const FAILOVER_ROLE = 'AutomationFailoverFunctionServiceRole';

/**
 * Identity-policy statements (role inline policies, AWS::IAM::Policy, AWS::IAM::ManagedPolicy)
 * of a template, each with the logical id of the policy it came from.
 */
export function identityStatements(
  template: Template,
  policyPrefix = '',
): { policy: string; statement: Json }[] {
  const out: { policy: string; statement: Json }[] = [];
  const push = (policy: string, doc: Json) => {
    if (!policy.startsWith(policyPrefix)) return;
    for (const statement of doc?.Statement ?? []) out.push({ policy, statement });
  };
  // A policy counts for a role when its own id has the prefix or it is attached to a role that
  // has it (the traffic permissions are managed policies shared by several roles).
  const attachedTo = (r: CfnResource) =>
    ((r.Properties.Roles ?? []) as Json[]).some(
      (x) => typeof x?.Ref === 'string' && x.Ref.startsWith(policyPrefix),
    );
  const pushAttached = (id: string, r: CfnResource) =>
    push(policyPrefix && attachedTo(r) ? `${policyPrefix}:${id}` : id, r.Properties.PolicyDocument);
  for (const [id, r] of Object.entries(resourcesOf(template, 'AWS::IAM::Policy'))) pushAttached(id, r);
  for (const [id, r] of Object.entries(resourcesOf(template, 'AWS::IAM::ManagedPolicy'))) pushAttached(id, r);
  for (const [id, r] of Object.entries(resourcesOf(template, 'AWS::IAM::Role')))
    for (const p of r.Properties.Policies ?? []) push(id, p.PolicyDocument);
  return out;
}

export const asArray = <T>(v: T | T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/**
 * A policy document as IAM would measure it after CloudFormation resolved it: intrinsic functions
 * replaced by plausible values, whitespace removed (IAM does not count whitespace).
 */
export function renderedPolicySize(doc: Json): number {
  const resolve = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      if ('Fn::Join' in v) {
        const [sep, parts] = v['Fn::Join'];
        return (parts as Json[]).map((p) => String(resolve(p))).join(sep);
      }
      if ('Ref' in v) return v.Ref === 'AWS::Partition' ? 'aws' : 'x'.repeat(64);
      if ('Fn::GetAtt' in v) return `arn:aws:service:us-east-1:111122223333:${'x'.repeat(64)}`;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    }
    return v;
  };
  return JSON.stringify(resolve(doc)).length;
}

export type GeneratedHealth = 'route53-health-check' | 'target-group-health' | 'alarm' | 'mixed';

const hex16 = (n: number) => n.toString(16).padStart(16, '0');

/**
 * Node j of service i in the benchmarking range (RFC 2544, 198.18.0.0/15): not a private address,
 * which a Route 53 health check refuses.
 */
export function benchmarkAddress(i: number, j: number): string {
  const n = i * 8 + j;
  return `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * `count` services. Routers cycle route53 / elbv2-target / elbv2-weighted; health signals are all
 * of one kind or mixed. `route53-health-check` for every node is the worst case for resources.
 */
export function generateConfig(
  count: number,
  health: GeneratedHealth = 'mixed',
  nodesPerService = 2,
): FailoverConfig {
  const account = '111122223333';
  const region = 'us-east-1';
  const tgArn = (name: string, n: number) =>
    `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/${name}/${hex16(n)}`;
  const lbArn = (n: number) =>
    `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/app/lb-${n}/${hex16(n)}`;
  const services: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const id = `svc-${String(i).padStart(3, '0')}`;
    const routerKind = i % 3;
    const nodes = Array.from({ length: nodesPerService }, (_, j) => {
      const nodeId = `n${j}`;
      const kind =
        health === 'mixed'
          ? (['route53-health-check', 'target-group-health', 'alarm'] as const)[(i + j) % 3]
          : health;
      const signal =
        kind === 'route53-health-check'
          ? { type: kind, protocol: 'TCP' as const, host: benchmarkAddress(i, j), port: 5432 }
          : kind === 'target-group-health'
            ? { type: kind, targetGroupArn: tgArn(`tg-${i}-${j}`, i * 16 + j), loadBalancerArn: lbArn(i) }
            : { type: kind, alarmName: `existing-${id}-${nodeId}-health` };
      return {
        id: nodeId,
        ...(routerKind === 0 ? { address: benchmarkAddress(i, j) } : {}),
        ...(routerKind === 1 ? { target: { id: `i-${hex16(i * 16 + j).slice(0, 17)}` } } : {}),
        ...(routerKind === 2 ? { targetGroupArn: tgArn(`w-${i}-${j}`, i * 16 + j) } : {}),
        health: signal,
        lag: {
          namespace: 'Custom/Db',
          metricName: 'ReplicationLagSeconds',
          dimensions: { Node: `${id}-${nodeId}` },
        },
      };
    });
    const router =
      routerKind === 0
        ? {
            type: 'route53' as const,
            hostedZoneId: `Z${(i % 4) + 1}EXAMPLEZONE`,
            zoneName: `zone${i % 4}.example.com`,
            recordName: `${id}.zone${i % 4}.example.com`,
            recordType: 'A' as const,
          }
        : routerKind === 1
          ? { type: 'elbv2-target' as const, targetGroupArn: tgArn(`primary-${i}`, 0xf000 + i) }
          : {
              type: 'elbv2-weighted' as const,
              listenerArn: `arn:aws:elasticloadbalancing:${region}:${account}:listener/app/lb-${i}/${hex16(i)}/${hex16(i + 1)}`,
            };
    services.push({ id, initialPrimary: 'n0', router, nodes });
  }
  return parseConfig({ stackName: 'Generated', services });
}

/**
 * Write actions allowed on Resource '*' because IAM offers nothing narrower, each with the reason.
 * Everything else on '*' must be a Describe/Get/List action.
 */
export const WRITE_ON_STAR_EXCEPTIONS: Record<string, string> = {
  // Step Functions execution logging (added by aws-cdk-lib's StateMachine `logs` option): the
  // CloudWatch Logs vended-log-delivery APIs support no resource-level permissions, and the
  // Step Functions guide documents Resource "*" for them.
  'logs:CreateLogDelivery': 'vended log delivery, no resource types',
  'logs:UpdateLogDelivery': 'vended log delivery, no resource types',
  'logs:DeleteLogDelivery': 'vended log delivery, no resource types',
  'logs:PutResourcePolicy': 'vended log delivery to a log group, no resource types',
};

/** Every identity statement with a '*' resource may only hold read actions. */
export function assertNoWriteOnStar(s: Synthesized): void {
  const offenders: string[] = [];
  for (const t of allTemplates(s)) {
    for (const { policy, statement } of identityStatements(t)) {
      if (statement.Effect !== 'Allow') continue;
      const resources = asArray(statement.Resource).map((r) =>
        typeof r === 'string' ? r : JSON.stringify(r),
      );
      if (!resources.some((r) => r === '*' || r.endsWith(':*') || r.endsWith('"*"'))) continue;
      for (const action of asArray<string>(statement.Action)) {
        const verb = action.split(':')[1] ?? '';
        if (action in WRITE_ON_STAR_EXCEPTIONS) continue;
        if (!/^(Describe|Get|List)/.test(verb) || verb.includes('*')) offenders.push(`${policy}: ${action}`);
      }
    }
  }
  expect(offenders).toEqual([]);
}
