/**
 * What a drill scenario is: one service, how its nodes start, a script of what happens to them
 * (and what an operator does), and the outcome that must hold afterwards.
 */
import type { FailoverConfigInput } from '../lambdas/domain/config.ts';
import type { NodeActionRole } from '../lambdas/domain/node-actions.ts';
import type { HistoryEntry, StoredClusterState } from '../lambdas/domain/types.ts';
import type { WorkflowRequestInput } from '../lambdas/domain/workflow.ts';
import type { FailoverHandlerResult } from '../lambdas/handlers/failover.ts';
import type { ScriptedAnswer } from '../lambdas/testing/node-actions.ts';
import type { TimelineEntry } from './timeline.ts';

export type ServiceInput = FailoverConfigInput['services'][number];

/** The AWS resources a scenario's service routes with: fixed in the simulation, created on an endpoint. */
export interface ScenarioResources {
  readonly hostedZoneId: string;
  readonly zoneName: string;
  /** elbv2-weighted scenarios: the listener and each node's target group. */
  readonly elb?: {
    readonly listenerArn: string;
    readonly targetGroupArns: Readonly<Record<string, string>>;
  };
}

export interface NodeStart {
  /** Replication lag while the primary writes. @default 0 (the primary's value is ignored) */
  readonly lagSeconds?: number;
  /** @default true */
  readonly up?: boolean;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface Scenario {
  /** kebab-case, what `npm run drill -- <name>` takes. */
  readonly name: string;
  readonly title: string;
  /** One paragraph: what happens and what must hold. */
  readonly summary: string;
  /** The id of the service `service()` returns (unique across scenarios: the drill runs them as one fleet). */
  readonly serviceId: string;
  readonly router: 'route53' | 'elbv2-weighted';
  /** The service under test, validated by the real configuration schema. */
  service(resources: ScenarioResources): ServiceInput;
  /** How each node starts (keys are node ids). */
  readonly nodes: Readonly<Record<string, NodeStart>>;
  /**
   * An earlier role change, recorded through the state and traffic ports before t=0 (e.g. the
   * failover that a failback undoes). @default none: the configured initial primary at epoch 0
   */
  readonly before?: { readonly primary: string; readonly secondsAgo: number; readonly reason: string };
  /** The scenario ends here (simulated seconds). */
  readonly durationSeconds: number;
  run(d: Driver): Promise<void>;
  /** What must be true afterwards; printed as the scenario's verdict. */
  checks(outcome: ScenarioOutcome): Check[];
}

/** What a scenario script can do. Times are seconds since the scenario started. */
export interface Driver {
  readonly serviceId: string;
  /** Lets the world run until `seconds`. */
  at(seconds: number): Promise<void>;
  /**
   * The node stops answering: its health probes fail, it takes no writes, it publishes no lag.
   * `actionsReach`: its node actions still take effect (a hung host whose fence isolates it
   * through the control plane); by default a crashed node answers no action either.
   */
  crash(nodeId: string, options?: { readonly actionsReach?: boolean }): void;
  /** The node is back; as a replica it starts `lagSeconds` behind. */
  recover(nodeId: string, options?: { readonly lagSeconds?: number }): void;
  /** Sets a replica's lag (while the primary writes), at once or as a ramp over `overSeconds`. */
  setLag(nodeId: string, lagSeconds: number, options?: { readonly overSeconds?: number }): void;
  /** The replica's lag publisher stops (its datapoints age until they are stale). */
  stopLagPublisher(nodeId: string): void;
  /** What the next `role` action on the node does (services with node actions; in order). */
  scriptAction(nodeId: string, role: NodeActionRole, answer: ScriptedAnswer): void;
  /** A line in the timeline about the world. */
  note(text: string): void;
  /** EventBridge delivery faults for the next event about `nodeId`'s health alarm. */
  nextEvent(
    nodeId: string,
    fault: { readonly duplicates?: number; readonly spacingMs?: number; readonly delayMs?: number },
  ): void;
  /** Delivers an event again, byte for byte (an out-of-order, late duplicate). */
  redeliver(eventId: string): Promise<void>;
  /** Events delivered so far, oldest first. */
  readonly events: readonly DeliveredEvent[];
  /** An operator starts the switchover workflow (StartExecution) and waits for it. */
  startWorkflow(request: Omit<WorkflowRequestInput, 'serviceId'>): Promise<ExecutionSummary>;
}

export interface DeliveredEvent {
  readonly eventId: string;
  readonly alarmName: string;
  readonly nodeId: string;
  readonly state: string;
  readonly previousState: string;
}

export interface InvocationSummary {
  /** Seconds since the scenario started. */
  readonly at: number;
  readonly endAt: number;
  readonly eventId: string;
  readonly requestId: string;
  readonly alarmName: string;
  readonly transition: string;
  /** 1 for the first attempt; Lambda's async retries count up. */
  readonly attempt: number;
  readonly copy: number;
  readonly result?: FailoverHandlerResult;
  readonly error?: string;
}

export interface ExecutionSummary {
  readonly name: string;
  readonly request: WorkflowRequestInput;
  readonly at: number;
  readonly endAt: number;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly steps: readonly { step: string; at: number; endAt: number; ok: boolean; detail?: string }[];
}

export interface Phase {
  readonly name: string;
  readonly ms: number;
  readonly note?: string;
}

export interface Recovery {
  readonly kind: 'auto-failover' | 'switchover' | 'failover';
  /** What the clock counts from: the crash, or the fence of a planned switchover. */
  readonly from: string;
  readonly startAt: number;
  readonly phases: readonly Phase[];
  /** Sum of the phases: start to every client on the new primary (worst case). */
  readonly totalMs: number;
  /** Replication lag of the promoted node when it was promoted: the most data that can be lost. */
  readonly rpoSeconds?: number;
  readonly rpoNote: string;
}

export interface SeriesSample {
  /** Seconds since the scenario started. */
  readonly t: number;
  readonly nodes: Readonly<
    Record<
      string,
      { readonly up: boolean; readonly alarm: string; readonly lag?: number; readonly fenced: boolean }
    >
  >;
  /** Where the router points (the authoritative record or the listener). */
  readonly routedTo?: string;
  /** Where every client goes: a node, or 'converging' while DNS caches still hold the old answer. */
  readonly clients?: string;
}

export interface Marker {
  readonly t: number;
  readonly kind: 'failover' | 'hold' | 'ignored' | 'workflow' | 'step' | 'fault';
  readonly label: string;
}

export interface ScenarioOutcome {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly serviceId: string;
  readonly nodes: readonly string[];
  readonly router: { readonly type: string; readonly ttlSeconds?: number; readonly record?: string };
  readonly maxLagSeconds: number;
  readonly cooldownSeconds: number;
  readonly durationSeconds: number;
  /** The stored state at the end (undefined: never written). */
  readonly state?: StoredClusterState;
  readonly primary: string;
  readonly epoch: number;
  /** Where traffic points at the end, read from the router. */
  readonly traffic?: string;
  readonly history: readonly HistoryEntry[];
  readonly invocations: readonly InvocationSummary[];
  readonly executions: readonly ExecutionSummary[];
  readonly notifications: readonly { at: number; kind: string; subject: string }[];
  /** The EventBridge events delivered to the failover Lambda, as CloudWatch sends them (first delivery of each). */
  readonly events: readonly unknown[];
  readonly trafficChanges: readonly { at: number; from: string; to: string }[];
  readonly recovery?: Recovery;
  /** Services with node actions (MemoryNodeActions): every call, and who accepted writes. */
  readonly nodeActions?: NodeActionsOutcome;
  readonly timeline: readonly TimelineEntry[];
  readonly series: readonly SeriesSample[];
  readonly lagDatapoints: Readonly<Record<string, readonly { t: number; lag: number }[]>>;
  readonly markers: readonly Marker[];
  readonly checks: readonly Check[];
  readonly passed: boolean;
  /** Wall-clock milliseconds the scenario took to run. */
  readonly wallMs: number;
}

export interface NodeActionsOutcome {
  readonly calls: readonly {
    readonly at: number;
    readonly nodeId: string;
    readonly role: NodeActionRole;
    readonly token: number;
    readonly outcome: string;
    readonly applied: boolean;
  }[];
  /** The most nodes that accepted writes at once, checked every simulated second and after every action. */
  readonly maxWriters: number;
  /** Moments with more than one writer (split brain). */
  readonly splitBrain: readonly { readonly t: number; readonly writers: readonly string[] }[];
  /** How many times the writers were checked. */
  readonly writerChecks: number;
  /** Who accepted writes at the end. */
  readonly writersAtEnd: readonly string[];
}
