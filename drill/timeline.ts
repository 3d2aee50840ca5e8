/**
 * The scenario timeline: what happened in the world, what the automation observed, what it
 * decided and why, what it changed, what it announced. Printed as it happens, kept for the reports.
 */

export type EntryKind = 'world' | 'operator' | 'observed' | 'decided' | 'changed' | 'announced' | 'check';

export interface TimelineEntry {
  /** Milliseconds since the scenario started. */
  readonly t: number;
  readonly kind: EntryKind;
  readonly text: string;
}

const COLORS: Record<EntryKind, string> = {
  world: '\x1b[90m',
  operator: '\x1b[35m',
  observed: '\x1b[36m',
  decided: '\x1b[33m',
  changed: '\x1b[32m',
  announced: '\x1b[34m',
  check: '\x1b[1m',
};
const RESET = '\x1b[0m';

export class Timeline {
  readonly entries: TimelineEntry[] = [];

  constructor(
    /** Epoch ms of t=0. */
    readonly start: number,
    private readonly print?: (line: string) => void,
    private readonly color = false,
  ) {}

  add(at: number, kind: EntryKind, text: string): void {
    const entry = { t: at - this.start, kind, text };
    this.entries.push(entry);
    this.print?.(formatEntry(entry, this.color));
  }

  /** Entries in time order (an entry recorded late, during an API call, is sorted back into place). */
  sorted(): TimelineEntry[] {
    return [...this.entries].sort((a, b) => a.t - b.t);
  }
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 0 ? '-' : '+'}${Math.abs(s).toFixed(1)}s`;
}

export function formatEntry(entry: TimelineEntry, color = false): string {
  const time = `t=${formatSeconds(entry.t)}`.padStart(9);
  const kind = entry.kind.padEnd(9);
  const text = entry.text.replace(/\n/g, ' ');
  return color
    ? `  ${'\x1b[2m'}${time}${RESET}  ${COLORS[entry.kind]}${kind}${RESET} ${text}`
    : `  ${time}  ${kind} ${text}`;
}
