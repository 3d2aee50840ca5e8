/**
 * `npm run drill [-- <scenario>...] [--list] [--out <dir>] [--endpoint-url <url>] [--quiet]`
 *
 * Runs the failover automation against a simulated environment (or, with --endpoint-url or
 * AWS_ENDPOINT_URL, against real AWS APIs at that endpoint), prints the timeline as it happens,
 * and writes reports/drill.json and reports/drill.html. Exits 1 when a scenario's checks fail.
 */
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { renderHtml } from './report/html.ts';
import { toJson } from './report/json.ts';
import type { Scenario } from './scenario.ts';
import {
  endpointProblem,
  reportName,
  runScenarioMain,
  SCENARIO_CLI_OPTIONS,
  scenarioCliFront,
  writeReports,
  writeVerdict,
} from './scenario-cli.ts';
import { findScenario, SCENARIOS } from './scenarios/index.ts';

/** drill/.. */
const PROJECT_ROOT = dirname(import.meta.dirname);

const USAGE = `usage: npm run drill -- [scenario...] [--list] [--out <dir>] [--endpoint-url <url>] [--quiet]

  scenario          one or more of the names --list shows (default: all)
  --list            list the scenarios and exit
  --out <dir>       where drill.json and drill.html go (default: reports/); a selection of
                    scenarios writes drill-<name>[+<name>...].json/.html instead
  --endpoint-url    run against real AWS APIs at this endpoint (moto_server, LocalStack);
                    AWS_ENDPOINT_URL does the same
  --quiet           print only the summary of each scenario`;

async function main(argv: readonly string[]): Promise<number> {
  const front = scenarioCliFront({ argv, usage: USAGE, parse, scenarios: SCENARIOS, nameWidth: 28 });
  if ('exit' in front) return front.exit;
  const { values, positionals } = front;
  const scenarios: Scenario[] = positionals.length
    ? positionals.map((p) => findScenario(p)!)
    : [...SCENARIOS];
  const endpointUrl = values['endpoint-url'] ?? process.env.AWS_ENDPOINT_URL;
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const quiet = values.quiet === true;
  const print = (line: string) => {
    if (!quiet || !/^\s*t=[+-]/.test(line)) process.stdout.write(`${line}\n`);
  };

  let environment: Awaited<ReturnType<typeof endpointEnvironment>> | undefined;
  if (endpointUrl) {
    process.stdout.write(`running against the AWS APIs at ${endpointUrl}\n`);
  } else {
    process.stdout.write('running against the simulated environment (no AWS account needed)\n');
  }
  // Loaded only to run: --list, --help and usage errors answer without aws-cdk-lib and a synthesis.
  const { runDrill } = await import('./run.ts');
  let report: Awaited<ReturnType<typeof runDrill>>;
  try {
    if (endpointUrl) environment = await endpointEnvironment(endpointUrl);
    report = await runDrill({ scenarios, ...(environment ? { environment } : {}), print, color });
  } catch (err) {
    const problem = endpointUrl ? endpointProblem(err, endpointUrl) : undefined;
    if (problem === undefined) throw err;
    process.stderr.write(`drill failed: ${problem}\n`);
    return 1;
  }

  const name = reportName('drill', positionals, SCENARIOS);
  const paths = writeReports(PROJECT_ROOT, values.out, name, toJson(report), renderHtml(report));

  process.stdout.write('\n');
  for (const s of report.scenarios) {
    const r = s.recovery;
    const rto = r ? `RTO ${(r.totalMs / 1000).toFixed(1).padStart(6)} s` : 'no role change';
    const rpo = r ? `RPO ${r.rpoSeconds === undefined ? '?' : r.rpoSeconds} s` : '';
    process.stdout.write(
      `${s.passed ? 'PASS' : 'FAIL'}  ${s.name.padEnd(28)} ${rto.padEnd(16)} ${rpo.padEnd(10)} ${s.checks.filter((c) => c.ok).length}/${s.checks.length} checks\n`,
    );
  }
  return writeVerdict(report, paths, name === 'drill');
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...SCENARIO_CLI_OPTIONS, 'endpoint-url': { type: 'string' } },
  });
}

/** Loaded only when asked for: the simulation needs no AWS SDK client. */
async function endpointEnvironment(endpoint: string) {
  const { awsEnvironment } = await import('./sim/aws-backend.ts');
  return awsEnvironment({ endpoint });
}

runScenarioMain('drill', () => main(process.argv.slice(2)));
