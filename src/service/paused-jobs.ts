// Paused jobs: Pause/Resume, and the set of paused jobs kept across restarts (applied before any start-up run,
// written after every change; a failure to write is logged and the pause still holds until the service stops).
import { errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import type { JobScheduleInfo, Scheduler } from '../scheduler/scheduler.js';

/** Where the names of paused jobs are kept. `save` may throw. */
export interface PausedJobsStore {
  load(): string[];
  save(names: string[]): void;
}

export interface PausedJobsDeps {
  scheduler: Scheduler;
  logger: Logger;
  /** Default: pauses are not kept across restarts. */
  store?: PausedJobsStore | undefined;
  knownJob: (name: string) => JobScheduleInfo;
}

export interface PausedJobs {
  /** Jobs paused before the last stop stay paused; only the first call (the first good config) restores. */
  restoreOnce(): void;
  /** Record which jobs are paused (also forgets jobs that left the config). */
  save(): void;
  /** Pause the named jobs, or every job for an empty list. */
  pause(jobsArg: readonly string[]): void;
  /** Resume the named jobs, or every job for an empty list. */
  resume(jobsArg: readonly string[]): void;
}

export function createPausedJobs({ scheduler, logger, store, knownJob }: PausedJobsDeps): PausedJobs {
  /** Jobs paused before the last stop stay paused (before any start-up run can queue them). */
  let pausedRestored = false;
  function restorePausedOnce(): void {
    if (pausedRestored || !store) return;
    pausedRestored = true;
    let names: string[];
    try {
      names = store.load();
    } catch (e: unknown) {
      logger.warn('cannot read the paused jobs; none is paused', { error: errorText(e) });
      return;
    }
    const known = names.filter((name) => scheduler.info(name)?.removed === false);
    for (const name of known) scheduler.pause(name);
    if (known.length > 0) logger.info('jobs still paused from before the restart', { jobs: known });
  }

  /** Record which jobs are paused (best effort: a failure is logged; the pause holds until the service stops). */
  let lastSavedPaused: string | undefined;
  function savePaused(): void {
    if (!store || !pausedRestored) return;
    const names = scheduler.jobs().filter((j) => j.paused && !j.removed).map((j) => j.name);
    const key = JSON.stringify(names);
    if (key === lastSavedPaused) return; // a reload that changed nothing writes nothing
    try {
      store.save(names);
      lastSavedPaused = key;
    } catch (e: unknown) {
      logger.warn('cannot record the paused jobs; they are paused until the service stops', { error: errorText(e) });
    }
  }

  return {
    restoreOnce: restorePausedOnce,
    save: savePaused,

    pause(jobsArg) {
      const names = jobsArg;
      const targets = names.length === 0 ? scheduler.jobs().filter((j) => !j.removed) : names.map(knownJob);
      for (const j of targets) scheduler.pause(j.name);
      savePaused();
    },

    resume(jobsArg) {
      const names = jobsArg;
      const targets = names.length === 0 ? scheduler.jobs().filter((j) => !j.removed) : names.map(knownJob);
      for (const j of targets) scheduler.resume(j.name);
      savePaused();
    },
  };
}
