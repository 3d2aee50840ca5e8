/**
 * What each database node is, as the hook calls leave it: `writer` (takes writes), `fenced` (a
 * writer made read-only) or `replica` (replicates from the primary). Each action does what it
 * really does to a node, nothing more:
 *
 *   fence   writer -> fenced              (a replica stays a replica)
 *   unfence fenced -> writer              (undoes a fence only: a demoted node stays a replica)
 *   promote any    -> writer
 *   demote  any    -> replica             (it now replicates from the new primary)
 *
 * So "demote a, then unfence a" leaves a a replica, as it would a real database, and a rollback
 * that relies on the unfence to bring the old primary back is seen to leave no writer.
 *
 * Tokens: a node that honours the contract of lambdas/domain/node-actions.ts refuses a call whose
 * token is lower than the highest it has seen (and the refusal is the hook's answer); one that
 * does not (a script that ignores `{token}`) applies every call in the order it arrives.
 */
import type { HookPayload } from '../../lambdas/domain/workflow.ts';
import { named } from './harness.ts';

export type NodeRole = 'writer' | 'fenced' | 'replica';

export interface NodeRolesOptions {
  /** Refuse a token lower than the highest seen. @default true */
  readonly honoursTokens?: boolean;
}

export class NodeRoles {
  private readonly roles = new Map<string, NodeRole>();
  private readonly highest = new Map<string, number>();
  private readonly honoursTokens: boolean;
  /** `action node token` of every call that changed (or would have changed) a node, in order. */
  readonly applied: string[] = [];
  /** `action node token < highest` of every refused call. */
  readonly refused: string[] = [];

  constructor(initial: Readonly<Record<string, NodeRole>>, options: NodeRolesOptions = {}) {
    for (const [node, role] of Object.entries(initial)) this.roles.set(node, role);
    this.honoursTokens = options.honoursTokens ?? true;
  }

  role(node: string): NodeRole {
    const role = this.roles.get(node);
    if (!role) throw new Error(`no node ${node}`);
    return role;
  }

  /** Nodes that take writes. More than one is split brain; none is an outage. */
  writers(): string[] {
    return [...this.roles].filter(([, r]) => r === 'writer').map(([n]) => n);
  }

  /** A hook's answer to the call: it takes effect on its node (see apply), then `{ ok: true }`. */
  answer(p: Pick<HookPayload, 'action' | 'node' | 'token'>): { ok: true } {
    this.apply(p);
    return { ok: true };
  }

  /** The call takes effect on its node now; throws StaleTokenError when the node refuses it. */
  apply(p: Pick<HookPayload, 'action' | 'node' | 'token'>): void {
    const seen = this.highest.get(p.node) ?? 0;
    if (this.honoursTokens && p.token < seen) {
      this.refused.push(`${p.action} ${p.node} ${p.token} < ${seen}`);
      throw named('StaleTokenError', `${p.node} refused ${p.action}: token ${p.token} < ${seen}`);
    }
    this.highest.set(p.node, Math.max(seen, p.token));
    this.applied.push(`${p.action} ${p.node} ${p.token}`);
    const role = this.role(p.node);
    switch (p.action) {
      case 'fence':
        if (role === 'writer') this.roles.set(p.node, 'fenced');
        break;
      case 'unfence':
        if (role === 'fenced') this.roles.set(p.node, 'writer');
        break;
      case 'promote':
        this.roles.set(p.node, 'writer');
        break;
      case 'demote':
        this.roles.set(p.node, 'replica');
        break;
    }
  }
}
