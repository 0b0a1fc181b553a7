// The one reader of durations a person types: config keys (shutdown_grace, stale_after, watch_delay,
// watch_max_wait) and rbmctl/D-Bus arguments (snooze). Pure.

/** Milliseconds per unit: days, hours, minutes, seconds, milliseconds. */
const UNIT_MS = Object.freeze({ d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 });
const DURATION = /^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/;

/**
 * Milliseconds from a number of seconds (fractions allowed: 0.5) or a text such as "90", "1.5", "500ms", "1.5s",
 * "2m", "1h30m", "1d12h" (units in the order d, h, m, s, ms, each at most once); undefined when it is not a duration.
 * Rounded to the millisecond.
 */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * UNIT_MS.s) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * UNIT_MS.s);
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const [, d, h, m, s, ms] = match;
  const total = Number(d ?? 0) * UNIT_MS.d + Number(h ?? 0) * UNIT_MS.h + Number(m ?? 0) * UNIT_MS.m + Number(s ?? 0) * UNIT_MS.s + Number(ms ?? 0);
  return Math.round(total);
}

/**
 * Whole seconds from a number of seconds or a text such as "90", "90s", "2m", "1h30m", "1d12h"; undefined when the
 * text is not a duration or not a whole number of seconds.
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number' && !Number.isInteger(value)) return undefined;
  if (typeof value === 'string' && /[.]|ms$/.test(value.trim())) return undefined;
  const ms = parseDurationMs(value);
  return ms === undefined || ms % UNIT_MS.s !== 0 ? undefined : ms / UNIT_MS.s;
}
