/**
 * The configuration of node actions: what fences, promotes and demotes a node. Configured per
 * service (`services[].actions.{fence,promote,demote}`), overridable per node (`nodes[].actions`),
 * plus what a kind needs to know about each node (`instanceId(s)`, `dbInstanceIdentifier`, `sql`).
 * The older `services[].hooks` block stays valid as a shorthand for `lambda` actions; giving one
 * role both ways is refused.
 *
 * Kinds and the roles they can play:
 * - `lambda`: the user's function (`fence` also receives `unfence` on rollback), any role;
 * - `ssm-command`: SSM Run Command on the node's instances, any role (`undoCommands` on a fence
 *   makes it undoable);
 * - `ec2-stop`: StopInstances, fence only (undone by StartInstances);
 * - `ec2-isolate`: the instances' security groups swapped for an isolation group, fence only
 *   (undone by restoring the groups it replaced);
 * - `rds-promote-read-replica`: promote only;
 * - `postgres` / `mysql`: SQL on the node itself, fence, promote and demote (a SQL demote makes
 *   the node read-only; it does not turn a primary back into a replica).
 *
 * Pure: zod only, no AWS SDK, no environment, no clock.
 */
import * as z from 'zod';
import type { NodeConfig, ServiceConfig } from './config.ts';
import type { NodeActionRole } from './node-actions.ts';

/** The roles configured directly; `unfence` is the undoing of `fence`, by the same action. */
export const CONFIGURED_ROLES = ['fence', 'promote', 'demote'] as const;
export type ConfiguredRole = (typeof CONFIGURED_ROLES)[number];

/** Lambda's own 900 s limit bounds every action: the function that waits for it cannot wait longer. */
export const MAX_ACTION_TIMEOUT_SECONDS = 900;

const timeout = (defaultSeconds: number) =>
  z.number().int().min(1).max(MAX_ACTION_TIMEOUT_SECONDS).default(defaultSeconds);

/**
 * A whole function ARN, optionally qualified: no wildcard can pass, since IAM grants
 * `lambda:InvokeFunction` on exactly this string (the same rule as the hooks in config.ts; the
 * account is checked at synth by lib/arn-accounts.ts).
 */
const lambdaArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:lambda:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$/,
    'must be a whole Lambda function ARN without wildcards (arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>])',
  );

/** Shell lines sent to the instance; templated, never empty. */
const commandLines = z.array(z.string().min(1).max(4096)).min(1).max(100);

/** SSM document: an AWS-owned or own document name, or a document ARN (shared documents). */
const documentName = z
  .string()
  .regex(
    /^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:document\/[A-Za-z0-9_.-]{3,128}|[A-Za-z0-9_.-]{3,128})$/,
    'must be an SSM document name (AWS-RunShellScript, AWS-RunPowerShellScript, your own) or a document ARN',
  );

export const lambdaActionSchema = z.strictObject({
  type: z.literal('lambda'),
  functionArn: lambdaArn,
  /** @default 60 */
  timeoutSeconds: timeout(60),
});

export const ssmCommandActionSchema = z.strictObject({
  type: z.literal('ssm-command'),
  /** @default 'AWS-RunShellScript' */
  document: documentName.default('AWS-RunShellScript'),
  /**
   * The document's `commands` parameter. Templated: `{serviceId} {node} {role} {mode} {epoch}
   * {token}` are replaced (ids, numbers and fixed words only, so nothing needs shell quoting).
   */
  commands: commandLines.optional(),
  /** Other document parameters (your own document), templated the same way. */
  parameters: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/), z.array(z.string().max(4096)).max(100))
    .optional(),
  /** Fence only: run on rollback to undo the fence. Without it a fence by this action is final. */
  undoCommands: commandLines.optional(),
  /** @default 120 */
  timeoutSeconds: timeout(120),
  /** How much of the end of stdout/stderr is kept in the history. @default 2000 */
  outputTailChars: z.number().int().min(0).max(24_000).default(2000),
});

export const ec2StopActionSchema = z.strictObject({
  type: z.literal('ec2-stop'),
  /** StopInstances with Force (no clean OS shutdown): for a wedged node. @default false */
  force: z.boolean().default(false),
  /** @default 300 */
  timeoutSeconds: timeout(300),
});

export const ec2IsolateActionSchema = z.strictObject({
  type: z.literal('ec2-isolate'),
  /** A security group with no client ingress; it replaces all of the instances' groups. */
  isolationSecurityGroupId: z
    .string()
    .regex(/^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, 'must be a security group id such as sg-0123456789abcdef0'),
  /** @default 60 */
  timeoutSeconds: timeout(60),
});

export const rdsPromoteActionSchema = z.strictObject({
  type: z.literal('rds-promote-read-replica'),
  /** Backups kept by the promoted instance (0 disables them). @default - the replica's own setting */
  backupRetentionPeriodDays: z.number().int().min(0).max(35).optional(),
  /** A promotion usually takes minutes. @default 900 */
  timeoutSeconds: timeout(900),
});

