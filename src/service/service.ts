// The running service behind the ControlApi: owns the last good config, the scheduler and the job runner; validates
// every call, reloads verify-then-commit, reports through events and sd_notify STATUS=, and shuts down gracefully.
// This file is the service's life cycle (load, start, reload, shutdown) and wires its parts, each in its own file:
// config-commit.ts (the config in force), scheduling.ts (runs and scheduler events), job-status.ts (Status),
// status-line.ts (STATUS=), paused-jobs.ts, run-commands.ts (Sync, Cancel, Approve…), job-edits.ts (AddJob, RemoveJob),
// snoozes.ts (Snooze, Unsnooze), staleness.ts (health that changes with time alone).
import type { Config, JobConfig, RcloneCapabilities } from '../config/types.js';
import type { JobRunner, Progress } from '../run/types.js';
import { RbmError } from '../errors.js';
import type { Notifier } from '../platform/notify.js';
import type { Clock, Logger } from '../ports.js';
import type { JobScheduleInfo } from '../scheduler/scheduler.js';
import { WATCH_OFF, type ControlApi, type ServiceState } from '../api/control-api.js';
import { createConfigCommit, type LoadOrigin } from './config-commit.js';
import { createConditionsGate } from './conditions-gate.js';
import { DEFAULT_TIMEZONE } from '../scheduler/next-run.js';
import { createEventHub } from './events.js';
import { createJobEdits, type ConfigEditor } from './job-edits.js';
import { createStatusView } from './job-status.js';
import { createPausedJobs, type PausedJobsStore } from './paused-jobs.js';
import { createRunCommands } from './run-commands.js';
import { createServiceScheduler, forwardSchedulerEvents } from './scheduling.js';
import { createSerialQueue } from './serial-queue.js';
import { createFirstSeen, type FirstSeenStore } from './first-seen.js';
import { MAX_SNOOZE_SEC, createSnoozes, type SnoozeStore } from './snoozes.js';
import { createHealthWatch } from './staleness.js';
import { DEFAULT_GRACE_SEC, drainRuns } from './shutdown.js';
import { composeStatusLine, createStatusReporter } from './status-line.js';
import { createCatchUp } from './catch-up.js';
import type { ServiceSystem, SystemWatch } from './system-watch.js';
import { createWatching, type WatchPlatform, type Watching } from './watching.js';

export type { ConfigEditor } from './job-edits.js';
export { MAX_PENDING_PAGE } from './run-commands.js';

export interface ServiceDeps {
  configPath: string;
  clock: Clock;
  logger: Logger;
  runner: JobRunner;
  /** Reads and fully validates the config file; throws ConfigError (or RbmError) and has no side effects. */
  loadConfig: (path: string) => Promise<Config>;
  /** Detects the rclone in use (for status and logs); optional, failures are only logged. */
  probeCaps?: (binary: string) => Promise<RcloneCapabilities>;
  notifier: Notifier;
  editor: ConfigEditor;
  version: string;
  /** The global -d/--dry-run: every run is a dry run, whatever the config says. */
  forceDryRun?: boolean;
  /** Told the files to watch (config file, filters files) after every load. */
  watchFiles?: (paths: string[]) => void;
  /** max_cpu_usage_percent < 100 but cpulimit is missing (the engine knows); default: never. */
  cpuLimitNotApplied?: (global: Config['global']) => boolean;
  /** Why a job cannot detect same-size edits within the remote's modtime precision (the engine knows); default: none. */
  checksumNote?: (job: JobConfig, global: Config['global'], caps: RcloneCapabilities) => string | undefined;
  /** Passed to the scheduler (see SchedulerDeps.maxSleepMs). */
  maxSleepMs?: number;
  /** The IANA zone the cron schedules are read in (see SchedulerDeps.timezone); the daemon passes the system's. */
  timezone?: string;
  /** Keeps the names of paused jobs across restarts (default: not kept). `save` may throw; the pause still holds. */
  pausedJobs?: PausedJobsStore;
  /** Keeps the snoozed notifications across restarts (default: not kept). `save` may throw; the snooze still holds. */
  snoozes?: SnoozeStore;
  /** Keeps when each job was first seen (the staleness reference of a job that never ran) across restarts. */
  firstSeen?: FirstSeenStore;
  /** Sync on change (watching.ts): the tree watcher and friends; without it no job is watched. */
  watchPlatform?: WatchPlatform;
  /** The system-bus monitor (NetworkManager, UPower, logind); without it the run conditions that need it count as met. */
  system?: ServiceSystem;
}

