/**
 * What the stack's operator managed policy lets a person write in the state table, shared by the
 * policy (lib/operator-policy.ts) and the state adapter whose `setPaused` request must stay inside
 * it (lambdas/aws/dynamodb-state.ts; test/infra/operator-policy.test.ts checks the real request).
 *
 * IAM's `dynamodb:Attributes` key lists every top-level attribute a request names: the key, the
 * update expression and the condition expression. Allowing only these names means a person holding
 * the policy can pause and resume but never write the primary, the epoch, the lease, the
 * needs-rejoin marks or the history (IAM cannot limit the VALUES written, so the names are the
 * boundary: any name added here becomes writable with any value).
 */
export const PAUSE_ATTRIBUTES = ['pk', 'sk', 'paused', 'pause'] as const;

/** Attributes that decide who is primary or who may act: never writable with the operator policy. */
export const PROTECTED_STATE_ATTRIBUTES = [
  'primary',
  'epoch',
  'lease',
  'leaseSequence',
  'lastChange',
  'lastChangeAt',
  'needsRejoin',
  'notes',
  'serviceId',
] as const;

/** Partition keys of service items: `service#<id>` (lambdas/aws/dynamodb-state.ts partitionKey). */
export const SERVICE_PARTITION_KEY_PATTERN = 'service#*';
