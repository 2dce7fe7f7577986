/**
 * Durations in the DSL: a number of milliseconds or a string such as '500ms',
 * '2s', '1m', '1h', '1d'. The template literal type rejects '2 sec' at build time;
 * parseDuration turns either form into milliseconds at run time.
 */

/** The units a Duration string may end with. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/** Milliseconds, or a number followed by a unit: `'500ms'`, `'2s'`, `'1m'`, `'1h'`, `'1d'`. */
export type Duration = number | `${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Converts a Duration to milliseconds; throws on a malformed string. */
export function parseDuration(duration: Duration): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) throw new RangeError(`invalid duration ${duration}: expected a non-negative number of milliseconds`);
    return duration;
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(duration);
  if (!match) throw new RangeError(`invalid duration '${duration}': expected a number followed by ms, s, m, h or d, such as '2s'`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as DurationUnit]);
}

/**
 * A Duration that may be negative (interval-join bounds: `between('-2s', '1s')`):
 * a number of milliseconds, or a Duration string with an optional leading `-`.
 */
export function parseSignedDuration(duration: Duration): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration)) throw new RangeError(`invalid duration ${duration}: expected a finite number of milliseconds`);
    return duration;
  }
  return duration.startsWith('-') ? -parseDuration(duration.slice(1) as Duration) : parseDuration(duration);
}
