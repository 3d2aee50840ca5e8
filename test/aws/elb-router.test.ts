import {
  type Action,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  InvalidTargetException,
  ModifyListenerCommand,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ElbRouter } from '../../lambdas/aws/elb-router.ts';
import { InvalidInputError, TransientAwsError, UnknownServiceError } from '../../lambdas/domain/errors.ts';
import {
  type AwsErrorKind,
  awsErrors,
  elbTargetService,
  elbWeightedService,
  listenerArn,
  route53Service,
  servicesOf,
  tgArn,
} from './fixtures.ts';

const elb = mockClient(ElasticLoadBalancingV2Client);
const services = servicesOf(
  elbTargetService('backup', { 'bk-1': { id: 'i-0aaa', port: 8443 }, 'bk-2': { id: 'i-0bbb', port: 8443 } }),
  elbTargetService('ldap', { l1: { id: '10.0.0.5' }, l2: { id: '10.0.0.6' } }),
  elbWeightedService('git', ['git-1', 'git-2', 'git-3']),
  route53Service('orders-db', { addresses: { a: '10.0.1.10', b: '10.0.2.10' } }),
);
const router = () =>
  new ElbRouter({ services, client: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }) });

const BACKUP_TG = tgArn('backup');
const OLD = { Id: 'i-0aaa', Port: 8443 };
const NEW = { Id: 'i-0bbb', Port: 8443 };
const MOVE = { serviceId: 'backup', from: 'bk-1', to: 'bk-2' };
const health = (target: { Id: string; Port?: number }, State: string, Reason?: string) => ({
  Target: target,
  TargetHealth: {
    State: State as 'healthy',
    ...(Reason ? { Reason: Reason as 'Target.NotRegistered' } : {}),
  },
});
const invalidTarget = () =>
  new InvalidTargetException({
    message: 'The following targets are not in a running state and cannot be registered',
    $metadata: { httpStatusCode: 400 },
  });

const GIT = listenerArn('git');
const forward = (
  weights: Record<string, number>,
  stickiness?: { Enabled: boolean; DurationSeconds: number },
) => ({
  Type: 'forward' as const,
  ForwardConfig: {
    TargetGroups: Object.entries(weights).map(([node, Weight]) => ({
      TargetGroupArn: tgArn(`git-git-${node}`),
      Weight,
    })),
    ...(stickiness ? { TargetGroupStickinessConfig: stickiness } : {}),
  },
});
const listener = (...DefaultActions: Action[]) => ({ Listeners: [{ ListenerArn: GIT, DefaultActions }] });

/** The compare read of a target move: the whole group, which holds exactly `from` unless a test says otherwise. */
const groupHolds = (...descriptions: ReturnType<typeof health>[]) =>
  elb
    .on(DescribeTargetHealthCommand, { TargetGroupArn: BACKUP_TG }, true)
    .resolves({ TargetHealthDescriptions: descriptions });

beforeEach(() => elb.reset());

/** The targets of each DeregisterTargets call, in order. */
const deregistered = () => elb.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input.Targets);