/** How long a snooze may last at most (the request parsers refuse more; this guards direct callers). */
export { MAX_SNOOZE_SEC };

/** The health watchdog's longest sleep when the service is given none (the scheduler's default too). */
const DEFAULT_HEALTH_SLEEP_MS = 60_000;

export interface Service extends ControlApi {
  /**
   * Load the config (a missing or invalid one is reported, not fatal) without running anything yet, so the control
   * adapter can publish every job before it announces the service. Optional: start() loads when it was not called.
   */
  load(): Promise<void>;
  /**
   * Record the runs a killed service cut short (history: cancelled, "interrupted"), once. The daemon calls it before
   * it owns the bus name, so a client that sees the service (systemd's readiness) sees those records too; start()
   * does it when it was not called. Never called for a mere look at the state (rbmctl status without the service).
   */
  recordInterruptedRuns(): Promise<void>;
  /** Start scheduling, with the start-up runs (initial sync, missed jobs). Call once the bus name is owned. */
  start(): Promise<void>;
  /** Stop scheduling, let running syncs finish within shutdown_grace, then cancel them; resolves when no run is left. */
  shutdown(): Promise<void>;
  /** The STATUS= line as last computed. */
  statusLine(): string;
  /**
   * A reload the file watcher asked for (the file is complete and stable): like reload(), but a job path change that
   * looks cut or mistyped is held back until the user confirms it with an explicit reload (config/path-changes.ts).
   */
  reloadChangedFile(): Promise<void>;
  /**
   * The service process's one system-bus monitor (the daemon passes it after READY): catch-up runs follow it
   * (catch-up.ts). Not called for the standalone service inside rbmctl.
   */
  attachSystem(system: SystemWatch): void;
  /** The monitor given to attachSystem, for other parts that follow the machine (run conditions). */
  system(): SystemWatch | undefined;
  /** Start watching the local folders of jobs with `watch: true` (the daemon calls it after READY=1). */
  startWatching(): void;
}

