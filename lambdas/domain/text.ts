/**
 * How durations and lags are written wherever a person reads them (decision details, workflow
 * steps, the CLI), so one output never mixes `230.276 s` with `3 min 50 s`. Pure.
 */

/** A duration: `12 s`, `4 min 10 s`, `2 h 5 min` (whole seconds). */
export function durationText(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 && s > 0 ? '-' : '';
  if (s < 60) return `${sign}${s} s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${sign}${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
}

/** A replication lag (the recovery point), with one decimal at most: `0 s`, `2.5 s`, `75 s`. */
export function secondsText(seconds: number): string {
  return `${Math.round(seconds * 10) / 10} s`;
}
