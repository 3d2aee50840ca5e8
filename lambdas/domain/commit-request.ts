import type { CommitRequest } from './ports.ts';
import type { HistoryEntry } from './types.ts';

/** A change of primary made under a lease: the service, the epoch it compares against, the lease holder, the new primary. */
export interface LeasedMove {
  readonly serviceId: string;
  readonly expectedEpoch: number;
  readonly holder: string;
  readonly to: string;
}

/**
 * The commit that records `move` at `at` with its history entry, for the automatic path and the
 * workflow alike; `extra` is what only one of them sets (the needs-rejoin set, alreadySent).
 */
export function moveCommit(
  move: LeasedMove,
  at: number,
  history: HistoryEntry,
  extra: Pick<CommitRequest, 'needsRejoin' | 'alreadySent'> = {},
): CommitRequest {
  return {
    serviceId: move.serviceId,
    expectedEpoch: move.expectedEpoch,
    holder: move.holder,
    newPrimary: move.to,
    at,
    history,
    ...extra,
  };
}
