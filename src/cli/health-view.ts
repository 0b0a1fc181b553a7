// How rbmctl shows the jobs' health (issue 15): the word of each job, the exit code of `rbmctl status`, the one line
// of `rbmctl status --short` for a status bar, and "snoozed until". Pure functions of the status view and the clock.

import { EXIT_JOBS_NEED_ATTENTION, EXIT_OK } from '../errors.js';
import type { JobView, StatusView } from '../dbus/client.js';

/** Not ok, most urgent first (the order of src/api/health.ts: a person is needed, then runs fail, then none succeed). */
export const PROBLEM_HEALTHS = ['attention', 'failing', 'stale'] as const;

/** Names shown per health in the short line; more are counted ("+2"), so the line stays short. */
const SHORT_NAMES_MAX = 3;

/** The job's health word; a service older than issue 15 sends none, and rbmctl does not guess: ok. */
export function healthOf(job: Pick<JobView, 'health'>): string {
  return job.health ?? 'ok';
}

export function isHealthy(job: Pick<JobView, 'health'>): boolean {
  return healthOf(job) === 'ok';
}

/** `rbmctl status [JOB]`'s exit code: EXIT_JOBS_NEED_ATTENTION when any of these jobs is not ok, else 0. */
export function statusExitCode(jobs: readonly Pick<JobView, 'health'>[]): number {
  return jobs.every(isHealthy) ? EXIT_OK : EXIT_JOBS_NEED_ATTENTION;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** µs since the epoch → "14:30" within the next 24 hours, else "2024-05-02 14:30" (local time); undefined when 0 or past. */
export function formatUntil(usec: bigint | undefined, now: number): string | undefined {
  if (usec === undefined || usec === 0n) return undefined;
  const ms = Number(usec / 1000n);
  if (ms <= now) return undefined;
  const d = new Date(ms);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (ms - now < 86_400_000) return time;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
}

/** "snoozed until 14:30" when the job's own snooze ends after the global one (the global one is said once, above). */
export function jobSnoozeText(job: Pick<JobView, 'snoozed_until_usec'>, globalUsec: bigint | undefined, now: number): string | undefined {
  const own = job.snoozed_until_usec ?? 0n;
  if (own <= (globalUsec ?? 0n)) return undefined;
  const until = formatUntil(own, now);
  return until === undefined ? undefined : `snoozed until ${until}`;
}

/** The global snooze as one line under the header, or undefined. */
export function globalSnoozeLine(status: Pick<StatusView, 'snoozed_until_usec'>, now: number): string | undefined {
  const until = formatUntil(status.snoozed_until_usec, now);
  return until === undefined ? undefined : `notifications: snoozed for every job until ${until} (rbmctl unsnooze ends it)`;
}

/** One line per job that is not ok, in the status's order: "docs: attention: waits for your approval of … ". */
export function healthNotes(status: Pick<StatusView, 'snoozed_until_usec'>, jobs: readonly JobView[], now: number): string[] {
  const notes: string[] = [];
  for (const job of jobs) {
    const snoozed = jobSnoozeText(job, status.snoozed_until_usec, now);
    if (!isHealthy(job)) notes.push(`${job.name}: ${healthOf(job)}: ${job.health_reason || 'no reason given'}${snoozed ? ` (${snoozed})` : ''}`);
    else if (snoozed) notes.push(`${job.name}: ${snoozed}`);
  }
  return notes;
}

function namesText(names: readonly string[]): string {
  const shown = names.slice(0, SHORT_NAMES_MAX).join(', ');
  return names.length > SHORT_NAMES_MAX ? `${shown} +${names.length - SHORT_NAMES_MAX}` : shown;
}

/** "1 attention (docs), 2 stale (a, b)": the jobs that are not ok by health, most urgent first; '' when all are ok. */
function problemsText(jobs: readonly JobView[]): string {
  const parts: string[] = [];
  for (const health of PROBLEM_HEALTHS) {
    const names = jobs.filter((job) => healthOf(job) === health).map((job) => job.name);
    if (names.length > 0) parts.push(`${names.length} ${health} (${namesText(names)})`);
  }
  // A health word this rbmctl does not know (a newer service) is still not ok: shown under its own word.
  const others = jobs.filter((job) => !isHealthy(job) && !(PROBLEM_HEALTHS as readonly string[]).includes(healthOf(job)));
  for (const job of others) parts.push(`1 ${healthOf(job)} (${job.name})`);
  return parts.join(', ');
}

/**
 * `rbmctl status --short`: exactly one line for a status bar, no newline inside. `serviceRunning` false: the status
 * was read from the state directory in this process (src/cli/standalone.ts).
 *   rbm: 4 ok · rbm: no jobs · rbm: 1 attention (docs), 1 stale (photos) · rbm: service not running
 *   rbm: service not running; 1 stale (photos) · …; config error · …; snoozed until 14:30
 */
export function shortStatusLine(status: StatusView, jobs: readonly JobView[], now: number, serviceRunning = true): string {
  const problems = problemsText(jobs);
  const parts: string[] = [];
  if (!serviceRunning) {
    parts.push('service not running');
    if (problems) parts.push(problems);
  } else {
    parts.push(problems || (jobs.length === 0 ? 'no jobs' : `${jobs.length} ok`));
  }
  if (status.config_error) parts.push('config error');
  const until = formatUntil(status.snoozed_until_usec, now);
  if (until !== undefined) parts.push(`snoozed until ${until}`);
  return `rbm: ${parts.join('; ')}`;
}