export const postgresActionSchema = z.strictObject({
  type: z.literal('postgres'),
  /**
   * Where fence/demote set `default_transaction_read_only`: `system` (ALTER SYSTEM, the whole
   * server; needs superuser) or `database` (ALTER DATABASE of the connection's database; works on
   * Amazon RDS, where ALTER SYSTEM is not allowed). @default 'system'
   */
  readOnlyScope: z.enum(['system', 'database']).default('system'),
  /** Fence/demote: end client sessions after making the server read-only. @default true */
  terminateSessions: z.boolean().default(true),
  /** @default 60 */
  timeoutSeconds: timeout(60),
});

export const mysqlActionSchema = z.strictObject({
  type: z.literal('mysql'),
  /** MariaDB has no super_read_only; its fence sets read_only only. @default 'mysql' */
  flavor: z.enum(['mysql', 'mariadb']).default('mysql'),
  /** Fence/demote: kill client sessions after making the server read-only. @default true */
  killSessions: z.boolean().default(true),
  /** @default 60 */
  timeoutSeconds: timeout(60),
});

export const nodeActionSchema = z.discriminatedUnion('type', [
  lambdaActionSchema,
  ssmCommandActionSchema,
  ec2StopActionSchema,
  ec2IsolateActionSchema,
  rdsPromoteActionSchema,
  postgresActionSchema,
  mysqlActionSchema,
]);

export type NodeActionConfig = z.output<typeof nodeActionSchema>;
export type NodeActionKind = NodeActionConfig['type'];
export type ActionOf<K extends NodeActionKind> = Extract<NodeActionConfig, { type: K }>;

export const actionsSchema = z.strictObject({
  fence: nodeActionSchema.optional(),
  promote: nodeActionSchema.optional(),
  demote: nodeActionSchema.optional(),
});
export type ActionsConfig = z.output<typeof actionsSchema>;

/** How the SQL actions reach a node. Credentials only ever in the secret (`username`, `password`). */
export const sqlConnectionSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  /** PostgreSQL: the database to connect to. @default 'postgres' */
  database: z.string().min(1).max(63).optional(),
  /** Secrets Manager secret holding JSON `{ "username": ..., "password": ... }`. */
  secretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
      'must be a Secrets Manager secret ARN',
    ),
  /** Connect with TLS (certificate verified). @default true */
  tls: z.boolean().default(true),
});
export type SqlConnection = z.output<typeof sqlConnectionSchema>;

/** A connection as the SQL actions use it: `tls` encrypts, `verify` also checks the certificate. */
export interface ResolvedSqlConnection {
  readonly host: string;
  readonly port: number;
  readonly database?: string;
  readonly secretArn: string;
  readonly tls: boolean;
  readonly verify: boolean;
}

/**
 * How the `engine` action reaches a node: its `sql` block, else its probe of the same engine (one
 * connection per node: the probe's host, port, database, secret and TLS mode).
 */
export function sqlConnectionOf(
  node: NodeConfig,
  engine: 'postgres' | 'mysql',
): ResolvedSqlConnection | undefined {
  if (node.sql) return { ...node.sql, verify: node.sql.tls };
  const probe = node.probe;
  if (probe?.kind !== engine) return undefined;
  return {
    host: probe.host,
    port: probe.port,
    ...('database' in probe ? { database: probe.database } : {}),
    secretArn: probe.secretArn,
    tls: probe.tls !== 'disable',
    verify: probe.tls === 'verify',
  };
}

const instanceId = z
  .string()
  .regex(/^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'must be an EC2 instance id such as i-0123456789abcdef0');

/** Fields a node adds for its actions; spread into the node schema. */
export const nodeActionFields = {
  /** Per-node actions, replacing the service's for this node role by role. */
  actions: actionsSchema.optional(),
  /** ssm-command, ec2-stop, ec2-isolate: the node's instance. */
  instanceId: instanceId.optional(),
  /** The same, when the node is several instances (an appliance pair, a cluster's members). */
  instanceIds: z.array(instanceId).min(1).max(50).optional(),
  /** rds-promote-read-replica: the node's DB instance. */
  dbInstanceIdentifier: z
    .string()
    .regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'must be an RDS DB instance identifier')
    .optional(),
  /** postgres / mysql actions: how to reach the node. */
  sql: sqlConnectionSchema.optional(),
};

/** Which roles a kind can play. */
export const KIND_ROLES: Readonly<Record<NodeActionKind, readonly ConfiguredRole[]>> = {
  lambda: CONFIGURED_ROLES,
  'ssm-command': CONFIGURED_ROLES,
  'ec2-stop': ['fence'],
  'ec2-isolate': ['fence'],
  'rds-promote-read-replica': ['promote'],
  postgres: CONFIGURED_ROLES,
  mysql: CONFIGURED_ROLES,
};

