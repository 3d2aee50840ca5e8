/**
 * The front of the scenario runners (`npm run drill`, `npm run gameday`): parse the arguments,
 * answer --help and --list, refuse unknown scenario names. Light on purpose: it imports nothing
 * heavy, so these answers cost no synthesis and no SDK.
 */

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
