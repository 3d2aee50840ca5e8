/**
 * A table keyed by service id whose items the next run rebuilds (probe positions, readiness
 * verdicts): on demand, encrypted, point-in-time recovery on, and destroyed with the stack, since
 * nothing in it needs keeping.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

export function rebuildableServiceTable(scope: Construct, id: string): Table {
  return new Table(scope, id, {
    partitionKey: { name: 'serviceId', type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