/** The action a node has for a role: its own, else the service's, else the hooks shorthand. */
export function nodeActionConfig(
  service: ServiceConfig,
  nodeId: string,
  role: ConfiguredRole,
): NodeActionConfig | undefined {
  // `n?.`: the schema's cross-field checks also run over a malformed node list.
  const node = service.nodes.find((n) => n?.id === nodeId);
  const own = node?.actions?.[role] ?? service.actions?.[role];
  if (own) return own;
  const arn = service.hooks?.[role];
  return arn === undefined
    ? undefined
    : { type: 'lambda', functionArn: arn, timeoutSeconds: service.hooks?.timeoutSeconds ?? 60 };
}

/** Whether a fence by this action can be undone (the rollback's `unfence`). */
export function canUndoFence(action: NodeActionConfig): boolean {
  return (
    action.type !== 'rds-promote-read-replica' && (action.type !== 'ssm-command' || !!action.undoCommands)
  );
}

/** The action that plays `role` for a node (`unfence` is the fence action's undoing). */
export function actionForRole(
  service: ServiceConfig,
  nodeId: string,
  role: NodeActionRole,
): NodeActionConfig | undefined {
  if (role !== 'unfence') return nodeActionConfig(service, nodeId, role);
  const fence = nodeActionConfig(service, nodeId, 'fence');
  return fence && canUndoFence(fence) ? fence : undefined;
}

/** A node's instance ids, from `instanceId` or `instanceIds`. */
export function nodeInstanceIds(node: NodeConfig): readonly string[] {
  return node.instanceIds ?? (node.instanceId ? [node.instanceId] : []);
}

/** Every action configured anywhere in the service, with the node it applies to. */
export function serviceNodeActions(
  service: ServiceConfig,
): { node: NodeConfig; role: ConfiguredRole; action: NodeActionConfig }[] {
  return service.nodes.flatMap((node) =>
    CONFIGURED_ROLES.flatMap((role) => {
      const action = nodeActionConfig(service, node.id, role);
      return action ? [{ node, role, action }] : [];
    }),
  );
}

type Report = (path: (string | number)[], message: string, value: unknown) => void;

/**
 * Cross-field checks of one service's actions, reported at their paths: a role given both as a
 * hook and as an action, a kind in a role it cannot play, and what each node lacks for the
 * actions that apply to it. Tolerates a malformed shape (zod runs it after field errors too).
 */
export function checkServiceActions(
  service: ServiceConfig,
  at: (...rest: (string | number)[]) => (string | number)[],
  report: Report,
): void {
  for (const role of CONFIGURED_ROLES) {
    if (service.hooks?.[role] !== undefined && service.actions?.[role] !== undefined) {
      report(
        at('actions', role),
        `also given as hooks.${role}: give each role one way (actions.${role} with type "lambda", or hooks.${role})`,
        service.actions[role],
      );
    }
    checkKindRole(service.actions?.[role], role, at('actions', role), report);
  }
  service.nodes.forEach((node, ni) => {
    if (!node) return;
    for (const role of CONFIGURED_ROLES) {
      checkKindRole(node.actions?.[role], role, at('nodes', ni, 'actions', role), report);
    }
    if (node.instanceId !== undefined && node.instanceIds !== undefined) {
      report(at('nodes', ni, 'instanceIds'), 'give instanceId or instanceIds, not both', node.instanceIds);
    }
    for (const role of CONFIGURED_ROLES) {
      const action = nodeActionConfig(service, node.id, role);
      if (!action) continue;
      const needs = `required by the ${action.type} action of role ${role}`;
      if (
        (action.type === 'ssm-command' || action.type === 'ec2-stop' || action.type === 'ec2-isolate') &&
        nodeInstanceIds(node).length === 0
      ) {
        report(at('nodes', ni, 'instanceId'), needs, undefined);
      }
      if (action.type === 'rds-promote-read-replica' && node.dbInstanceIdentifier === undefined) {
        report(at('nodes', ni, 'dbInstanceIdentifier'), needs, undefined);
      }
      if ((action.type === 'postgres' || action.type === 'mysql') && !sqlConnectionOf(node, action.type)) {
        report(
          at('nodes', ni, 'sql'),
          `${needs} ({ host, port, secretArn }, or a ${action.type} probe on the node)`,
          undefined,
        );
      }
    }
  });
}

function checkKindRole(
  action: NodeActionConfig | undefined,
  role: ConfiguredRole,
  path: (string | number)[],
  report: Report,
): void {
  if (!action || !KIND_ROLES[action.type]) return;
  if (!KIND_ROLES[action.type].includes(role)) {
    report(
      [...path, 'type'],
      `a ${action.type} action can only ${KIND_ROLES[action.type].join(' or ')}`,
      action.type,
    );
  }
  if (action.type === 'ssm-command') {
    if (action.undoCommands !== undefined && role !== 'fence') {
      report([...path, 'undoCommands'], 'only a fence can be undone', action.undoCommands);
    }
    if (action.commands === undefined && action.parameters === undefined) {
      report([...path, 'commands'], 'give commands (or parameters for your own document)', undefined);
    }
    if (action.commands !== undefined && action.parameters?.commands !== undefined) {
      report(
        [...path, 'parameters', 'commands'],
        'given twice: also in commands',
        action.parameters.commands,
      );
    }
  }
}
