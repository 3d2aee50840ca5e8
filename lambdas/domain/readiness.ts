/**
 * Readiness: would a failover of each service work if its primary failed now? Checked against
 * the live account, before the incident (scheduled by the stack, and `failover check`):
 *
 * - `routing`: the record exists with exactly the value and TTL the compare-and-swap will DELETE
 *   (Route 53), or the target group / listener points at exactly one node (ELB);
 * - `state`: the state table's primary is where traffic points;
 * - `alarms`: every node's health alarm exists and has data;
 * - `lag`: every replica's lag metrics have a datapoint within the policy's age limit;
 * - `decision`: replaying the automatic decision as if the primary failed now promotes someone
 *   (lambdas/domain/decide.ts), or says why it would hold;
 * - `actions`: every resource a node action needs exists (instances, documents, DB instances,
 *   functions, security groups, secrets).
 *
 * Pure: no AWS SDK, no environment, no clock. The facts come in; a tagged result with reasons
 * comes out. A fact that could not be read makes its checks `unknown`, never `pass`.
 */
import {
  type NodeActionConfig,
  nodeInstanceIds,
  serviceNodeActions,
  sqlConnectionOf,
} from './action-config.ts';
import { healthAlarmName, type NodeConfig, type ServiceConfig } from './config.ts';
import { currentState, decideAutoFailover, LAG_BYTES_KEY_SUFFIX, lagQueries } from './decide.ts';
import type { AlarmStateValue, ClusterState, HoldReason, LagSample, StoredClusterState } from './types.ts';

export const READINESS_CHECKS = ['routing', 'state', 'alarms', 'lag', 'decision', 'actions'] as const;
export type ReadinessCheckName = (typeof READINESS_CHECKS)[number];

/** One check of one service. `reasons` say why it failed or could not tell; `notes` what passed. */
export type CheckResult =
  | { readonly check: ReadinessCheckName; readonly status: 'pass'; readonly notes: readonly string[] }
  | { readonly check: ReadinessCheckName; readonly status: 'fail'; readonly reasons: readonly string[] }
  | { readonly check: ReadinessCheckName; readonly status: 'unknown'; readonly reasons: readonly string[] };

/** `unknown`: nothing failed, but a fact could not be read (throttled, denied): not known ready. */
export type ReadinessStatus = 'ready' | 'not-ready' | 'unknown';

export interface ServiceReadiness {
  readonly serviceId: string;
  readonly status: ReadinessStatus;
  readonly checks: readonly CheckResult[];
}

/** A fact read from the account, or why it could not be read. */
export type Fact<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** A Route 53 record as ListResourceRecordSets returned it (plain, weighted, alias...). */
export interface LiveRecord {
  readonly values: readonly string[];
  readonly ttlSeconds?: number;
  readonly setIdentifier?: string;
  readonly alias: boolean;
}

export type LiveRouting =
  /** `record` undefined: the record does not exist. */
  | { readonly type: 'route53'; readonly record?: LiveRecord }
  /** The node the target group or listener sends traffic to; undefined: no single configured node. */
  | { readonly type: 'elbv2-target' | 'elbv2-weighted'; readonly node?: string };

export type ResourceKind =
  | 'ec2-instance'
  | 'security-group'
  | 'ssm-document'
  | 'rds-instance'
  | 'lambda-function'
  | 'secret';

export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly id: string;
}

/** Whether a resource exists and can be used (a terminated instance exists but cannot). */
export interface ResourceStatus {
  readonly exists: boolean;
  /** e.g. `stopped`, `terminated`, `available`. */
  readonly detail?: string;
}

export const resourceKey = (ref: ResourceRef): string => `${ref.kind}:${ref.id}`;

export interface ReadinessFacts {
  readonly service: ServiceConfig;
  /**
   * The stored state; undefined value: never written (the configured initial primary at epoch 0).
   * An item only a pause wrote has no primary: the configured initial primary holds (currentState).
   */
  readonly state: Fact<StoredClusterState | undefined>;
  /** By alarm name; an absent alarm does not exist. */
  readonly alarms: Fact<ReadonlyMap<string, AlarmStateValue>>;
  /** By lagQueries key (node id, `<node>#bytes`); read with a lookback longer than the age limit. */
  readonly lag: Fact<ReadonlyMap<string, LagSample | undefined>>;
  readonly routing: Fact<LiveRouting>;
  /** By resourceKey; only needed when the service has node actions. */
  readonly resources: Fact<ReadonlyMap<string, ResourceStatus>>;
  /** Epoch milliseconds. */
  readonly now: number;
}

