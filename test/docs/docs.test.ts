/**
 * The documentation matches the code:
 *
 * - every command block marked `offline` in README.md and docs/*.md runs, in this process, through
 *   the real CLI entry (runCli) with no AWS behind it (a port that is touched fails the command):
 *   - ```sh offline: each line is a command (`npx failover …`, `npm run failover -- …`; a trailing
 *     `# comment` is dropped) and must exit 0;
 *   - ```console offline: a transcript. `$ <command>` lines are run; the lines after one, up to the
 *     next command, are its expected output, which must appear in order in what it printed (stdout
 *     and stderr as written; `...` stands for lines left out), and `(exit N)` is its exit status
 *     (0 when absent);
 * - every relative link points at a file that exists, and every #anchor at a heading of it;
 * - nothing points outside the repository, and no issue tracker is mentioned;
 * - the configuration error example in the README is what the validator says.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import type { CliServices } from '../../cli/services.ts';
import { configHash } from '../../lambdas/contract/config-hash.ts';
import { parseConfig } from '../../lambdas/domain/config.ts';
import { ConfigValidationError } from '../../lambdas/domain/errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = [
  'README.md',
  'RELIABILITY.md',
  'BENCHMARKS.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Block {
  readonly file: string;
  readonly line: number;
  readonly info: string;
  readonly body: string[];
}

function blocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1] ?? '';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''); j++)
      body.push((lines[j] ?? '').slice(indent.length));
    out.push({ file, line: i + 1, info: (open[2] ?? '').trim(), body });
    i = j;
  }
  return out;
}

const offline = (b: Block) => b.info.split(/\s+/).includes('offline');
const ALL_BLOCKS = DOCS.flatMap(blocks);

/** `npx failover a b "c d"` → ['a', 'b', 'c d']; undefined for anything but the failover CLI. */
function cliArgs(command: string): string[] | undefined {
  const words: string[] = [];
  for (const m of command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g))
    words.push(m[1] ?? m[2] ?? m[3] ?? '');
  if (words[0] === 'npx' && words[1] === 'failover') return words.slice(2);
  if (words.slice(0, 4).join(' ') === 'npm run failover --') return words.slice(4);
  return undefined;
}

const OFFLINE_MESSAGE = 'offline: the docs test makes no AWS call';

/** Every port rejects: a block marked offline that needs AWS fails, saying so. */
function offlineServices(config: Parameters<typeof configHash>[0]): CliServices {
  const refuse = async () => {
    throw new Error(OFFLINE_MESSAGE);
  };
  const port = new Proxy({}, { get: () => refuse }) as never;
  return {
    alarms: port,
    lag: port,
    traffic: port,
    state: refuse,
    notifier: refuse,
    sfn: port,
    stateMachineArn: refuse,
    // The stack the docs describe was deployed from the file the command reads.
    deployedConfigHash: async () => configHash(config),
    alarmSettings: refuse,
    targetGroupHealthChecks: refuse,
  };
}

async function run(args: string[]): Promise<{ code: number; lines: string[] }> {
  const written: string[] = [];
  const write = (t: string) => {
    written.push(t);
  };
  const code = await runCli(args, {
    io: { stdout: write, stderr: write },
    clock: { now: () => Date.UTC(2026, 2, 1, 12, 0, 0) },
    sleep: async () => {},
    actor: 'docs@test',
    services: offlineServices,
    env: {},
  });
  return { code, lines: written.join('').replace(/\n$/, '').split('\n') };
}

interface Transcript {
  readonly command: string;
  readonly expected: string[];
  readonly exit: number;
}

function transcripts(b: Block): Transcript[] {
  const out: { command: string; expected: string[]; exit: number }[] = [];
  for (const line of b.body) {
    if (line.startsWith('$ ')) out.push({ command: line.slice(2).trim(), expected: [], exit: 0 });
    else {
      const current = out.at(-1);
      if (!current) throw new Error(`${b.file}:${b.line}: a transcript starts with '$ <command>'`);
      const exit = /^\(exit (\d+)\)$/.exec(line.trim());
      if (exit) current.exit = Number(exit[1]);
      else current.expected.push(line.trimEnd());
    }
  }
  return out;
}