export function createService(deps: ServiceDeps): Service {
  const { clock, logger, runner, notifier, configPath } = deps;
  let state: ServiceState = 'starting';
  let loaded: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let started = false;
  let startupChecksDone = false;
  let shutdownPromise: Promise<void> | undefined;
  const progress = new Map<string, Progress>();
  const reloads = createSerialQueue();
  const edits = createSerialQueue();
  const events = createEventHub(logger);
  const snoozes = createSnoozes({ logger, now: () => clock.now(), store: deps.snoozes });
  const firstSeen = createFirstSeen({ logger, now: () => clock.now(), store: deps.firstSeen });

  const configs = createConfigCommit({
    configPath,
    logger,
    loadConfig: deps.loadConfig,
    probeCaps: deps.probeCaps,
    watchFiles: deps.watchFiles,
    apply: (next) => {
      firstSeen.note(next.jobs.map((job) => job.name));
      scheduler.applyConfig(next.jobs, next.global.maxParallelJobs);
      conditions.configChanged();
      paused.restoreOnce();
      paused.save(); // forgets jobs that left the config
      snoozes.keepOnly(next.jobs.map((job) => job.name));
      runStartupChecksOnce();
      healthWatch.check(); // a changed stale_after or schedule moves the moment a job becomes stale
      watching?.reconcile(true); // a changed filters file alone changes no job; a raised inotify limit: look again
    },
    reloaded: (ok, error) => events.emit('configReloaded', ok, error),
  });

  function globalSettings(): Config['global'] | undefined {
    const config = configs.current();
    if (!config) return undefined;
    return deps.forceDryRun === true ? { ...config.global, dryRun: true } : config.global;
  }

  // Run conditions (issue 17): the scheduler asks the gate before a non-manual run starts (conditions-gate.ts).
  const conditions = createConditionsGate({ clock, logger, timezone: deps.timezone ?? DEFAULT_TIMEZONE, system: deps.system, events, jobs: () => configs.current()?.jobs ?? [] });
  const scheduler = createServiceScheduler({
    mayStart: (job, request) => conditions.mayStart(job, request),
    runStarted: (job, runId, operation, rclone) => conditions.runStarted(job, runId, operation, rclone),
    clock,
    logger,
    runner,
    events,
    progress,
    globalSettings,
    forceDryRun: deps.forceDryRun,
    maxSleepMs: deps.maxSleepMs,
    timezone: deps.timezone,
    rcloneMessageHook: (job) => watching?.messageHook(job),
  });
  conditions.attach(scheduler);

  const watching: Watching | undefined = deps.watchPlatform && createWatching({ clock, logger, scheduler, platform: deps.watchPlatform, globalSettings, changed: (job) => watchChanged(job) });

  const view = createStatusView({
    scheduler,
    configPath,
    version: deps.version,
    progress,
    state: () => state,
    configError: () => configs.error(),
    caps: () => configs.caps(),
    globalSettings,
    cpuLimitNotApplied: deps.cpuLimitNotApplied,
    checksumNote: deps.checksumNote,
    nowMs: () => deps.clock.now(),
    timezone: deps.timezone,
    snoozedUntilMs: (job) => snoozes.untilOf(job),
    globalSnoozedUntilMs: () => snoozes.globalUntil(),
    firstSeenMs: (job) => firstSeen.of(job),
    watchOf: (job) => watching?.statusOf(job) ?? WATCH_OFF,
    conditionsNote: (job) => conditions.noteOf(job),
  });

  function watchChanged(job: string): void {
    const info = scheduler.info(job);
    if (info && !info.removed) events.emit('jobChanged', view.jobStatusOf(info));
  }
  const knownJob = (name: string): JobScheduleInfo => view.knownJob(name);

  const computeStatusLine = (): string => composeStatusLine(scheduler, { state, configErrorLine: configs.errorLine(), configLoaded: configs.current() !== undefined });
  const reporter = createStatusReporter({
    notifier,
    composeLine: computeStatusLine,
    summaryKey: () => view.summaryKey(),
    summaryChanged: () => events.emit('serviceChanged', view.summary()),
  });

  function setState(next: ServiceState): void {
    state = next;
    reporter.refresh();
  }

  forwardSchedulerEvents(scheduler, { logger, events, progress, jobStatusOf: (info) => view.jobStatusOf(info), changed: () => reporter.refreshSoon() });

  const paused = createPausedJobs({ scheduler, logger, store: deps.pausedJobs, knownJob });

  const healthWatch = createHealthWatch({
    clock,
    maxSleepMs: deps.maxSleepMs ?? DEFAULT_HEALTH_SLEEP_MS,
    events,
    jobs: () => scheduler.jobs().filter((j) => !j.removed),
    jobStatusOf: (info) => view.jobStatusOf(info),
    nextChangeMs: () => view.nextHealthChangeMs(),
    serviceChanged: () => reporter.refresh(),
  });

  /** Snooze or unsnooze the named jobs (all named jobs must exist: nothing changes otherwise), then announce it. */
  function changeSnooze(jobs: readonly string[], change: (names: readonly string[]) => void): void {
    for (const name of jobs) knownJob(name);
    change(jobs);
    healthWatch.check();
  }

  /** The first good config after start() counts as start-up, even when it arrives after a broken start. */
  function runStartupChecksOnce(): void {
    const config = configs.current();
    if (!started || startupChecksDone || !config) return;
    startupChecksDone = true;
    scheduler.runStartupChecks({ runMissed: config.global.runMissedJobs, runInitial: config.global.runInitialSyncOnStartup });
  }

  function ensureNotStopping(): void {
    if (state === 'stopping') throw new RbmError('ServiceUnavailable', 'the service is shutting down', { hint: 'Start it again with: systemctl --user start rclone-bisync-manager' });
  }

  function reload(origin: LoadOrigin = 'explicit'): Promise<void> {
    return reloads(async () => {
      ensureNotStopping();
      const wasStarting = state === 'starting';
      notifier.reloading();
      setState('reloading');
      try {
        await configs.loadAndCommit(origin);
      } finally {
        if (state === 'reloading') {
          state = wasStarting ? 'starting' : 'running';
          if (!wasStarting) notifier.ready();
        }
        reporter.refresh();
      }
    });
  }

  let systemWatch: SystemWatch | undefined;
  const catchUp = createCatchUp({ scheduler, clock, logger: logger.child({ component: 'catch-up' }), timezone: deps.timezone ?? DEFAULT_TIMEZONE });

  const commands = createRunCommands({ scheduler, runner, knownJob, ensureNotStopping });
  const jobEdits = createJobEdits({ configPath, logger, editor: deps.editor, scheduler, edits, reload: () => reload(), knownJob, ensureNotStopping });

  let interruptedRecorded: Promise<void> | undefined;
  const service: Service = {
    snooze(jobs, seconds) {
      const untilMs = clock.now() + Math.min(Math.max(0, seconds), MAX_SNOOZE_SEC) * 1000;
      changeSnooze(jobs, (names) => snoozes.snooze(names, untilMs));
    },

    unsnooze(jobs) {
      changeSnooze(jobs, (names) => snoozes.unsnooze(names));
    },
    load() {
      loaded ??= reloads(async () => {
        try {
          await configs.loadAndCommit();
        } catch {
          // Reported by loadAndCommit (log, configError, STATUS=); the watcher picks up the fixed file.
        }
      });
      return loaded;
    },

    recordInterruptedRuns() {
      interruptedRecorded ??= (async () => {
        await service.load();
        // Before any run: a run cut short by a killed service is recorded as interrupted (docs/engine.md).
        for (const job of configs.current()?.jobs ?? []) runner.recordInterrupted?.(job.name);
      })();
      return interruptedRecorded;
    },

    start() {
      starting ??= (async () => {
        await service.recordInterruptedRuns();
        started = true;
        scheduler.start();
        runStartupChecksOnce();
        healthWatch.start(); // a job whose last success is older than stale_after is stale at once
        if (state === 'starting') setState('running');
      })();
      return starting;
    },

    shutdown() {
      shutdownPromise ??= (async () => {
        logger.info('shutting down', { running: scheduler.runningJobs() });
        notifier.stopping();
        setState('stopping');
        scheduler.stop();
        catchUp.stop();
        conditions.close();
        healthWatch.stop();
        watching?.close();
        if (scheduler.runningJobs().length > 0) {
          const graceMs = (configs.current()?.global.shutdownGraceSec ?? DEFAULT_GRACE_SEC) * 1000;
          await drainRuns(scheduler, clock, logger, graceMs);
        }
        notifier.stopWatchdog();
        reporter.refresh();
        logger.info('all runs ended');
      })();
      return shutdownPromise;
    },

    statusLine: () => reporter.lastLine() || computeStatusLine(),

    reloadChangedFile: () => reload('watcher'),

    attachSystem(system) {
      systemWatch = system;
      catchUp.watch(system);
    },

    system: () => systemWatch,

    startWatching() {
      if (state !== 'stopping') watching?.start();
    },

    ...commands,

    status: () => view.status(),

    summary: () => view.summary(),

    jobStatus(name) {
      return view.jobStatusOf(knownJob(name));
    },

    reload: () => reload(),

    ...jobEdits,

    pause: (jobs) => paused.pause(jobs),

    resume: (jobs) => paused.resume(jobs),

    on: events.on,
  };
  return service;
}
