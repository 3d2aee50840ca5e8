/**
 * Do the resources the node actions name exist? Read-only calls, batched where the API allows:
 * - EC2 instances: DescribeInstances filtered by instance-id, 200 ids per call (a filter, unlike
 *   InstanceIds, answers for the ids that exist instead of failing the whole call for one missing);
 *   a terminated or shutting-down instance counts as missing;
 * - security groups: DescribeSecurityGroups filtered by group-id, 200 per call;
 * - SSM documents: DescribeDocument, one call each;
 * - RDS DB instances: DescribeDBInstances by identifier, one call each;
 * - Lambda functions: GetFunctionConfiguration, one call each (a function in state Failed counts
 *   as missing);
 * - secrets: DescribeSecret, one call each (a secret scheduled for deletion counts as missing).
 * A resource whose call failed otherwise (throttled, denied) is absent from the answer: unknown.
 */
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeDocumentCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { mapLimit } from '../domain/map-limit.ts';
import type { Logger } from '../domain/ports.ts';
import {
  type ResourcePort,
  type ResourceRef,
  type ResourceStatus,
  resourceKey,
} from '../domain/readiness.ts';
import { describeAwsError } from './errors.ts';

/** EC2 filters take at most 200 values. */
const FILTER_VALUES = 200;
const CONCURRENCY = 4;
const GONE_INSTANCE_STATES = new Set(['terminated', 'shutting-down']);
const NOT_FOUND = new Set([
  'InvalidDocument',
  'DBInstanceNotFound',
  'DBInstanceNotFoundFault',
  'ResourceNotFoundException',
  'InvalidGroup.NotFound',
  'InvalidInstanceID.NotFound',
]);

export interface AwsResourcesProps {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly rds: RDSClient;
  readonly lambda: LambdaClient;
  readonly secretsManager: SecretsManagerClient;
  readonly logger?: Logger;
}

export class AwsResources implements ResourcePort {
  constructor(private readonly props: AwsResourcesProps) {}

  async check(refs: readonly ResourceRef[]): Promise<ReadonlyMap<string, ResourceStatus>> {
    const out = new Map<string, ResourceStatus>();
    const of = (kind: ResourceRef['kind']) => [
      ...new Set(refs.filter((r) => r.kind === kind).map((r) => r.id)),
    ];
    const singles = refs.filter((r) => !['ec2-instance', 'security-group'].includes(r.kind));
    const unique = [...new Map(singles.map((r) => [resourceKey(r), r])).values()];
    await Promise.all([
      this.instances(of('ec2-instance'), out),
      this.securityGroups(of('security-group'), out),
      mapLimit(unique, CONCURRENCY, async (ref) => {
        try {
          out.set(resourceKey(ref), await this.one(ref));
        } catch (err) {
          const { errorName, message } = describeAwsError(err);
          if (NOT_FOUND.has(errorName))
            out.set(resourceKey(ref), { exists: false, detail: `not found (${errorName})` });
          else this.props.logger?.warn('readiness resource not checked', { ref, errorName, message });
        }
      }),
    ]);
    return out;
  }

  private async one(ref: ResourceRef): Promise<ResourceStatus> {
    switch (ref.kind) {
      case 'ssm-document': {
        const out = await this.props.ssm.send(new DescribeDocumentCommand({ Name: ref.id }));
        const status = out.Document?.Status;
        return status === 'Failed' || status === 'Deleting'
          ? { exists: false, detail: `document status ${status}` }
          : { exists: true, ...(status ? { detail: status } : {}) };
      }
      case 'rds-instance': {
        const out = await this.props.rds.send(
          new DescribeDBInstancesCommand({ DBInstanceIdentifier: ref.id }),
        );
        const db = out.DBInstances?.[0];
        if (!db) return { exists: false, detail: 'not found' };
        return db.DBInstanceStatus === 'deleting'
          ? { exists: false, detail: 'being deleted' }
          : { exists: true, ...(db.DBInstanceStatus ? { detail: db.DBInstanceStatus } : {}) };
      }
      case 'lambda-function': {
        const out = await this.props.lambda.send(
          new GetFunctionConfigurationCommand({ FunctionName: ref.id }),
        );
        return out.State === 'Failed'
          ? { exists: false, detail: `function state Failed: ${out.StateReason ?? ''}`.trim() }
          : { exists: true, ...(out.State ? { detail: out.State } : {}) };
      }
      case 'secret': {
        const out = await this.props.secretsManager.send(new DescribeSecretCommand({ SecretId: ref.id }));
        return out.DeletedDate
          ? { exists: false, detail: `scheduled for deletion on ${out.DeletedDate.toISOString()}` }
          : { exists: true };
      }
      default:
        throw new Error(`unexpected resource kind ${ref.kind}`);
    }
  }

  private async instances(ids: readonly string[], out: Map<string, ResourceStatus>): Promise<void> {
    for (let i = 0; i < ids.length; i += FILTER_VALUES) {
      const chunk = ids.slice(i, i + FILTER_VALUES);
      const found = new Map<string, string | undefined>();
      try {
        let token: string | undefined;
        do {
          const page = await this.props.ec2.send(
            new DescribeInstancesCommand({
              Filters: [{ Name: 'instance-id', Values: chunk }],
              ...(token ? { NextToken: token } : {}),
            }),
          );
          for (const r of page.Reservations ?? []) {
            for (const inst of r.Instances ?? []) {
              if (inst.InstanceId) found.set(inst.InstanceId, inst.State?.Name);
            }
          }
          token = page.NextToken;
        } while (token);
      } catch (err) {
        this.props.logger?.warn('readiness instances not checked', { ...describeAwsError(err), ids: chunk });
        continue;
      }
      for (const id of chunk) {
        const state = found.get(id);
        const key = resourceKey({ kind: 'ec2-instance', id });
        if (!found.has(id)) out.set(key, { exists: false, detail: 'not found' });
        else if (state && GONE_INSTANCE_STATES.has(state)) out.set(key, { exists: false, detail: state });
        else out.set(key, { exists: true, ...(state ? { detail: state } : {}) });
      }
    }
  }

  private async securityGroups(ids: readonly string[], out: Map<string, ResourceStatus>): Promise<void> {
    for (let i = 0; i < ids.length; i += FILTER_VALUES) {
      const chunk = ids.slice(i, i + FILTER_VALUES);
      let found: Set<string>;
      try {
        const page = await this.props.ec2.send(
          new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: chunk }] }),
        );
        found = new Set((page.SecurityGroups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])));
      } catch (err) {
        this.props.logger?.warn('readiness security groups not checked', {
          ...describeAwsError(err),
          ids: chunk,
        });
        continue;
      }
      for (const id of chunk) {
        out.set(
          resourceKey({ kind: 'security-group', id }),
          found.has(id) ? { exists: true } : { exists: false, detail: 'not found' },
        );
      }
    }
  }
}
