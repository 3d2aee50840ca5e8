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

/** `12 s`, `4 min 10 s`, `2 h 5 min`. */
export function durationText(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? '-' : '';
  if (s < 60) return `${sign}${s} s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${sign}${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
}

/** ISO 8601 without milliseconds: readable and sortable. */
export function timeText(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lag with one decimal at most: `0 s`, `2.5 s`. */
export function secondsText(seconds: number): string {
  return `${Math.round(seconds * 10) / 10} s`;
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
