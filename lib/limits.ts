/**
 * The deploy-time limits a fleet runs into, in one place, with where each figure comes from, and
 * the check that fails `cdk synth` when a synthesized stack would pass one. `cdk synth` succeeding
 * says nothing about `cdk deploy`: CloudFormation, IAM, EventBridge, Lambda and CloudWatch each
 * refuse an oversized template, policy, pattern, environment or dashboard only at deploy time,
 * half-way through an update. So every stack of the app is measured at synth (a construct
 * validation on the stack: every problem is reported at once, with the figure and the remedy).
 *
 * The measuring is pure over template JSON, so the tests and `npm run bench -- scale` read the same
 * figures from a cloud assembly as the validation reads from the stacks.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AssetStaging, NestedStack, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Limit {
  /** What is limited, as the message names it. */
  readonly name: string;
  readonly max: number;
  readonly unit: string;
  /** The quota as AWS documents it. */
  readonly source: string;
  /** What to do when a figure passes it. */
  readonly remedy: string;
}

const SHARDS_REMEDY =
  'split the services over two stacks, or spread them over more nested stacks (FailoverAutomation ' +
  'healthStackShards, AutomationMonitoring alarmStackShards; raising either moves named alarms between ' +
  'stacks: see docs/operating.md)';

export const LIMITS = {
  templateBytes: {
    name: 'template size',
    max: 1_000_000,
    unit: 'bytes',
    source: 'CloudFormation quotas: template body size in an Amazon S3 object',
    remedy: SHARDS_REMEDY,
  },
  stackResources: {
    name: 'resources per stack',
    max: 500,
    unit: 'resources',
    source: 'CloudFormation quotas: resources per stack',
    remedy: SHARDS_REMEDY,
  },
  stackOutputs: {
    name: 'outputs per stack',
    max: 200,
    unit: 'outputs',
    source: 'CloudFormation quotas: outputs per template',
    remedy:
      'reference resources across nested stacks by name instead of by token (each token reference is an output)',
  },
  stackParameters: {
    name: 'parameters per stack',
    max: 200,
    unit: 'parameters',
    source: 'CloudFormation quotas: parameters per template',
    remedy: 'pass fewer values from the parent into nested stacks (each token reference is a parameter)',
  },
  roleInlinePolicyChars: {
    name: 'inline policies of a role',
    max: 10_240,
    unit: 'characters',
    source: 'IAM quotas: role policy size (all inline policies of a role, whitespace not counted)',
    remedy:
      'move statements into customer managed policies (traffic permissions are packed into them already)',
  },
  managedPolicyChars: {
    name: 'managed policy size',
    max: 6_144,
    unit: 'characters',
    source: 'IAM quotas: managed policy size (whitespace not counted)',
    remedy: 'pack fewer statements per managed policy',
  },
  managedPoliciesPerRole: {
    name: 'managed policies attached to a role',
    max: 10,
    unit: 'policies',
    source: 'IAM quotas: managed policies per role (default; adjustable to 20)',
    remedy:
      'request the IAM quota "Managed policies per role" up to 20, shorten record names, or split the services over two stacks',
  },
  eventPatternChars: {
    name: 'event pattern size',
    max: 2_048,
    unit: 'characters',
    source: 'EventBridge quotas: event pattern size (default; adjustable to 4,096)',
    remedy: 'pack fewer alarm names per rule (FailoverAutomation maxEventPatternChars)',
  },
  rulesPerBus: {
    name: 'rules per event bus',
    max: 300,
    unit: 'rules',
    source: 'EventBridge quotas: rules per event bus (default, per account and Region)',
    remedy:
      'request a higher EventBridge "Rules per event bus" quota (other stacks share the bus), or raise maxEventPatternChars to 4096 after raising that quota',
  },
  lambdaResourcePolicyBytes: {
    name: 'Lambda resource-based policy',
    max: 20_480,
    unit: 'bytes',
    source:
      'Lambda quotas: function resource-based policy, 20 KB (one statement per AWS::Lambda::Permission)',
    remedy:
      'give the rules that invoke a function one shared permission (lib/rule-targets.ts StackRuleTarget) instead of one each',
  },
  queuePolicyBytes: {
    name: 'SQS queue policy size',
    max: 8_192,
    unit: 'bytes',
    source: 'Amazon SQS policy quotas: 8,192 bytes per queue policy',
    remedy:
      'give the rules that dead-letter into the queue one shared statement (lib/rule-targets.ts StackRuleTarget) instead of one each',
  },
  queuePolicyStatements: {
    name: 'SQS queue policy statements',
    max: 20,
    unit: 'statements',
    source: 'Amazon SQS policy quotas: 20 statements per queue policy',
    remedy:
      'give the rules that dead-letter into the queue one shared statement (lib/rule-targets.ts StackRuleTarget) instead of one each',
  },
  lambdaEnvironmentBytes: {
    name: 'Lambda environment variables',
    max: 4_096,
    unit: 'bytes',
    source: 'Lambda quotas: environment variables, 4 KB in total per function',
    remedy: 'ship settings in the bundle (config.json) instead of environment variables',
  },
  lambdaAssetBytes: {
    name: 'Lambda deployment package (unzipped)',
    max: 262_144_000,
    unit: 'bytes',
    source: 'Lambda quotas: deployment package size, 250 MB unzipped',
    remedy: 'bundle with esbuild (tree shaking, minify) instead of shipping node_modules',
  },
  dashboardWidgets: {
    name: 'widgets per dashboard',
    max: 500,
    unit: 'widgets',
    source: 'CloudWatch quotas: widgets per dashboard',
    remedy: 'lower AutomationMonitoring servicesPerDashboard',
  },
  dashboardMetrics: {
    name: 'metrics per dashboard',
    max: 2_500,
    unit: 'metrics',
    source: 'CloudWatch quotas: metrics per dashboard, across all widgets',
    remedy: 'lower AutomationMonitoring servicesPerDashboard',
  },
  dashboardBodyBytes: {
    name: 'dashboard body',
    // PutDashboard documents no body limit of its own; through CloudFormation the body is a string
    // property of the template, so the template size bounds it.
    max: 1_000_000,
    unit: 'bytes',
    source: 'CloudFormation quotas: template body size (the dashboard body is a template string)',
    remedy: 'lower AutomationMonitoring servicesPerDashboard',
  },
} as const satisfies Record<string, Limit>;