describe('ElbRouter elbv2-target shift', () => {
  beforeEach(() => {
    groupHolds(health(OLD, 'healthy'));
    elb
      .on(DescribeTargetHealthCommand, { TargetGroupArn: tgArn('ldap') }, true)
      .resolves({ TargetHealthDescriptions: [health({ Id: '10.0.0.5' }, 'healthy')] });
  });

  it('registers the new target before deregistering the old one', async () => {
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand).resolves({});
    expect(await router().shift([MOVE])).toEqual([{ serviceId: 'backup', status: 'shifted' }]);
    expect(elb.calls().map((c) => [c.args[0].constructor.name, c.args[0].input])).toEqual([
      ['DescribeTargetHealthCommand', { TargetGroupArn: BACKUP_TG }],
      ['RegisterTargetsCommand', { TargetGroupArn: BACKUP_TG, Targets: [NEW] }],
      ['DeregisterTargetsCommand', { TargetGroupArn: BACKUP_TG, Targets: [OLD] }],
    ]);
  });

  it('sends targets without a port as id only', async () => {
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand).resolves({});
    await router().shift([{ serviceId: 'ldap', from: 'l1', to: 'l2' }]);
    expect(elb.commandCalls(RegisterTargetsCommand)[0]?.args[0].input.Targets).toEqual([{ Id: '10.0.0.6' }]);
  });

  it.each<[string, () => Error, boolean]>([
    ['InvalidTargetException', invalidTarget, false],
    ['throttling', awsErrors.throttlingException, false],
  ])('fails without deregistering when registration fails with %s', async (_, error, uncertain) => {
    elb.on(RegisterTargetsCommand).rejects(error());
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ serviceId: 'backup', status: 'failed', uncertain });
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('after a registration that timed out but did happen, finishes the move (never leaves both registered)', async () => {
    // Regression (reliability suite): one timeout used to leave both targets registered and the
    // failover handed to a human.
    elb.on(RegisterTargetsCommand).rejects(awsErrors.requestTimeout());
    elb
      .on(DescribeTargetHealthCommand, { Targets: [NEW] })
      .resolves({ TargetHealthDescriptions: [health(NEW, 'initial')] });
    elb.on(DeregisterTargetsCommand).resolves({});
    expect(await router().shift([MOVE])).toEqual([{ serviceId: 'backup', status: 'shifted' }]);
    expect(elb.commandCalls(DescribeTargetHealthCommand)[1]?.args[0].input).toEqual({
      TargetGroupArn: BACKUP_TG,
      Targets: [NEW],
    });
    expect(deregistered()).toEqual([[OLD]]);
  });

  it('after a registration that timed out and did not happen, fails certain without deregistering', async () => {
    elb.on(RegisterTargetsCommand).rejects(awsErrors.requestTimeout());
    elb.on(DescribeTargetHealthCommand, { Targets: [NEW] }).resolves({
      TargetHealthDescriptions: [health(NEW, 'unused', 'Target.NotRegistered')],
    });
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ status: 'failed', errorName: 'TimeoutError', uncertain: false });
    expect(result?.status === 'failed' && result.message).toMatch(/not registered, traffic stays on bk-1/);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('after a registration that timed out and a failed read-back, reports uncertain and deregisters nothing', async () => {
    elb.on(RegisterTargetsCommand).rejects(awsErrors.requestTimeout());
    elb.on(DescribeTargetHealthCommand, { Targets: [NEW] }).rejects(awsErrors.throttlingException());
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ status: 'failed', errorName: 'TimeoutError', uncertain: true });
    expect(result?.status === 'failed' && result.message).toMatch(/may be registered next to bk-1/);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('rolls back to the old target only when deregistration fails: failed, not uncertain', async () => {
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand, { Targets: [OLD] }).rejects(awsErrors.throttlingException());
    elb.on(DeregisterTargetsCommand, { Targets: [NEW] }).resolves({});
    const [result] = await router().shift([MOVE]);
    expect(result).toEqual({
      serviceId: 'backup',
      status: 'failed',
      errorName: 'ThrottlingException',
      message:
        'deregistering bk-1 (i-0aaa:8443) failed (Rate exceeded); rolled back: bk-2 deregistered again, traffic stays on bk-1',
      uncertain: false,
    });
    expect(deregistered()).toEqual([[OLD], [NEW]]);
  });

  it('reports both registered targets, uncertain, when the rollback fails too', async () => {
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand).rejects(awsErrors.internalFailure500());
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ status: 'failed', errorName: 'InternalFailure', uncertain: true });
    expect(result?.status === 'failed' && result.message).toMatch(
      /^bk-1 \(i-0aaa:8443\) and bk-2 \(i-0bbb:8443\) are both registered in arn:.*targetgroup\/backup\/.*deregister one of them by hand$/,
    );
  });

  it('after an uncertain deregistration that did happen, reports shifted and does not roll back', async () => {
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand).rejects(awsErrors.econnreset());
    elb.on(DescribeTargetHealthCommand, { Targets: [OLD] }).resolves({
      TargetHealthDescriptions: [health(OLD, 'draining', 'Target.DeregistrationInProgress')],
    });
    expect(await router().shift([MOVE])).toEqual([{ serviceId: 'backup', status: 'shifted' }]);
    expect(elb.commandCalls(DescribeTargetHealthCommand)[1]?.args[0].input).toEqual({
      TargetGroupArn: BACKUP_TG,
      Targets: [OLD],
    });
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(1);
  });

  it('after an uncertain deregistration that did not happen, rolls back', async () => {
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand, { Targets: [OLD] }).rejects(awsErrors.requestTimeout());
    elb.on(DeregisterTargetsCommand, { Targets: [NEW] }).resolves({});
    elb
      .on(DescribeTargetHealthCommand, { Targets: [OLD] })
      .resolves({ TargetHealthDescriptions: [health(OLD, 'healthy')] });
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ status: 'failed', errorName: 'TimeoutError', uncertain: false });
    expect(deregistered()).toEqual([[OLD], [NEW]]);
  });

  it('never rolls back when it cannot tell whether the old target left (that could leave no target)', async () => {
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand).rejects(awsErrors.requestTimeout());
    elb.on(DescribeTargetHealthCommand, { Targets: [OLD] }).rejects(awsErrors.throttlingException());
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ status: 'failed', uncertain: true });
    expect(result?.status === 'failed' && result.message).toMatch(/may both be registered.*by hand/);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(1);
  });

  it('elbv2-target moves are a compare-and-swap: traffic on another node is a conflict, never a second registered node', async () => {
    // Traffic on bk-3 (a human moved it, or an earlier attempt moved it and died before its
    // commit) while the state names bk-1: registering bk-2 and deregistering bk-1 blindly left
    // bk-3 and bk-2 both registered.
    const OTHER = { Id: 'i-0ccc', Port: 8443 };
    groupHolds(health(OTHER, 'healthy'), health(OLD, 'unused', 'Target.NotRegistered'));
    const [result] = await router().shift([MOVE]);
    expect(result).toEqual({
      serviceId: 'backup',
      status: 'conflict',
      message: `target group ${BACKUP_TG} has i-0ccc:8443 registered, not exactly bk-1 (i-0aaa:8443): nothing changed`,
    });
    expect(elb.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it.each<[string, ReturnType<typeof health>[]]>([
    ['no target at all', []],
    [
      'the expected node next to another',
      [health(OLD, 'healthy'), health({ Id: 'i-0ccc', Port: 8443 }, 'healthy')],
    ],
    ['the expected node on another port', [health({ Id: 'i-0aaa', Port: 9999 }, 'healthy')]],
    ['only the old node draining', [health(OLD, 'draining', 'Target.DeregistrationInProgress')]],
  ])('refuses, changing nothing, when the group holds %s', async (_, held) => {
    groupHolds(...held);
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ serviceId: 'backup', status: 'conflict' });
    expect(result).not.toHaveProperty('observed');
    expect(elb.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('reports the node a conflict observed when exactly one node is registered', async () => {
    const services3 = servicesOf(
      elbTargetService('backup', {
        'bk-1': { id: 'i-0aaa', port: 8443 },
        'bk-2': { id: 'i-0bbb', port: 8443 },
        'bk-3': { id: 'i-0ccc', port: 8443 },
      }),
    );
    groupHolds(health({ Id: 'i-0ccc', Port: 8443 }, 'healthy'));
    const r = new ElbRouter({
      services: services3,
      client: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
    });
    expect(await r.shift([MOVE])).toEqual([
      {
        serviceId: 'backup',
        status: 'conflict',
        observed: 'bk-3',
        message: `target group ${BACKUP_TG} has bk-3 (i-0ccc:8443) registered, not exactly bk-1 (i-0aaa:8443): nothing changed`,
      },
    ]);
  });

  it('is already shifted when exactly the target is registered (our own earlier attempt)', async () => {
    groupHolds(health(NEW, 'healthy'), health(OLD, 'draining', 'Target.DeregistrationInProgress'));
    expect(await router().shift([MOVE])).toEqual([{ serviceId: 'backup', status: 'shifted' }]);
    expect(elb.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('finishes an earlier attempt that registered the target and died before deregistering the source', async () => {
    groupHolds(health(OLD, 'healthy'), health(NEW, 'healthy'));
    elb.on(RegisterTargetsCommand).resolves({});
    elb.on(DeregisterTargetsCommand).resolves({});
    expect(await router().shift([MOVE])).toEqual([{ serviceId: 'backup', status: 'shifted' }]);
    expect(deregistered()).toEqual([[OLD]]);
  });

  it('fails certain, changing nothing, when the compare read fails', async () => {
    elb
      .on(DescribeTargetHealthCommand, { TargetGroupArn: BACKUP_TG }, true)
      .rejects(awsErrors.throttlingException());
    const [result] = await router().shift([MOVE]);
    expect(result).toMatchObject({ status: 'failed', errorName: 'ThrottlingException', uncertain: false });
    expect(elb.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
  });

  it('fails unknown services, unknown nodes and duplicates without calls', async () => {
    const results = await router().shift([
      { serviceId: 'orders-db', from: 'a', to: 'b' },
      { serviceId: 'backup', from: 'bk-1', to: 'bk-9' },
      { serviceId: 'backup', from: 'bk-1', to: 'bk-1' },
      { serviceId: 'ldap', from: 'l1', to: 'l1' },
    ]);
    expect(results.map((r) => (r.status === 'failed' ? r.errorName : r.status))).toEqual([
      'UnknownServiceError',
      'InvalidInputError',
      'InvalidInputError',
      'InvalidInputError',
    ]);
    expect(elb.calls()).toHaveLength(0);
  });
});

describe('ElbRouter elbv2-target current and targetHealth', () => {
  it.each([
    ['the only registered node', [health(NEW, 'healthy')], 'bk-2'],
    ['a node still in initial health checks', [health(OLD, 'initial')], 'bk-1'],
    ['the new node while the old one drains', [health(OLD, 'draining'), health(NEW, 'healthy')], 'bk-2'],
    [
      'the node when a deregistered one lingers',
      [health(OLD, 'unused', 'Target.NotRegistered'), health(NEW, 'unhealthy')],
      'bk-2',
    ],
    ['nothing when two nodes are registered', [health(OLD, 'healthy'), health(NEW, 'healthy')], undefined],
    [
      'nothing when a foreign target is also registered',
      [health(NEW, 'healthy'), health({ Id: 'i-0ccc', Port: 8443 }, 'healthy')],
      undefined,
    ],
    ['nothing when the port differs', [health({ Id: 'i-0bbb', Port: 9999 }, 'healthy')], undefined],
    ['nothing when empty', [], undefined],
  ])('returns %s', async (_, TargetHealthDescriptions, expected) => {
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions });
    expect(await router().current('backup')).toBe(expected);
    expect(elb.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: BACKUP_TG,
    });
  });

  it('maps throttling to TransientAwsError', async () => {
    elb.on(DescribeTargetHealthCommand).rejects(awsErrors.throttling());
    await expect(router().current('backup')).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('lets a missing target group through as its own error', async () => {
    elb
      .on(DescribeTargetHealthCommand)
      .rejects(
        new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }),
      );
    await expect(router().current('backup')).rejects.toBeInstanceOf(TargetGroupNotFoundException);
  });

  it('reads one target health for verify', async () => {
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health(NEW, 'initial')] });
    expect(await router().targetHealth('backup', 'bk-2')).toBe('initial');
    expect(elb.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: BACKUP_TG,
      Targets: [NEW],
    });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [health(NEW, 'unused', 'Target.NotRegistered')],
    });
    expect(await router().targetHealth('backup', 'bk-2')).toBeUndefined();
  });

  it('rejects unknown services and nodes', async () => {
    await expect(router().current('orders-db')).rejects.toBeInstanceOf(UnknownServiceError);
    await expect(router().targetHealth('backup', 'nope')).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('ElbRouter elbv2-weighted', () => {
  it('switches all weight to the new node in one ModifyListener after checking the live one', async () => {
    elb.on(DescribeListenersCommand).resolves(listener(forward({ 1: 1, 2: 0, 3: 0 })));
    elb.on(ModifyListenerCommand).resolves({});
    expect(await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }])).toEqual([
      { serviceId: 'git', status: 'shifted' },
    ]);
    expect(elb.commandCalls(DescribeListenersCommand)[0]?.args[0].input).toEqual({ ListenerArns: [GIT] });
    expect(elb.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input)).toEqual([
      { ListenerArn: GIT, DefaultActions: [forward({ 1: 0, 2: 1, 3: 0 })] },
    ]);
  });

  it('keeps the stickiness setting of the forward action', async () => {
    const sticky = { Enabled: true, DurationSeconds: 3600 };
    elb.on(DescribeListenersCommand).resolves(listener(forward({ 1: 1, 2: 0, 3: 0 }, sticky)));
    elb.on(ModifyListenerCommand).resolves({});
    await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-3' }]);
    expect(elb.commandCalls(ModifyListenerCommand)[0]?.args[0].input.DefaultActions).toEqual([
      forward({ 1: 0, 2: 0, 3: 1 }, sticky),
    ]);
  });

  it('understands a plain single-target-group forward action', async () => {
    elb
      .on(DescribeListenersCommand)
      .resolves(listener({ Type: 'forward', TargetGroupArn: tgArn('git-git-1') }));
    elb.on(ModifyListenerCommand).resolves({});
    expect(await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }])).toEqual([
      { serviceId: 'git', status: 'shifted' },
    ]);
  });

  it('reports a conflict and changes nothing when the listener is not on `from`', async () => {
    elb.on(DescribeListenersCommand).resolves(listener(forward({ 1: 0, 2: 0, 3: 1 })));
    const [result] = await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }]);
    expect(result).toMatchObject({ status: 'conflict', observed: 'git-3' });
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('reports a conflict without an observed node when traffic is split', async () => {
    elb.on(DescribeListenersCommand).resolves(listener(forward({ 1: 1, 2: 1, 3: 0 })));
    const [result] = await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }]);
    expect(result).toMatchObject({ status: 'conflict', message: expect.stringMatching(/=1, .*=1, .*=0/) });
    expect(result).not.toHaveProperty('observed');
  });

  it('is already shifted when the listener is on `to` (a retried change)', async () => {
    elb.on(DescribeListenersCommand).resolves(listener(forward({ 1: 0, 2: 1, 3: 0 })));
    expect(await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }])).toEqual([
      { serviceId: 'git', status: 'shifted' },
    ]);
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('refuses to replace default actions other than a single forward', async () => {
    elb
      .on(DescribeListenersCommand)
      .resolves(
        listener({ Type: 'authenticate-oidc', Order: 1 }, { ...forward({ 1: 1, 2: 0, 3: 0 }), Order: 2 }),
      );
    const [result] = await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }]);
    expect(result).toMatchObject({
      status: 'failed',
      errorName: 'UnsupportedListenerError',
      uncertain: false,
    });
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it.each<[AwsErrorKind, boolean]>([
    ['throttling', false],
    ['serviceUnavailable503', false],
    ['requestTimeout', true],
    ['econnreset', true],
  ])('maps a ModifyListener %s to failed (uncertain: %s)', async (kind, uncertain) => {
    elb.on(DescribeListenersCommand).resolves(listener(forward({ 1: 1, 2: 0, 3: 0 })));
    elb.on(ModifyListenerCommand).rejects(awsErrors[kind]());
    const [result] = await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }]);
    expect(result).toMatchObject({ status: 'failed', uncertain });
  });

  it('fails, certain, when the listener cannot be read', async () => {
    elb.on(DescribeListenersCommand).rejects(awsErrors.throttling());
    const [result] = await router().shift([{ serviceId: 'git', from: 'git-1', to: 'git-2' }]);
    expect(result).toMatchObject({ status: 'failed', errorName: 'TransientAwsError', uncertain: false });
  });

  it.each([
    ['the node with weight', listener(forward({ 1: 0, 2: 5, 3: 0 })), 'git-2'],
    ['nothing when split', listener(forward({ 1: 1, 2: 1, 3: 0 })), undefined],
    ['nothing when all zero', listener(forward({ 1: 0, 2: 0, 3: 0 })), undefined],
    ['nothing for another action', listener({ Type: 'fixed-response' }), undefined],
  ])('current returns %s', async (_, out, expected) => {
    elb.on(DescribeListenersCommand).resolves(out);
    expect(await router().current('git')).toBe(expected);
  });

  it('targetHealth reads the node target group and counts it healthy when any target is', async () => {
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [health({ Id: 'i-1' }, 'unhealthy'), health({ Id: 'i-2' }, 'healthy')],
    });
    expect(await router().targetHealth('git', 'git-2')).toBe('healthy');
    expect(elb.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: tgArn('git-git-2'),
    });
  });
});

describe('ElbRouter.shift across services', () => {
  it('keeps input order and isolates one service failure from another', async () => {
    elb.on(DescribeListenersCommand).resolves(listener(forward({ 1: 1, 2: 0, 3: 0 })));
    elb.on(ModifyListenerCommand).resolves({});
    elb.on(RegisterTargetsCommand).rejects(invalidTarget());
    const results = await router().shift([
      { serviceId: 'backup', from: 'bk-1', to: 'bk-2' },
      { serviceId: 'git', from: 'git-1', to: 'git-2' },
    ]);
    expect(results.map((r) => [r.serviceId, r.status])).toEqual([
      ['backup', 'failed'],
      ['git', 'shifted'],
    ]);
  });
});