// ---------------------------------------------------------------------------------------------
// Ports: what the readiness use case reads beyond the failover's own ports
// ---------------------------------------------------------------------------------------------

export interface RoutingReadPort {
  /**
   * The live routing of many services in as few reads as the routers allow (Route 53: one paced
   * ListResourceRecordSets walk per hosted zone). A service that could not be read is absent.
   */
  readAll(serviceIds: readonly string[]): Promise<ReadonlyMap<string, LiveRouting>>;
}

export interface ResourcePort {
  /** Existence of each resource, by resourceKey. A resource that could not be checked is absent. */
  check(refs: readonly ResourceRef[]): Promise<ReadonlyMap<string, ResourceStatus>>;
}

export interface ReadinessStorePort {
  /** The verdict recorded by an earlier pass; undefined: none yet. */
  previous(serviceId: string): Promise<'ready' | 'not-ready' | undefined>;
  /**
   * Records a changed verdict. Called after the change was announced, so a lost write costs a
   * repeated notice on the next pass, never a lost one.
   */
  record(serviceId: string, status: 'ready' | 'not-ready', at: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/** Lag datapoints are read this far back, so a stale metric can be told from a missing one. */
export const READINESS_LAG_LOOKBACK_SECONDS = 3600;

/** Decision holds chosen by an operator or a moment in time, not a broken setup: noted, then looked past. */
const OPERATOR_HOLDS: ReadonlySet<HoldReason> = new Set([
  'paused',
  'auto-failover-disabled',
  'cooldown',
  'operation-in-progress',
]);

export function evaluateReadiness(facts: ReadinessFacts): ServiceReadiness {
  const checks: CheckResult[] = [
    routingCheck(facts),
    stateCheck(facts),
    alarmsCheck(facts),
    lagCheck(facts),
    decisionCheck(facts),
    actionsCheck(facts),
  ];
  return { serviceId: facts.service.id, status: overallStatus(checks), checks };
}

export function overallStatus(checks: readonly CheckResult[]): ReadinessStatus {
  if (checks.some((c) => c.status === 'fail')) return 'not-ready';
  if (checks.some((c) => c.status === 'unknown')) return 'unknown';
  return 'ready';
}

const pass = (check: ReadinessCheckName, ...notes: string[]): CheckResult => ({
  check,
  status: 'pass',
  notes,
});
const fail = (check: ReadinessCheckName, reasons: string[]): CheckResult => ({
  check,
  status: 'fail',
  reasons,
});
const unknown = (check: ReadinessCheckName, ...reasons: string[]): CheckResult => ({
  check,
  status: 'unknown',
  reasons,
});

function stateOf(facts: ReadinessFacts): ClusterState | undefined {
  return facts.state.ok ? currentState(facts.state.value, facts.service) : undefined;
}

function routingCheck(facts: ReadinessFacts): CheckResult {
  const { service } = facts;
  if (!facts.routing.ok) return unknown('routing', `routing not read: ${facts.routing.error}`);
  const live = facts.routing.value;
  const r = service.router;
  if (r.type !== 'route53' || live.type !== 'route53') {
    if (live.type === 'route53')
      return unknown('routing', 'router type does not match the live routing read');
    const where =
      r.type === 'elbv2-target'
        ? `target group ${r.targetGroupArn}`
        : `listener ${r.type === 'elbv2-weighted' ? r.listenerArn : ''}`;
    if (live.node === undefined) {
      return fail('routing', [
        r.type === 'elbv2-target'
          ? `${where} does not have exactly one configured node's target registered: the shift's compare would refuse (conflict)`
          : `${where} does not forward to exactly one configured node's target group (weight > 0), or has other default actions: the shift's compare would refuse (conflict)`,
      ]);
    }
    return pass('routing', `${where} sends traffic to ${live.node}`);
  }
  const name = `record ${r.recordName} ${r.recordType} in ${r.hostedZoneId}`;
  const state = stateOf(facts);
  const primary = service.nodes.find((n) => n.id === state?.primary);
  const deleteText = primary?.address
    ? `a failover's DELETE of ${primary.address} with TTL ${r.ttlSeconds}`
    : `a failover's exact-value DELETE (TTL ${r.ttlSeconds})`;
  const rec = live.record;
  if (!rec) {
    return fail('routing', [
      `${name} does not exist: ${deleteText} would fail (conflict); create it with the primary's address and TTL ${r.ttlSeconds}`,
    ]);
  }
  const reasons: string[] = [];
  if (rec.alias)
    reasons.push(
      `${name} is an alias record: the swap deletes and creates a plain record; make it a plain ${r.recordType} record`,
    );
  if (rec.setIdentifier !== undefined) {
    reasons.push(
      `${name} is a routing-policy record (set identifier ${rec.setIdentifier}): the swap names a plain record; make it a simple record`,
    );
  }
  if (rec.values.length !== 1) {
    reasons.push(
      `${name} has ${rec.values.length} values (${rec.values.join(', ') || 'none'}), not exactly one node's address: ${deleteText} would fail (conflict)`,
    );
  }
  if (!rec.alias && rec.ttlSeconds !== r.ttlSeconds) {
    reasons.push(
      `${name} has TTL ${rec.ttlSeconds ?? 'none'} but router.ttlSeconds is ${r.ttlSeconds}: ${deleteText} would not match, so a failover would end as a conflict; set the record's TTL to ${r.ttlSeconds} (or router.ttlSeconds to ${rec.ttlSeconds})`,
    );
  }
  const node = rec.values.length === 1 ? nodeForValue(service, rec.values[0] as string) : undefined;
  if (rec.values.length === 1 && !node) {
    reasons.push(
      `${name} points at ${rec.values[0]}, which is no node's address (${service.nodes
        .map((n) => `${n.id} ${n.address}`)
        .join(', ')}): ${deleteText} would fail (conflict)`,
    );
  }
  if (reasons.length > 0) return fail('routing', reasons);
  return pass('routing', `${name} points at ${node?.id} (${rec.values[0]}), TTL ${rec.ttlSeconds}`);
}

function stateCheck(facts: ReadinessFacts): CheckResult {
  const { service } = facts;
  if (!facts.state.ok) return unknown('state', `state table not read: ${facts.state.error}`);
  const state = stateOf(facts) as ClusterState;
  // A pause alone records no primary: until the first role change the configured one holds.
  const recorded = facts.state.value?.primary !== undefined;
  if (!service.nodes.some((n) => n.id === state.primary)) {
    return fail('state', [
      `the recorded primary ${state.primary} is not a node of ${service.id} in the configuration: automatic failover holds and the workflow refuses until the record or the configuration is fixed`,
    ]);
  }
  if (!facts.routing.ok) return unknown('state', `routing not read: ${facts.routing.error}`);
  const live = facts.routing.value;
  const trafficNode = live.type === 'route53' ? liveRecordNode(service, live.record) : live.node;
  const whose = recorded
    ? `the state table's primary is ${state.primary} (epoch ${state.epoch})`
    : `nothing is recorded yet, so the primary is the configured initialPrimary ${state.primary}`;
  if (trafficNode === undefined) {
    return fail('state', [`traffic points at no single node, while ${whose}`]);
  }
  if (trafficNode !== state.primary) {
    return fail('state', [
      `traffic is on ${trafficNode}, but ${whose}: a failover would swap from ${state.primary}'s routing and end as a conflict; repair the routing or the record before any operation`,
    ]);
  }
  return pass(
    'state',
    recorded
      ? `traffic is on ${state.primary}, the recorded primary (epoch ${state.epoch})`
      : `traffic is on ${state.primary}, the configured initialPrimary (nothing recorded yet)`,
  );
}

function alarmsCheck(facts: ReadinessFacts): CheckResult {
  const { service } = facts;
  if (!facts.alarms.ok) return unknown('alarms', `alarms not read: ${facts.alarms.error}`);
  const alarms = facts.alarms.value;
  const state = stateOf(facts);
  const reasons: string[] = [];
  const notes: string[] = [];
  for (const node of service.nodes) {
    const name = healthAlarmName(service, node);
    const value = alarms.get(name);
    const role = node.id === state?.primary ? 'primary' : 'replica';
    if (value === undefined) {
      reasons.push(
        role === 'primary'
          ? `health alarm ${name} of ${node.id} (primary) does not exist: a failure of ${node.id} would never start a failover`
          : `health alarm ${name} of ${node.id} does not exist: ${node.id} is never positively healthy, so never a candidate`,
      );
    } else if (value === 'INSUFFICIENT_DATA') {
      reasons.push(
        `health alarm ${name} of ${node.id} (${role}) has no data (INSUFFICIENT_DATA): ${
          role === 'primary'
            ? `a failure of ${node.id} would not be detected`
            : `${node.id} is not a candidate`
        }; check the metric it watches`,
      );
    } else if (value === 'ALARM') notes.push(`${name} is in ALARM`);
  }
  if (reasons.length > 0) return fail('alarms', reasons);
  return pass('alarms', `${service.nodes.length} health alarms exist and have data`, ...notes);
}

function lagCheck(facts: ReadinessFacts): CheckResult {
  const { service, now } = facts;
  if (!facts.lag.ok) return unknown('lag', `lag metrics not read: ${facts.lag.error}`);
  const lag = facts.lag.value;
  const state = stateOf(facts);
  const maxAge = service.policy.maxLagAgeSeconds;
  const reasons: string[] = [];
  const notes: string[] = [];
  const nodes = new Map(service.nodes.map((n) => [n.id, n]));
  for (const q of lagQueries(service)) {
    const nodeId = q.key.endsWith(LAG_BYTES_KEY_SUFFIX)
      ? q.key.slice(0, -LAG_BYTES_KEY_SUFFIX.length)
      : q.key;
    const node = nodes.get(nodeId) as NodeConfig;
    const metric = `${q.metric.namespace} ${q.metric.metricName}${dimensionsText(q.metric.dimensions)}`;
    const sample = lag.get(q.key);
    const isPrimary = node.id === state?.primary;
    let problem: string | undefined;
    if (sample === undefined || !Number.isFinite(sample.lagSeconds) || !Number.isFinite(sample.timestamp)) {
      problem = `no datapoint of ${metric} in the last ${READINESS_LAG_LOOKBACK_SECONDS / 60} min`;
    } else {
      const age = Math.round((now - sample.timestamp) / 1000);
      if (age > maxAge)
        problem = `newest datapoint of ${metric} is ${durationWords(age)} old, over the ${durationWords(maxAge)} of policy.maxLagAgeSeconds`;
    }
    if (!problem) continue;
    // The primary publishes no lag while it is primary on many engines: only its replicas must.
    if (isPrimary) notes.push(`${node.id} (primary): ${problem}`);
    else
      reasons.push(
        `${node.id}: ${problem}: lag counts as unknown or stale, so ${node.id} is never promoted automatically`,
      );
  }
  if (reasons.length > 0) return fail('lag', reasons);
  return pass('lag', 'every replica has fresh lag data', ...notes);
}

function decisionCheck(facts: ReadinessFacts): CheckResult {
  const { service, now } = facts;
  if (!facts.state.ok) return unknown('decision', `state table not read: ${facts.state.error}`);
  if (!facts.alarms.ok) return unknown('decision', `alarms not read: ${facts.alarms.error}`);
  if (!facts.lag.ok) return unknown('decision', `lag metrics not read: ${facts.lag.error}`);
  const state = stateOf(facts) as ClusterState;
  const alarms = facts.alarms.value;
  const lag = facts.lag.value;
  const decide = (s: ClusterState, svc: ServiceConfig) => {
    const primary = svc.nodes.find((n) => n.id === s.primary);
    const alarmName = primary ? healthAlarmName(svc, primary) : '(none)';
    return decideAutoFailover({
      service: svc,
      // As if the primary's alarm had just fired: would automation act?
      transition: {
        alarmName,
        state: 'ALARM',
        previousState: 'OK',
        timestamp: now,
        eventId: 'readiness-check',
      },
      alarms: primary ? new Map([...alarms, [alarmName, 'ALARM' as const]]) : alarms,
      lag,
      state: s,
      now,
    });
  };
  const decision = decide(state, service);
  if (decision.action === 'failover') {
    return pass(
      'decision',
      `if ${decision.from} failed now: failover to ${decision.to} (lag ${decision.lagSeconds} s)`,
    );
  }
  if (!OPERATOR_HOLDS.has(decision.reason)) {
    return fail('decision', [
      `if ${state.primary} failed now, automatic failover would HOLD (${decision.reason}): ${decision.detail}`,
    ]);
  }
  // Paused, disabled, in cooldown or leased: say so, and judge the replicas as if it were not.
  const { lease: _lease, lastChangeAt: _last, ...open } = state;
  const again = decide(
    { ...open, paused: false },
    { ...service, policy: { ...service.policy, autoFailover: true } },
  );
  const now_ = `now automatic failover would hold (${decision.reason}): ${decision.detail}`;
  if (again.action === 'failover')
    return pass('decision', `${now_}; otherwise: failover to ${again.to} (lag ${again.lagSeconds} s)`);
  return fail('decision', [`${now_}; and otherwise it would also HOLD (${again.reason}): ${again.detail}`]);
}

/** Every resource each configured node action needs, with what needs it. */
export function actionResources(service: ServiceConfig): {
  readonly nodeId: string;
  readonly role: string;
  readonly kind: NodeActionConfig['type'];
  readonly ref: ResourceRef;
}[] {
  return serviceNodeActions(service).flatMap(({ node, role, action }) =>
    resourcesOf(node, action).map((ref) => ({ nodeId: node.id, role, kind: action.type, ref })),
  );
}

function resourcesOf(node: NodeConfig, action: NodeActionConfig): ResourceRef[] {
  const instances = nodeInstanceIds(node).map((id): ResourceRef => ({ kind: 'ec2-instance', id }));
  switch (action.type) {
    case 'lambda':
      return [{ kind: 'lambda-function', id: action.functionArn }];
    case 'ssm-command':
      return [{ kind: 'ssm-document', id: action.document }, ...instances];
    case 'ec2-stop':
      return instances;
    case 'ec2-isolate':
      return [...instances, { kind: 'security-group', id: action.isolationSecurityGroupId }];
    case 'rds-promote-read-replica':
      return node.dbInstanceIdentifier ? [{ kind: 'rds-instance', id: node.dbInstanceIdentifier }] : [];
    case 'postgres':
    case 'mysql': {
      const conn = sqlConnectionOf(node, action.type);
      return conn ? [{ kind: 'secret', id: conn.secretArn }] : [];
    }
  }
}

const KIND_TEXT: Readonly<Record<ResourceKind, string>> = {
  'ec2-instance': 'EC2 instance',
  'security-group': 'security group',
  'ssm-document': 'SSM document',
  'rds-instance': 'RDS DB instance',
  'lambda-function': 'Lambda function',
  secret: 'secret',
};

function actionsCheck(facts: ReadinessFacts): CheckResult {
  const needed = actionResources(facts.service);
  if (needed.length === 0) return pass('actions', 'no node actions configured');
  if (!facts.resources.ok)
    return unknown('actions', `action resources not checked: ${facts.resources.error}`);
  const found = facts.resources.value;
  const reasons: string[] = [];
  const unchecked: string[] = [];
  const seen = new Set<string>();
  for (const n of needed) {
    const key = `${n.nodeId}/${n.role}/${resourceKey(n.ref)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const status = found.get(resourceKey(n.ref));
    const what = `${KIND_TEXT[n.ref.kind]} ${n.ref.id}`;
    if (status === undefined) unchecked.push(what);
    else if (!status.exists) {
      reasons.push(
        `the ${n.role} action (${n.kind}) of ${n.nodeId} needs ${what}: ${status.detail ?? 'not found'}`,
      );
    }
  }
  if (reasons.length > 0) return fail('actions', [...new Set(reasons)]);
  if (unchecked.length > 0) return unknown('actions', `not checked: ${[...new Set(unchecked)].join(', ')}`);
  return pass('actions', `${new Set(needed.map((n) => resourceKey(n.ref))).size} action resources exist`);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** The node whose address a record holds, when it holds exactly one value and is a plain record. */
export function liveRecordNode(service: ServiceConfig, record: LiveRecord | undefined): string | undefined {
  const [value, ...more] = record?.values ?? [];
  if (value === undefined || more.length > 0) return undefined;
  return nodeForValue(service, value)?.id;
}

function nodeForValue(service: ServiceConfig, value: string): NodeConfig | undefined {
  const r = service.router;
  const norm = (v: string) =>
    r.type === 'route53' && r.recordType === 'CNAME' ? v.toLowerCase().replace(/\.$/, '') : v.toLowerCase();
  return service.nodes.find((n) => n.address !== undefined && norm(n.address) === norm(value));
}

/** `12 s`, `4 min 10 s`, `2 h 5 min`: one format for every duration an operator reads. */
export function durationWords(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? '-' : '';
  if (s < 60) return `${sign}${s} s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${sign}${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
}

function dimensionsText(dimensions: Readonly<Record<string, string>>): string {
  const entries = Object.entries(dimensions);
  return entries.length ? ` (${entries.map(([k, v]) => `${k}=${v}`).join(', ')})` : '';
}

/** Resources of every service, deduplicated: one existence check each per pass. */
export function readinessResourceRefs(services: readonly ServiceConfig[]): ResourceRef[] {
  const refs = new Map<string, ResourceRef>();
  for (const s of services) for (const n of actionResources(s)) refs.set(resourceKey(n.ref), n.ref);
  return [...refs.values()];
}