export type LimitKey = keyof typeof LIMITS;

/** One measured figure: which limit, what was measured (a stack, a role, a rule), and its value. */
export interface Figure {
  readonly limit: LimitKey;
  readonly subject: string;
  readonly value: number;
}

/** A CloudFormation template as JSON. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON is walked structurally
type Json = any;

/**
 * An intrinsic value resolved to a plausible, deliberately long, string: IAM counts the policy as it
 * is after CloudFormation resolved it, and the longest Region, partition and account-scoped ARN
 * keep the estimate on the safe side.
 */
export function renderValue(v: Json): Json {
  if (Array.isArray(v)) return v.map(renderValue);
  if (v && typeof v === 'object') {
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'];
      return (parts as Json[]).map((p) => String(renderValue(p))).join(sep);
    }
    if ('Ref' in v) return PSEUDO[v.Ref as string] ?? 'x'.repeat(100);
    if ('Fn::GetAtt' in v) return `arn:aws-us-gov:service:ap-southeast-3:111122223333:${'x'.repeat(80)}`;
    if ('Fn::Sub' in v || 'Fn::ImportValue' in v || 'Fn::Select' in v) return 'x'.repeat(128);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderValue(x)]));
  }
  return v;
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'ap-southeast-3',
  'AWS::AccountId': '111122223333',
  'AWS::URLSuffix': 'amazonaws.com.cn',
  'AWS::StackName': 'x'.repeat(128),
  'AWS::StackId': 'x'.repeat(160),
  'AWS::NoValue': '',
};

/** The size IAM counts: the resolved document without whitespace. */
export function policyChars(document: Json): number {
  return JSON.stringify(renderValue(document)).length;
}

/** EventBridge counts the pattern as written; measured with a space after ':' and ',' to be safe. */
export function patternChars(pattern: Json): number {
  return JSON.stringify(renderValue(pattern), null, 1).replace(/\n */g, ' ').length;
}

/** The bytes CloudFormation receives: the template as `cdk synth` writes it. */
export function templateBytes(template: Json): number {
  return Buffer.byteLength(JSON.stringify(template, undefined, 1), 'utf8');
}

const byType = (template: Json, type: string): [string, Json][] =>
  Object.entries(template.Resources ?? {}).filter(([, r]) => (r as Json).Type === type) as [string, Json][];

const refsTo = (list: Json, id: string): boolean =>
  Array.isArray(list) && list.some((x) => x && typeof x === 'object' && x.Ref === id);

