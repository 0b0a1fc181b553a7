// What Status/JobStatus/Summary answer: the scheduler's picture of each job plus what only the service knows (live
// progress, the cpulimit and checksum notes, the config error, the rclone version); and the lookup of a named job.
import type { Config, JobConfig, RcloneCapabilities } from '../config/types.js';
import type { Progress } from '../run/types.js';
import { RbmError } from '../errors.js';
import type { JobScheduleInfo, Scheduler } from '../scheduler/scheduler.js';
import { WATCH_OFF, type JobStatus, type JobWatch, type ServiceState, type ServiceStatus, type ServiceSummary } from '../api/control-api.js';
import { healthChangesAtMs, jobHealth, type HealthFacts, type HealthVerdict } from '../api/health.js';
import { defaultStaleAfterMs } from '../scheduler/next-run.js';
import { isSnoozed } from '../alerts/filter.js';
import { isDryRun } from '../run/rules/plan.js';

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
  /** Now, for the staleness of each job. */
  nowMs: () => number;
  /** The zone the schedules are read in (the default stale_after follows the schedule). */
  timezone?: string | undefined;
  /** When a job's notifications are snoozed until (its own or the global snooze, the later; 0 = not). Default: never. */
  snoozedUntilMs?: ((job: string) => number) | undefined;
  /** The global snooze (0 = none). Default: none. */
  globalSnoozedUntilMs?: (() => number) | undefined;
  /** When the job was first seen, kept across restarts (first-seen.ts); default: when this view first saw it. */
  firstSeenMs?: ((job: string) => number | undefined) | undefined;
  /** Sync on change of each job (watching.ts); default: off. */
  watchOf?: ((job: string) => JobWatch) | undefined;
  /** Which run conditions cannot be judged here (conditions-gate.ts); default: none. */
  conditionsNote?: ((job: string) => string | undefined) | undefined;
}

export interface StatusView {
  jobStatusOf(info: JobScheduleInfo): JobStatus;
  /** The job by name; throws NoSuchJob when the config has no such job (a removed job still running counts as gone). */
  knownJob(name: string): JobScheduleInfo;
  summary(): ServiceSummary;
  status(): ServiceStatus;
  /** Changes whenever the service-level picture changes (what serviceChanged reports). */
  summaryKey(): string;
  /** The next moment a job's health or snooze changes with time alone (a job becomes stale, a snooze ends); undefined when none. */
  nextHealthChangeMs(): number | undefined;
}

export function createStatusView(deps: StatusViewDeps): StatusView {
  const { scheduler, configPath, progress } = deps;

  function cpuLimitNotApplied(): boolean {
    const global = deps.globalSettings();
    return global !== undefined && deps.cpuLimitNotApplied !== undefined && deps.cpuLimitNotApplied(global);
  }

  /** When this service first saw each job: the staleness reference of a job with no recorded run. */
  const knownSince = new Map<string, number>();

  /**
   * A job's default stale_after, worked out once per schedule and run-condition windows (health is asked for on every
   * status change); the windows count: a job runs only inside them (docs/decisions.md, session 6).
   */
  const staleAfterBySchedule = new Map<string, number>();
  function defaultStaleAfter(job: JobConfig, nowMs: number): number {
    const { schedule } = job;
    const windows = job.runConditions.windows;
    const key = JSON.stringify([schedule, windows.map((w) => w.text)]);
    let ms = staleAfterBySchedule.get(key);
    if (ms === undefined) staleAfterBySchedule.set(key, (ms = defaultStaleAfterMs(schedule, nowMs, deps.timezone, windows)));
    return ms;
  }

  function healthFactsOf(info: JobScheduleInfo, nowMs: number): HealthFacts {
    let since = deps.firstSeenMs?.(info.name) ?? knownSince.get(info.name);
    if (since === undefined) knownSince.set(info.name, (since = nowMs));
    const alerts = info.config.alerts;
    const staleAfterMs = alerts.staleAfterSec !== undefined ? alerts.staleAfterSec * 1000 : defaultStaleAfter(info.config, nowMs);
    // Every run is a dry run when a run with no --dry-run of its own is one (the job's, the global or the service's).
    const global = deps.globalSettings();
    const dryRunOnly = global !== undefined ? isDryRun(info.config, global, {}) : info.config.dryRun;
    return { name: info.name, activity: info.activity, paused: info.paused, state: info.state, failuresBeforeAlert: alerts.failuresBeforeAlert, staleAfterMs, knownSinceMs: since, nowMs, dryRunOnly };
  }

  function healthOf(info: JobScheduleInfo): HealthVerdict {
    return jobHealth(healthFactsOf(info, deps.nowMs()));
  }

  function nextHealthChangeMs(): number | undefined {
    const nowMs = deps.nowMs();
    const moments: number[] = [];
    const global = deps.globalSnoozedUntilMs?.() ?? 0;
    if (isSnoozed(global, nowMs)) moments.push(global);
    for (const info of scheduler.jobs()) {
      if (info.removed) continue;
      const staleAt = healthChangesAtMs(healthFactsOf(info, nowMs));
      if (staleAt !== undefined) moments.push(staleAt);
      const snoozed = deps.snoozedUntilMs?.(info.name) ?? 0;
      if (isSnoozed(snoozed, nowMs)) moments.push(snoozed);
    }
    return moments.length > 0 ? Math.min(...moments) : undefined;
  }

  function snoozeOf(name: string): number {
    const until = deps.snoozedUntilMs?.(name) ?? 0;
    return isSnoozed(until, deps.nowMs()) ? until : 0;
  }

  function jobStatusOf(info: JobScheduleInfo): JobStatus {
    const verdict = healthOf(info);
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
      health: verdict.health,
      healthReason: verdict.reason,
      snoozedUntilMs: snoozeOf(info.name),
      watch: deps.watchOf?.(info.name) ?? WATCH_OFF,
      waiting: info.waiting,
      conditionsNote: deps.conditionsNote?.(info.name),
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

  function attentionJobs(): string[] {
    return scheduler.jobs().filter((j) => !j.removed && healthOf(j).health !== 'ok').map((j) => j.name);
  }

  function globalSnooze(): number {
    const until = deps.globalSnoozedUntilMs?.() ?? 0;
    return isSnoozed(until, deps.nowMs()) ? until : 0;
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
      attentionJobs: attentionJobs(),
      snoozedUntilMs: globalSnooze(),
    };
  }

  function serviceStatus(): ServiceStatus {
    return { ...serviceSummary(), jobs: scheduler.jobs().filter((j) => !j.removed).map(jobStatusOf) };
  }

  function summaryKey(): string {
    return JSON.stringify([deps.state(), deps.configError(), deps.caps()?.version, scheduler.runningJobs(), scheduler.queuedJobs(), scheduler.jobs().map((j) => j.name), attentionJobs(), globalSnooze()]);
  }

  return { jobStatusOf, knownJob, summary: serviceSummary, status: serviceStatus, summaryKey, nextHealthChangeMs };
}
