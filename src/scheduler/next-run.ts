// Cron arithmetic for the scheduler: croner used only as a calculator (paused, no callback, no timers).
// The scheduler owns the single timer; this module answers "when is the next slot after t?".
// The zone is always an explicit input: the core never reads the process's TZ by accident.
import { Cron, type CronOptions } from 'croner';
import type { TimeWindow } from '../conditions/types.js';
import { nextWindowChangeMs, runnableFromMs } from '../conditions/windows.js';
import { LOCAL_TIMEZONE } from '../conditions/zone.js';

/** The zone when a caller names none: fixed, so a slot never depends on the process's TZ. */
export const DEFAULT_TIMEZONE = 'UTC';
// LOCAL_TIMEZONE (src/conditions/zone.ts, the one definition: the windows of run conditions read the same clock) is the
// host's wall clock (the process's TZ, from /etc/localtime), chosen explicitly by the composition root for the
// service: croner then reads the Date's local fields, and no ICU time zone data is loaded (a named zone costs the
// service ~10 MB of RSS, a sixth of its idle memory; docs/decisions.md).

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
/** Windows repeat every week: the runs of a windowed job are followed this far (and over at least this many runs). */
const WINDOWED_HORIZON_MS = 8 * 86_400_000;
const WINDOWED_MIN_RUNS = 8;
/** A bound on the slots looked at, whatever the schedule (a minute schedule inside long windows). */
const WINDOWED_MAX_STEPS = 5_000;

/** The slots of the schedule a gap is looked for in: at least `slots` of them and as far as `horizonMs` ahead. */
interface SlotSpan {
  slots: number;
  horizonMs: number;
}

/** How far a schedule's gaps are looked for: an irregular one (weekdays 9-17 every 5 minutes) shows its nights and weekend. */
const WINDOWED_SPAN: SlotSpan = { slots: WINDOWED_MIN_RUNS, horizonMs: WINDOWED_HORIZON_MS };

/** The longest gap between the schedule's slots over `span` (0 with fewer than two), looking at most at WINDOWED_MAX_STEPS. */
function longestSlotGapMs(pattern: string, fromMs: number, timezone: string, span: SlotSpan): number {
  let longest = 0;
  const first = nextRunAfter(pattern, fromMs, timezone);
  let previous = first;
  for (let i = 1; i < WINDOWED_MAX_STEPS && previous !== undefined && first !== undefined; i++) {
    if (i >= span.slots && previous - first >= span.horizonMs) break;
    const next = nextRunAfter(pattern, previous, timezone);
    if (next === undefined) break;
    longest = Math.max(longest, next - previous);
    previous = next;
  }
  return longest;
}

/**
 * The longest gap between the moments the job's runs can start when its run conditions have time windows: a slot
 * inside a window starts then, a slot outside waits for the next opening (and the slots that fall meanwhile join that
 * run), so an hourly job in "22:00-06:00" runs from 22:00 to 05:00 and its longest gap is 05:00 → 22:00. Inside a
 * window the slots are at most `slotGapMs` apart, so those up to one such gap before it closes are skipped.
 */
function longestWindowedGapMs(pattern: string, fromMs: number, timezone: string, windows: readonly TimeWindow[], slotGapMs: number): number {
  let longest = 0;
  let previous: number | undefined;
  let runs = 0;
  // previous is the last run's start, or (after a skip) a moment no later than the last slot skipped.
  let from = fromMs;
  for (let step = 0; step < WINDOWED_MAX_STEPS; step++) {
    const slot = nextRunAfter(pattern, from, timezone);
    const start = slot === undefined ? undefined : runnableFromMs(windows, slot, timezone);
    if (slot === undefined || start === undefined) break; // no more slots, or the windows never open
    if (start !== previous) {
      if (previous !== undefined) longest = Math.max(longest, start - previous);
      previous = start;
      runs++;
    }
    if (runs >= WINDOWED_MIN_RUNS && start - fromMs > WINDOWED_HORIZON_MS) break;
    const closes = nextWindowChangeMs(windows, start, timezone);
    const skipTo = closes === undefined ? start : closes - slotGapMs - 1;
    from = Math.max(slot, start - 1);
    if (skipTo > start) {
      // The slots skipped are at most slotGapMs apart (so is the last of them from skipTo + 1): none makes a longer gap.
      from = skipTo;
      previous = skipTo + 1;
    }
  }
  return longest;
}

/**
 * The default stale_after of a schedule: three times its longest gap between its slots over the next 8 days (so a
 * weekdays-only or office-hours job is not stale over a weekend or a night), at least an hour. With run-condition `windows`, the gaps are those between the
 * moments its runs can start (longestWindowedGapMs): an hourly job in a 22:00-06:00 window is not stale every day. A
 * pattern with no next slots falls back to the minimum.
 */
export function defaultStaleAfterMs(pattern: string, fromMs: number, timezone: string = DEFAULT_TIMEZONE, windows: readonly TimeWindow[] = []): number {
  if (windows.length === 0) return Math.max(STALE_PERIODS * longestSlotGapMs(pattern, fromMs, timezone, WINDOWED_SPAN), MIN_STALE_AFTER_MS);
  // The windowed walk skips the slots inside a window up to one slot gap before it closes: that gap must be the
  // longest over the whole walk, or a night inside a window is skipped (stale too early).
  const slotGap = longestSlotGapMs(pattern, fromMs, timezone, WINDOWED_SPAN);
  const longest = Math.max(slotGap, longestWindowedGapMs(pattern, fromMs, timezone, windows, slotGap));
  return Math.max(STALE_PERIODS * longest, MIN_STALE_AFTER_MS);
}
