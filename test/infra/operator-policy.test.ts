/**
 * The operator managed policy (lib/operator-policy.ts): read, start the workflow, pause/resume, and
 * nothing that writes the primary, the epoch, the lease, the needs-rejoin marks or the history.
 * moto enforces no IAM, so the conditions are evaluated here over the synthesized statements, the
 * way IAM evaluates the keys DynamoDB sets on a request (dynamodb:Attributes = every top-level name
 * in the key and the expressions).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbState } from '../../lambdas/aws/dynamodb-state.ts';
import { PAUSE_ATTRIBUTES, PROTECTED_STATE_ATTRIBUTES } from '../../lambdas/contract/operator-access.ts';
import { STACK_OUTPUTS } from '../../lambdas/contract/stack-outputs.ts';
import { asArray, type Json, resourcesOf, sampleStack } from './helpers.ts';

const s = sampleStack();
const [policyId, policy] = Object.entries(resourcesOf(s.template, 'AWS::IAM::ManagedPolicy')).find(([id]) =>
  id.startsWith('Operators'),
)!;
const statements: Json[] = policy.Properties.PolicyDocument.Statement;

/** A DynamoDB request as IAM sees it: the action and the values of DynamoDB's condition keys. */
interface DynamoRequest {
  readonly action: string;
  readonly attributes: readonly string[];
  readonly leadingKeys: readonly string[];
  readonly returnValues?: string;
}

const like = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/** IAM's evaluation of the condition operators the policy uses; an unknown one never allows. */
function conditionsAllow(condition: Json | undefined, req: DynamoRequest): boolean {
  const key = (name: string): readonly string[] | undefined =>
    name === 'dynamodb:Attributes'
      ? req.attributes
      : name === 'dynamodb:LeadingKeys'
        ? req.leadingKeys
        : name === 'dynamodb:ReturnValues'
          ? req.returnValues === undefined
            ? undefined
            : [req.returnValues]
          : undefined;
  return Object.entries(condition ?? {}).every(([op, byKey]) =>
    Object.entries(byKey as Record<string, unknown>).every(([name, expected]) => {
      const allowed = asArray(expected).map(String);
      const values = key(name);
      switch (op) {
        case 'ForAllValues:StringEquals':
          return (values ?? []).every((v) => allowed.includes(v));
        case 'ForAllValues:StringLike':
          return (values ?? []).every((v) => allowed.some((p) => like(p, v)));
        case 'StringEqualsIfExists':
          return values === undefined || values.every((v) => allowed.includes(v));
        case 'Null':
          return (values === undefined) === (allowed[0] === 'true');
        default:
          return false;
      }
    }),
  );
}

function allowed(req: DynamoRequest): boolean {
  return statements.some(
    (st) =>
      st.Effect === 'Allow' &&
      asArray(st.Action).some((a: string) => like(a, req.action)) &&
      conditionsAllow(st.Condition, req),
  );
}

const pause: DynamoRequest = {
  action: 'dynamodb:UpdateItem',
  attributes: ['pk', 'sk', 'paused', 'pause'],
  leadingKeys: ['service#orders-db'],
};

