/**
 * `rds-promote-read-replica`: PromoteReadReplica on the node's DB instance, then
 * DescribeDBInstances until it is `available` and no longer names a source instance.
 *
 * Idempotent: an instance that is already standalone and available succeeds at once, and one
 * whose promotion is already under way (a retried call) is waited for instead of promoted again.
 * A promotion cannot be undone: RDS has no demote. A replica is never promoted while another
 * status than `available` would make RDS refuse it; that is waited for within the timeout.
 */
import {
  type DBInstance,
  DescribeDBInstancesCommand,
  InvalidDBInstanceStateFault,
  PromoteReadReplicaCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { ActionOf } from '../../domain/action-config.ts';
import { NodeActionFailedError } from '../../domain/errors.ts';
import { type ActionContext, type KindOutcome, waitFor } from './common.ts';

type RdsPromoteAction = ActionOf<'rds-promote-read-replica'>;

export interface RdsPromoteDeps {
  readonly client: RDSClient;
}

export function rdsPromoteRunner(deps: RdsPromoteDeps) {
  return async (ctx: ActionContext<RdsPromoteAction>): Promise<KindOutcome> => {
    const id = ctx.node.dbInstanceIdentifier as string;
    const describe = async (): Promise<DBInstance> => {
      const out = await deps.client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), {
        abortSignal: ctx.signal,
      });
      const db = out.DBInstances?.[0];
      if (!db) throw new NodeActionFailedError(ctx.action.type, 'failed', `DB instance ${id} not found`);
      return db;
    };
    const standalone = (db: DBInstance) =>
      db.DBInstanceStatus === 'available' && !db.ReadReplicaSourceDBInstanceIdentifier;
    const text = (db: DBInstance) =>
      `${id} ${db.DBInstanceStatus ?? 'unknown'}${db.ReadReplicaSourceDBInstanceIdentifier ? `, replica of ${db.ReadReplicaSourceDBInstanceIdentifier}` : ''}`;

    const before = await describe();
    if (standalone(before))
      return { detail: `${id} is already a standalone instance`, ids: { dbInstanceIdentifier: id } };
    let requested = false;
    let note = '';
    let first: DBInstance | undefined = before;
    const after = await waitFor(ctx, async () => {
      const db = first ?? (await describe());
      first = undefined;
      if (standalone(db)) return { done: true, value: db };
      // Only an available replica can be promoted; any other status is waited out (a promotion
      // already under way, a backup) within the timeout.
      if (!requested && db.DBInstanceStatus === 'available') {
        requested = true;
        try {
          await deps.client.send(
            new PromoteReadReplicaCommand({
              DBInstanceIdentifier: id,
              ...(ctx.action.backupRetentionPeriodDays !== undefined
                ? { BackupRetentionPeriod: ctx.action.backupRetentionPeriodDays }
                : {}),
            }),
            { abortSignal: ctx.signal },
          );
        } catch (err) {
          // Another call started the promotion between our read and our request: wait for it.
          // The wire code is InvalidDBInstanceState; the SDK's class is named ...Fault.
          if (!(err instanceof InvalidDBInstanceStateFault)) throw err;
          note = ' (promotion was already under way)';
        }
        return { done: false, detail: `${text(db)}: promotion requested${note}` };
      }
      return { done: false, detail: `${text(db)}${requested ? `: promotion requested${note}` : ''}` };
    });
    return { detail: `${text(after)}: promoted${note}`, ids: { dbInstanceIdentifier: id } };
  };
}
