// The staleness watchdog (issue 15): health can change with time alone (a job that has not succeeded for stale_after
// becomes stale; a snooze ends). One Clock timer at the next such moment announces it: jobChanged for each job whose
// health, reason or snooze changed, serviceChanged when the summary did. Re-armed after every job change; no timer
// when nothing can change with time. Timers stand still while the machine sleeps, so a sleep is at most maxSleepMs
// (like the scheduler's): after a resume a long-overdue job is announced within that bound.
import type { Clock, Timer } from '../ports.js';
import type { JobScheduleInfo } from '../scheduler/scheduler.js';
import type { JobStatus } from '../api/control-api.js';
import type { EventHub } from './events.js';

export interface HealthWatchDeps {
  clock: Clock;
  /** Longest single sleep (see SchedulerDeps.maxSleepMs). */
  maxSleepMs: number;
  events: EventHub;
  /** The jobs in the config now (removed ones excluded). */
  jobs: () => JobScheduleInfo[];
  jobStatusOf: (info: JobScheduleInfo) => JobStatus;
  /** The next moment a job's health or snooze changes with time alone (ms since the epoch), undefined when none. */
  nextChangeMs: () => number | undefined;
  /** Refresh the service-level picture (emits serviceChanged when it changed). */
  serviceChanged: () => void;
}

export interface HealthWatch {
  /** Arm the timer from now on (the service calls it in start()). */
  start(): void;
  /** No timer any more (shutdown). */
  stop(): void;
  /** Announce every job whose health or snooze changed since it was last reported, then re-arm. */
  check(): void;
}

/** What a client sees change with time alone. */
function healthKey(status: JobStatus): string {
  return JSON.stringify([status.health, status.healthReason, status.snoozedUntilMs]);
}

export function createHealthWatch(deps: HealthWatchDeps): HealthWatch {
  const { clock, events } = deps;
  /** The health each job had when a client was last told about it (jobAdded or jobChanged). */
  const reported = new Map<string, string>();
  let running = false;
  let timer: Timer | undefined;
  let armedFor: number | undefined;

  events.on('jobAdded', (status) => {
    reported.set(status.name, healthKey(status));
    rearmSoon();
  });
  events.on('jobChanged', (status) => {
    reported.set(status.name, healthKey(status));
    rearmSoon();
  });
  events.on('jobRemoved', (name) => {
    reported.delete(name);
  });

  function rearm(): void {
    if (!running) return;
    const at = deps.nextChangeMs();
    if (at === armedFor && timer !== undefined) return;
    timer?.cancel();
    timer = undefined;
    armedFor = at;
    if (at === undefined) return;
    const delay = Math.min(Math.max(0, at - clock.now()), deps.maxSleepMs);
    timer = clock.setTimer(delay, () => {
      timer = undefined;
      armedFor = undefined;
      check();
    });
  }

  /** One re-arm for a burst of events (a config of 1,000 jobs adds 1,000 at once), before any I/O. */
  let rearmQueued = false;
  function rearmSoon(): void {
    if (rearmQueued || !running) return;
    rearmQueued = true;
    queueMicrotask(() => {
      rearmQueued = false;
      rearm();
    });
  }

  function check(): void {
    for (const info of deps.jobs()) {
      const status = deps.jobStatusOf(info);
      const before = reported.get(info.name);
      // A job nobody was told about yet is announced by jobAdded, not here.
      if (before === undefined) reported.set(info.name, healthKey(status));
      else if (before !== healthKey(status)) events.emit('jobChanged', status);
    }
    deps.serviceChanged();
    rearm();
  }

  return {
    start() {
      running = true;
      check();
    },
    stop() {
      running = false;
      timer?.cancel();
      timer = undefined;
      armedFor = undefined;
    },
    check,
  };
}
