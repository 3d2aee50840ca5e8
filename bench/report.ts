/**
 * Figures the benchmark prints: each one with the baseline it is compared against (measured in
 * the same run), their ratio, and the goal from issue 6 where there is one.
 */

export interface Goal {
  readonly op: '<=' | '>=' | '==';
  readonly value: number;
}

export interface Figure {
  readonly section: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the figure is compared with, measured in the same run. */
  readonly baseline?: { readonly label: string; readonly value: number };
  /**
   * Which quantity the goal applies to: the value itself, or value / baseline.
   * @default 'value'
   */
  readonly goalOn?: 'value' | 'ratio';
  readonly goal?: Goal;
  readonly note?: string;
}

export function ratioOf(f: Figure): number | undefined {
  if (!f.baseline || f.baseline.value === 0) return undefined;
  return f.value / f.baseline.value;
}

export function meetsGoal(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  const x = f.goalOn === 'ratio' ? ratioOf(f) : f.value;
  if (x === undefined) return false;
  switch (f.goal.op) {
    case '<=':
      return x <= f.goal.value + 1e-9;
    case '>=':
      return x >= f.goal.value - 1e-9;
    case '==':
      return Math.abs(x - f.goal.value) < 1e-9;
  }
}

export function formatNumber(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

function goalText(f: Figure): string {
  if (!f.goal) return '';
  const subject = f.goalOn === 'ratio' ? 'ratio' : '';
  const value = f.goalOn === 'ratio' ? String(f.goal.value) : formatNumber(f.goal.value, f.unit);
  return `${subject ? `${subject} ` : ''}${f.goal.op} ${value}`;
}

/** A plain-text table, one row per figure, grouped by section. */
export function formatTable(figures: readonly Figure[]): string {
  const rows: string[][] = [['figure', 'value', 'baseline', 'ratio', 'goal', '']];
  let section = '';
  const sectionRows = new Set<number>();
  for (const f of figures) {
    if (f.section !== section) {
      section = f.section;
      sectionRows.add(rows.length);
      rows.push([`[${section}]`, '', '', '', '', '']);
    }
    const ratio = ratioOf(f);
    const ok = meetsGoal(f);
    rows.push([
      `  ${f.name}`,
      formatNumber(f.value, f.unit),
      f.baseline ? `${formatNumber(f.baseline.value, f.unit)} (${f.baseline.label})` : '',
      ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
      goalText(f),
      ok === undefined ? '' : ok ? 'ok' : 'MISSED',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r, i) =>
      sectionRows.has(i)
        ? r[0]!
        : r
            .map((c, j) => c.padEnd(widths[j]!))
            .join('  ')
            .trimEnd(),
    )
    .join('\n');
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
