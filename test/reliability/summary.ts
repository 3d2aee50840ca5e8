/**
 * globalSetup of `npm run test:reliability`: after every suite has run, prints the summary table
 * from the figures the suites recorded (test/reliability/support/results.ts).
 */
import { rmSync } from 'node:fs';
import { readFigures } from './support/results.ts';

export default function setup(): () => void {
  const dir = process.env.RELIABILITY_RESULTS_DIR;
  if (!dir) throw new Error('RELIABILITY_RESULTS_DIR is not set: run through vitest.reliability.config.ts');
  rmSync(dir, { recursive: true, force: true });
  return () => {
    const rows = readFigures(dir);
    process.stdout.write(`\n${summaryTable(rows)}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}

export function summaryTable(
  rows: readonly { label: string; tried: number; violations: number; detail: string }[],
): string {
  const header = ['check', 'tried', 'violations', 'what was counted'];
  const body = rows.map((r) => [r.label, r.tried.toLocaleString('en-US'), String(r.violations), r.detail]);
  const total = rows.reduce((n, r) => n + r.violations, 0);
  body.push([
    'TOTAL',
    rows.reduce((n, r) => n + r.tried, 0).toLocaleString('en-US'),
    String(total),
    total === 0 ? 'no violations' : 'VIOLATIONS FOUND',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 1 || i === 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return ['Reliability summary', '', line(header), rule, ...body.map(line)].join('\n');
}
