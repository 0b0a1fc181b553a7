// Cron arithmetic for the scheduler: croner used only as a calculator (paused, no callback, no timers).
// The scheduler owns the single timer; this module answers "when is the next slot after t?".
// The zone is always an explicit input: the core never reads the process's TZ by accident.
import { Cron, type CronOptions } from 'croner';
import { LOCAL_TIMEZONE } from '../conditions/zone.js';

/** The zone when a caller names none: fixed, so a slot never depends on the process's TZ. */
export const DEFAULT_TIMEZONE = 'UTC';
/**
 * LOCAL_TIMEZONE (src/conditions/zone.ts, the one definition: the windows of run conditions read the same clock) is the
 * host's wall clock (the process's TZ, from /etc/localtime), chosen explicitly by the composition root for the
 * service: croner then reads the Date's local fields, and no ICU time zone data is loaded (a named zone costs the
 * service ~10 MB of RSS, a sixth of its idle memory; docs/decisions.md). Re-exported for the scheduler's callers.
 */
export { LOCAL_TIMEZONE };

/** croner's options for a zone: UTC and the host's zone need no ICU data; a named zone uses Intl. */
function zoneOptions(timezone: string): CronOptions {
  if (timezone === LOCAL_TIMEZONE) return {};
  if (timezone === 'UTC') return { utcOffset: 0 };
  return { timezone };
}

const cache = new Map<string, Cron>();

function cronFor(pattern: string, timezone: string): Cron {
  const key = `${timezone} ${pattern}`;
  let cron = cache.get(key);
  if (cron === undefined) {
    // paused: true so croner never arms a timer of its own; blanks collapsed as the config layer does.
    cron = new Cron(pattern.trim().split(/\s+/).join(' '), { paused: true, ...zoneOptions(timezone) });
    cache.set(key, cron);
  }
  return cron;
}

/**
 * The first slot of `pattern` strictly after `fromMs` (ms since the epoch), or undefined when there is none. The
 * pattern's fields are wall-clock times in `timezone` (an IANA name such as "Europe/Berlin", or LOCAL_TIMEZONE).
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

/** A job is stale after three of its schedule periods without a success, and never sooner than this. */
export const MIN_STALE_AFTER_MS = 3_600_000;
const STALE_PERIODS = 3;

/**
 * The default stale_after of a schedule: three times its longest gap between the next few slots (so a weekdays-only
 * job is not stale over a weekend), at least an hour. A pattern with no next slots falls back to the minimum.
 */
export function defaultStaleAfterMs(pattern: string, fromMs: number, timezone: string = DEFAULT_TIMEZONE): number {
  let longest = 0;
  let previous = nextRunAfter(pattern, fromMs, timezone);
  for (let i = 0; i < 7 && previous !== undefined; i++) {
    const next = nextRunAfter(pattern, previous, timezone);
    if (next === undefined) break;
    longest = Math.max(longest, next - previous);
    previous = next;
  }
  return Math.max(STALE_PERIODS * longest, MIN_STALE_AFTER_MS);
}
