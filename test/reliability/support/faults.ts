/**
 * Fault injection at the ports, shaped like what the AWS adapters really surface:
 *
 * - StatePort, AlarmPort, LagPort, NotifierPort, TrafficPort.current, GetChange: the adapters
 *   turn throttling, 5xx and timeouts into TransientAwsError (rethrowAws), so that is what is
 *   thrown here, with the SDK-shaped error as its cause. A timeout is injected AFTER the call
 *   applied (the worst case for a write: it landed, the caller cannot know).
 * - TrafficPort.shift never throws for one service's failure: it answers `failed` results, with
 *   `uncertain` when the change may have applied. Its kinds include the partial outcomes of a
 *   multi-step shift.
 *
 * A call site is `<scope>/<port>.<method>#<k>`: the k-th call of that method within one scope
 * (one Lambda invocation attempt, one workflow step invocation). Sites are discovered from the
 * call log of a clean run and of every faulted run, so a new call in the code is a new site.
 */
import { TransientAwsError } from '../../../lambdas/domain/errors.ts';
import type { TrafficChange, TrafficShiftResult } from '../../../lambdas/domain/types.ts';
import {
  awsError,
  type CallInfo,
  CallLog,
  type Fault,
  instrument,
} from '../../../lambdas/testing/instrument.ts';
import type { MemoryEnvironment, MemoryTraffic } from '../../../lambdas/testing/memory.ts';

/** Kinds for every call that surfaces errors as exceptions. */
export const ERROR_KINDS = ['throttle', 'server-error', 'timeout'] as const;
/** Kinds for TrafficPort.shift, whose failures are results. */
export const SHIFT_KINDS = [
  'throttle',
  'server-error',
  'timeout',
  'timeout-unsent',
  'response-lost',
  'partial-both-live',
] as const;
/**
 * Kinds only a hook (a node action behind Step Functions' lambda:invoke) can show: the Task times
 * out, and the call lands afterwards, while the Catch is already compensating.
 */
export const LATE_KINDS = ['late-answer'] as const;
export type FaultKind =
  | (typeof ERROR_KINDS)[number]
  | (typeof SHIFT_KINDS)[number]
  | (typeof LATE_KINDS)[number];

export const KIND_TEXT: Readonly<Record<FaultKind, string>> = {
  throttle: 'throttled (4xx, nothing applied)',
  'server-error': '5xx (nothing applied)',
  timeout: 'timed out after the call applied',
  'timeout-unsent': 'timed out before the request was sent (nothing applied, outcome unknown to the caller)',
  'response-lost': 'applied, then the answer was lost (the port threw instead of answering)',
  'partial-both-live':
    'ELB target move half done: new target registered, old deregistration and its rollback failed (both live)',
  'late-answer':
    'timed out before it did anything, then did its work after the Catch began (an abandoned call)',
};

/** Every fault persists for one call (`once`, retried calls succeed) or for every call of the API (`always`: an outage). */
export type Persistence = 'once' | 'always';

export interface FaultPlan {
  /** `once`: the site to fault; `always`: the API (`port.method`). */
  readonly target: string;
  readonly kind: FaultKind;
  readonly persistence: Persistence;
}

export function kindsFor(api: string): readonly FaultKind[] {
  return api === 'traffic.shift' ? SHIFT_KINDS : ERROR_KINDS;
}

