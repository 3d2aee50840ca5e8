/**
 * Figures the reliability suites report for the summary table `npm run test:reliability` prints
 * (test/reliability/summary.ts). Each suite writes one JSON file per section into
 * RELIABILITY_RESULTS_DIR; outside the reliability script (plain `npm test`) nothing is written.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SectionFigures {
  /** Row label in the summary table. */
  readonly label: string;
  /** How many cases were tried (runs, events, configurations, findings checked). */
  readonly tried: number;
  /** Invariant violations found (must be 0) or, for cdk-nag, unsuppressed findings. */
  readonly violations: number;
  /** One line saying what was counted. */
  readonly detail: string;
  /** Order in the table. */
  readonly order: number;
}

export function resultsDir(): string | undefined {
  return process.env.RELIABILITY_RESULTS_DIR || undefined;
}

/** Records a section's figures (a no-op outside the reliability script). */
export function recordFigures(section: string, figures: SectionFigures): void {
  const dir = resultsDir();
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${section}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}

export function readFigures(dir: string): (SectionFigures & { section: string })[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((f) => ({ section: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }))
    .sort((a, b) => a.order - b.order || a.section.localeCompare(b.section));
}

/** How many property runs: 300 in `npm test`, 10,000 in the reliability script (RELIABILITY_PROPERTY_RUNS). */
export function propertyRuns(fallback: number): number {
  const n = Number(process.env.RELIABILITY_PROPERTY_RUNS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
