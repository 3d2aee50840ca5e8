/**
 * The CLI refuses to change anything with a configuration other than the deployed one (stack output
 * ConfigHash), unless told to with --allow-config-drift, which it then says.
 */
import { describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../../cli/main.ts';
import { configHash } from '../../lambdas/contract/config-hash.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { synth } from '../infra/helpers.ts';
import { cliHarness, sampleConfig } from './helpers.ts';

describe('configHash', () => {
  it('does not depend on key order or on defaults being spelled out', () => {
    const config = sampleConfig();
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    const reordered = reverse(config);
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(config));
    expect(configHash(parseConfig(reordered))).toBe(configHash(config));
    expect(configHash(parseConfig(JSON.parse(JSON.stringify(config))))).toBe(configHash(config));
  });

  it('changes with anything that matters (here: the initial primary)', () => {
    const config = sampleConfig();
    const other = parseConfig({
      ...config,
      services: config.services.map((s, i) => (i === 0 ? { ...s, initialPrimary: s.nodes[1]!.id } : s)),
    });
    expect(configHash(other)).not.toBe(configHash(config));
    expect(configHash(config)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is the stack output ConfigHash', () => {
    const s = synth(sampleConfig());
    expect(s.template.toJSON().Outputs.ConfigHash.Value).toBe(configHash(sampleConfig()));
  });
});

describe('the CLI and the deployed configuration', () => {
  const deployed = configHash(sampleConfig());
  const stale = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';

  it('acts when the local configuration is the deployed one', async () => {
    const h = cliHarness({ deployedConfigHash: async () => deployed });
    const r = await h.run('pause', 'orders-db', '--reason', 'maintenance');
    expect(r.code).toBe(EXIT_OK);
    expect(h.env.state.snapshot('orders-db')?.paused).toBe(true);
  });

  it.each([
    ['pause', 'orders-db', '--reason', 'x'],
    ['resume', 'orders-db'],
    ['switchover', 'orders-db', '--to', 'db-b'],
    ['failover', 'orders-db', '--to', 'db-b'],
  ])('refuses %s with another configuration, naming both hashes, and changes nothing', async (...argv) => {
    const h = cliHarness({ deployedConfigHash: async () => stale });
    const r = await h.run(...argv);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('is not the deployed configuration');
    expect(r.stderr).toContain(stale);
    expect(r.stderr).toContain(deployed);
    expect(r.stderr).toContain('--allow-config-drift');
    expect(h.env.state.snapshot('orders-db')).toBeUndefined();
    expect(h.sfnMock.calls().filter((c) => c.args[0].constructor.name === 'StartExecutionCommand')).toEqual(
      [],
    );
  });

  it('acts anyway with --allow-config-drift, and says so', async () => {
    const h = cliHarness({ deployedConfigHash: async () => stale });
    const r = await h.run('pause', 'orders-db', '--reason', 'x', '--allow-config-drift');
    expect(r.code).toBe(EXIT_OK);
    expect(r.stderr).toMatch(
      /^warning: --allow-config-drift: acting with .* which is not the deployed configuration/,
    );
    expect(h.env.state.snapshot('orders-db')?.paused).toBe(true);
  });

  it('refuses when the deployed hash cannot be read, unless overridden', async () => {
    const missing = async () => {
      throw new Error('stack FailoverAutomation has no output ConfigHash');
    };
    const refused = await cliHarness({ deployedConfigHash: missing }).run('resume', 'orders-db');
    expect(refused.code).toBe(EXIT_USAGE);
    expect(refused.stderr).toMatch(/cannot check that .* is the deployed configuration/);
    const allowed = await cliHarness({ deployedConfigHash: missing }).run(
      'resume',
      'orders-db',
      '--allow-config-drift',
    );
    expect(allowed.code).toBe(EXIT_OK);
    expect(allowed.stderr).toMatch(/was not checked/);
  });

  it('reads (status, history) without checking', async () => {
    const h = cliHarness({ deployedConfigHash: async () => stale });
    expect((await h.run('status')).code).toBe(EXIT_OK);
    expect((await h.run('history', 'orders-db')).code).toBe(EXIT_OK);
  });
});
