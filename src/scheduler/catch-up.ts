// Catch-up runs (issue 16 point 4): when the network comes back or the machine resumes, the jobs that missed a
// slot or wait out a retry backoff run at once instead of at their next timer. Pure: the time and the random
// numbers are passed in; the service (src/service/catch-up.ts) listens to the system bus and arms the timers.
import type { JobConfig } from '../config/types.js';
import type { JobState, RunRequest } from '../run/types.js';
import { waitingOutcome } from '../api/job-attention.js';
import { nextRunAfter } from './next-run.js';
import { isRetryableOutcome } from '../run/rules/retry.js';

/** What brought the world back: NetworkManager says online again, or logind's PrepareForSleep(false). */
export type CatchUpTrigger = Extract<NonNullable<RunRequest['trigger']>, 'network' | 'resume'>;

/** Jitter spread: n jobs get n bins of CATCH_UP_JITTER_MS / n each, one start time in each. */
export const CATCH_UP_JITTER_MS = 3_000;

/** What the rule looks at per job (a subset of the scheduler's JobScheduleInfo). */
export interface CatchUpJob {
  name: string;
  config: Pick<JobConfig, 'active' | 'schedule'>;
  paused: boolean;
  removed: boolean;
  running: boolean;
  queued: boolean;
  state: Pick<JobState, 'needsResync' | 'needsApproval' | 'sideCheck' | 'lastOutcome' | 'lastScheduledMs' | 'lastStartedMs' | 'retryAtMs'>;
}

export interface CatchUpInput {
  jobs: readonly CatchUpJob[];
  nowMs: number;
  timezone: string;
  /**
   * Jobs whose catch-up is armed and not yet queued (inside its jitter). With queued and running jobs left alone
   * too, two events close together (a resume, then the network coming back) give one catch-up per job.
   */
  armed: ReadonlySet<string>;
  /** Uniform in [0, 1) (Math.random in the service, a fixed sequence in tests). */
  random: () => number;
}

export type CatchUpReason = 'missed-slot' | 'retry';

export interface CatchUpRun {
  job: string;
  reason: CatchUpReason;
  /** Wait this long before queueing it (the jitter), in [0, CATCH_UP_JITTER_MS). */
  delayMs: number;
}

/**
 * The slot the job missed: its next cron slot after the last scheduled or started run has passed. The same rule
 * as run_missed_jobs at start-up (scheduler.ts runStartupChecks); a job that never ran missed nothing.
 */
export function missedSlot(schedule: string, state: Pick<JobState, 'lastScheduledMs' | 'lastStartedMs'>, nowMs: number, timezone: string): boolean {
  const last = Math.max(state.lastScheduledMs, state.lastStartedMs);
  if (last <= 0) return false;
  let slot: number | undefined;
  try {
    slot = nextRunAfter(schedule, last, timezone);
  } catch {
    slot = undefined;
  }
  return slot !== undefined && slot <= nowMs;
}


/**
 * The last run failed in a way a retry may cure and its retry has not run yet: a backoff being waited out, or one
 * that ended during the suspend (the scheduler's timer, on the monotonic clock, would see it only later).
 */
function waitsForRetry(state: CatchUpJob['state']): boolean {
  return isRetryableOutcome(state.lastOutcome) && state.retryAtMs > 0;
}

/** Why the job should run now, or undefined when it should not be touched. */
export function catchUpReason(job: CatchUpJob, nowMs: number, timezone: string): CatchUpReason | undefined {
  if (!job.config.active || job.paused || job.removed) return undefined;
  // Already on its way: the queued or running run is the catch-up (a trigger would only coalesce into it).
  if (job.running || job.queued) return undefined;
  // A job that waits for a person (resync, approval, a side that looked missing) waits for that person, not for the
  // network: its own schedule (or the user) checks it again.
  if (waitingOutcome(job.state) !== undefined) return undefined;
  if (waitsForRetry(job.state)) return 'retry';
  if (missedSlot(job.config.schedule, job.state, nowMs, timezone)) return 'missed-slot';
  return undefined;
}

/**
 * The jobs to run now, each with its delay. The delays spread the jobs over the jitter window: job i of n starts
 * in the i-th of n equal bins, at a random point inside it, so 50 jobs never queue in the same millisecond and
 * the order stays the config order. max_parallel_jobs still applies: the runs go through the scheduler's queue.
 */
export function planCatchUp(input: CatchUpInput): CatchUpRun[] {
  const chosen: { job: string; reason: CatchUpReason }[] = [];
  for (const job of input.jobs) {
    if (input.armed.has(job.name)) continue;
    const reason = catchUpReason(job, input.nowMs, input.timezone);
    if (reason !== undefined) chosen.push({ job: job.name, reason });
  }
  const bin = CATCH_UP_JITTER_MS / Math.max(1, chosen.length);
  return chosen.map((c, i) => ({ ...c, delayMs: Math.min(CATCH_UP_JITTER_MS - 1, Math.floor((i + clampUnit(input.random())) * bin)) }));
}

function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 0.999_999) : 0;
}

/** A run request is a catch-up: the scheduler counts the slot it makes up for as handled, and the retry as brought forward. */
export function isCatchUpTrigger(trigger: RunRequest['trigger']): trigger is CatchUpTrigger {
  return trigger === 'network' || trigger === 'resume';
}
