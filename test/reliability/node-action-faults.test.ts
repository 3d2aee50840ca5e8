/**
 * SDK faults at every call site of the built-in node actions, through the REAL adapters
 * (lambdas/aws/actions/) over stateful fakes of EC2, SSM and RDS. A throttle or a 5xx refuses the
 * request (nothing applied); a timeout applies it and loses the answer. Chains of up to three
 * faults, and outages of a whole API.
 *
 * Invariants, read from the fakes, not from what the adapters say:
 * - `run` never throws: every fault is a result (failed / timed-out) with a classified error;
 * - `succeeded` only when the node really is in the role's state (stopped / isolated / restored /
 *   promoted / the command ran);
 * - a fault that applied the request is never reported as a plain, certain failure: `succeeded`,
 *   or `uncertain`, or the action itself re-read the state;
 * - the same request retried without faults succeeds and leaves the node in the role's state, and
 *   an isolation undone after any faulted fence restores exactly the original groups.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { AwsNodeActions } from '../../lambdas/aws/actions/index.ts';
import type { NodeActionRequest, NodeActionResult } from '../../lambdas/domain/node-actions.ts';
import { awsError } from '../../lambdas/testing/instrument.ts';
import { actionConfig, fakeTiming, INSTANCE_A, INSTANCE_B, request } from '../aws/actions/helpers.ts';
import {
  describePlans,
  exploreFaults,
  FaultInjector,
  type FaultKind,
  type FaultPlan,
} from './support/faults.ts';
import { recordFigures } from './support/results.ts';
import { SDK_KINDS } from './support/sdk-fakes.ts';

const ORIGINAL = ['sg-0123456789abcdef0', 'sg-0123456789abcdef1'];
const ISOLATION = 'sg-0ffffffffffffffff';

function sdkError(kind: FaultKind): Error {
  if (kind === 'throttle') return awsError('Throttling', 'Rate exceeded', { status: 400 });
  if (kind === 'server-error') return awsError('InternalFailure', 'internal error', { status: 500 });
  return Object.assign(new Error('Request timed out after 10000 ms'), { name: 'TimeoutError' });
}

interface Instance {
  state: string;
  groups: string[];
  tags: Map<string, string>;
}

/** EC2, SSM and RDS, just enough for the actions; every send is a call site. */
class FakeAws {
  readonly instances = new Map<string, Instance>([
    [INSTANCE_A, { state: 'running', groups: [...ORIGINAL], tags: new Map() }],
    [INSTANCE_B, { state: 'running', groups: [...ORIGINAL], tags: new Map() }],
  ]);
  readonly commands = new Map<string, { instance: string; lines: string[] }>();
  readonly db = { status: 'available', source: 'orders-a' as string | undefined, promoteCalls: 0 };
  /** Set by a timed-out call: the request was applied but its answer lost. */
  appliedButLost = false;
  private counts = new Map<string, number>();

  constructor(private readonly visit: (site: string) => FaultKind | undefined) {}

  private scope = '';

  /** A new request: call counts start again, and sites are named after the request's role. */
  newRun(scope: string): void {
    this.scope = scope;
    this.counts = new Map();
    this.appliedButLost = false;
  }

  private async call<T>(prefix: string, name: string, apply: () => T): Promise<T> {
    const command = name.replace(/Command$/, '');
    const k = (this.counts.get(`${prefix}.${command}`) ?? 0) + 1;
    this.counts.set(`${prefix}.${command}`, k);
    const kind = this.visit(`${this.scope}/${prefix}.${command}#${k}`);
    if (kind === undefined) return apply();
    if (kind === 'timeout') {
      apply();
      this.appliedButLost = this.appliedButLost || !/^(Describe|Get)/.test(command);
    }
    throw sdkError(kind);
  }