/** `traffic.shift#1` -> `traffic.shift`; `prepare/state.get#1` -> `state.get`. */
export function apiOf(site: string): string {
  return site.replace(/^.*\//, '').replace(/#\d+$/, '');
}

const throttling = () => awsError('ThrottlingException', 'Rate exceeded', { status: 400 });
const serverError = () =>
  awsError('InternalServerError', 'We encountered an internal error', { status: 500 });
const timeoutError = () =>
  Object.assign(new Error('Connection timed out after 10000 ms'), { name: 'TimeoutError' });

function failedResults(
  changes: readonly TrafficChange[],
  errorName: string,
  message: string,
  uncertain: boolean,
): TrafficShiftResult[] {
  return changes.map((c) => ({ serviceId: c.serviceId, status: 'failed', errorName, message, uncertain }));
}

const SERVER_ERROR = ['InternalFailure', 'We encountered an internal error'] as const;
const TIMED_OUT = ['TimeoutError', 'Connection timed out after 10000 ms'] as const;

/** The fault a port call gets for `kind`. `traffic` is needed for the partial outcome (it changes the routing). */
export function faultFor(kind: FaultKind, call: CallInfo, traffic?: MemoryTraffic): Fault {
  const api = `${call.port}.${call.method}`;
  if (api === 'traffic.shift') {
    const changes = call.args[0] as readonly TrafficChange[];
    switch (kind) {
      case 'throttle':
        return { mode: 'return', value: failedResults(changes, 'Throttling', 'Rate exceeded', false) };
      case 'server-error':
        return { mode: 'return', value: failedResults(changes, ...SERVER_ERROR, false) };
      case 'timeout':
        return { mode: 'apply-then-return', value: failedResults(changes, ...TIMED_OUT, true) };
      case 'timeout-unsent':
        return { mode: 'return', value: failedResults(changes, ...TIMED_OUT, true) };
      case 'response-lost':
        return {
          mode: 'apply-then-throw',
          error: Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' }),
        };
      case 'partial-both-live': {
        if (!traffic) throw new Error('partial-both-live needs the memory traffic to break');
        // Both targets registered: the router matches no single node any more.
        for (const c of changes) traffic.set(c.serviceId, undefined);
        return {
          mode: 'return',
          value: failedResults(
            changes,
            'InternalFailure',
            'old target and new target are both registered: deregistering the old one failed and the rollback failed',
            true,
          ),
        };
      }
    }
  }
  switch (kind) {
    case 'throttle':
      return { mode: 'throw', error: new TransientAwsError(api, { cause: throttling() }) };
    case 'server-error':
      return { mode: 'throw', error: new TransientAwsError(api, { cause: serverError() }) };
    case 'timeout':
      return { mode: 'apply-then-throw', error: new TransientAwsError(api, { cause: timeoutError() }) };
    default:
      throw new Error(`fault kind ${kind} does not apply to ${api}`);
  }
}

/**
 * Decides, call by call, whether to inject a fault, and records every site it sees. A run can
 * carry several plans (a fault that opens a recovery path, then one inside it); each `once` plan
 * fires at its first matching call, each `always` plan at every call of its API.
 * Call `scope(name)` at the start of each Lambda invocation (attempt or step) to restart the counts.
 */
export class FaultInjector {
  /** Every call site seen, in first-seen order. */
  readonly sites: string[] = [];
  /** Sites where a fault was injected, with its kind. */
  readonly injected: { site: string; kind: FaultKind }[] = [];
  private readonly plans: readonly FaultPlan[];
  private readonly seen = new Set<string>();
  private readonly fired = new Set<FaultPlan>();
  private counts = new Map<string, number>();
  private currentScope = '';

  constructor(
    plans: FaultPlan | readonly FaultPlan[] | undefined,
    private readonly traffic?: MemoryTraffic,
  ) {
    this.plans = plans === undefined ? [] : Array.isArray(plans) ? plans : [plans as FaultPlan];
  }

  scope(name: string): void {
    this.currentScope = name;
    this.counts = new Map();
  }

  /** Records a site (a port call, a hook, a step invocation); returns the kind to inject there, if any. */
  visit(site: string): FaultKind | undefined {
    if (!this.seen.has(site)) {
      this.seen.add(site);
      this.sites.push(site);
    }
    const plan = this.plans.find((p) =>
      p.persistence === 'once' ? !this.fired.has(p) && site === p.target : apiOf(site) === p.target,
    );
    if (!plan) return undefined;
    this.fired.add(plan);
    this.injected.push({ site, kind: plan.kind });
    return plan.kind;
  }

  /** The `fault` hook of instrument() for port `port`. */
  hook(port: string): (call: CallInfo) => Fault | undefined {
    return (call) => {
      const api = `${port}.${call.method}`;
      const k = (this.counts.get(api) ?? 0) + 1;
      this.counts.set(api, k);
      const site = this.currentScope ? `${this.currentScope}/${api}#${k}` : `${api}#${k}`;
      const kind = this.visit(site);
      return kind === undefined ? undefined : faultFor(kind, { ...call, port }, this.traffic);
    };
  }
}

export interface ExploredRun<R> {
  /** The faults of this run: the ones that led to the site, then the one under test (last). */
  readonly plans: readonly FaultPlan[];
  readonly result: R;
}

/**
 * Runs `run` without faults, then, for every site seen, every kind once (`once`) and, for every
 * API, every kind as an outage (`always`). A site first reached only because of other faults (a
 * read-back, a release, a rollback step) is faulted together with those: the run carries the
 * faults that opened the path, then the new one. New sites keep being added until none appears.
 */
export async function exploreFaults<R>(
  run: (plans: readonly FaultPlan[]) => Promise<{ readonly sites: readonly string[]; readonly result: R }>,
  options: {
    readonly kindsFor?: (site: string) => readonly FaultKind[];
    readonly maxRuns?: number;
    /** Longest chain of faults in one run. @default 3 */
    readonly maxDepth?: number;
    /**
     * Also explore a site under every distinct sequence of fault kinds that leads to it, not only
     * the first: a read-back reached after a write that was refused (nothing applied) is another
     * case than the same read-back after a write that applied and lost its answer. @default false
     */
    readonly everyPath?: boolean;
  } = {},
): Promise<{ sites: string[]; clean: R; runs: ExploredRun<R>[] }> {
  const kinds = options.kindsFor ?? ((site: string) => kindsFor(apiOf(site)));
  const maxRuns = options.maxRuns ?? 5_000;
  const maxDepth = options.maxDepth ?? 3;
  const clean = await run([]);
  const sites: string[] = [];
  /** The faults that first led to each site, or each site and path ([] for the clean run's sites). */
  const context = new Map<string, { readonly site: string; readonly via: readonly FaultPlan[] }>();
  const queue: string[] = [];
  const keyOf = (site: string, via: readonly FaultPlan[]) =>
    options.everyPath ? `${site} <- ${via.map((p) => `${p.kind}@${p.target}`).join(' ')}` : site;
  /** The sites each explored chain's run reached (by keyOf ''), for everyPath. */
  const reached = new Map<string, ReadonlySet<string>>([[keyOf('', []), new Set(clean.sites)]]);
  const add = (list: readonly string[], via: readonly FaultPlan[]) => {
    // everyPath: the sites this chain's last fault opened (not reached by the chain without it).
    const before = reached.get(keyOf('', via.slice(0, -1)));
    if (options.everyPath) reached.set(keyOf('', via), new Set(list));
    for (const s of list) {
      if (options.everyPath && via.length > 0 && before?.has(s)) continue;
      const key = keyOf(s, via);
      if (context.has(key)) continue;
      context.set(key, { site: s, via });
      if (!sites.includes(s)) sites.push(s);
      queue.push(key);
    }
  };
  add(clean.sites, []);
  const runs: ExploredRun<R>[] = [];
  const apisDone = new Set<string>();
  while (queue.length > 0) {
    const entry = context.get(queue.shift() as string);
    if (!entry) continue;
    const { site, via } = entry;
    const plans: FaultPlan[] = kinds(site).map((kind) => ({ target: site, kind, persistence: 'once' }));
    const api = apiOf(site);
    if (!apisDone.has(api)) {
      apisDone.add(api);
      plans.push(...kinds(site).map((kind) => ({ target: api, kind, persistence: 'always' as const })));
    }
    for (const plan of plans) {
      if (runs.length >= maxRuns) throw new Error(`fault exploration did not converge in ${maxRuns} runs`);
      const chain = [...via, plan];
      const out = await run(chain);
      runs.push({ plans: chain, result: out.result });
      // Only `once` faults open a path for the next fault: an outage would also hit the next call.
      if (plan.persistence === 'once' && chain.length < maxDepth) add(out.sites, chain);
    }
  }
  return { sites, clean: clean.result, runs };
}

/** `once timeout at x -> once throttle at y`: the faults of a run, for messages. */
export function describePlans(plans: readonly FaultPlan[]): string {
  return plans.map((p) => `${p.persistence} ${p.kind} at ${p.target}`).join(' -> ');
}

/**
 * The in-memory environment's ports with every call logged and open to the plans' faults (sites
 * `alarms.getStates#1`, `traffic.shift#2`, ...): what every fault-matrix suite runs its Lambda on.
 * `port` wraps any further port the same way (`methods`: only those are sites).
 */
export function faultyPorts(env: MemoryEnvironment, plans: readonly FaultPlan[]) {
  const injector = new FaultInjector(plans, env.traffic);
  const log = new CallLog(env.clock);
  const port = <T extends object>(p: T, name: string, methods?: string[]): T =>
    instrument(p, name, { log, fault: injector.hook(name), ...(methods ? { methods } : {}) });
  return {
    injector,
    port,
    ports: {
      config: env.config,
      alarms: port(env.alarms, 'alarms'),
      lag: port(env.lag, 'lag'),
      state: port(env.state, 'state'),
      traffic: port(env.traffic, 'traffic'),
      notifier: port(env.notifier, 'notifier'),
      logger: env.logger,
      metrics: env.metrics,
      clock: env.clock,
    },
  };
}

/** The failover Lambda's first round of facts (one parallel read each): the first sites of its runs. */
export const FAILOVER_FACT_SITES = ['alarms.getStates#1', 'lag.getLatest#1', 'state.get#1'] as const;
