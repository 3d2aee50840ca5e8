/**
 * Who accepts writes, for a service whose node actions run on MemoryNodeActions: the port the
 * failover Lambda gets (every action narrated, the drill's node fenced as the action left it), and
 * the split-brain watch, checked every simulated second and after every action.
 */
import type {
  NodeActionPort,
  NodeActionRequest,
  NodeActionResult,
} from '../../lambdas/domain/node-actions.ts';
import type { MemoryNodeActions } from '../../lambdas/testing/node-actions.ts';
import type { NodeActionsOutcome } from '../scenario.ts';
import type { Backend } from './backend.ts';
import type { NodeSim } from './hooks.ts';
import { type NarrationContext, narrateAction } from './narration.ts';

export class WriterWatch {
  private checks = 0;
  private max = 0;
  private readonly splitBrain: { t: number; writers: string[] }[] = [];

  constructor(
    private readonly actions: MemoryNodeActions,
    private readonly nodes: ReadonlyMap<string, NodeSim>,
    private readonly narration: NarrationContext,
    private readonly clock: Backend['clock'],
  ) {}

  private get serviceId(): string {
    return this.narration.service.id;
  }

  /** Split brain is more than one node accepting writes; checked each second and after every action. */
  check(at: number): void {
    const writers = this.actions.writers(this.serviceId);
    this.checks++;
    this.max = Math.max(this.max, writers.length);
    if (writers.length > 1) {
      const t = (at - this.narration.t0) / 1000;
      if (!this.splitBrain.some((s) => s.t === t)) {
        this.splitBrain.push({ t, writers });
        this.narration.timeline.add(
          at,
          'observed',
          `SPLIT BRAIN: ${writers.join(' and ')} both accept writes`,
        );
      }
    }
  }

  /** What the node actions did, for the scenario's outcome. */
  outcome(): NodeActionsOutcome {
    return {
      calls: this.actions.callsFor(this.serviceId).map((c) => ({
        at: (c.at - this.narration.t0) / 1000,
        nodeId: c.request.nodeId,
        role: c.request.role,
        token: c.request.token,
        outcome: c.outcome,
        applied: c.applied,
      })),
      maxWriters: this.max,
      splitBrain: this.splitBrain,
      writerChecks: this.checks,
      writersAtEnd: this.actions.writers(this.serviceId),
    };
  }

  /** The action port the failover Lambda gets: `has` stays synchronous; each run is narrated. */
  port(): NodeActionPort {
    const actions = this.actions;
    return {
      has: (serviceId, nodeId, role) => actions.has(serviceId, nodeId, role),
      run: async (request: NodeActionRequest): Promise<NodeActionResult> => {
        const result = await actions.run(request);
        this.after(request, result);
        return result;
      },
    };
  }

  private after(request: NodeActionRequest, result: NodeActionResult): void {
    if (request.serviceId !== this.serviceId) return;
    const at = this.clock.now();
    const model = this.actions.node(request.serviceId, request.nodeId);
    const sim = this.nodes.get(request.nodeId);
    if (sim && result.status === 'succeeded') sim.fenced = model.fenced;
    narrateAction(this.narration, at, request, result, model.writable);
    this.check(at);
  }
}
