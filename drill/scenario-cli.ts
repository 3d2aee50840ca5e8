/**
 * The front of the scenario runners (`npm run drill`, `npm run gameday`): parse the arguments,
 * answer --help and --list, refuse unknown scenario names. Light on purpose: it imports nothing
 * heavy, so these answers cost no synthesis and no SDK. And the back of both: the JSON and HTML
 * reports written, the closing verdict, the exit status.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface Named {
  readonly name: string;
  readonly title: string;
}

interface Parsed<V> {
  readonly values: V;
  readonly positionals: string[];
}

/** Either the exit status to return at once, or the parsed arguments to run with. */
export type ScenarioCliFront<V> = { readonly exit: number } | Parsed<V>;

export function scenarioCliFront<V extends { readonly help?: boolean; readonly list?: boolean }>(input: {
  readonly argv: readonly string[];
  readonly usage: string;
  readonly parse: (argv: readonly string[]) => Parsed<V>;
  readonly scenarios: readonly Named[];
  /** Width of the name column of --list. */
  readonly nameWidth: number;
}): ScenarioCliFront<V> {
  const { usage, scenarios } = input;
  let args: Parsed<V>;
  try {
    args = input.parse(input.argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}\n`);
    return { exit: 2 };
  }
  if (args.values.help) {
    process.stdout.write(`${usage}\n`);
    return { exit: 0 };
  }
  if (args.values.list) {
    for (const s of scenarios) process.stdout.write(`${s.name.padEnd(input.nameWidth)} ${s.title}\n`);
    return { exit: 0 };
  }
  const unknown = args.positionals.filter((p) => !scenarios.some((s) => s.name === p));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown scenario(s): ${unknown.join(', ')}\navailable: ${scenarios.map((s) => s.name).join(', ')}\n`,
    );
    return { exit: 2 };
  }
  return args;
}

export interface ReportPaths {
  readonly jsonPath: string;
  readonly htmlPath: string;
}

/**
 * The reports' file name: `base` for a run of every scenario, `base-<name>[+<name>...]` for a
 * selection, so a run of one scenario never overwrites the full run's report.
 */
export function reportName(base: string, selected: readonly string[], all: readonly Named[]): string {
  const names = [...new Set(selected)];
  if (names.length === 0 || all.every((s) => names.includes(s.name))) return base;
  const joined = `${base}-${names.join('+')}`;
  return joined.length <= 100 ? joined : `${base}-${names.length}-scenarios`;
}

/** Writes `<name>.json` and `<name>.html` into `out` (relative to `projectRoot`; default reports/). */
export function writeReports(
  projectRoot: string,
  out: string | undefined,
  name: string,
  json: unknown,
  html: string,
): ReportPaths {
  const outDir = resolve(projectRoot, out ?? 'reports');
  mkdirSync(outDir, { recursive: true });
  const jsonPath = join(outDir, `${name}.json`);
  const htmlPath = join(outDir, `${name}.html`);
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(htmlPath, html);
  return { jsonPath, htmlPath };
}

/** The options both runners take (parseArgs form); each adds its own. */
export const SCENARIO_CLI_OPTIONS = {
  list: { type: 'boolean' },
  out: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The closing lines of a run (the verdict, the wall time, where the reports are); returns the exit
 * status. The verdict counts what ran: "all" only when every scenario ran.
 */
export function writeVerdict(
  report: {
    readonly passed: boolean;
    readonly wallMs: number;
    readonly scenarios: readonly { readonly passed: boolean }[];
  },
  paths: ReportPaths,
  everyScenario: boolean,
): number {
  process.stdout.write(
    `\n${verdictText(report.scenarios, everyScenario)} in ${(report.wallMs / 1000).toFixed(1)} s\nreports: ${paths.jsonPath}\n         ${paths.htmlPath}\n`,
  );
  return report.passed ? 0 : 1;
}

/** `all 9 scenarios passed`, `1 scenario passed`, `2 of 3 scenarios FAILED`. */
export function verdictText(
  scenarios: readonly { readonly passed: boolean }[],
  everyScenario: boolean,
): string {
  const run = scenarios.length;
  const failed = scenarios.filter((s) => !s.passed).length;
  const noun = (n: number) => `scenario${n === 1 ? '' : 's'}`;
  if (failed > 0) return `${failed} of ${run} ${noun(run)} FAILED`;
  return `${everyScenario ? 'all ' : ''}${run} ${noun(run)} passed`;
}

/**
 * Runs `main` and sets the exit status from it; a crash prints `<what> failed:` and its stack and
 * exits 1. With `forceExitMs`, the process exits that long after the status is known, whatever
 * sockets or pools are still open.
 */
export function runScenarioMain(
  what: string,
  main: () => Promise<number>,
  options: { readonly forceExitMs?: number } = {},
): void {
  const finish = (code: number) => {
    process.exitCode = code;
    if (options.forceExitMs !== undefined) setTimeout(() => process.exit(code), options.forceExitMs).unref();
  };
  main().then(finish, (err) => {
    process.stderr.write(
      `${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    finish(1);
  });
}

/**
 * What to do when the drill could not use the AWS endpoint it was pointed at, or undefined for any
 * other error. The SDK's own messages ("Could not load credentials from any providers", "connect
 * ECONNREFUSED") name the symptom, not the fix.
 */
export function endpointProblem(err: unknown, endpoint: string): string | undefined {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | undefined;
  if (e?.name === 'CredentialsProviderError') {
    return `no AWS credentials to sign requests to ${endpoint}: moto_server accepts any, e.g. AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing npm run drill -- --endpoint-url ${endpoint}`;
  }
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `nothing answers at ${endpoint} (${String(code)}): start moto_server first (pip install "moto[server]" && moto_server -p 5000 &), or run the drill without --endpoint-url (simulated AWS)`;
  }
  return undefined;
}
