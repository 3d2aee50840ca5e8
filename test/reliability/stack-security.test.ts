/**
 * Security classes of the synthesized stacks, checked on every example configuration (the AWS
 * signals sample, the probed default, the node-action example): each class is a rule about the
 * templates as CloudFormation would deploy them, so a new function, grant or state that breaks it
 * fails here whatever the reason it was added.
 *
 * - State-table writers: only the three functions that take leases and commit (failover, zone
 *   shift, workflow steps) may write the state table; the operator policy only the pause
 *   attributes. A function that holds database admin secrets or runs scripts on nodes (the
 *   node-action function) or that only reads (readiness, probes) cannot write the primary, the
 *   epoch or the lease.
 * - Workflow endings: every way a workflow execution can end other than success (FAILED,
 *   TIMED_OUT, ABORTED; a stopped execution runs no rollback and may leave the old primary
 *   fenced) is counted by an alarm that notifies the topic.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAUSE_ATTRIBUTES } from '../../lambdas/contract/operator-access.ts';
import { loadConfigFile } from '../../lib/config-loader.ts';
import {
  asArray,
  type CfnResource,
  type Json,
  PROJECT_ROOT,
  resourcesOf,
  type Synthesized,
  synth,
} from '../infra/helpers.ts';
import { itRecordsFigures } from './support/figures-test.ts';

const CONFIG_FILES = ['examples/aws-signals.json', 'failover.json', 'examples/node-actions.json'];
const stacks: [string, Synthesized][] = CONFIG_FILES.map((file) => [
  file,
  synth(loadConfigFile(join(PROJECT_ROOT, 'config', file))),
]);

/** The summary table's rows for the two blocks below. */
const WRITERS_ROW = { label: 'security: state-table writers', order: 88 };
const ENDINGS_ROW = { label: 'security: workflow endings alarmed', order: 89 };

/** The roles allowed to write the state table: the lease takers and committers. */
const STATE_WRITER_ROLES = [
  'AutomationFailoverFunctionServiceRole',
  'AutomationZoneShiftFunctionServiceRole',
  'AutomationWorkflowFunctionServiceRole',
];

const DYNAMODB_WRITE =
  /^dynamodb:(\*|Put|Update|Delete|BatchWrite|TransactWrite|PartiQL(Insert|Update|Delete))/;

/** Every Allow statement of every identity policy, with the roles it applies to. */
function allowStatements(template: Json): { policy: string; roles: string[]; statement: Json }[] {
  const out: { policy: string; roles: string[]; statement: Json }[] = [];
  const resources = template.Resources as Record<string, CfnResource>;
  for (const [id, r] of Object.entries(resources)) {
    const docs: { roles: string[]; doc: Json }[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = asArray<Json>(r.Properties.Roles).map((x) => String(x?.Ref ?? JSON.stringify(x)));
      docs.push({ roles, doc: r.Properties.PolicyDocument });
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of r.Properties.Policies ?? []) docs.push({ roles: [id], doc: p.PolicyDocument });
      for (const m of asArray<Json>(r.Properties.ManagedPolicyArns)) {
        const ref = m?.Ref;
        if (typeof ref === 'string')
          docs.push({ roles: [id], doc: resources[ref]?.Properties.PolicyDocument });
      }
    }
    for (const { roles, doc } of docs) {
      for (const statement of asArray<Json>(doc?.Statement)) {
        if (statement.Effect === 'Allow') out.push({ policy: id, roles, statement });
      }
    }
  }
  return out;
}

const refersTo = (resource: Json, logicalId: string) =>
  resource === '*' || JSON.stringify(resource).includes(`"${logicalId}"`);

