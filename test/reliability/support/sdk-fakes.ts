/**
 * Stateful stand-ins for the ELBv2 and Route 53 SDK clients, for driving the REAL adapters
 * (ElbRouter, Route53Router, through TrafficRouter) into partial outcomes: each `send` is a call
 * site (`elb.RegisterTargets#1`), and a fault either refuses the request (throttling, 5xx: nothing
 * applied) or applies it and then loses the answer (timeout). They keep just enough AWS semantics
 * for the adapters: registered targets, listener weights, and Route 53's atomic change batch whose
 * DELETE must match the live record exactly.
 */
import {
  type Action,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RegisterTargetsCommand,
  type TargetDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { awsError } from '../../../lambdas/testing/instrument.ts';
import type { FaultKind } from './faults.ts';

/** The kinds a raw SDK call can fail with, as the SDK surfaces them after its own retries. */
export const SDK_KINDS: readonly FaultKind[] = ['throttle', 'server-error', 'timeout'];

type Visit = (site: string) => FaultKind | undefined;

function sdkError(kind: FaultKind): Error {
  switch (kind) {
    case 'throttle':
      return awsError('Throttling', 'Rate exceeded', { status: 400 });
    case 'server-error':
      return awsError('InternalFailure', 'We encountered an internal error', { status: 500 });
    default:
      return Object.assign(new Error('Request timed out after 10000 ms'), { name: 'TimeoutError' });
  }
}

/** Counts calls per command and consults the injector; `apply` runs the command's effect. */
class Sites {
  private counts = new Map<string, number>();
  constructor(
    private readonly prefix: string,
    private readonly visit: Visit,
  ) {}

  reset(): void {
    this.counts = new Map();
  }

  async call<T>(command: string, apply: () => T): Promise<T> {
    const k = (this.counts.get(command) ?? 0) + 1;
    this.counts.set(command, k);
    const kind = this.visit(`${this.prefix}.${command}#${k}`);
    if (kind === undefined) return apply();
    if (kind === 'timeout') {
      apply();
      throw sdkError(kind);
    }
    throw sdkError(kind);
  }
}

const key = (t: TargetDescription) => `${t.Id}:${t.Port ?? ''}`;

export class FakeElb {
  /** Registered targets per target group. */
  readonly targets = new Map<string, Map<string, TargetDescription>>();
  /** The default action of each listener. */
  readonly listeners = new Map<string, Action>();
  private readonly sites: Sites;

  constructor(visit: Visit) {
    this.sites = new Sites('elb', visit);
  }

  /** Restart the per-invocation call counts. */
  newInvocation(): void {
    this.sites.reset();
  }

  register(tg: string, target: TargetDescription): void {
    const group = this.targets.get(tg) ?? new Map();
    group.set(key(target), target);
    this.targets.set(tg, group);
  }

  get client(): ElasticLoadBalancingV2Client {
    return { send: (command: unknown) => this.send(command) } as unknown as ElasticLoadBalancingV2Client;
  }

  private async send(command: unknown): Promise<unknown> {
    if (command instanceof RegisterTargetsCommand) {
      const { TargetGroupArn, Targets } = command.input;
      return this.sites.call('RegisterTargets', () => {
        for (const t of Targets ?? []) this.register(TargetGroupArn as string, t);
        return {};
      });
    }
    if (command instanceof DeregisterTargetsCommand) {
      const { TargetGroupArn, Targets } = command.input;
      return this.sites.call('DeregisterTargets', () => {
        for (const t of Targets ?? []) this.targets.get(TargetGroupArn as string)?.delete(key(t));
        return {};
      });
    }
    if (command instanceof DescribeTargetHealthCommand) {
      const { TargetGroupArn, Targets } = command.input;
      return this.sites.call('DescribeTargetHealth', () => {
        const group = this.targets.get(TargetGroupArn as string) ?? new Map<string, TargetDescription>();
        const asked = Targets ?? [...group.values()];
        return {
          TargetHealthDescriptions: asked.map((t) =>
            group.has(key(t))
              ? { Target: t, TargetHealth: { State: 'healthy' } }
              : { Target: t, TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered' } },
          ),
        };
      });
    }
    if (command instanceof DescribeListenersCommand) {
      const arn = command.input.ListenerArns?.[0] as string;
      return this.sites.call('DescribeListeners', () => ({
        Listeners: [{ ListenerArn: arn, DefaultActions: [structuredClone(this.listeners.get(arn))] }],
      }));
    }
    if (command instanceof ModifyListenerCommand) {
      const { ListenerArn, DefaultActions } = command.input;
      return this.sites.call('ModifyListener', () => {
        // ELB applies the weights of one ModifyListener atomically.
        this.listeners.set(ListenerArn as string, structuredClone(DefaultActions?.[0] as Action));
        return {};
      });
    }
    throw new Error(`FakeElb: unexpected command ${(command as object).constructor.name}`);
  }
}

export class FakeRoute53 {
  /** Live records: `name type` -> { ttl, values }. */
  readonly records = new Map<string, { ttl: number; values: string[] }>();
  private changes = 0;
  private readonly sites: Sites;

  constructor(visit: Visit) {
    this.sites = new Sites('route53', visit);
  }

  newInvocation(): void {
    this.sites.reset();
  }

  get client(): Route53Client {
    return { send: (command: unknown) => this.send(command) } as unknown as Route53Client;
  }

  private async send(command: unknown): Promise<unknown> {
    if (command instanceof ChangeResourceRecordSetsCommand) {
      const changes = command.input.ChangeBatch?.Changes ?? [];
      return this.sites.call('ChangeResourceRecordSets', () => this.applyBatch(changes));
    }
    if (command instanceof ListResourceRecordSetsCommand) {
      const { StartRecordName, StartRecordType } = command.input;
      return this.sites.call('ListResourceRecordSets', () => {
        const r = this.records.get(`${StartRecordName} ${StartRecordType}`);
        return {
          ResourceRecordSets: r
            ? [
                {
                  Name: StartRecordName,
                  Type: StartRecordType,
                  TTL: r.ttl,
                  ResourceRecords: r.values.map((Value) => ({ Value })),
                },
              ]
            : [],
        };
      });
    }
    if (command instanceof GetChangeCommand) {
      return this.sites.call('GetChange', () => ({ ChangeInfo: { Id: command.input.Id, Status: 'INSYNC' } }));
    }
    throw new Error(`FakeRoute53: unexpected command ${(command as object).constructor.name}`);
  }

  /** All or nothing, in order: a DELETE must match the live record exactly (InvalidChangeBatch otherwise). */
  private applyBatch(changes: readonly Change[]): unknown {
    const next = new Map(this.records);
    for (const c of changes) {
      const set = c.ResourceRecordSet;
      const id = `${set?.Name} ${set?.Type}`;
      const values = (set?.ResourceRecords ?? []).map((r) => r.Value as string);
      const live = next.get(id);
      if (c.Action === 'DELETE') {
        if (!live || live.ttl !== set?.TTL || live.values.join() !== values.join()) {
          throw awsError(
            'InvalidChangeBatch',
            `Tried to delete resource record set [name='${set?.Name}'] but the values provided do not match the current values`,
            { status: 400 },
          );
        }
        next.delete(id);
      } else if (c.Action === 'CREATE') {
        if (live)
          throw awsError(
            'InvalidChangeBatch',
            `Tried to create resource record set [name='${set?.Name}'] but it already exists`,
            { status: 400 },
          );
        next.set(id, { ttl: set?.TTL as number, values });
      } else {
        next.set(id, { ttl: set?.TTL as number, values });
      }
    }
    this.records.clear();
    for (const [k, v] of next) this.records.set(k, v);
    return { ChangeInfo: { Id: `/change/C${++this.changes}`, Status: 'PENDING' } };
  }
}
