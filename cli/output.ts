/**
 * Where the CLI's words go. Text mode: everything on stdout, warnings on stderr. JSON mode
 * (--json): exactly one JSON document on stdout, and progress and warnings on stderr, so that
 * `failover status --json | jq` works even while a --wait prints its steps.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** Human output; dropped in JSON mode (the JSON result carries the same facts). */
  text(line = ''): void {
    if (!this.json) this.io.stdout(`${line}\n`);
  }

  /** Progress while waiting: stdout for people, stderr in JSON mode. */
  progress(line: string): void {
    if (this.json) this.io.stderr(`${line}\n`);
    else this.io.stdout(`${line}\n`);
  }

  warn(line: string): void {
    this.io.stderr(`${line}\n`);
  }

  /** The machine result; printed in JSON mode only. */
  result(value: unknown): void {
    if (this.json) this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }
}

// One format for durations and lags, shared with the decision and workflow texts the CLI prints.
export { durationText, secondsText } from '../lambdas/domain/text.ts';

/** ISO 8601 without milliseconds: readable and sortable. */
export function timeText(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Left-aligned columns, two spaces apart; every row the same number of cells as the header. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  indent = '',
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `${indent}${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}
