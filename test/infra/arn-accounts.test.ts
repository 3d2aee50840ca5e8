/**
 * Hook and subscriber ARNs: whole ARNs only (no wildcard reaches an IAM grant), in the stack's
 * account unless the configuration trusts another one by name; and cdk-nag runs on the user's own
 * configuration at `cdk synth`, not only on the tests' samples.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { ConfigValidationError } from '../../lambdas/domain/errors.ts';
import { checkArnAccounts } from '../../lib/arn-accounts.ts';
import { buildFailoverApp } from '../../lib/failover-app.ts';
import { asArray, type Json, PROJECT_ROOT, synth } from './helpers.ts';

const HOME = '111122223333';
const OTHER = '444455556666';
const fn = (name: string, account = HOME, region = 'us-east-1') =>
  `arn:aws:lambda:${region}:${account}:function:${name}`;

/** The sample configuration file's JSON with changes applied. */
function sampleJson(change: (raw: Json) => void = () => {}): Json {
  const raw = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'failover.json'), 'utf8'));
  change(raw);
  return raw;
}

/** Route 53 only: no load balancer ARN tells the account. */
function dnsOnlyJson(change: (raw: Json) => void = () => {}): Json {
  return sampleJson((raw) => {
    raw.services = raw.services.filter((s: Json) => s.router.type === 'route53');
    change(raw);
  });
}