describe('operator managed policy', () => {
  it('is a stack output the operators attach', () => {
    const outputs = s.template.toJSON().Outputs;
    expect(outputs[STACK_OUTPUTS.operatorPolicyArn].Value).toEqual({ Ref: policyId });
  });

  it('lets an operator pause and resume a service', () => {
    expect(allowed(pause)).toBe(true);
    expect(allowed({ ...pause, attributes: ['pk', 'sk', 'paused'], returnValues: 'UPDATED_NEW' })).toBe(true);
  });

  it.each([...PROTECTED_STATE_ATTRIBUTES])('refuses an UpdateItem that names %s', (attribute) => {
    expect(allowed({ ...pause, attributes: [...pause.attributes, attribute] })).toBe(false);
  });

  it('refuses reading the whole item back, items outside the services, and history writes', () => {
    expect(allowed({ ...pause, returnValues: 'ALL_OLD' })).toBe(false);
    expect(allowed({ ...pause, returnValues: 'ALL_NEW' })).toBe(false);
    expect(allowed({ ...pause, leadingKeys: ['other#x'] })).toBe(false);
    for (const action of [
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:PartiQLUpdate',
      'dynamodb:PartiQLInsert',
    ]) {
      expect(allowed({ ...pause, action }), action).toBe(false);
    }
  });

  it('the pause list holds no protected attribute', () => {
    for (const a of PROTECTED_STATE_ATTRIBUTES)
      expect(PAUSE_ATTRIBUTES as readonly string[]).not.toContain(a);
  });

  it('every DynamoDB write it grants carries the attribute condition', () => {
    const dynamo = statements.filter((st) =>
      asArray(st.Action).some((a: string) => a.startsWith('dynamodb:')),
    );
    const actions = dynamo.flatMap((st) => asArray(st.Action)).sort();
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const update = dynamo.find((st) => asArray(st.Action).includes('dynamodb:UpdateItem'));
    expect(asArray(update.Action)).toEqual(['dynamodb:UpdateItem']);
    expect(update.Condition['ForAllValues:StringEquals']['dynamodb:Attributes']).toEqual([
      ...PAUSE_ATTRIBUTES,
    ]);
  });

  it('writes nothing else: no traffic change, no invoke, no IAM; wildcards only on reads', () => {
    const writes = statements
      .flatMap((st) => asArray(st.Action).map((a: string) => ({ a, resources: asArray(st.Resource) })))
      .filter(({ a }) => !/:(Describe|Get|List|Query)/.test(a));
    expect(writes.map((w) => w.a).sort()).toEqual([
      'dynamodb:UpdateItem',
      'kms:Decrypt',
      'kms:GenerateDataKey*',
      'sns:Publish',
      'states:StartExecution',
    ]);
    for (const w of writes) expect(w.resources, w.a).not.toContain('*');
  });

  it.each([
    [
      'pause with a record',
      true,
      { by: 'arn:aws:iam::111122223333:user/alice', at: 1, reason: 'patching' },
      undefined,
    ],
    ['pause without a record', true, undefined, undefined],
    ['resume', false, undefined, undefined],
    [
      'resume of the pause it read',
      false,
      undefined,
      { pause: { by: 'arn:aws:iam::111122223333:user/alice', at: 1, reason: 'patching' } },
    ],
    ['resume of a pause with no record', false, undefined, { pause: undefined }],
  ] as const)(
    'allows the request `failover %s` really sends (DynamoDbState.setPaused)',
    async (_label, paused, record, onlyIf) => {
      const ddb = mockClient(DynamoDBDocumentClient);
      ddb.on(UpdateCommand).resolves({});
      const state = new DynamoDbState({
        tableName: 'state',
        client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      });
      await state.setPaused('orders-db', paused, record, onlyIf);
      const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
      ddb.restore();
      // dynamodb:Attributes: the key's names and every name the expressions use (here all through
      // placeholders; a bare word in an expression would be an attribute name too).
      const bare = `${input.UpdateExpression} ${input.ConditionExpression ?? ''}`
        .replace(/[#:][A-Za-z0-9_]+/g, ' ')
        .split(/[^A-Za-z0-9_]+/)
        .filter(
          (w) =>
            w &&
            !/^(SET|REMOVE|ADD|DELETE|AND|OR|NOT|if_not_exists|attribute_exists|attribute_not_exists|list_append)$/.test(
              w,
            ),
        );
      expect(bare).toEqual([]);
      const attributes = [
        ...Object.keys(input.Key ?? {}),
        ...Object.values(input.ExpressionAttributeNames ?? {}),
      ];
      const req: DynamoRequest = {
        action: 'dynamodb:UpdateItem',
        attributes,
        leadingKeys: [String((input.Key as Record<string, unknown>).pk)],
        ...(input.ReturnValues ? { returnValues: input.ReturnValues } : {}),
      };
      expect(allowed(req), JSON.stringify(attributes)).toBe(true);
    },
  );
});
