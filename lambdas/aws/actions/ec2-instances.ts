/**
 * EC2 reads and the fencing-token tag the ec2 kinds share. EC2 knows nothing of our tokens, so the
 * kinds keep the contract themselves: the highest token that acted on an instance is written to
 * its `failover:fencing-token` tag, and a call with a lower token is refused. (Tags have no
 * compare-and-swap, so two calls racing inside the same second can both pass; the tag stops the
 * case that matters, a call that arrives after the call that undid it.)
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { NodeActionFailedError } from '../../domain/errors.ts';
import type { ActionContext } from './common.ts';

export const TOKEN_TAG = 'failover:fencing-token';

export async function describeInstances(
  client: EC2Client,
  ctx: ActionContext,
  instanceIds: readonly string[],
): Promise<Instance[]> {
  const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [...instanceIds] }), {
    abortSignal: ctx.signal,
  });
  const instances = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  const missing = instanceIds.filter((id) => !instances.some((i) => i.InstanceId === id));
  if (missing.length > 0) {
    throw new NodeActionFailedError(ctx.action.type, 'failed', `instances not found: ${missing.join(', ')}`);
  }
  return instanceIds.map((id) => instances.find((i) => i.InstanceId === id) as Instance);
}

export function tagValue(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

/** Refuses the call when any instance has seen a higher token. */
export function checkToken(ctx: ActionContext, instances: readonly Instance[]): void {
  for (const instance of instances) {
    const seen = Number(tagValue(instance, TOKEN_TAG));
    if (Number.isFinite(seen) && seen > ctx.request.token) {
      throw new NodeActionFailedError(
        ctx.action.type,
        'failed',
        `refused: ${instance.InstanceId} has seen token ${seen}, this ${ctx.request.role} carries ${ctx.request.token} (a later call already acted on it)`,
      );
    }
  }
}

/** Records the token (and any other tags) on the instances, before acting on them. */
export async function writeTags(
  client: EC2Client,
  ctx: ActionContext,
  instanceIds: readonly string[],
  tags: Readonly<Record<string, string>> = {},
): Promise<void> {
  await client.send(
    new CreateTagsCommand({
      Resources: [...instanceIds],
      Tags: Object.entries({ [TOKEN_TAG]: String(ctx.request.token), ...tags }).map(([Key, Value]) => ({
        Key,
        Value,
      })),
    }),
    { abortSignal: ctx.signal },
  );
}
