// Cron arithmetic for the scheduler: croner used only as a calculator (paused, no callback, no timers).
// The scheduler owns the single timer; this module answers "when is the next slot after t?".
import { Cron } from 'croner';

const cache = new Map<string, Cron>();

function cronFor(pattern: string): Cron {
  let cron = cache.get(pattern);
  if (cron === undefined) {
    // paused: true so croner never arms a timer of its own; blanks collapsed as the config layer does.
    cron = new Cron(pattern.trim().split(/\s+/).join(' '), { paused: true });
    cache.set(pattern, cron);
  }
  return cron;
}

/** The first slot of `pattern` strictly after `fromMs` (ms since the epoch), or undefined when there is none. */
export function nextRunAfter(pattern: string, fromMs: number): number | undefined {
  const next = cronFor(pattern).nextRun(new Date(fromMs));
  return next === null ? undefined : next.getTime();
}

/** True when the pattern parses (the config layer validates schedules; this guards direct callers). */
export function isValidSchedule(pattern: string): boolean {
  try {
    cronFor(pattern);
    return true;
  } catch {
    return false;
  }
}
