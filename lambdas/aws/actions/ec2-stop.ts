/**
 * `ec2-stop`: the AWS fence agent's way (Pacemaker's `fence_aws`). StopInstances on the node's
 * instances (optionally `Force`: no clean shutdown, for a wedged node), then DescribeInstances
 * until every one is `stopped`. A stopped node takes no writes, whatever its software believes.
 * The rollback's `unfence` starts them again and waits until `running`.
 */
import { type EC2Client, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { type ActionOf, nodeInstanceIds } from '../../domain/action-config.ts';
import type { ActionContext, KindOutcome } from './common.ts';
import { waitFor } from './common.ts';
import { checkToken, describeInstances, writeTags } from './ec2-instances.ts';

type Ec2StopAction = ActionOf<'ec2-stop'>;

/** A terminated instance takes no writes either. */
const FENCED = new Set(['stopped', 'terminated']);

export interface Ec2StopDeps {
  readonly client: EC2Client;
}

export function ec2StopRunner(deps: Ec2StopDeps) {
  return async (ctx: ActionContext<Ec2StopAction>): Promise<KindOutcome> => {
    const ids = nodeInstanceIds(ctx.node);
    const before = await describeInstances(deps.client, ctx, ids);
    checkToken(ctx, before);
    await writeTags(deps.client, ctx, ids);
    const undo = ctx.request.role === 'unfence';
    const want = undo ? (s: string) => s === 'running' : (s: string) => FENCED.has(s);
    const states = () => before.map((i) => `${i.InstanceId} ${i.State?.Name ?? 'unknown'}`).join(', ');
    if (!before.every((i) => want(i.State?.Name ?? ''))) {
      if (undo) {
        await deps.client.send(new StartInstancesCommand({ InstanceIds: [...ids] }), {
          abortSignal: ctx.signal,
        });
      } else {
        await deps.client.send(
          new StopInstancesCommand({ InstanceIds: [...ids], ...(ctx.action.force ? { Force: true } : {}) }),
          { abortSignal: ctx.signal },
        );
      }
    }
    const after = await waitFor(ctx, async () => {
      const now = await describeInstances(deps.client, ctx, ids);
      const text = now.map((i) => `${i.InstanceId} ${i.State?.Name ?? 'unknown'}`).join(', ');
      return now.every((i) => want(i.State?.Name ?? ''))
        ? { done: true, value: text }
        : { done: false, detail: text };
    });
    return {
      detail: `${undo ? 'started' : ctx.action.force ? 'force-stopped' : 'stopped'}: ${after} (before: ${states()})`,
      ids: { instanceIds: ids.join(',') },
    };
  };
}
