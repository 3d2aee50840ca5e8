/**
 * The last test of a reliability block: it records the block's figures for the summary table
 * (test/reliability/summary.ts) once the block's checks have run and counted.
 */
import { it } from 'vitest';
import { recordFigures, type SectionFigures } from './results.ts';

/** What a block counts as it runs: the cases it tried and the violations it found. */
export interface BlockCount {
  tried: number;
  readonly violations: unknown[];
}

/** Registers `it('records the figures')`: `count` as it stands then, and `detail()` saying what was counted. */
export function itRecordsFigures(
  section: string,
  row: Pick<SectionFigures, 'label' | 'order'>,
  count: BlockCount,
  detail: () => string,
): void {
  it('records the figures', () => {
    recordFigures(section, {
      ...row,
      tried: count.tried,
      violations: count.violations.length,
      detail: detail(),
    });
  });
}
