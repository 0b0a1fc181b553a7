// What Status/JobStatus/Summary answer: the scheduler's picture of each job plus what only the service knows (live
// progress, the cpulimit and checksum notes, the config error, the rclone version); and the lookup of a named job.
import type { Config, JobConfig, RcloneCapabilities } from '../config/types.js';
import type { Progress } from '../run/types.js';
import { RbmError } from '../errors.js';
import type { JobScheduleInfo, Scheduler } from '../scheduler/scheduler.js';
import type { JobStatus, ServiceState, ServiceStatus, ServiceSummary } from '../api/control-api.js';

export interface StatusViewDeps {
  scheduler: Scheduler;
  configPath: string;
  version: string;
  /** The latest progress of each running job. */
  progress: ReadonlyMap<string, Progress>;
  state: () => ServiceState;
  /** The full text of the last config error, '' when none. */
  configError: () => string;
  caps: () => RcloneCapabilities | undefined;
  /** The global settings in force (with the global --dry-run applied), undefined when no config is loaded. */
  globalSettings: () => Config['global'] | undefined;
  /** max_cpu_usage_percent < 100 but cpulimit is missing (the engine knows); default: never. */
  cpuLimitNotApplied?: ((global: Config['global']) => boolean) | undefined;
  /** Why a job cannot detect same-size edits within the remote's modtime precision (the engine knows); default: none. */
  checksumNote?: ((job: JobConfig, global: Config['global'], caps: RcloneCapabilities) => string | undefined) | undefined;
}

export interface StatusView {
  jobStatusOf(info: JobScheduleInfo): JobStatus;
  /** The job by name; throws NoSuchJob when the config has no such job (a removed job still running counts as gone). */
  knownJob(name: string): JobScheduleInfo;
  summary(): ServiceSummary;
  status(): ServiceStatus;
  /** Changes whenever the service-level picture changes (what serviceChanged reports). */
  summaryKey(): string;
}

export function createStatusView(deps: StatusViewDeps): StatusView {
  const { scheduler, configPath, progress } = deps;

  function cpuLimitNotApplied(): boolean {
    const global = deps.globalSettings();
    return global !== undefined && deps.cpuLimitNotApplied !== undefined && deps.cpuLimitNotApplied(global);
  }

  function jobStatusOf(info: JobScheduleInfo): JobStatus {
    return {
      name: info.name,
      config: info.config,
      activity: info.activity,
      paused: info.paused,
      // The scheduler's copy: read after each run and when the run starts (not from disk on every Status call).
      state: info.state,
      nextRunMs: info.nextRunMs,
      currentRunId: info.currentRunId,
      progress: info.running ? progress.get(info.name) : undefined,
      cpuLimitNotApplied: cpuLimitNotApplied(),
      checksumNote: checksumNoteOf(info.config),
      // Placeholder until src/api/health.ts decides (issue 15).
      health: 'ok',
      healthReason: '',
      snoozedUntilMs: 0,
    };
  }

  function checksumNoteOf(job: JobConfig): string | undefined {
    const global = deps.globalSettings();
    const caps = deps.caps();
    return global !== undefined && caps !== undefined ? deps.checksumNote?.(job, global, caps) : undefined;
  }

  function knownJob(name: string): JobScheduleInfo {
    const info = scheduler.info(name);
    if (!info || info.removed) {
      throw new RbmError('NoSuchJob', `no job named '${name}'`, { hint: `List the jobs with: rbmctl jobs (config: ${configPath})` });
    }
    return info;
  }

  function serviceSummary(): ServiceSummary {
    return {
      state: deps.state(),
      version: deps.version,
      configPath,
      configError: deps.configError(),
      rcloneVersion: deps.caps()?.version ?? '',
      runningJobs: scheduler.runningJobs(),
      queuedJobs: scheduler.queuedJobs(),
      attentionJobs: [],
      snoozedUntilMs: 0,
    };
  }

  function serviceStatus(): ServiceStatus {
    return { ...serviceSummary(), jobs: scheduler.jobs().filter((j) => !j.removed).map(jobStatusOf) };
  }

  function summaryKey(): string {
    return JSON.stringify([deps.state(), deps.configError(), deps.caps()?.version, scheduler.runningJobs(), scheduler.queuedJobs(), scheduler.jobs().map((j) => j.name)]);
  }

  return { jobStatusOf, knownJob, summary: serviceSummary, status: serviceStatus, summaryKey };
}
