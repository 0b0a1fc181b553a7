// Cron arithmetic for the scheduler: croner used only as a calculator (paused, no callback, no timers).
// The scheduler owns the single timer; this module answers "when is the next slot after t?".
// The zone is always passed to croner: without one it reads the process's TZ, and the core must not.
import { Cron } from 'croner';

/** The zone when a caller names none: fixed, so a slot never depends on the process's TZ (the daemon passes the system's). */
export const DEFAULT_TIMEZONE = 'UTC';

const cache = new Map<string, Cron>();

function cronFor(pattern: string, timezone: string): Cron {
  const key = `${timezone} ${pattern}`;
  let cron = cache.get(key);
  if (cron === undefined) {
    // paused: true so croner never arms a timer of its own; blanks collapsed as the config layer does.
    cron = new Cron(pattern.trim().split(/\s+/).join(' '), { paused: true, timezone });
    cache.set(key, cron);
  }
  return cron;
}

/**
 * The first slot of `pattern` strictly after `fromMs` (ms since the epoch), or undefined when there is none. The
 * pattern's fields are wall-clock times in `timezone` (an IANA name such as "Europe/Berlin").
 */
export function nextRunAfter(pattern: string, fromMs: number, timezone: string = DEFAULT_TIMEZONE): number | undefined {
  const next = cronFor(pattern, timezone).nextRun(new Date(fromMs));
  return next === null ? undefined : next.getTime();
}

/** True when the pattern parses (the config layer validates schedules; this guards direct callers). */
export function isValidSchedule(pattern: string): boolean {
  try {
    cronFor(pattern, DEFAULT_TIMEZONE);
    return true;
  } catch {
    return false;
  }
}
