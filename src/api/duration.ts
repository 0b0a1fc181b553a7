// The one reader of durations a person types: config keys (shutdown_grace, stale_after) and rbmctl/D-Bus arguments
// (snooze). Pure.

/** Seconds per unit letter: days, hours, minutes, seconds. */
const UNIT_SECONDS = Object.freeze({ d: 86_400, h: 3_600, m: 60, s: 1 });

/**
 * Whole seconds from a number of seconds or a text such as "90", "90s", "2m", "1h30m", "1d12h" (units in the order
 * d, h, m, s, each at most once); undefined when the text is not a duration.
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!match || text === '') return undefined;
  const [, d, h, m, s] = match;
  return Number(d ?? 0) * UNIT_SECONDS.d + Number(h ?? 0) * UNIT_SECONDS.h + Number(m ?? 0) * UNIT_SECONDS.m + Number(s ?? 0) * UNIT_SECONDS.s;
}