function problemsOf(f: () => unknown): { path: string; message: string; value: unknown }[] {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('hook and subscriber ARNs are whole ARNs', () => {
  it.each([
    ['arn:aws:lambda:*:*:function:*'],
    ['arn:aws:lambda:us-east-1:111122223333:function:*'],
    ['arn:aws:lambda:us-east-1:111122223333:function:promote*'],
    ['arn:aws:lambda:us-east-1:*:function:promote'],
    ['arn:aws:lambda:us-east-1:111122223333:function:'],
    ['arn:aws:lambda:us-east-1:111122223333:function:promote:*'],
    ['arn:aws:lambda:us-east-1:111122223333'],
    ['arn:aws:lambda:'],
  ])('refuses the hook %s, naming the field and the value', (arn) => {
    const problems = problemsOf(() =>
      parseConfig(
        sampleJson((raw) => {
          raw.services[0].hooks = { promote: arn };
        }),
      ),
    );
    expect(problems).toEqual([expect.objectContaining({ path: 'services[0].hooks.promote', value: arn })]);
    expect(problems[0]?.message).toMatch(/whole Lambda function ARN without wildcards/);
  });

  it.each([
    ['lambda', 'arn:aws:lambda:us-east-1:111122223333:function:*'],
    ['sqs', 'arn:aws:sqs:us-east-1:111122223333:*'],
    ['sqs', 'arn:aws:sqs:*:111122223333:pager'],
    ['sqs', 'arn:aws:sqs:us-east-1:111122223333:'],
  ])('refuses a %s subscriber %s', (protocol, endpoint) => {
    const problems = problemsOf(() =>
      parseConfig(
        sampleJson((raw) => {
          raw.notifications.subscribers.push({ protocol, endpoint });
        }),
      ),
    );
    expect(problems).toEqual([
      expect.objectContaining({ path: 'notifications.subscribers[1].endpoint', value: endpoint }),
    ]);
  });

  it.each([
    [fn('promote')],
    [`${fn('promote')}:live`],
    [`${fn('promote')}:7`],
    [`${fn('promote')}:$LATEST`],
    ['arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:promote_v2'],
    ['arn:aws-cn:lambda:cn-north-1:111122223333:function:promote'],
  ])('accepts %s', (arn) => {
    expect(
      problemsOf(() =>
        parseConfig(
          sampleJson((raw) => {
            raw.services[0].hooks = { promote: arn };
          }),
        ),
      ),
    ).toEqual([]);
  });
});

describe('checkArnAccounts', () => {
  const withHooks = (hooks: Json, allowed: string[] = []) =>
    parseConfig(
      dnsOnlyJson((raw) => {
        raw.services[0].hooks = hooks;
        raw.allowedAccountIds = allowed;
      }),
    );

  it('refuses a hook in another account than the stack, naming the field and value', () => {
    const config = withHooks({ fence: fn('fence'), promote: fn('promote', OTHER) });
    expect(checkArnAccounts(config, HOME).problems).toEqual([
      {
        path: 'services[0].hooks.promote',
        message: expect.stringContaining(`in account ${OTHER}, not the stack's (${HOME})`),
        value: fn('promote', OTHER),
      },
    ]);
  });

  it('accepts it when the configuration lists the account in allowedAccountIds', () => {
    const config = withHooks({ fence: fn('fence'), promote: fn('promote', OTHER) }, [OTHER]);
    expect(checkArnAccounts(config, HOME)).toEqual({ problems: [] });
  });

  it('refuses a subscriber queue or function in another account', () => {
    const config = parseConfig(
      dnsOnlyJson((raw) => {
        raw.notifications.subscribers.push(
          { protocol: 'sqs', endpoint: `arn:aws:sqs:us-east-1:${OTHER}:pager` },
          { protocol: 'lambda', endpoint: fn('chat', OTHER) },
        );
      }),
    );
    expect(checkArnAccounts(config, HOME).problems.map((p) => p.path)).toEqual([
      'notifications.subscribers[1].endpoint',
      'notifications.subscribers[2].endpoint',
    ]);
  });

  it('without a stack account, the load balancer ARNs name it', () => {
    const config = parseConfig(
      sampleJson((raw) => {
        raw.services[1].hooks = { promote: fn('promote', OTHER) };
      }),
    );
    expect(checkArnAccounts(config, undefined).problems).toEqual([
      expect.objectContaining({ path: 'services[1].hooks.promote', value: fn('promote', OTHER) }),
    ]);
  });

  it('with no account known at all, ARNs must agree on one, and the result says the account went unchecked', () => {
    const same = withHooks({ fence: fn('fence', OTHER), promote: fn('promote', OTHER) });
    expect(checkArnAccounts(same, undefined)).toEqual({
      problems: [],
      unchecked: expect.stringContaining(`assumed to be in account ${OTHER}`),
    });
    const mixed = withHooks({ fence: fn('fence'), promote: fn('promote', OTHER) });
    expect(checkArnAccounts(mixed, undefined).problems).toEqual([
      expect.objectContaining({ path: 'services[0].hooks.promote', value: fn('promote', OTHER) }),
    ]);
  });
});

describe('the stack', () => {
  it('refuses to synthesize with a foreign hook when the stack has an account', () => {
    const config = parseConfig(
      dnsOnlyJson((raw) => {
        raw.services[0].hooks = { promote: fn('promote', OTHER) };
      }),
    );
    const problems = problemsOf(() => synth(config, { env: { account: HOME, region: 'us-east-1' } }));
    expect(problems).toEqual([expect.objectContaining({ path: 'services[0].hooks.promote' })]);
  });

  it('grants lambda:InvokeFunction on exactly the configured hooks, never a pattern', () => {
    const hooks = { fence: fn('fence'), promote: `${fn('promote')}:live`, demote: fn('demote') };
    const config = parseConfig(
      dnsOnlyJson((raw) => {
        raw.services[0].hooks = hooks;
      }),
    );
    const s = synth(config, { env: { account: HOME, region: 'us-east-1' } });
    const statements = Object.values(s.template.findResources('AWS::IAM::Policy')).flatMap(
      (p: Json) => p.Properties.PolicyDocument.Statement,
    );
    const invoke = statements.filter((st: Json) => asArray(st.Action).includes('lambda:InvokeFunction'));
    const resources = invoke.flatMap((st: Json) => asArray(st.Resource)).filter((r) => typeof r === 'string');
    expect(resources.filter((r) => !r.includes(':function:Test'))).toEqual(
      expect.arrayContaining(Object.values(hooks)),
    );
    for (const r of resources) expect(r).not.toContain('*');
  });
});

describe('bin/app.ts', () => {
  const writeConfig = (raw: Json) => {
    const dir = mkdtempSync(join(tmpdir(), 'failover-app-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify(raw));
    return path;
  };

  it('cdk-nag runs on the configuration being synthesized: an unacknowledged finding fails synth', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = buildFailoverApp(app, { configPath: join(PROJECT_ROOT, 'config', 'failover.json') });
    new Queue(stack, 'Careless', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('the sample configuration synthesizes with cdk-nag applied', () => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'failover-app-out-')),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    buildFailoverApp(app, { configPath: join(PROJECT_ROOT, 'config', 'failover.json') });
    expect(() => app.synth()).not.toThrow();
  });

  it('checks accounts against the credentials account when the stack is env-agnostic', () => {
    const path = writeConfig(
      dnsOnlyJson((raw) => {
        raw.services[0].hooks = { promote: fn('promote', OTHER) };
      }),
    );
    const problems = problemsOf(() =>
      buildFailoverApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), {
        configPath: path,
        credentialsAccount: HOME,
      }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ path: 'services[0].hooks.promote', value: fn('promote', OTHER) }),
    ]);
  });

  it('cdk synth of a config with a wildcard hook exits 1 naming the field and the value', async () => {
    const path = writeConfig(
      sampleJson((raw) => {
        raw.services[0].hooks = { promote: 'arn:aws:lambda:*:*:function:*' };
      }),
    );
    const run = promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'bin', 'app.ts')],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ config: path, 'aws:cdk:bundling-stacks': [] }),
          CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'failover-app-out-')),
        },
      },
    );
    const failure = await run.then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('services[0].hooks.promote');
    expect(failure?.stderr).toContain('"arn:aws:lambda:*:*:function:*"');
  }, 60_000);
});