  // biome-ignore lint/suspicious/noExplicitAny: SDK commands are dispatched on their class name
  private ec2Apply(name: string, input: any): unknown {
    const each = (ids: string[], f: (i: Instance) => void) => {
      for (const id of ids) {
        const i = this.instances.get(id);
        if (!i)
          throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`, {
            status: 400,
          });
        f(i);
      }
    };
    switch (name) {
      case 'DescribeInstancesCommand': {
        const found: object[] = [];
        each(input.InstanceIds, () => undefined);
        for (const id of input.InstanceIds as string[]) {
          const i = this.instances.get(id) as Instance;
          found.push({
            InstanceId: id,
            State: { Name: i.state },
            SecurityGroups: i.groups.map((GroupId) => ({ GroupId })),
            Tags: [...i.tags].map(([Key, Value]) => ({ Key, Value })),
          });
        }
        return { Reservations: [{ Instances: found }] };
      }
      case 'CreateTagsCommand':
        each(input.Resources, (i) => {
          for (const t of input.Tags) i.tags.set(t.Key, t.Value);
        });
        return {};
      case 'DeleteTagsCommand':
        each(input.Resources, (i) => {
          for (const t of input.Tags) i.tags.delete(t.Key);
        });
        return {};
      case 'ModifyInstanceAttributeCommand':
        each([input.InstanceId], (i) => {
          i.groups = [...input.Groups];
        });
        return {};
      // EC2 answers stopping/pending; the next Describe shows the final state.
      case 'StopInstancesCommand':
        each(input.InstanceIds, (i) => {
          if (i.state === 'running') i.state = 'stopped';
        });
        return {};
      case 'StartInstancesCommand':
        each(input.InstanceIds, (i) => {
          if (i.state === 'stopped') i.state = 'running';
        });
        return {};
      default:
        throw new Error(`no fake for ec2 ${name}`);
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: see ec2Apply
  private ssmApply(name: string, input: any): unknown {
    if (name === 'SendCommandCommand') {
      const id = `cmd-${this.commands.size + 1}`;
      this.commands.set(id, { instance: input.InstanceIds[0], lines: input.Parameters.commands });
      return { Command: { CommandId: id } };
    }
    if (name === 'GetCommandInvocationCommand') {
      if (!this.commands.has(input.CommandId))
        throw awsError('InvocationDoesNotExist', 'no such invocation', { status: 400 });
      return { InstanceId: input.InstanceId, Status: 'Success', ResponseCode: 0 };
    }
    throw new Error(`no fake for ssm ${name}`);
  }

  // biome-ignore lint/suspicious/noExplicitAny: see ec2Apply
  private rdsApply(name: string, _input: any): unknown {
    if (name === 'DescribeDBInstancesCommand') {
      const view = {
        DBInstanceIdentifier: 'orders-b',
        DBInstanceStatus: this.db.status,
        ReadReplicaSourceDBInstanceIdentifier: this.db.source,
      };
      // A requested promotion completes by the next read (modifying in between on real RDS).
      if (this.db.promoteCalls > 0) {
        this.db.source = undefined;
        this.db.status = 'available';
      }
      return { DBInstances: [view] };
    }
    if (name === 'PromoteReadReplicaCommand') {
      if (this.db.source === undefined || this.db.status !== 'available') {
        throw awsError('InvalidDBInstanceState', 'not a read replica or in an invalid state', {
          status: 400,
        });
      }
      this.db.promoteCalls += 1;
      this.db.status = 'modifying';
      return {};
    }
    throw new Error(`no fake for rds ${name}`);
  }

  client(prefix: 'ec2' | 'ssm' | 'rds') {
    const apply = prefix === 'ec2' ? this.ec2Apply : prefix === 'ssm' ? this.ssmApply : this.rdsApply;
    return {
      send: (command: { constructor: { name: string }; input: unknown }) =>
        this.call(prefix, command.constructor.name, () =>
          apply.call(this, command.constructor.name, command.input),
        ),
    };
  }
}

interface Scenario {
  readonly name: string;
  readonly actions: Record<string, unknown>;
  /** Requests in order; each after the previous one's result. */
  readonly requests: readonly NodeActionRequest[];
  /** The node is in the state the request's role asks for. */
  readonly reached: (aws: FakeAws, r: NodeActionRequest) => boolean;
}

const isolated = (aws: FakeAws) => {
  const i = aws.instances.get(INSTANCE_A) as Instance;
  return i.groups.length === 1 && i.groups[0] === ISOLATION;
};
const restored = (aws: FakeAws) => {
  const i = aws.instances.get(INSTANCE_A) as Instance;
  return JSON.stringify(i.groups) === JSON.stringify(ORIGINAL);
};

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'ec2-stop fence then unfence',
    actions: { fence: { type: 'ec2-stop', force: true } },
    requests: [request('fence'), request('unfence')],
    reached: (aws, r) =>
      aws.instances.get(INSTANCE_A)?.state === (r.role === 'fence' ? 'stopped' : 'running'),
  },
  {
    name: 'ec2-isolate fence then unfence',
    actions: { fence: { type: 'ec2-isolate', isolationSecurityGroupId: ISOLATION } },
    requests: [request('fence'), request('unfence')],
    reached: (aws, r) => (r.role === 'fence' ? isolated(aws) : restored(aws)),
  },
  {
    name: 'ssm-command promote',
    actions: { promote: { type: 'ssm-command', commands: ['promote --token {token}'] } },
    requests: [request('promote')],
    reached: (aws) => [...aws.commands.values()].some((c) => c.instance === INSTANCE_B),
  },
  {
    name: 'rds-promote-read-replica promote',
    actions: { promote: { type: 'rds-promote-read-replica' } },
    requests: [request('promote')],
    reached: (aws) => aws.db.source === undefined && aws.db.status === 'available',
  },
];

async function runScenario(scenario: Scenario, plans: readonly FaultPlan[]) {
  const injector = new FaultInjector(plans);
  let faulting = true;
  const aws = new FakeAws((site) => (faulting ? injector.visit(site) : undefined));
  const port = new AwsNodeActions({
    config: actionConfig(scenario.actions),
    clients: {
      ec2: () => aws.client('ec2') as unknown as EC2Client,
      ssm: () => aws.client('ssm') as unknown as SSMClient,
      rds: () => aws.client('rds') as unknown as RDSClient,
    },
    timing: fakeTiming(1_000),
  });
  const violations: string[] = [];
  const results: NodeActionResult[] = [];
  for (const req of scenario.requests) {
    aws.newRun(req.role);
    let result: NodeActionResult;
    try {
      result = await port.run({ ...req, timeoutMs: 10_000 });
    } catch (err) {
      violations.push(`${req.role} threw ${(err as Error).name}: ${(err as Error).message}`);
      continue;
    }
    results.push(result);
    if (result.status === 'succeeded' && !scenario.reached(aws, req)) {
      violations.push(`${req.role} reported succeeded, but the node is not in its state`);
    }
    if (result.status !== 'succeeded' && !result.error)
      violations.push(`${req.role} ${result.status} without a classified error`);
    if (
      aws.appliedButLost &&
      result.status === 'failed' &&
      result.error?.uncertain === false &&
      !scenario.reached(aws, req)
    ) {
      // A lost answer to an applied write must not read as "nothing happened" unless the state says so.
      if (!/refused|NodeActionFailedError/.test(`${result.error.name} ${result.detail}`)) {
        violations.push(`${req.role}: an applied write was reported as a certain failure (${result.detail})`);
      }
    }
    // The same request again, faults over: it must get there.
    if (result.status !== 'succeeded') {
      faulting = false;
      aws.newRun(`${req.role}-retry`);
      const retried = await port.run({ ...req, timeoutMs: 10_000 });
      if (retried.status !== 'succeeded' || !scenario.reached(aws, req)) {
        violations.push(`${req.role} retried without faults: ${retried.status} ${retried.detail}`);
      }
      faulting = true;
    }
  }
  return { sites: injector.sites, result: { violations, results } };
}

describe.each(SCENARIOS.map((s) => [s.name, s] as const))(
  'node action %s, SDK faults at every call',
  (_n, scenario) => {
    it('never throws, never claims a state the node is not in, and a retry gets there', async () => {
      const { sites, clean, runs } = await exploreFaults((plans) => runScenario(scenario, plans), {
        kindsFor: () => SDK_KINDS,
        everyPath: true,
      });
      expect(clean.violations).toEqual([]);
      expect(clean.results.every((r) => r.status === 'succeeded')).toBe(true);
      const violations = runs.flatMap((r) =>
        r.result.violations.map((v) => `${describePlans(r.plans)}: ${v}`),
      );
      expect(violations).toEqual([]);
      expect(sites.length).toBeGreaterThan(1);
      recordFigures(`faults-node-action-${scenario.name.split(' ')[0]}`, {
        label: `SDK faults in the ${scenario.name.split(' ')[0]} node action`,
        tried: runs.length,
        violations: violations.length,
        detail: `${sites.length} SDK call sites (${scenario.name}) x ${SDK_KINDS.join('/')}, chained up to 3, and API outages`,
        order: 17,
      });
    });
  },
);
