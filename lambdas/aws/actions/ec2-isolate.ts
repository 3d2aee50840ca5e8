/**
 * `ec2-isolate`: replaces the security groups of the node's instances with one isolation group
 * (no client ingress), so a half-alive node cannot take new connections. The groups it replaced
 * are written to the instance's `failover:isolated-from` tag *before* the swap, so the rollback's
 * `unfence` restores exactly them, from any Lambda, after any crash. Fencing twice keeps the
 * original groups (the second fence sees the isolation group and changes nothing).
 *
 * Security groups are stateful: connections already established may outlive the swap until they
 * idle out. For a fence that also ends them, use `ec2-stop`, or a SQL / ssm-command fence that
 * ends sessions, as the demote.
 */
import {
  DeleteTagsCommand,
  type EC2Client,
  type Instance,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { type ActionOf, nodeInstanceIds } from '../../domain/action-config.ts';
import { NodeActionFailedError } from '../../domain/errors.ts';
import { type ActionContext, type KindOutcome, waitFor } from './common.ts';
import { checkToken, describeInstances, tagValue, writeTags } from './ec2-instances.ts';

type Ec2IsolateAction = ActionOf<'ec2-isolate'>;

export const ISOLATED_FROM_TAG = 'failover:isolated-from';

export interface Ec2IsolateDeps {
  readonly client: EC2Client;
}

function groupsOf(instance: Instance): string[] {
  return (instance.SecurityGroups ?? []).map((g) => g.GroupId ?? '').filter((g) => g !== '');
}

export function ec2IsolateRunner(deps: Ec2IsolateDeps) {
  return async (ctx: ActionContext<Ec2IsolateAction>): Promise<KindOutcome> => {
    const ids = nodeInstanceIds(ctx.node);
    const isolation = ctx.action.isolationSecurityGroupId;
    const instances = await describeInstances(deps.client, ctx, ids);
    checkToken(ctx, instances);
    const undo = ctx.request.role === 'unfence';
    const changes: string[] = [];
    for (const instance of instances) {
      const id = instance.InstanceId as string;
      const groups = groupsOf(instance);
      const isolated = groups.length === 1 && groups[0] === isolation;
      const remembered = tagValue(instance, ISOLATED_FROM_TAG);
      if (undo) {
        if (remembered === undefined) {
          if (isolated) {
            throw new NodeActionFailedError(
              ctx.action.type,
              'failed',
              `${id} is isolated but its ${ISOLATED_FROM_TAG} tag is gone: restore its security groups by hand`,
            );
          }
          changes.push(`${id} not isolated`);
          await writeTags(deps.client, ctx, [id]);
          continue;
        }
        const original = remembered.split(' ').filter((g) => g !== '');
        await writeTags(deps.client, ctx, [id]);
        await deps.client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: original }), {
          abortSignal: ctx.signal,
        });
        await deps.client.send(
          new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: ISOLATED_FROM_TAG }] }),
          {
            abortSignal: ctx.signal,
          },
        );
        changes.push(`${id} restored to ${original.join(' ')}`);
      } else if (isolated) {
        await writeTags(deps.client, ctx, [id]);
        changes.push(`${id} already isolated`);
      } else {
        // Remember first: a crash between the two calls must not lose the original groups.
        await writeTags(deps.client, ctx, [id], { [ISOLATED_FROM_TAG]: groups.join(' ') });
        await deps.client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [isolation] }), {
          abortSignal: ctx.signal,
        });
        changes.push(`${id} isolated (was ${groups.join(' ')})`);
      }
    }
    // Read back: the swap is what fences, so it is checked, not assumed.
    await waitFor(ctx, async () => {
      const now = await describeInstances(deps.client, ctx, ids);
      const wrong = now.filter((i) => {
        const g = groupsOf(i);
        const isIsolated = g.length === 1 && g[0] === isolation;
        return undo ? isIsolated : !isIsolated;
      });
      return wrong.length === 0
        ? { done: true, value: undefined }
        : { done: false, detail: `groups not yet changed on ${wrong.map((i) => i.InstanceId).join(', ')}` };
    });
    return { detail: changes.join('; '), ids: { instanceIds: ids.join(',') } };
  };
}
