import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../lambdas/domain/errors.ts';
import {
  loadRuntimeConfig,
  readConfigFile,
  requireEnv,
  resetRuntimeConfigForTests,
  runtimeConfigPath,
} from '../../lambdas/runtime/config.ts';
import { JsonLogger, parseLogLevel } from '../../lambdas/runtime/logger.ts';
import { EmfMetrics } from '../../lambdas/runtime/metrics.ts';
import { route53Service } from '../../lambdas/testing/fixtures.ts';

describe('JsonLogger', () => {
  const make = (level?: 'debug' | 'info' | 'warn' | 'error') => {
    const lines: string[] = [];
    const logger = new JsonLogger({ service: 'failover', level, write: (l) => lines.push(l), now: () => 0 });
    return { logger, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  };

  it('writes one JSON line with level, message, service, timestamp and the data keys', () => {
    const { logger, entries } = make();
    logger.info('traffic shifted', { from: 'a', to: 'b', timings: { shiftMs: 12 } });
    expect(entries()).toEqual([
      {
        level: 'info',
        message: 'traffic shifted',
        service: 'failover',
        timestamp: '1970-01-01T00:00:00.000Z',
        from: 'a',
        to: 'b',
        timings: { shiftMs: 12 },
      },
    ]);
  });

  it('drops entries below the level', () => {
    const { logger, entries } = make('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(entries().map((e) => e.level)).toEqual(['warn', 'error']);
    expect(parseLogLevel('DEBUG')).toBe('debug');
    expect(parseLogLevel('verbose')).toBe('info');
    expect(parseLogLevel(undefined)).toBe('info');
  });

  it('never writes secrets, at any depth, and never lets data overwrite the envelope', () => {
    const { logger, entries } = make();
    logger.info('m', {
      message: 'spoofed',
      level: 'error',
      env: { AWS_SECRET_ACCESS_KEY: 'x1', AWS_SESSION_TOKEN: 'x2', AWS_ACCESS_KEY_ID: 'x3', PATH: '/bin' },
      headers: [{ Authorization: 'Bearer x4' }],
      password: 'x5',
    });
    const [e] = entries();
    expect(e).toMatchObject({ message: 'm', level: 'info', data_message: 'spoofed', data_level: 'error' });
    expect(JSON.stringify(e)).not.toMatch(/x[1-5]/);
    expect(e!.env).toMatchObject({ PATH: '/bin', AWS_SECRET_ACCESS_KEY: '[redacted]' });
  });

  it('serializes errors (name, message, stack, cause), maps, circular references', () => {
    const { logger, entries } = make();
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    logger.error('boom', {
      error: new Error('outer', { cause: new TypeError('inner') }),
      candidates: new Map([['b', 1]]),
      loop,
      big: 10n,
    });
    const [e] = entries();
    expect(e!.error).toMatchObject({
      name: 'Error',
      message: 'outer',
      cause: { name: 'TypeError', message: 'inner' },
    });
    expect(e!.candidates).toEqual({ b: 1 });
    expect(e!.loop).toEqual({ a: 1, self: '[circular]' });
    expect(e!.big).toBe('10');
  });

  it('child loggers add their context to every entry', () => {
    const { logger, entries } = make();
    logger.child({ requestId: 'r1' }).info('x', { k: 1 });
    expect(entries()[0]).toMatchObject({ requestId: 'r1', k: 1, service: 'failover' });
  });
});

describe('EmfMetrics', () => {
  const make = () => {
    const lines: string[] = [];
    const metrics = new EmfMetrics({ write: (l) => lines.push(l), now: () => 1_700_000_000_000 });
    return { metrics, docs: () => lines.map((l) => JSON.parse(l)) };
  };

  it('writes nothing until flush, then one EMF document per dimension set', () => {
    const { metrics, docs } = make();
    metrics.add('FailoverDecision', 1, 'Count', { serviceId: 'orders', action: 'hold', reason: 'paused' });
    metrics.add('FailoverShiftMs', 120, 'Milliseconds', { serviceId: 'orders' });
    metrics.add('FailoverTotalMs', 2100, 'Milliseconds', { serviceId: 'orders' });
    expect(docs()).toEqual([]);
    metrics.flush();
    expect(docs()).toEqual([
      {
        _aws: {
          Timestamp: 1_700_000_000_000,
          CloudWatchMetrics: [
            {
              Namespace: 'FailoverAutomation',
              Dimensions: [['serviceId', 'action', 'reason']],
              Metrics: [{ Name: 'FailoverDecision', Unit: 'Count' }],
            },
          ],
        },
        serviceId: 'orders',
        action: 'hold',
        reason: 'paused',
        FailoverDecision: 1,
      },
      {
        _aws: {
          Timestamp: 1_700_000_000_000,
          CloudWatchMetrics: [
            {
              Namespace: 'FailoverAutomation',
              Dimensions: [['serviceId']],
              Metrics: [
                { Name: 'FailoverShiftMs', Unit: 'Milliseconds' },
                { Name: 'FailoverTotalMs', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        serviceId: 'orders',
        FailoverShiftMs: 120,
        FailoverTotalMs: 2100,
      },
    ]);
    metrics.flush();
    expect(docs()).toHaveLength(2); // the buffer was emptied
  });

  it('keeps repeated values as an array (at most 100 per document) and drops non-finite values', () => {
    const { metrics, docs } = make();
    for (let i = 0; i < 150; i++) metrics.add('FailoverDecision', 1, 'Count', { serviceId: 's' });
    metrics.add('FailoverDecision', Number.NaN, 'Count', { serviceId: 's' });
    metrics.flush();
    const out = docs();
    expect(out.map((d) => (d.FailoverDecision as number[]).length)).toEqual([100, 50]);
  });

  it('treats dimension sets with the same keys and values in another order as one', () => {
    const { metrics, docs } = make();
    metrics.add('A', 1, 'Count', { x: '1', y: '2' });
    metrics.add('B', 1, 'Count', { y: '2', x: '1' });
    metrics.flush();
    expect(docs()).toHaveLength(1);
  });
});

describe('runtime configuration', () => {
  afterEach(() => resetRuntimeConfigForTests());
  const dir = mkdtempSync(join(tmpdir(), 'failover-config-'));
  const good = join(dir, 'config.json');
  writeFileSync(good, JSON.stringify({ services: [route53Service({ id: 'orders' })] }));

  it('reads FAILOVER_CONFIG_FILE, else config.json in LAMBDA_TASK_ROOT, else names both', () => {
    expect(runtimeConfigPath({ FAILOVER_CONFIG_FILE: '/x.json', LAMBDA_TASK_ROOT: '/var/task' })).toBe(
      '/x.json',
    );
    expect(runtimeConfigPath({ LAMBDA_TASK_ROOT: '/var/task' })).toBe('/var/task/config.json');
    expect(() => runtimeConfigPath({})).toThrow(/FAILOVER_CONFIG_FILE.*LAMBDA_TASK_ROOT/);
  });

  it('validates with the real schema and caches per path (read once per cold start)', () => {
    const config = loadRuntimeConfig({ LAMBDA_TASK_ROOT: dir });
    expect(config.services[0]!.id).toBe('orders');
    expect(config.services[0]!.policy.cooldownSeconds).toBe(600); // defaults applied
    expect(loadRuntimeConfig({ FAILOVER_CONFIG_FILE: good })).toBe(config);
  });

  it('fails loudly on a missing file, bad JSON or an invalid configuration', () => {
    expect(() => readConfigFile(join(dir, 'missing.json'))).toThrow(/cannot read the failover configuration/);
    expect(() => readConfigFile('x', () => '{')).toThrow(ConfigValidationError);
    expect(() => readConfigFile('x', () => JSON.stringify({ services: [] }))).toThrow(/at least one service/);
  });

  it('shows the line bad JSON breaks on, so the operator can find it', () => {
    const text = '{\n  "services": [\n    { "id": "x", }\n  ]\n}\n';
    expect(() => readConfigFile('my.json', () => text)).toThrow(
      /- \(file\): not valid JSON in my\.json: .*\(line 3 column \d+\), got: "\{ \\"id\\": \\"x\\", \}"$/,
    );
  });

  it('requireEnv names the missing variable', () => {
    expect(requireEnv('TABLE_NAME', { TABLE_NAME: 't' })).toBe('t');
    expect(() => requireEnv('TABLE_NAME', {})).toThrow('missing environment variable TABLE_NAME');
    expect(() => requireEnv('TOPIC_ARN', { TOPIC_ARN: ' ' })).toThrow(
      'missing environment variable TOPIC_ARN',
    );
  });
});