/** `expected` (minus blank and `...` lines) appears in order in `actual`. */
function missingLines(expected: readonly string[], actual: readonly string[]): string[] {
  const missing: string[] = [];
  let at = 0;
  for (const want of expected) {
    if (want.trim() === '' || want.trim() === '...') continue;
    const found = actual.findIndex((line, i) => i >= at && line.trimEnd() === want);
    if (found < 0) missing.push(want);
    else at = found + 1;
  }
  return missing;
}

describe('documentation: offline command blocks', () => {
  const marked = ALL_BLOCKS.filter(offline);

  it('there are offline blocks to run (README quick start, docs/cost.md, docs/operating.md)', () => {
    expect(new Set(marked.map((b) => b.file))).toEqual(
      new Set(['README.md', 'docs/cost.md', 'docs/operating.md']),
    );
  });

  for (const b of marked.filter((x) => x.info.startsWith('sh'))) {
    for (const raw of b.body) {
      const command = raw.replace(/\s+#.*$/, '').trim();
      if (command === '' || command.startsWith('#')) continue;
      it(`${b.file}:${b.line}: ${command}`, async () => {
        const args = cliArgs(command);
        expect(args, 'an offline block runs the failover CLI only').toBeDefined();
        const result = await run(args as string[]);
        expect(result.lines.join('\n')).not.toContain(OFFLINE_MESSAGE);
        expect(result.code, result.lines.join('\n')).toBe(0);
        expect(result.lines.join('').trim()).not.toBe('');
      });
    }
  }

  for (const b of marked.filter((x) => x.info.startsWith('console'))) {
    for (const t of transcripts(b)) {
      it(`${b.file}:${b.line}: $ ${t.command}`, async () => {
        const args = cliArgs(t.command);
        expect(args, 'an offline transcript runs the failover CLI only').toBeDefined();
        const result = await run(args as string[]);
        expect(missingLines(t.expected, result.lines), result.lines.join('\n')).toEqual([]);
        expect(result.code, result.lines.join('\n')).toBe(t.exit);
      });
    }
  }
});

function slug(heading: string): string {
  return heading
    .replace(/[`*_]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- ]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) => slug(m[1] ?? '')));
}

describe('documentation: links', () => {
  it('every relative link and anchor resolves inside the repository', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? file : normalize(join(dirname(file), path));
        if (relative(ROOT, join(ROOT, resolved)).startsWith('..'))
          broken.push(`${file}: ${target} (outside)`);
        else if (!existsSync(join(ROOT, resolved))) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor))
          broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('points at nothing outside the repository and mentions no issue tracker', () => {
    const found: string[] = [];
    for (const file of DOCS) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (
            /\.\.\/shared|\/work\/|\bDESIGN\.md\b|\bSTYLE\.md\b|\bissues?\b|(^|\s)#\d+\b/i.test(
              line.replace(/docs\/design\.md/g, ''),
            )
          ) {
            found.push(`${file}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    expect(found).toEqual([]);
  });
});

describe('documentation: the README configuration example', () => {
  it('is what the validator reports for those mistakes, after the file name cdk synth prints', () => {
    const readme = blocks('README.md').find((b) =>
      b.body.some((l) => /^\S+: invalid failover configuration/.test(l)),
    );
    expect(readme).toBeDefined();
    const shown = (readme?.body ?? [])
      .filter((l) => !l.startsWith('$ '))
      .map((l) => l.replace(/^\S+: (invalid failover configuration)/, '$1'));
    const sample = JSON.parse(readFileSync(join(ROOT, 'config', 'examples', 'aws-signals.json'), 'utf8'));
    const orders = sample.services[0];
    orders.router.recordname = orders.router.recordName;
    delete orders.router.recordName;
    orders.router.ttlSeconds = 1;
    orders.initialPrimary = 'db-c';
    orders.nodes[1].health.host = '10.0.2.10';
    let message = '';
    try {
      parseConfig(sample);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigValidationError);
      message = (err as Error).message;
    }
    const actual = message.split('\n');
    expect(missingLines(shown, actual), message).toEqual([]);
    // Every problem the validator found is shown, not only some of them.
    expect(shown.filter((l) => l.startsWith('  - '))).toHaveLength(actual.length - 1);
  });
});
