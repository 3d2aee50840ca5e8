import { describe, expect, it } from 'vitest';
import {
  actionForRole,
  nodeActionConfig,
  nodeInstanceIds,
  sqlConnectionOf,
} from '../../lambdas/domain/action-config.ts';
import { type FailoverConfigInput, parseConfig } from '../../lambdas/domain/config.ts';
import { ConfigValidationError } from '../../lambdas/domain/errors.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';

type ServiceInput = FailoverConfigInput['services'][number];

const FN = 'arn:aws:lambda:us-east-1:111122223333:function:promote';
const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-admin-AbCdEf';

function service(patch: (s: ServiceInput) => void): ServiceInput {
  const s = route53Service({ id: 'orders' });
  patch(s);
  return s;
}

function problems(s: ServiceInput): { path: string; message: string; value: unknown }[] {
  try {
    parseConfig({ services: [s] });
  } catch (err) {
    if (err instanceof ConfigValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('node action configuration', () => {
  it('accepts every kind with its per-node fields and applies the documented defaults', () => {
    const config = parseConfig({
      services: [
        service((s) => {
          s.actions = {
            fence: { type: 'ec2-isolate', isolationSecurityGroupId: 'sg-0123456789abcdef0' },
            promote: {
              type: 'ssm-command',
              commands: ['/usr/local/bin/promote --epoch {epoch} --token {token}'],
            },
            demote: { type: 'lambda', functionArn: FN },
          };
          s.nodes[0] = { ...s.nodes[0]!, instanceId: 'i-0123456789abcdef0' };
          s.nodes[1] = {
            ...s.nodes[1]!,
            instanceIds: ['i-0123456789abcdef1', 'i-0123456789abcdef2'],
            actions: { promote: { type: 'postgres' } },
            sql: { host: 'db-b.internal', port: 5432, secretArn: SECRET },
          };
        }),
      ],
    });
    const svc = config.services[0]!;
    expect(nodeActionConfig(svc, 'a', 'promote')).toEqual({
      type: 'ssm-command',
      document: 'AWS-RunShellScript',
      commands: ['/usr/local/bin/promote --epoch {epoch} --token {token}'],
      timeoutSeconds: 120,
      outputTailChars: 2000,
    });
    // The node's own action replaces the service's for that role only.
    expect(nodeActionConfig(svc, 'b', 'promote')).toEqual({
      type: 'postgres',
      readOnlyScope: 'system',
      terminateSessions: true,
      timeoutSeconds: 60,
    });
    expect(nodeActionConfig(svc, 'b', 'fence')?.type).toBe('ec2-isolate');
    expect(actionForRole(svc, 'a', 'unfence')?.type).toBe('ec2-isolate');
    expect(nodeInstanceIds(svc.nodes[1]!)).toEqual(['i-0123456789abcdef1', 'i-0123456789abcdef2']);
    expect(svc.nodes[1]!.sql?.tls).toBe(true);
  });

  it('reads the hooks block as lambda actions with the hooks timeout', () => {
    const config = parseConfig({
      services: [service((s) => (s.hooks = { promote: FN, fence: FN, timeoutSeconds: 30 }))],
    });
    const svc = config.services[0]!;
    expect(nodeActionConfig(svc, 'b', 'promote')).toEqual({
      type: 'lambda',
      functionArn: FN,
      timeoutSeconds: 30,
    });
    expect(actionForRole(svc, 'a', 'unfence')).toEqual({
      type: 'lambda',
      functionArn: FN,
      timeoutSeconds: 30,
    });
    expect(nodeActionConfig(svc, 'a', 'demote')).toBeUndefined();
  });

  it('has no unfence for an ssm-command fence without undoCommands', () => {
    const config = parseConfig({
      services: [
        service((s) => {
          s.actions = { fence: { type: 'ssm-command', commands: ['fence'] } };
          s.nodes = s.nodes.map((n, i) => ({ ...n, instanceId: `i-0123456789abcdef${i}` }));
        }),
      ],
    });
    expect(actionForRole(config.services[0]!, 'a', 'unfence')).toBeUndefined();
  });

  it('refuses a role given both as a hook and as an action', () => {
    expect(
      problems(
        service((s) => {
          s.hooks = { promote: FN };
          s.actions = { promote: { type: 'lambda', functionArn: FN } };
        }),
      ),
    ).toEqual([
      {
        path: 'services[0].actions.promote',
        message: expect.stringMatching(/also given as hooks.promote/),
        value: { type: 'lambda', functionArn: FN },
      },
    ]);
  });

  it.each([
    ['promote', { type: 'ec2-stop' }, 'a ec2-stop action can only fence'],
    [
      'demote',
      { type: 'ec2-isolate', isolationSecurityGroupId: 'sg-01234567' },
      'a ec2-isolate action can only fence',
    ],
    ['fence', { type: 'rds-promote-read-replica' }, 'a rds-promote-read-replica action can only promote'],
  ] as const)('refuses a %s by a kind that cannot play it', (role, action, message) => {
    const found = problems(
      service((s) => {
        s.actions = { [role]: action };
        s.nodes = s.nodes.map((n, i) => ({
          ...n,
          instanceId: `i-0123456789abcdef${i}`,
          dbInstanceIdentifier: `db-${i}`,
        }));
      }),
    );
    expect(found).toEqual([{ path: `services[0].actions.${role}.type`, message, value: action.type }]);
  });

  it('reports what each node lacks for the actions that apply to it, all at once', () => {
    const found = problems(
      service((s) => {
        s.actions = {
          fence: { type: 'ec2-stop', force: true },
          promote: { type: 'rds-promote-read-replica' },
          demote: { type: 'mysql', flavor: 'mariadb' },
        };
      }),
    );
    expect(found.map((p) => p.path)).toEqual([
      'services[0].nodes[0].instanceId',
      'services[0].nodes[0].dbInstanceIdentifier',
      'services[0].nodes[0].sql',
      'services[0].nodes[1].instanceId',
      'services[0].nodes[1].dbInstanceIdentifier',
      'services[0].nodes[1].sql',
    ]);
    expect(found[0]!.message).toBe('required by the ec2-stop action of role fence');
  });

  it('reports bad field values with their path and value', () => {
    const found = problems(
      service((s) => {
        s.actions = {
          fence: { type: 'ec2-isolate', isolationSecurityGroupId: 'default' },
          promote: { type: 'ssm-command', commands: [], timeoutSeconds: 901 },
        };
        s.nodes[0] = { ...s.nodes[0]!, instanceId: 'web-1', instanceIds: ['i-01234567'] };
        s.nodes[1] = {
          ...s.nodes[1]!,
          instanceId: 'i-01234567',
          sql: { host: 'h', port: 0, secretArn: 'pw' },
        };
      }),
    );
    expect(found.map((p) => [p.path, p.value])).toEqual(
      expect.arrayContaining([
        ['services[0].actions.fence.isolationSecurityGroupId', 'default'],
        ['services[0].actions.promote.commands', []],
        ['services[0].actions.promote.timeoutSeconds', 901],
        ['services[0].nodes[0].instanceId', 'web-1'],
        ['services[0].nodes[1].sql.port', 0],
        ['services[0].nodes[1].sql.secretArn', 'pw'],
      ]),
    );
  });

  it('refuses an unknown kind, undoCommands outside a fence, and instanceId given twice', () => {
    expect(
      problems(service((s) => (s.actions = { fence: { type: 'reboot' } as never }))).map((p) => p.path),
    ).toEqual(['services[0].actions.fence.type']);
    const found = problems(
      service((s) => {
        s.actions = { promote: { type: 'ssm-command', commands: ['x'], undoCommands: ['y'] } };
        s.nodes = s.nodes.map((n, i) => ({
          ...n,
          instanceId: `i-0123456789abcdef${i}`,
          ...(i === 0 ? { instanceIds: ['i-01234567'] } : {}),
        }));
      }),
    );
    expect(found.map((p) => p.path)).toEqual([
      'services[0].actions.promote.undoCommands',
      'services[0].nodes[0].instanceIds',
    ]);
  });

  it("takes the SQL connection from the node's probe of the same engine when it has no sql block", () => {
    const config = parseConfig({
      services: [
        service((s) => {
          s.actions = { promote: { type: 'postgres' }, fence: { type: 'postgres' } };
          s.nodes = s.nodes.map((n) => ({
            ...n,
            probe: {
              kind: 'postgres',
              host: `${n.id}.db.internal`,
              port: 5432,
              subnets: ['subnet-0123456789abcdef0'],
              securityGroups: ['sg-0123456789abcdef0'],
              secretArn: SECRET,
              tls: 'verify',
            },
          }));
        }),
      ],
    });
    expect(sqlConnectionOf(config.services[0]!.nodes[1]!, 'postgres')).toEqual({
      host: 'b.db.internal',
      port: 5432,
      database: 'postgres',
      secretArn: SECRET,
      tls: true,
      verify: true,
    });
  });

  it('still asks for a connection when the probe is of another engine', () => {
    const found = problems(
      service((s) => {
        s.actions = { fence: { type: 'mysql' } };
        s.nodes = s.nodes.map((n) => ({
          ...n,
          probe: {
            kind: 'postgres',
            host: 'h',
            port: 5432,
            subnets: ['subnet-0123456789abcdef0'],
            securityGroups: ['sg-0123456789abcdef0'],
            secretArn: SECRET,
          },
        }));
      }),
    );
    expect(found.map((p) => p.path)).toEqual(['services[0].nodes[0].sql', 'services[0].nodes[1].sql']);
  });
});
