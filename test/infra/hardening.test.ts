/**
 * The low-severity hardening of the stack, each on the synthesized template or the cloud assembly:
 * alarm rules match this account and region, subscriber endpoints stay out of ids, tree.json and
 * the bundled config, handlers get the table actions they use and no others, the table cannot be
 * deleted by accident, the config handed to bundling is private, decision logs outlive the stack,
 * and the failover Lambda has concurrency of its own.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetConfig, fleetJson } from '../../bench/fleet.ts';
import { matchesPattern } from '../../drill/sim/stack.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { buildFailoverApp, createFailoverApp } from '../../lib/failover-app.ts';
import { bundledConfig, STATE_TABLE_ACTIONS, writeConfigFile } from '../../lib/failover-automation.ts';
import { alarmStateChangeEvent } from '../support/alarm-events.ts';
import {
  allTemplates,
  asArray,
  identityStatements,
  type Json,
  resourcesOf,
  type Synthesized,
  sampleConfig,
  synth,
} from './helpers.ts';

const SECRET = 'tok3n-d0-not-leak';
const WEBHOOK = `https://hooks.example.com/services/${SECRET}`;

describe('alarm rules match this account and region', () => {
  it('env-agnostic: the pattern names the deploying account and region', () => {
    const s = synth(sampleConfig());
    const alarmRules = Object.values(resourcesOf(s.template, 'AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern,
    );
    expect(alarmRules.length).toBeGreaterThan(0);
    for (const rule of alarmRules) {
      expect(rule.Properties.EventPattern.account).toEqual([{ Ref: 'AWS::AccountId' }]);
      expect(rule.Properties.EventPattern.region).toEqual([{ Ref: 'AWS::Region' }]);
    }
  });

  it('with an environment: an event naming our alarm from another account or region is not delivered', () => {
    const s = synth(sampleConfig(), { env: { account: '111122223333', region: 'us-east-1' } });
    const [rule] = Object.values(resourcesOf(s.template, 'AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern,
    );
    const pattern = rule!.Properties.EventPattern;
    const event = (account: string, region: string) =>
      alarmStateChangeEvent({
        alarmName: 'failover-orders-db-db-a-health',
        at: Date.UTC(2026, 0, 1),
        id: 'e-1',
        account,
        region,
      });
    expect(matchesPattern(pattern, event('111122223333', 'us-east-1'))).toBe(true);
    expect(matchesPattern(pattern, event('444455556666', 'us-east-1'))).toBe(false);
    expect(matchesPattern(pattern, event('111122223333', 'us-west-2'))).toBe(false);
  });
});

describe('subscriber endpoints stay out of ids, tree.json and the bundled config', () => {
  const config = parseConfig({
    ...sampleConfig(),
    notifications: {
      subscribers: [
        { protocol: 'https', endpoint: WEBHOOK },
        { protocol: 'email', endpoint: `oncall+${SECRET}@example.com` },
      ],
    },
  });

  it('construct paths and logical ids are by position', () => {
    const s = synth(config);
    for (const c of s.app.node.findAll()) expect(c.node.path).not.toContain(SECRET);
    for (const id of Object.keys(s.template.toJSON().Resources)) expect(id).not.toContain(SECRET);
    const subs = resourcesOf(s.template, 'AWS::SNS::Subscription');
    expect(Object.values(subs).map((r) => r.Properties.Endpoint)).toEqual([
      WEBHOOK,
      `oncall+${SECRET}@example.com`,
    ]);
  });

  it('the cloud assembly holds the endpoint only in the template that subscribes it (no tree.json)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'failover-hardening-'));
    const path = join(outdir, 'config.json');
    writeFileSync(path, JSON.stringify(config));
    const app = createFailoverApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    buildFailoverApp(app, { configPath: path });
    app.synth();
    const files = readdirSync(outdir).filter((f) => f !== 'config.json');
    expect(files).not.toContain('tree.json');
    const holding = files.filter((f) => readFileSync(join(outdir, f), 'utf8').includes(SECRET));
    expect(holding).toEqual(['FailoverStack.template.json']);
  });

  it('the Lambdas get the configuration without subscribers', () => {
    expect(JSON.stringify(bundledConfig(config))).not.toContain(SECRET);
    expect(bundledConfig(config).services).toEqual(config.services);
    expect(parseConfig(bundledConfig(config))).toEqual(bundledConfig(config));
  });
});

describe('the state table', () => {
  const s = synth(sampleConfig());

  it('every handler role gets exactly the actions the state adapter uses, on the table only', () => {
    // The operator managed policy is no handler's: test/infra/operator-policy.test.ts checks it.
    const statements = allTemplates(s)
      .flatMap((t) => identityStatements(t))
      .filter(({ policy }) => !policy.startsWith('Operators'))
      .filter(({ statement }) => asArray<string>(statement.Action).some((a) => a.startsWith('dynamodb:')));
    // The readiness check only reads the state table (its verdicts live in a table of its own).
    const readiness = statements.filter((x) => x.policy.startsWith('AutomationReadiness'));
    const stateTable = (st: Json) => JSON.stringify(st.Resource).includes('AutomationStateTable');
    expect(readiness.filter((x) => stateTable(x.statement)).map((x) => x.statement.Action)).toEqual([
      'dynamodb:GetItem',
    ]);
    const handlers = statements.filter((x) => !x.policy.startsWith('AutomationReadiness'));
    const roles = new Set(handlers.map((x) => x.policy));
    expect(roles.size).toBeGreaterThanOrEqual(3);
    for (const { policy, statement } of handlers) {
      expect(asArray(statement.Action).sort(), policy).toEqual([...STATE_TABLE_ACTIONS].sort());
      expect(asArray(statement.Resource), policy).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^AutomationStateTable/), 'Arn'] },
      ]);
    }
    const all = statements.flatMap(({ statement }) => asArray<string>(statement.Action));
    for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan', 'dynamodb:*'])
      expect(all).not.toContain(forbidden);
  });

  it('has deletion protection and is retained', () => {
    const [table] = Object.values(s.template.findResources('AWS::DynamoDB::Table')) as Json[];
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
  });
});

describe('the configuration handed to bundling', () => {
  it('is written to a fresh directory only this user can read, never a fixed shared path', () => {
    const a = writeConfigFile(sampleConfig());
    const b = writeConfigFile(sampleConfig());
    expect(dirname(a)).not.toBe(dirname(b));
    expect(statSync(dirname(a)).mode & 0o777).toBe(0o700);
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(a, 'utf8'))).toEqual(sampleConfig());
  });
});

describe('logs and concurrency', () => {
  const s = synth(sampleConfig());
  const functions = resourcesOf(s.template, 'AWS::Lambda::Function');

  it("every handler's log group (the decision log) is retained when the stack is deleted", () => {
    const groups = s.template.findResources('AWS::Logs::LogGroup') as Record<string, Json>;
    const used = Object.values(functions).map((fn) => fn.Properties.LoggingConfig?.LogGroup?.Ref);
    expect(used.length).toBeGreaterThanOrEqual(3);
    for (const id of used) {
      expect(groups[id]?.DeletionPolicy, id).toBe('Retain');
      expect(groups[id]?.UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  const reservedOf = (template: Synthesized['template']) =>
    Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('AutomationFailoverFunction'),
    )?.[1].Properties.ReservedConcurrentExecutions;

  it('the failover Lambda has reserved concurrency, so throttling elsewhere in the account cannot starve it', () => {
    // Two services: the floor of 10 (retries, split-brain and rejoin events share the function).
    expect(reservedOf(s.template)).toBe(10);
    const custom = synth(sampleConfig(), { automationOptions: { failoverReservedConcurrency: 25 } });
    expect(reservedOf(custom.template)).toBe(25);
    expect(() => synth(sampleConfig(), { automationOptions: { failoverReservedConcurrency: 0 } })).toThrow(
      /failoverReservedConcurrency must be an integer between 1 and 1000, got: 0/,
    );
  });

  it('by default one execution per service (up to 100), so a correlated failure is not throttled into waves', () => {
    expect(reservedOf(synth(fleetConfig(40)).template)).toBe(40);
  });

  it('failoverConcurrency in the configuration sets it, and a bad value fails synth naming the field', () => {
    const configured = parseConfig({ ...fleetJson(40), failoverConcurrency: 200 });
    expect(reservedOf(synth(configured).template)).toBe(200);
    for (const bad of [0, 1001, 2.5]) {
      expect(() => parseConfig({ ...fleetJson(3), failoverConcurrency: bad })).toThrow(
        new RegExp(`failoverConcurrency: .*got: ${bad}`),
      );
    }
  });
});
