// Catch-up runs (issue 16 point 4, issue 17 point 5): the network coming back (NetworkManager) or a resume (logind
// PrepareForSleep(false)) queues, after a little jitter, the jobs that missed a slot or wait out a retry backoff
// (the rule: src/scheduler/catch-up.ts). A job whose run was in flight at that moment (a suspend froze it, or it
// started before the network was up) is caught up once more if that run ends retryable. Nothing is held before a
// suspend (no logind delay lock with this dbus-next: docs/decisions.md "System bus monitor").
import { errorText } from '../errors.js';
import type { Clock, Logger, Timer } from '../ports.js';
import { networkCameBack } from '../sysbus/facts.js';
import { CATCH_UP_JITTER_MS, catchUpReason, planCatchUp, type CatchUpTrigger } from '../scheduler/catch-up.js';
import { isRetryableOutcome } from '../run/rules/retry.js';
import type { JobScheduleInfo, Scheduler } from '../scheduler/scheduler.js';
import type { SystemWatch } from './system-watch.js';

export interface CatchUpDeps {
  scheduler: Scheduler;
  clock: Clock;
  logger: Logger;
  /** The zone cron schedules are read in (the scheduler's). */
  timezone: string;
  /** Uniform in [0, 1); default Math.random. */
  random?: () => number;
}

export interface CatchUp {
  /** Follow this system watch (one at a time; a second call replaces the first). */
  watch(system: SystemWatch): void;
  /** Unsubscribe and drop the armed catch-ups (at shutdown). */
  stop(): void;
}

/** The run that was in flight when the world came back, and the trigger its retry would carry. */
interface InFlight {
  runId: number;
  trigger: CatchUpTrigger;
}

const WHY: Readonly<Record<CatchUpTrigger, string>> = { network: 'the network came back', resume: 'the machine resumed' };

export function createCatchUp(deps: CatchUpDeps): CatchUp {
  const { scheduler, clock, logger, timezone } = deps;
  const random = deps.random ?? Math.random;
  const armed = new Map<string, Timer>();
  const inFlight = new Map<string, InFlight>();
  let unsubscribe: (() => void)[] = [];
  let stopped = false;

  /** Queue the job now, if it still needs it (its state may have changed during the jitter). */
  function fire(name: string, trigger: CatchUpTrigger): void {
    armed.delete(name);
    const info = scheduler.info(name);
    if (stopped || !info || catchUpReason(info, clock.now(), timezone) === undefined) return;
    try {
      scheduler.trigger(name, { trigger });
    } catch (e: unknown) {
      logger.warn('the catch-up run could not be queued; the job keeps its schedule', { job: name, trigger, error: errorText(e) });
    }
  }

  function arm(name: string, trigger: CatchUpTrigger, delayMs: number): void {
    armed.set(name, clock.setTimer(delayMs, () => fire(name, trigger)));
  }

  /** Running jobs that could need a retry once their run ends (not ones waiting for a person). */
  function noteInFlight(jobs: readonly JobScheduleInfo[], trigger: CatchUpTrigger): void {
    for (const job of jobs) {
      if (job.running && job.config.active && !job.paused && !job.removed) inFlight.set(job.name, { runId: job.currentRunId, trigger });
    }
  }

  function catchUp(trigger: CatchUpTrigger): void {
    if (stopped) return;
    const jobs = scheduler.jobs();
    const runs = planCatchUp({ jobs, nowMs: clock.now(), timezone, armed: new Set(armed.keys()), random });
    noteInFlight(jobs, trigger);
    if (runs.length === 0) {
      logger.debug(`${WHY[trigger]}: no job to catch up`);
      return;
    }
    logger.info(`${WHY[trigger]}: catching up`, { jobs: runs.map((r) => `${r.job} (${r.reason})`) });
    for (const run of runs) arm(run.job, trigger, run.delayMs);
  }

  function onRunFinished(job: string, runId: number, outcome: Parameters<typeof isRetryableOutcome>[0]): void {
    const waiting = inFlight.get(job);
    if (!waiting || waiting.runId !== runId) return;
    inFlight.delete(job);
    if (stopped || !isRetryableOutcome(outcome) || armed.has(job)) return;
    logger.info(`the run in flight when ${WHY[waiting.trigger]} failed with a retryable error; retried at once`, { job, runId });
    arm(job, waiting.trigger, Math.floor(random() * CATCH_UP_JITTER_MS));
  }

  const offScheduler = scheduler.on((event) => {
    if (event.type === 'run-finished') onRunFinished(event.record.job, event.record.runId, event.record.outcome);
  });

  function unwatch(): void {
    for (const off of unsubscribe) off();
    unsubscribe = [];
  }

  return {
    watch(system) {
      unwatch();
      if (stopped) return;
      unsubscribe = [
        system.on('change', (facts, before) => {
          if (networkCameBack(before, facts)) catchUp('network');
        }),
        system.on('sleep', (preparing) => {
          if (!preparing) return catchUp('resume');
          // Nothing to hold: a run in flight is frozen with the machine and, if it then fails, retried at the resume.
          const running = scheduler.runningJobs();
          if (running.length > 0) logger.info('suspending with runs in flight; one that fails from it is retried at the resume', { running });
        }),
      ];
    },
    stop() {
      stopped = true;
      unwatch();
      offScheduler();
      for (const timer of armed.values()) timer.cancel();
      armed.clear();
      inFlight.clear();
    },
  };
}