/** Every figure one template has (the per-bus rule count is summed over templates by the caller). */
export function measureTemplate(name: string, template: Json): Figure[] {
  const figures: Figure[] = [
    { limit: 'templateBytes', subject: name, value: templateBytes(template) },
    { limit: 'stackResources', subject: name, value: Object.keys(template.Resources ?? {}).length },
    { limit: 'stackOutputs', subject: name, value: Object.keys(template.Outputs ?? {}).length },
    { limit: 'stackParameters', subject: name, value: Object.keys(template.Parameters ?? {}).length },
  ];
  const inlinePolicies = byType(template, 'AWS::IAM::Policy');
  const managedPolicies = byType(template, 'AWS::IAM::ManagedPolicy');
  for (const [id, role] of byType(template, 'AWS::IAM::Role')) {
    const p = role.Properties ?? {};
    const inline =
      (p.Policies ?? []).reduce((n: number, x: Json) => n + policyChars(x.PolicyDocument), 0) +
      inlinePolicies
        .filter(([, r]) => refsTo(r.Properties?.Roles, id))
        .reduce((n, [, r]) => n + policyChars(r.Properties.PolicyDocument), 0);
    const managed =
      (p.ManagedPolicyArns ?? []).length +
      managedPolicies.filter(([, r]) => refsTo(r.Properties?.Roles, id)).length;
    figures.push(
      { limit: 'roleInlinePolicyChars', subject: `${name} role ${id}`, value: inline },
      { limit: 'managedPoliciesPerRole', subject: `${name} role ${id}`, value: managed },
    );
  }
  for (const [id, r] of managedPolicies) {
    figures.push({
      limit: 'managedPolicyChars',
      subject: `${name} managed policy ${id}`,
      value: policyChars(r.Properties.PolicyDocument),
    });
  }
  for (const [id, r] of byType(template, 'AWS::Events::Rule')) {
    if (r.Properties?.EventPattern === undefined) continue;
    figures.push({
      limit: 'eventPatternChars',
      subject: `${name} rule ${id}`,
      value: patternChars(r.Properties.EventPattern),
    });
  }
  for (const [id, r] of byType(template, 'AWS::SQS::QueuePolicy')) {
    const doc = r.Properties?.PolicyDocument ?? {};
    const subject = `${name} queue policy ${id}`;
    figures.push(
      { limit: 'queuePolicyBytes', subject, value: policyChars(doc) },
      { limit: 'queuePolicyStatements', subject, value: (doc.Statement ?? []).length },
    );
  }
  for (const [id, r] of byType(template, 'AWS::Lambda::Function')) {
    const vars: Record<string, Json> = r.Properties?.Environment?.Variables ?? {};
    const bytes = Object.entries(vars).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(renderValue(v))),
      0,
    );
    figures.push({ limit: 'lambdaEnvironmentBytes', subject: `${name} function ${id}`, value: bytes });
  }
  for (const [id, r] of byType(template, 'AWS::CloudWatch::Dashboard')) {
    const rendered = renderValue(r.Properties?.DashboardBody);
    const body = typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
    let widgets: Json[] = [];
    try {
      widgets = JSON.parse(body).widgets ?? [];
    } catch {
      // A body that is not JSON after rendering (an unusual intrinsic) is still measured by size.
    }
    const metrics = widgets.reduce(
      (n, w) => n + (Array.isArray(w?.properties?.metrics) ? w.properties.metrics.length : 0),
      0,
    );
    const subject = `${name} dashboard ${id}`;
    figures.push(
      { limit: 'dashboardBodyBytes', subject, value: Buffer.byteLength(body) },
      { limit: 'dashboardWidgets', subject, value: widgets.length },
      { limit: 'dashboardMetrics', subject, value: metrics },
    );
  }
  return figures;
}

/** Rules per event bus, over all templates of one deployment (the default bus when none is named). */
export function measureRulesPerBus(templates: ReadonlyMap<string, Json>): Figure[] {
  const perBus = new Map<string, number>();
  for (const template of templates.values()) {
    for (const [, r] of byType(template, 'AWS::Events::Rule')) {
      const bus = r.Properties?.EventBusName;
      const key = bus === undefined ? 'default' : JSON.stringify(bus);
      perBus.set(key, (perBus.get(key) ?? 0) + 1);
    }
  }
  return [...perBus].map(([bus, value]) => ({ limit: 'rulesPerBus', subject: `event bus ${bus}`, value }));
}

/**
 * The resource-based policy of each function, over all templates: every AWS::Lambda::Permission
 * is one statement of its function's policy, wherever it is declared (a rule in a nested stack puts
 * its permission there, naming the function through a parameter `referenceto<stack><id>Arn`).
 */
