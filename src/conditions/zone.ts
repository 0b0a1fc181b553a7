// Wall-clock time in an explicit zone (pure), for the time windows of run conditions. The zone is always an input,
// as in src/scheduler/next-run.ts: LOCAL_TIMEZONE (the host's clock, what the service uses: no ICU zone data is
// loaded), 'UTC', or an IANA name such as "Europe/Berlin" (through Intl). Imports nothing.

/** The host's wall clock: what the service reads cron schedules (src/scheduler/next-run.ts) and time windows in. */
export const LOCAL_TIMEZONE = 'local';

const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** A moment as the wall clock of a zone shows it. */
export interface WallClock {
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Minutes since local midnight, 0–1439. */
  minute: number;
  /** Milliseconds since 1970-01-01 00:00 of the wall clock (the instant plus the zone's offset). */
  localMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (formatter === undefined) {
    // h23: midnight is 00, never 24; throws RangeError for a zone Intl does not know.
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** Minutes east of UTC in `timezone` at the instant `ms` (ms since the epoch). */
export function utcOffsetMinutes(ms: number, timezone: string): number {
  if (timezone === 'UTC') return 0;
  if (timezone === LOCAL_TIMEZONE) return -new Date(ms).getTimezoneOffset();
  const parts = formatterFor(timezone).formatToParts(new Date(ms));
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const wall = Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second'));
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / MINUTE_MS);
}

/** The wall clock of `timezone` at `ms`. */
export function wallClock(ms: number, timezone: string): WallClock {
  const localMs = ms + utcOffsetMinutes(ms, timezone) * MINUTE_MS;
  const day = Math.floor(localMs / DAY_MS);
  // 1970-01-01 was a Thursday (4).
  return { weekday: (((day + 4) % 7) + 7) % 7, minute: Math.floor((localMs - day * DAY_MS) / MINUTE_MS), localMs };
}

/** True when `timezone` can be used (LOCAL_TIMEZONE, UTC, or a zone name Intl knows). */
export function isKnownTimezone(timezone: string): boolean {
  if (timezone === LOCAL_TIMEZONE || timezone === 'UTC') return true;
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}
