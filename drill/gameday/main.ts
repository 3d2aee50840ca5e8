/**
 * `npm run gameday [-- <scenario>...] [--list] [--out <dir>] [--quiet]`
 *
 * Fails over real PostgreSQL pairs on this machine through the real automation (see harness.ts),
 * prints each scenario's timeline as it happens and its figures (RTO, lost rows, writes the old
 * primary acknowledged), and writes reports/gameday.json and reports/gameday.html. Exits 1 when a
 * scenario's checks fail, 2 on a usage error, 3 when PostgreSQL or moto_server is missing.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  reportName,
  runScenarioMain,
  SCENARIO_CLI_OPTIONS,
  scenarioCliFront,
  writeReports,
  writeVerdict,
} from '../scenario-cli.ts';
import { preflight } from './harness.ts';
import { stackProbeCode } from './probe.ts';
import { renderHtml, toJson } from './report.ts';
import { runGameDay } from './run.ts';
import { SCENARIOS } from './scenarios.ts';

const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

const USAGE = `usage: npm run gameday -- [scenario...] [--list] [--out <dir>] [--quiet]

  scenario      one or more of the names --list shows (default: all, in that order;
                primary-returns continues from primary-crash when both run)
  --out <dir>   where gameday.json and gameday.html go (default: reports/); a selection of
                scenarios writes gameday-<name>[+<name>...].json/.html instead
  --quiet       print only the setup and the summary of each scenario

Needs PostgreSQL 15 (apt-get install -y postgresql) and moto_server (pip install "moto[server]").`;

async function main(argv: readonly string[]): Promise<number> {
  const front = scenarioCliFront({ argv, usage: USAGE, parse, scenarios: SCENARIOS, nameWidth: 22 });
  if ('exit' in front) return front.exit;
  const { values, positionals } = front;
  // In the listed order, so primary-returns follows primary-crash whatever order was typed.
  const scenarios = positionals.length
    ? SCENARIOS.filter((s) => positionals.includes(s.name))
    : [...SCENARIOS];
  try {
    preflight();
  } catch (err) {
    process.stderr.write(`gameday cannot run: ${(err as Error).message}\n`);
    return 3;
  }
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const quiet = values.quiet === true;
  const print = (line: string) => {
    if (!quiet || !/^\s*(\S+\s+)?t=[+-]/.test(line)) process.stdout.write(`${line}\n`);
  };
  const started = Date.now();
  const log = (line: string) =>
    process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  let report: Awaited<ReturnType<typeof runGameDay>>;
  try {
    report = await runGameDay({ scenarios, probe: stackProbeCode, print, log, color });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/not found|required|install/i.test(message)) {
      process.stderr.write(`gameday cannot run: ${message}\n`);
      return 3;
    }
    throw err;
  }

  const name = reportName('gameday', positionals, SCENARIOS);
  const paths = writeReports(PROJECT_ROOT, values.out, name, toJson(report), renderHtml(report));

  process.stdout.write('\n');
  for (const s of report.scenarios) {
    const f = s.figures;
    const rto = f.rtoSeconds ?? f.writePauseSeconds;
    const parts = [
      `${s.passed ? 'PASS' : 'FAIL'}  ${s.name.padEnd(20)}`,
      typeof rto === 'number' ? `RTO ${rto.toFixed(2).padStart(6)} s` : 'RTO      – ',
      `lost rows ${String(f.rpoRows ?? (s.lostIds.length || '–')).padStart(3)}`,
      ...(typeof f.lagSecondsSeenAtPromotion === 'number'
        ? [`lag at promotion ${f.lagSecondsSeenAtPromotion} s`]
        : []),
      ...(f.oldPrimaryAcksAfterFailover !== undefined
        ? [`old primary acks after failover ${f.oldPrimaryAcksAfterFailover}`]
        : []),
      ...(typeof f.decision === 'string' ? [`decision: ${f.decision}`] : []),
      `${s.checks.filter((c) => c.ok).length}/${s.checks.length} checks`,
    ];
    process.stdout.write(`${parts.join('   ')}\n`);
    for (const c of s.checks.filter((x) => !x.ok)) process.stdout.write(`        ✘ ${c.name}: ${c.detail}\n`);
  }
  return writeVerdict(report, paths, name === 'gameday');
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...SCENARIO_CLI_OPTIONS },
  });
}

// The AWS SDK's keep-alive sockets and the pg pools must not keep the process alive.
runScenarioMain('gameday', () => main(process.argv.slice(2)), { forceExitMs: 200 });