export function measureLambdaPolicies(templates: ReadonlyMap<string, Json>): Figure[] {
  const functions = new Set<string>();
  for (const template of templates.values()) {
    for (const [id] of byType(template, 'AWS::Lambda::Function')) functions.add(id);
  }
  const keyOf = (fnName: Json): string => {
    const ref = fnName?.Ref ?? fnName?.['Fn::GetAtt']?.[0];
    if (typeof ref !== 'string') return JSON.stringify(fnName);
    if (functions.has(ref)) return ref;
    return [...functions].find((f) => ref.endsWith(`${f}Arn`) || ref.endsWith(`${f}Ref`)) ?? ref;
  };
  const bytes = new Map<string, number>();
  for (const template of templates.values()) {
    for (const [id, r] of byType(template, 'AWS::Lambda::Permission')) {
      const p = r.Properties ?? {};
      // The statement Lambda stores for the permission, as AddPermission writes it.
      const statement = {
        Sid: id,
        Effect: 'Allow',
        Principal: { Service: p.Principal },
        Action: p.Action,
        Resource: 'arn:aws-us-gov:lambda:ap-southeast-3:111122223333:function:'.padEnd(140, 'x'),
        Condition: {
          ...(p.SourceAccount ? { StringEquals: { 'AWS:SourceAccount': p.SourceAccount } } : {}),
          ...(p.SourceArn ? { ArnLike: { 'AWS:SourceArn': p.SourceArn } } : {}),
        },
      };
      const key = keyOf(p.FunctionName);
      bytes.set(key, (bytes.get(key) ?? 0) + policyChars(statement) + 1);
    }
  }
  return [...bytes].map(([fn, value]) => ({
    limit: 'lambdaResourcePolicyBytes' as const,
    subject: `function ${fn}`,
    value,
  }));
}

/** Every figure of a deployment: each template, and the rules per bus and function policies across them. */
export function measureTemplates(templates: ReadonlyMap<string, Json>): Figure[] {
  return [
    ...[...templates].flatMap(([name, t]) => measureTemplate(name, t)),
    ...measureRulesPerBus(templates),
    ...measureLambdaPolicies(templates),
  ];
}

/** Figures past their limit, as messages naming the limit, the figure and the remedy. */
export function overLimit(figures: readonly Figure[], fraction = 1): string[] {
  return figures
    .filter((f) => f.value > LIMITS[f.limit].max * fraction)
    .map((f) => {
      const l: Limit = LIMITS[f.limit];
      return (
        `${f.subject}: ${l.name} is ${f.value.toLocaleString('en-US')} ${l.unit}, over the limit of ` +
        `${l.max.toLocaleString('en-US')} (${l.source}); ${l.remedy}`
      );
    });
}

/** The largest figure per limit, with its share of the limit. */
export function largestPerLimit(
  figures: readonly Figure[],
): Map<LimitKey, { figure: Figure; fractionOfLimit: number }> {
  const out = new Map<LimitKey, { figure: Figure; fractionOfLimit: number }>();
  for (const f of figures) {
    const current = out.get(f.limit);
    if (!current || f.value > current.figure.value) {
      out.set(f.limit, { figure: f, fractionOfLimit: f.value / LIMITS[f.limit].max });
    }
  }
  return out;
}

/** Bytes of a staged asset directory (or file). */
function sizeOnDisk(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, entry) => n + sizeOnDisk(join(path, entry)), 0);
}

/** The template a stack synthesizes to (the same call `cdk synth` makes). */
function templateOf(stack: Stack): Json {
  // biome-ignore lint/suspicious/noExplicitAny: _toCloudFormation is aws-cdk-lib's own (internal) template renderer
  return (stack as any)._toCloudFormation();
}

const CHECKED = Symbol.for('failover-automation/deploy-limits');

/**
 * Fails synth when any stack of `stack`'s tree (the stack and its nested stacks) would pass a
 * deploy-time limit. Idempotent: adding it twice to a stack checks once.
 */
export function addDeployLimitChecks(stack: Stack): void {
  const root = rootStackOf(stack);
  const marked = root as unknown as Record<symbol, boolean>;
  if (marked[CHECKED]) return;
  marked[CHECKED] = true;
  root.node.addValidation({ validate: () => overLimit(measureStackTree(root)) });
}

function rootStackOf(stack: Stack): Stack {
  let s = stack;
  while (NestedStack.isNestedStack(s)) s = Stack.of(s.nestedStackParent ?? s.node.scope!);
  return s;
}

/** Every figure of a stack and its nested stacks, read from the constructs (used at synth). */
export function measureStackTree(root: Stack): Figure[] {
  const stacks = [root, ...root.node.findAll().filter((c): c is NestedStack => NestedStack.isNestedStack(c))];
  const templates = new Map(stacks.map((s) => [s.node.path, templateOf(s)]));
  // With bundling skipped (`-c aws:cdk:bundling-stacks=[]`, the tests) a staged asset is the source
  // directory, not the package: there is nothing to measure.
  const assets = (root.bundlingRequired ? root.node.findAll() : [])
    .filter((c: IConstruct): c is AssetStaging => c instanceof AssetStaging)
    .map((a) => ({
      limit: 'lambdaAssetBytes' as const,
      subject: `asset ${a.node.path}`,
      value: sizeOnDisk(a.absoluteStagedPath),
    }));
  return [...measureTemplates(templates), ...assets];
}
