/**
 * Automatic failover through the real SDK clients and the real handler, against moto_server.
 *
 * The handler is `makeHandler` over the production composition root (`buildAwsPorts`: TABLE_NAME,
 * TOPIC_ARN, the configuration file, the shared clients of lambdas/aws/clients.ts, which find
 * moto through AWS_ENDPOINT_URL). What it did is read back with separate clients: the record or
 * the load balancer, the state and history items, the notification on an SQS queue subscribed
 * to the topic, and the structured decision log.
 *
 * moto's gaps, and what is proved elsewhere:
 * - Route 53: moto checks a DELETE against every value the name ever had (its change journal),
 *   not the live record, and answers InvalidInput where Route 53 answers InvalidChangeBatch. So
 *   the exact-value compare-and-swap is proved by the adapter tests and the in-memory Route 53;
 *   here the conflict case uses a value moto has never seen for the name, which both refuse.
 * - CloudWatch alarms are never evaluated by moto: their state is set with SetAlarmState.
 * - DynamoDB conditional writes and transactions are evaluated faithfully, which is what the
 *   concurrent-duplicates test relies on.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import type { FailoverConfigInput } from '../../lambdas/domain/config.ts';
import { type FailoverHandler, makeHandler } from '../../lambdas/handlers/failover.ts';
import { alarmEvent } from '../support/alarm-events.ts';
import {
  createVpc,
  type MotoScene,
  type NotificationInbox,
  type ProductionPorts,
  useMotoScene,
} from '../support/moto-scene.ts';
import { motoAlarmName, motoDbService, motoLagMetric } from '../support/moto-services.ts';

const TOPIC = 'failover-events';

// ---------------------------------------------------------------------------------------------
// Configurations, as an operator writes them
// ---------------------------------------------------------------------------------------------

const lagOf = (service: string, node: string) => motoLagMetric('wire', service, node, { periodSeconds: 10 });
const alarmOf = (service: string, node: string) => motoAlarmName('wire', service, node);
const POLICY = { maxLagSeconds: 10, maxLagAgeSeconds: 60, cooldownSeconds: 600 };

const DB = 'orders-db';
const RECORD = 'db.wire.example.com';
const ADDRESS = { 'db-a': '10.0.1.10', 'db-b': '10.0.2.10' } as const;

/** A Route 53-routed database pair. The zone id is a placeholder until moto's zone exists. */
const route53Config: FailoverConfigInput = {
  services: [
    motoDbService({
      label: 'wire',
      id: DB,
      record: RECORD,
      addresses: ADDRESS,
      lag: { periodSeconds: 10 },
      rest: { policy: POLICY },
    }),
  ],
};

// The table is created exactly as the stack declares it.
const suite = useMotoScene({ config: route53Config });

// ---------------------------------------------------------------------------------------------
// Scene
// ---------------------------------------------------------------------------------------------

interface Scene {
  readonly ports: ProductionPorts;
  readonly handler: FailoverHandler;
  readonly inbox: NotificationInbox;
  readonly world: MotoScene;
}

interface SceneOptions {
  readonly config: FailoverConfigInput;
  /** Alarm state per node of the first service. */
  readonly alarms: Record<string, 'OK' | 'ALARM'>;
  /** Replication lag per node, published 5 s ago. */
  readonly lag: Record<string, number>;
  /** A Route 53 zone with db.wire.example.com A <record>. */
  readonly record?: string;
}

const metric = (serviceId: string, node: string) =>
  motoLagMetric('wire', serviceId, node, { periodSeconds: 10, statistic: 'Maximum' });

async function scene(options: SceneOptions): Promise<Scene> {
  const service = options.config.services[0];
  if (!service) throw new Error('no service in the scene configuration');
  const world = await suite.scene({
    topicName: TOPIC,
    ...(options.record ? { zone: { name: 'wire.example.com', record: RECORD, value: options.record } } : {}),
    alarms: Object.fromEntries(
      Object.entries(options.alarms).map(([node, state]) => [alarmOf(service.id, node), state]),
    ),
    lag: Object.entries(options.lag).map(([node, seconds]) => ({
      metric: metric(service.id, node),
      seconds,
      at: Date.now() - 5_000,
    })),
  });
  const ports = world.ports({ config: options.config });
  return { ports, handler: makeHandler(ports), inbox: world.inbox, world };
}

