// Cron expressions as the scheduler will read them: croner parses, we only check (no timers are started).

import { Cron } from 'croner';

const EXPECTED = 'expected 5 or 6 fields: [second] minute hour day-of-month month day-of-week, e.g. "*/15 * * * *", or @hourly/@daily/@weekly/@monthly';
/** A fixed start for the "does it ever fire" check, so the result never depends on today's date. */
const PROBE_FROM = new Date(Date.UTC(2001, 0, 1));
/**
 * The zone of the "does it ever fire" check, fixed so the answer never depends on the process's TZ. Whether a pattern
 * can fire does not depend on the zone: every wall-clock time exists in UTC, and croner still fires a slot that falls
 * in a DST gap (at the shifted time), so a pattern valid here fires in every zone.
 */
// utcOffset rather than timezone 'UTC': the same arithmetic without loading ICU's zone data (~10 MB of RSS).
const PROBE_UTC_OFFSET = 0;

/** The expression with surrounding and repeated blanks removed (croner refuses them). */
export function normalizeSchedule(expression: string): string {
  return expression.trim().split(/\s+/).join(' ');
}

/** Why `expression` is not a usable schedule, or undefined when it is. */
export function scheduleProblem(expression: string): string | undefined {
  const normalized = normalizeSchedule(expression);
  const fields = normalized === '' ? 0 : normalized.split(' ').length;
  if (!normalized.startsWith('@') && fields !== 5 && fields !== 6) {
    return `"${expression}" has ${fields} field${fields === 1 ? '' : 's'} (${EXPECTED})`;
  }
  let cron: Cron;
  try {
    cron = new Cron(normalized, { paused: true, utcOffset: PROBE_UTC_OFFSET });
  } catch (e: unknown) {
    const reason = (e instanceof Error ? e.message : String(e)).replace(/^CronPattern: /, '').replace(/\.$/, '');
    return `"${expression}" is not a valid cron expression: ${reason} (${EXPECTED})`;
  }
  const next = cron.nextRun(PROBE_FROM);
  cron.stop();
  if (next === null) return `"${expression}" never matches a date (${EXPECTED})`;
  return undefined;
}
