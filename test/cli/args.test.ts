import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  DEFAULT_CONFIG_FILE,
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_WAIT_TIMEOUT_SECONDS,
  HELP,
  parseCommandLine,
} from '../../cli/args.ts';
import { UsageError } from '../../lambdas/domain/errors.ts';

const usage = (argv: string[]) => {
  try {
    parseCommandLine(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a UsageError for: ${argv.join(' ')}`);
};

describe('parseCommandLine', () => {
  it.each([
    [['status'], { name: 'status' }],
    [['status', 'orders-db'], { name: 'status', serviceId: 'orders-db' }],
    [['history', 'orders-db'], { name: 'history', serviceId: 'orders-db', limit: DEFAULT_HISTORY_LIMIT }],
    [['history', 'orders-db', '--limit', '3'], { name: 'history', serviceId: 'orders-db', limit: 3 }],
    [['pause', 'orders-db'], { name: 'pause', serviceId: 'orders-db' }],
    [
      ['resume', 'orders-db', '--reason', 'db fixed'],
      { name: 'resume', serviceId: 'orders-db', reason: 'db fixed' },
    ],
    [
      ['switchover', 'orders-db'],
      {
        name: 'switchover',
        serviceId: 'orders-db',
        wait: false,
        waitTimeoutSeconds: DEFAULT_WAIT_TIMEOUT_SECONDS,
        dryRun: false,
      },
    ],
    [
      ['switchover', 'orders-db', '--to', 'db-b', '--wait', '--wait-timeout', '600', '--reason', 'patching'],
      {
        name: 'switchover',
        serviceId: 'orders-db',
        to: 'db-b',
        wait: true,
        waitTimeoutSeconds: 600,
        dryRun: false,
        reason: 'patching',
      },
    ],
    [
      ['failover', 'orders-db', '--force', '--dry-run', '--request-id', 'chg-42', '--expected-epoch', '3'],
      {
        name: 'failover',
        serviceId: 'orders-db',
        force: true,
        wait: false,
        waitTimeoutSeconds: DEFAULT_WAIT_TIMEOUT_SECONDS,
        dryRun: true,
        requestId: 'chg-42',
        expectedEpoch: 3,
      },
    ],
  ])('%j', (argv, command) => {
    expect(parseCommandLine(argv).command).toEqual(command);
  });

  it('takes the global options before or after the command, with their defaults', () => {
    const a = parseCommandLine(['--region', 'eu-west-1', 'status', '--json', '--config', 'x.json']);
    expect(a.globals).toEqual({ configFile: 'x.json', region: 'eu-west-1', json: true });
    const b = parseCommandLine([
      'history',
      'orders-db',
      '--endpoint-url',
      'http://127.0.0.1:5000',
      '--table-name',
      't',
      '--state-machine-arn',
      'arn:sm',
      '--topic-arn',
      'arn:topic',
      '--stack-name',
      'S',
    ]);
    expect(b.globals).toEqual({
      configFile: DEFAULT_CONFIG_FILE,
      json: false,
      endpointUrl: 'http://127.0.0.1:5000',
      tableName: 't',
      stateMachineArn: 'arn:sm',
      topicArn: 'arn:topic',
      stackName: 'S',
    });
  });

  it.each([
    [['--help'], undefined],
    [['-h'], undefined],
    [['help'], undefined],
    [['help', 'failover'], 'failover'],
    [['switchover', '--help'], 'switchover'],
    [['history', 'x', '-h'], 'history'],
  ])('%j asks for help', (argv, topic) => {
    expect(parseCommandLine(argv).command).toEqual(topic ? { name: 'help', topic } : { name: 'help' });
  });

  it('has a help text for every command, naming its options', () => {
    for (const c of COMMANDS) expect(HELP[c]).toMatch(new RegExp(`^Usage: failover ${c}`));
    expect(HELP.failover).toContain('--force');
    expect(HELP.switchover).not.toContain('--force');
    expect(HELP.history).toContain('--limit');
    expect(HELP.main).toContain('Exit status: 0 ok, 1 the operation failed, 2 usage error');
  });

  it.each([
    [[], /^missing command$/, undefined],
    [['promote', 'x'], /^unknown command: promote$/, undefined],
    [['help', 'promote'], /^unknown command: promote$/, undefined],
    [['status', '--bogus'], /^unknown option '--bogus'$/, 'status'],
    // --force belongs to failover only: a switchover never accepts data loss.
    [['switchover', 'orders-db', '--force'], /^unknown option '--force'$/, 'switchover'],
    [['history', 'orders-db', '--to', 'x'], /^unknown option '--to'$/, 'history'],
    [['switchover'], /^missing argument <service>$/, 'switchover'],
    [['failover', '--wait'], /^missing argument <service>$/, 'failover'],
    [['pause'], /^missing argument <service>$/, 'pause'],
    [['resume'], /^missing argument <service>$/, 'resume'],
    [['history'], /^missing argument <service>$/, 'history'],
    [['status', 'a', 'b'], /^unexpected argument: b$/, 'status'],
    [['switchover', 'orders-db', '--to'], /^--to needs a value$/, 'switchover'],
    [['switchover', 'orders-db', '--to', ''], /^--to needs a value$/, 'switchover'],
    [['history', 'x', '--limit', '0'], /^--limit must be an integer between 1 and 1000, got: 0$/, 'history'],
    [
      ['history', 'x', '--limit', 'ten'],
      /^--limit must be an integer between 1 and 1000, got: ten$/,
      'history',
    ],
    [['switchover', 'x', '--wait-timeout', '60'], /^--wait-timeout needs --wait$/, 'switchover'],
    [
      ['switchover', 'x', '--expected-epoch=-1'],
      /^--expected-epoch must be an integer between 0 and 2147483647, got: -1$/,
      'switchover',
    ],
    [
      ['switchover', 'x', '--expected-epoch', '-1'],
      /^--expected-epoch needs a value \(write a value starting with '-' as --expected-epoch=-\.\.\.\)$/,
      'switchover',
    ],
    [['status', '--endpoint-url', 'localhost:5000'], /^--endpoint-url must be an http\(s\) URL/, 'status'],
    [['status', '--json=yes'], /^option '--json' does not take an argument$/, 'status'],
  ])('%j is a usage error', (argv, message, command) => {
    const err = usage(argv);
    expect(err.message).toMatch(message);
    expect(err.command).toBe(command);
  });
});