/** The Route 53 pair with db-a's alarm in ALARM, db-b OK and `lagB` s behind, the record on `record`. */
const dbAIsDown = (lagB: number, record: string = ADDRESS['db-a']) =>
  scene({ config: route53Config, alarms: { 'db-a': 'ALARM', 'db-b': 'OK' }, lag: { 'db-b': lagB }, record });

function decisionLogs(ports: ProductionPorts) {
  return ports.logs.filter((l) => l.message === 'failover decision');
}

let eventSeq = 0;
const primaryDown = (service: string, node: string) =>
  alarmEvent(alarmOf(service, node), 'ALARM', 'OK', Date.now() - 2_000, `wire-event-${++eventSeq}`);

// ---------------------------------------------------------------------------------------------
// Route 53
// ---------------------------------------------------------------------------------------------

describe('automatic failover over Route 53 (moto_server)', () => {
  it('moves the record to the healthy replica, records epoch 1 and history, announces it; a replay changes nothing', async () => {
    const s = await dbAIsDown(2);
    const event = primaryDown(DB, 'db-a');

    const out = await s.handler(event, { awsRequestId: 'req-1' });

    expect(out).toMatchObject({
      outcome: 'failed-over',
      serviceId: DB,
      from: 'db-a',
      to: 'db-b',
      epoch: 1,
    });
    expect(await s.world.recordValues(RECORD)).toEqual([ADDRESS['db-b']]);
    const { state, history } = await s.world.readService(DB);
    expect(state).toMatchObject({
      pk: `service#${DB}`,
      sk: 'state',
      primary: 'db-b',
      epoch: 1,
      paused: false,
    });
    expect(state.lease).toBeUndefined();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      sk: 'history#0000000001',
      serviceId: DB,
      epoch: 1,
      operation: 'auto-failover',
      from: 'db-a',
      to: 'db-b',
      lagSeconds: 2,
      actor: 'req-1',
    });
    const notes = await s.inbox.drain();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      kind: 'failover',
      serviceId: DB,
      subject: `${DB}: failed over from db-a to db-b (lag 2 s)`,
      body: { kind: 'failover', from: 'db-a', to: 'db-b', epoch: 1, lagSecondsAtPromotion: 2 },
    });
    expect(decisionLogs(s.ports)).toEqual([
      expect.objectContaining({
        action: 'failover',
        to: 'db-b',
        primary: 'db-a',
        epoch: 0,
        requestId: 'req-1',
      }),
    ]);

    // EventBridge delivers the same event again (a retry or a duplicate): db-a is no longer primary.
    const replay = await s.handler(event, { awsRequestId: 'req-2' });
    expect(replay).toMatchObject({ outcome: 'held', reason: 'not-primary-alarm', epoch: 1 });
    expect(await s.world.recordValues(RECORD)).toEqual([ADDRESS['db-b']]);
    const after = await s.world.readService(DB);
    expect(after.state).toEqual(state);
    expect(after.history).toEqual(history);
    expect(await s.inbox.drain()).toEqual([]);
  });

  it('holds when the replica lags beyond the budget: record, state and history untouched, on-call told why', async () => {
    const s = await dbAIsDown(45);

    const out = await s.handler(primaryDown(DB, 'db-a'), { awsRequestId: 'req-lag' });

    expect(out).toMatchObject({ outcome: 'held', reason: 'lag-over-budget', from: 'db-a', epoch: 0 });
    expect(await s.world.recordValues(RECORD)).toEqual([ADDRESS['db-a']]);
    expect(await s.world.readService(DB)).toEqual({ state: undefined, history: [] });
    const notes = await s.inbox.drain();
    expect(notes).toEqual([
      expect.objectContaining({
        kind: 'failover-held',
        body: expect.objectContaining({ reason: 'lag-over-budget', primary: 'db-a' }),
      }),
    ]);
    expect(decisionLogs(s.ports)).toEqual([
      expect.objectContaining({ action: 'hold', reason: 'lag-over-budget' }),
    ]);
  });

  it('refuses to overwrite a record someone else pointed elsewhere: conflict, nothing changed, lease released', async () => {
    // The record points at an address that is no node's, and that moto has never seen under this
    // name for db-a: the swap's DELETE of db-a's address is refused, as Route 53 would.
    const s = await dbAIsDown(1, '10.9.9.9');

    const out = await s.handler(primaryDown(DB, 'db-a'), { awsRequestId: 'req-conflict' });

    expect(out).toMatchObject({
      outcome: 'conflict',
      reason: 'traffic-conflict',
      from: 'db-a',
      to: 'db-b',
      epoch: 0,
    });
    expect(await s.world.recordValues(RECORD)).toEqual(['10.9.9.9']);
    const { state, history } = await s.world.readService(DB);
    // The lease write seeded the item; the conflict gave the lease back and moved nothing.
    expect(state).toMatchObject({ primary: 'db-a', epoch: 0 });
    expect(state.lease).toBeUndefined();
    expect(history).toEqual([]);
    const notes = await s.inbox.drain();
    expect(notes).toEqual([
      expect.objectContaining({
        kind: 'failover-failed',
        body: expect.objectContaining({ observed: '10.9.9.9', from: 'db-a', to: 'db-b' }),
      }),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// ELBv2
// ---------------------------------------------------------------------------------------------

describe('automatic failover over ELBv2 (moto_server)', () => {
  async function loadBalancer(name: string, subnetIds: string[]): Promise<string> {
    const lb = await suite.clients.elbv2.send(
      new CreateLoadBalancerCommand({ Name: name, Subnets: subnetIds }),
    );
    return lb.LoadBalancers?.[0]?.LoadBalancerArn as string;
  }

  async function targetGroup(name: string, vpcId: string): Promise<string> {
    const out = await suite.clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: name,
        Protocol: 'HTTP',
        Port: 80,
        VpcId: vpcId,
        TargetType: 'ip',
      }),
    );
    return out.TargetGroups?.[0]?.TargetGroupArn as string;
  }

  async function listener(lbArn: string, weights: [string, number][]): Promise<string> {
    const out = await suite.clients.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: weights.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
            },
          },
        ],
      }),
    );
    return out.Listeners?.[0]?.ListenerArn as string;
  }

  it('target mode: registers the replica, then deregisters the old primary', async () => {
    const { vpcId, subnetIds } = await createVpc(suite.moto);
    const tg = await targetGroup('wire-backup', vpcId);
    const lb = await loadBalancer('wire-backup', subnetIds);
    const listenerArn = await listener(lb, [[tg, 1]]);
    await suite.clients.elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.20', Port: 80 }] }),
    );
    const config: FailoverConfigInput = {
      services: [
        {
          id: 'backup',
          initialPrimary: 'bk-1',
          router: { type: 'elbv2-target', targetGroupArn: tg },
          nodes: [
            { id: 'bk-1', target: { id: '10.0.1.20', port: 80 } },
            { id: 'bk-2', target: { id: '10.0.2.20', port: 80 } },
          ].map((n) => ({
            ...n,
            health: { type: 'alarm' as const, alarmName: alarmOf('backup', n.id) },
            lag: lagOf('backup', n.id),
          })),
          policy: POLICY,
        },
      ],
    };
    // No patch: moto's ARNs pass the schema, so this is exactly the file the Lambda would read.
    const s = await scene({ config, alarms: { 'bk-1': 'ALARM', 'bk-2': 'OK' }, lag: { 'bk-2': 0 } });

    const out = await s.handler(primaryDown('backup', 'bk-1'), { awsRequestId: 'req-tg' });

    expect(out).toMatchObject({ outcome: 'failed-over', from: 'bk-1', to: 'bk-2', epoch: 1 });
    const health = await suite.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(health.TargetHealthDescriptions?.map((d) => `${d.Target?.Id}:${d.Target?.Port}`)).toEqual([
      '10.0.2.20:80',
    ]);
    // The listener still forwards to the same target group: only its member changed.
    const listeners = await suite.clients.elbv2.send(
      new DescribeListenersCommand({ ListenerArns: [listenerArn] }),
    );
    expect(listeners.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: tg, Weight: 1 },
    ]);
    const { state, history } = await s.world.readService('backup');
    expect(state).toMatchObject({ primary: 'bk-2', epoch: 1 });
    expect(history.map((h) => `${h.from}->${h.to}@${h.epoch}`)).toEqual(['bk-1->bk-2@1']);
    expect((await s.inbox.drain()).map((n) => n.kind)).toEqual(['failover']);
  });

  it('weighted mode: one ModifyListener moves all weight to the replica target group', async () => {
    const { vpcId, subnetIds } = await createVpc(suite.moto);
    const tgs = [await targetGroup('wire-git-1', vpcId), await targetGroup('wire-git-2', vpcId)] as const;
    const lb = await loadBalancer('wire-git', subnetIds);
    const listenerArn = await listener(lb, [
      [tgs[0], 1],
      [tgs[1], 0],
    ]);
    const config: FailoverConfigInput = {
      services: [
        {
          id: 'git',
          initialPrimary: 'git-1',
          router: { type: 'elbv2-weighted', listenerArn },
          nodes: tgs.map((arn, i) => ({
            id: `git-${i + 1}`,
            targetGroupArn: arn,
            health: { type: 'alarm' as const, alarmName: alarmOf('git', `git-${i + 1}`) },
            lag: lagOf('git', `git-${i + 1}`),
          })),
          policy: POLICY,
        },
      ],
    };
    const s = await scene({ config, alarms: { 'git-1': 'ALARM', 'git-2': 'OK' }, lag: { 'git-2': 3 } });

    const out = await s.handler(primaryDown('git', 'git-1'), { awsRequestId: 'req-weights' });

    expect(out).toMatchObject({ outcome: 'failed-over', from: 'git-1', to: 'git-2', epoch: 1 });
    const listeners = await suite.clients.elbv2.send(
      new DescribeListenersCommand({ ListenerArns: [listenerArn] }),
    );
    expect(listeners.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: tgs[0], Weight: 0 },
      { TargetGroupArn: tgs[1], Weight: 1 },
    ]);
    const { state, history } = await s.world.readService('git');
    expect(state).toMatchObject({ primary: 'git-2', epoch: 1 });
    expect(history).toEqual([expect.objectContaining({ from: 'git-1', to: 'git-2', lagSeconds: 3 })]);
    expect((await s.inbox.drain()).map((n) => n.kind)).toEqual(['failover']);
  });
});

