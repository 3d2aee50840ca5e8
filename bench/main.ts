/**
 * `npm run bench [-- <section>...] [--runs N] [--json FILE]`
 *
 * Sections: critical, cold, correlated, scale, rto (default: all). Every figure is printed with the
 * baseline it is compared against, measured in the same run, their ratio and the goal from issue 6.
 * The whole report also goes to reports/bench.json (git-ignored). BENCHMARKS.md explains each figure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { coldStartFigures, measureColdStart } from './cold-start.ts';
import { correlatedFigures, runCorrelated } from './correlated.ts';
import { criticalPathFigures, measureCriticalPath } from './critical-path.ts';
import { type Figure, formatTable, meetsGoal } from './report.ts';
import { measureRto, rtoFigures, rtoLines } from './rto.ts';
import { measureScale, scaleFigures } from './scale.ts';

const SECTIONS = ['critical', 'cold', 'correlated', 'scale', 'rto'] as const;
type Section = (typeof SECTIONS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '30' },
    json: { type: 'string', default: join(import.meta.dirname, '..', 'reports', 'bench.json') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run bench [-- ${SECTIONS.join('|')} ...] [--runs N] [--json FILE]`);
  process.exit(0);
}
const unknown = positionals.filter((p) => !(SECTIONS as readonly string[]).includes(p));
if (unknown.length > 0) {
  console.error(`unknown section(s): ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`);
  process.exit(2);
}
const selected = new Set<Section>(positionals.length ? (positionals as Section[]) : SECTIONS);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive integer, got: ${values.runs}`);
  process.exit(2);
}

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
  node: process.version,
  /** Other work on the machine skews wall-clock figures; CPU-time figures less so. */
  loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  platform: `${process.platform} ${process.arch}`,
};
const log = (line: string) => console.log(`  ${line}`);
console.log(
  `failover automation benchmark: node ${machine.node}, ${machine.nproc} CPU (${machine.cpu}), ${machine.memoryGiB} GiB, load average ${machine.loadAverage1m}`,
);
if (Number(process.versions.node.split('.')[0]) < 22) {
  console.warn(
    '  warning: Lambda runs Node.js 22; run through `npm run bench` to use the node@22 devDependency',
  );
}

const figures: Figure[] = [];
const details: Record<string, unknown> = {};
const started = performance.now();

if (selected.has('critical')) {
  console.log('\n[critical path] the real handler over instrumented in-memory ports, 25 ms per AWS call');
  const r = await measureCriticalPath({ latencyMs: 25, runs: 20 });
  figures.push(...criticalPathFigures(r));
  details.criticalPath = r;
}

if (selected.has('cold')) {
  console.log(`\n[cold start] bundles from a real cdk synth, ${runs} fresh Node.js processes each`);
  const r = await measureColdStart({ runs, log });
  figures.push(...coldStartFigures(r));
  details.coldStart = {
    synthMs: r.synthMs,
    bundles: r.bundles.map(({ dir: _dir, ...b }) => b),
    samples: Object.fromEntries(r.samples),
  };
}

if (selected.has('correlated')) {
  console.log('\n[correlated failures] 200 primaries fail at once; simulated Route 53 at 5 requests/s');
  const scenarios = [
    { label: '200 services, 1 hosted zone', zones: 1, conflicts: 0 },
    { label: '200 services, 2 hosted zones', zones: 2, conflicts: 0 },
    { label: '200 services, 1 zone, 5 records moved by an operator', zones: 1, conflicts: 5 },
  ];
  const results: Record<string, unknown> = {};
  let model: unknown;
  for (const s of scenarios) {
    const base = await runCorrelated({
      design: 'per-event',
      services: 200,
      zones: s.zones,
      conflicts: s.conflicts,
    });
    const ours = await runCorrelated({
      design: 'zone-shift',
      services: 200,
      zones: s.zones,
      conflicts: s.conflicts,
    });
    log(
      `${s.label}: zone shift ${ours.failedOver}/${ours.expected} by ${(ours.lastCommitMs ?? 0) / 1000} s; ` +
        `per event ${base.failedOver}/${base.expected}, ${base.deadLettered} dead-lettered`,
    );
    figures.push(...correlatedFigures(s.label, ours, base));
    model ??= {
      route53: ours.options.route53,
      shifter: ours.options.shifter,
      eventDelayMs: ours.options.eventDelayMs,
    };
    const strip = ({ services: _s, ...rest }: typeof ours) => rest;
    results[s.label] = { zoneShift: strip(ours), perEvent: strip(base) };
  }
  // A conflict in a realistic zone: the refused batch is isolated by reading the zone back, and
  // the zone shifter must commit and hand back the rest inside its 60 s function timeout.
  for (const big of [
    { services: 400, otherRecordsPerService: 5 },
    { services: 500, otherRecordsPerService: 10 },
  ]) {
    const label = `${big.services} services, 1 zone with ${big.otherRecordsPerService} other records each, 1 record moved by an operator`;
    const r = await runCorrelated({ design: 'zone-shift', zones: 1, conflicts: 1, ...big });
    log(
      `${label}: zone shift ${r.failedOver}/${r.expected} by ${(r.lastCommitMs ?? 0) / 1000} s, ` +
        `conflicts reported ${r.conflictsReported}, longest shifter invocation ${r.longestShifterInvocationMs / 1000} s ` +
        `(timeout 60 s), ListResourceRecordSets ${r.calls.route53.ListResourceRecordSets}, ` +
        `ChangeResourceRecordSets ${r.calls.route53.ChangeResourceRecordSets}, dead-lettered ${r.deadLettered}, violations ${r.violations.length}`,
    );
    figures.push(
      { section: label, name: 'services failed over', value: r.failedOver, unit: 'count' },
      { section: label, name: 'last commit', value: r.lastCommitMs ?? 0, unit: 'ms' },
      {
        section: label,
        name: 'longest zone-shift invocation',
        value: r.longestShifterInvocationMs,
        unit: 'ms',
        goal: { op: '<=', value: 60_000 },
      },
      {
        section: label,
        name: 'ListResourceRecordSets calls',
        value: r.calls.route53.ListResourceRecordSets,
        unit: 'count',
      },
    );
    const { services: _s, ...rest } = r;
    results[label] = { zoneShift: rest };
  }
  log(`model: ${JSON.stringify(model)}`);
  details.correlated = results;
}

if (selected.has('scale')) {
  console.log(
    '\n[scale] the sample service copied 50-1,000 times (alarm signals; and 1,000 probed): in-process synth (bundling skipped, limit checks included), median of 3 per size; every deploy-time limit',
  );
  const points = measureScale({ runs: 3, log });
  figures.push(...scaleFigures(points));
  details.scale = points;
}

if (selected.has('rto')) {
  console.log('\n[RTO model] lambdas/domain/rto.ts');
  const r = measureRto();
  for (const line of rtoLines(r)) log(line);
  figures.push(...rtoFigures(r));
  details.rto = r;
}

console.log(`\n${formatTable(figures)}`);
const missed = figures.filter((f) => meetsGoal(f) === false);
console.log(
  `\n${figures.length} figures, ${figures.filter((f) => f.goal).length} with a goal, ${missed.length} missed; ` +
    `${Math.round((performance.now() - started) / 1000)} s`,
);
mkdirSync(dirname(values.json), { recursive: true });
writeFileSync(
  values.json,
  `${JSON.stringify({ at: new Date().toISOString(), machine, command: process.argv.slice(2), figures, details }, null, 2)}\n`,
);
console.log(`report: ${values.json}`);
