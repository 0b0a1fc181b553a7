// The service's scheduler: each run it starts goes to the job runner (with the global --dry-run applied), and what
// the scheduler reports becomes ControlApi events, run logs and live progress.
import type { Config, RcloneCapabilities } from '../config/types.js';
import type { JobRunner, Operation, Progress, RunRecord, RunRequest } from '../run/types.js';
import { RbmError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import { createScheduler, type JobScheduleInfo, type Scheduler, type SchedulerEvent } from '../scheduler/scheduler.js';
import type { JobStatus } from '../api/control-api.js';
import { needsAttention } from '../api/outcomes.js';
import type { EventHub } from './events.js';
import type { MayStart } from '../scheduler/run-gate.js';

export interface ServiceSchedulerDeps {
  clock: Clock;
  logger: Logger;
  runner: JobRunner;
  events: EventHub;
  /** Filled with each running job's latest progress. */
  progress: Map<string, Progress>;
  /** The global settings in force (with the global --dry-run applied), undefined when no config is loaded. */
  globalSettings: () => Config['global'] | undefined;
  /** The global -d/--dry-run: every run is a dry run, whatever the config says. */
  forceDryRun?: boolean | undefined;
  /** See SchedulerDeps.maxSleepMs. */
  maxSleepMs?: number | undefined;
  /** See SchedulerDeps.timezone. */
  timezone?: string | undefined;
  /** Sync on change reads each run's rclone messages (watching.ts). */
  rcloneMessageHook?: ((job: string) => ((message: { text: string }) => void) | undefined) | undefined;
  /** See SchedulerDeps.mayStart (the run conditions). */
  mayStart?: MayStart | undefined;
  /** The runner started rclone for a run, with these capabilities (the run conditions decide a stop mid-run on them). */
  runStarted?: ((job: string, runId: number, operation: Operation, rclone: RcloneCapabilities) => void) | undefined;
}

export function createServiceScheduler(deps: ServiceSchedulerDeps): Scheduler {
  const { clock, logger, runner, progress } = deps;
  const emit = deps.events.emit;
  const scheduler = createScheduler({
    clock,
    logger: logger.child({ component: 'scheduler' }),
    maxParallel: 1,
    nextRunId: () => runner.nextRunId(),
    readState: (name) => runner.readState(name),
    ...(deps.maxSleepMs === undefined ? {} : { maxSleepMs: deps.maxSleepMs }),
    ...(deps.timezone === undefined ? {} : { timezone: deps.timezone }),
    ...(deps.mayStart === undefined ? {} : { mayStart: deps.mayStart }),
    startRun: (job, request, runId, signal) => {
      const global = deps.globalSettings();
      if (!global) return Promise.reject(new RbmError('InvalidConfig', 'no config is loaded'));
      const effective: RunRequest = deps.forceDryRun === true ? { ...request, dryRun: true } : request;
      const onRcloneMessage = deps.rcloneMessageHook?.(job.name);
      return runner.run(job, global, effective, runId, {
        signal,
        ...(onRcloneMessage ? { onRcloneMessage } : {}),
        onStarted: (id, operation, rclone) => {
          // The runner has recorded the run's start in the job state: take it in before telling anyone.
          scheduler.refreshState(job.name);
          deps.runStarted?.(job.name, id, operation, rclone);
          emit('jobStarted', job.name, id, operation);
        },
        onProgress: (p) => {
          progress.set(job.name, p);
          emit('jobProgress', job.name, runId, p);
        },
      });
    },
  });
  return scheduler;
}

export interface SchedulerEventDeps {
  logger: Logger;
  events: EventHub;
  /** Cleared when a run starts or ends and when its job goes. */
  progress: Map<string, Progress>;
  jobStatusOf: (info: JobScheduleInfo) => JobStatus;
  /** Called after every scheduler event (the STATUS= line and serviceChanged follow). */
  changed: () => void;
}

/** Turn the scheduler's events into ControlApi events (jobAdded, jobChanged, jobRemoved, jobFinished). */
export function forwardSchedulerEvents(scheduler: Scheduler, { logger, events, progress, jobStatusOf, changed }: SchedulerEventDeps): void {
  const emit = events.emit;

  function logRecord(record: RunRecord): void {
    const meta = { job: record.job, runId: record.runId, outcome: record.outcome, message: record.message };
    if (needsAttention(record.outcome)) logger.warn('run finished', meta);
    else logger.info('run finished', meta);
  }

  scheduler.on((event: SchedulerEvent) => {
    switch (event.type) {
      case 'job-added': {
        const info = scheduler.info(event.job);
        if (info) emit('jobAdded', jobStatusOf(info));
        break;
      }
      case 'job-changed': {
        const info = scheduler.info(event.job);
        if (info && !info.removed) emit('jobChanged', jobStatusOf(info));
        break;
      }
      case 'job-removed':
        progress.delete(event.job);
        emit('jobRemoved', event.job);
        break;
      case 'run-started':
        progress.delete(event.job);
        break;
      case 'run-finished':
        progress.delete(event.record.job);
        logRecord(event.record);
        emit('jobFinished', event.record);
        break;
    }
    changed();
  });
}