// ---------------------------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------------------------

describe('duplicate events against DynamoDB conditional writes (moto_server)', () => {
  it('20 concurrent deliveries of one alarm event make exactly one role change', async () => {
    const s = await dbAIsDown(1);
    const event = primaryDown(DB, 'db-a');

    // Each delivery is its own invocation (own request id, so its own lease holder).
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.handler(event, { awsRequestId: `dup-${i}` })),
    );

    const winners = outcomes.filter((o) => o.outcome === 'failed-over');
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ from: 'db-a', to: 'db-b', epoch: 1 });
    // The others lost the lease race or arrived after the commit; none failed or conflicted.
    for (const o of outcomes.filter((x) => x.outcome !== 'failed-over')) {
      expect(o).toMatchObject({ outcome: 'held' });
      expect(['operation-in-progress', 'not-primary-alarm']).toContain(o.reason);
    }
    expect(await s.world.recordValues(RECORD)).toEqual([ADDRESS['db-b']]);
    const { state, history } = await s.world.readService(DB);
    expect(state).toMatchObject({ primary: 'db-b', epoch: 1 });
    expect(state.lease).toBeUndefined();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ epoch: 1, from: 'db-a', to: 'db-b' });
    // Announced once, by the winner; the duplicates stay quiet.
    expect((await s.inbox.drain()).map((n) => n.kind)).toEqual(['failover']);
  });
});