describe('who can write the state table', () => {
  const figures = { tried: 0, violations: [] as string[] };

  it.each(stacks)('%s: only the lease takers, and operators only the pause attributes', (_file, s) => {
    const template = s.template.toJSON();
    const [table] = Object.keys(resourcesOf(s.template, 'AWS::DynamoDB::Table')).filter((id) =>
      id.startsWith('AutomationStateTable'),
    );
    expect(table).toBeDefined();
    const writes = allowStatements(template).filter(
      ({ statement }) =>
        asArray<string>(statement.Action).some((a) => DYNAMODB_WRITE.test(a)) &&
        asArray<Json>(statement.Resource).some((res) => refersTo(res, table as string)),
    );
    expect(writes.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const { policy, roles, statement } of writes) {
      figures.tried++;
      const resource = template.Resources[policy] as CfnResource;
      if (resource.Type === 'AWS::IAM::ManagedPolicy' && roles.length === 0) {
        // The operator policy: UpdateItem of the pause attributes only.
        const attributes = statement.Condition?.['ForAllValues:StringEquals']?.['dynamodb:Attributes'];
        const onlyPause =
          asArray<string>(statement.Action).every((a) => a === 'dynamodb:UpdateItem') &&
          JSON.stringify([...asArray<string>(attributes)].sort()) ===
            JSON.stringify([...PAUSE_ATTRIBUTES].sort()) &&
          statement.Condition?.Null?.['dynamodb:Attributes'] === 'false';
        if (!onlyPause) violations.push(`${policy}: ${JSON.stringify(statement)}`);
        continue;
      }
      const outsiders = roles.filter((role) => !STATE_WRITER_ROLES.some((w) => role.startsWith(w)));
      if (roles.length === 0 || outsiders.length > 0)
        violations.push(`${policy} (roles ${roles.join(', ') || 'none'}): ${statement.Action}`);
    }
    figures.violations.push(...violations);
    expect(violations).toEqual([]);
  });

  const detail = () =>
    `${figures.tried} write grants on the state table in ${stacks.length} example stacks; only the failover, zone-shift and workflow roles, and the operator policy's pause attributes`;
  itRecordsFigures('stack-security-state-writers', WRITERS_ROW, figures, detail);
});

/** Step Functions' terminal statuses other than SUCCEEDED, by the AWS/States metric that counts them. */
const UNSUCCESSFUL_ENDINGS = ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'];

describe('every unsuccessful ending of a workflow execution pages someone', () => {
  const figures = { tried: 0, violations: [] as string[] };

  it.each(stacks)('%s: failed, timed-out and stopped executions are alarmed to the topic', (_file, s) => {
    const template = s.template.toJSON();
    const [machine] = Object.keys(resourcesOf(s.template, 'AWS::StepFunctions::StateMachine'));
    expect(machine).toBeDefined();
    const alarms = Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).filter(
      (a) =>
        JSON.stringify(a.Properties.AlarmActions ?? []).includes('AutomationTopic') &&
        JSON.stringify(a.Properties).includes(`"${machine}"`),
    );
    const counted = new Set(
      alarms.flatMap((a) => [
        ...(a.Properties.MetricName ? [a.Properties.MetricName as string] : []),
        ...asArray<Json>(a.Properties.Metrics).flatMap((m) =>
          m.MetricStat && m.MetricStat.Metric.Namespace === 'AWS/States'
            ? [m.MetricStat.Metric.MetricName]
            : [],
        ),
      ]),
    );
    const missing = UNSUCCESSFUL_ENDINGS.filter((m) => !counted.has(m));
    figures.tried += UNSUCCESSFUL_ENDINGS.length;
    figures.violations.push(...missing.map((m) => `${_file}: ${m} not alarmed`));
    expect(template.Resources[machine as string]).toBeDefined();
    expect(missing).toEqual([]);
  });

  const detail = () =>
    `${UNSUCCESSFUL_ENDINGS.join(', ')} in ${stacks.length} example stacks, each counted by an alarm on the topic`;
  itRecordsFigures('stack-security-workflow-endings', ENDINGS_ROW, figures, detail);
});
