// The running service behind the ControlApi: owns the last good config, the scheduler and the job runner; validates
// every call, reloads verify-then-commit, reports through events and sd_notify STATUS=, and shuts down gracefully.
import { existsSync, statSync } from 'node:fs';
import { jobPathChanges, suspiciousPathChange, type PathChange } from '../config/path-changes.js';
import type { Config, JobConfig, RcloneCapabilities } from '../config/types.js';
import type { PendingApproval } from '../run/rules/approval.js';
import type { JobRunner, Progress, RunRecord, RunRequest } from '../run/types.js';
import { ConfigError, RbmError, errorText, formatIssue, isRbmError } from '../errors.js';
import type { Notifier } from '../platform/notify.js';
import type { Clock, Logger, Timer } from '../ports.js';
import { createScheduler, type JobScheduleInfo, type SchedulerEvent } from '../scheduler/scheduler.js';
import type { ControlApi, ControlEvents, JobStatus, ServiceState, ServiceStatus, ServiceSummary, Unsubscribe } from '../api/control-api.js';

/** Writes job definitions into the config file. Both methods validate first and write nothing on failure. */
export interface ConfigEditor {
  /** Add a sync_jobs entry (keeping the user's comments and layout), atomically. Throws ConfigError / RbmError(InvalidArgs, JobExists). */
  addJob(configPath: string, name: string, definition: Readonly<Record<string, unknown>>): Promise<void>;
  /** Remove a sync_jobs entry, atomically. Throws RbmError(NoSuchJob) when the file has no such job. */
  removeJob(configPath: string, name: string): Promise<void>;
}

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
  /** Keeps the names of paused jobs across restarts (default: not kept). `save` may throw; the pause still holds. */
  pausedJobs?: { load(): string[]; save(names: string[]): void };
}

export interface Service extends ControlApi {
  /**
   * Load the config (a missing or invalid one is reported, not fatal) without running anything yet, so the control
   * adapter can publish every job before it announces the service. Optional: start() loads when it was not called.
   */
  load(): Promise<void>;
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
}

const MAX_HISTORY = 10_000;
const DEFAULT_GRACE_SEC = 10; // DEFAULTS.shutdownGraceSec: fits the unit's TimeoutStopSec with rclone's 95 s stop

/** A value safe to quote in an error message, whatever the caller sent. */
function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
}

function invalidArgs(message: string): RbmError {
  return new RbmError('InvalidArgs', message);
}

/** One line for STATUS= about a config problem. */
function configErrorSummary(e: unknown): string {
  if (e instanceof ConfigError && e.issues.length > 0) {
    const first = formatIssue(e.issues[0]!);
    return e.issues.length === 1 ? first : `${first} (+${e.issues.length - 1} more)`;
  }
  return errorText(e).split('\n')[0] ?? '';
}

/** Most pending deletes one PendingApproval/PendingDeletes reply carries; the token always covers the full list. */
export const MAX_PENDING_PAGE = 10_000;
const DEFAULT_PENDING_PAGE = 1000;

function describeError(e: unknown): string {
  return isRbmError(e) ? e.describe() : errorText(e);
}

type Listeners = { [E in keyof ControlEvents]: Set<ControlEvents[E]> };

export function createService(deps: ServiceDeps): Service {
  const { clock, logger, runner, notifier, configPath } = deps;
  let state: ServiceState = 'starting';
  let config: Config | undefined;
  let configError = '';
  let configErrorLine = '';
  let caps: RcloneCapabilities | undefined;
  let loaded: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let started = false;
  let startupChecksDone = false;
  let shutdownPromise: Promise<void> | undefined;
  let lastStatusLine = '';
  let lastServiceKey = '';
  const progress = new Map<string, Progress>();
  let reloadChain: Promise<unknown> = Promise.resolve();
  let editChain: Promise<unknown> = Promise.resolve();

  const listeners: Listeners = {
    jobStarted: new Set(),
    jobProgress: new Set(),
    jobFinished: new Set(),
    jobChanged: new Set(),
    jobAdded: new Set(),
    jobRemoved: new Set(),
    serviceChanged: new Set(),
    configReloaded: new Set(),
  };

  function emit<E extends keyof ControlEvents>(event: E, ...args: Parameters<ControlEvents[E]>): void {
    for (const listener of [...listeners[event]]) {
      try {
        (listener as (...a: Parameters<ControlEvents[E]>) => void)(...args);
      } catch (e: unknown) {
        logger.error('event listener failed', { event, error: errorText(e) });
      }
    }
  }

  function serialize<T>(chain: 'reload' | 'edit', fn: () => Promise<T>): Promise<T> {
    const previous = chain === 'reload' ? reloadChain : editChain;
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    if (chain === 'reload') reloadChain = settled;
    else editChain = settled;
    return next;
  }

  function globalSettings(): Config['global'] | undefined {
    if (!config) return undefined;
    return deps.forceDryRun === true ? { ...config.global, dryRun: true } : config.global;
  }

  const scheduler = createScheduler({
    clock,
    logger: logger.child({ component: 'scheduler' }),
    maxParallel: 1,
    nextRunId: () => runner.nextRunId(),
    readState: (name) => runner.readState(name),
    ...(deps.maxSleepMs === undefined ? {} : { maxSleepMs: deps.maxSleepMs }),
    startRun: (job, request, runId, signal) => {
      const global = globalSettings();
      if (!global) return Promise.reject(new RbmError('InvalidConfig', 'no config is loaded'));
      const effective: RunRequest = deps.forceDryRun === true ? { ...request, dryRun: true } : request;
      return runner.run(job, global, effective, runId, {
        signal,
        onStarted: (id, operation) => {
          // The runner has recorded the run's start in the job state: take it in before telling anyone.
          scheduler.refreshState(job.name);
          emit('jobStarted', job.name, id, operation);
        },
        onProgress: (p) => {
          progress.set(job.name, p);
          emit('jobProgress', job.name, runId, p);
        },
      });
    },
  });

  function cpuLimitNotApplied(): boolean {
    const global = globalSettings();
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
    };
  }

  function checksumNoteOf(job: JobConfig): string | undefined {
    const global = globalSettings();
    return global !== undefined && caps !== undefined ? deps.checksumNote?.(job, global, caps) : undefined;
  }

  function knownJob(name: string): JobScheduleInfo {
    const info = scheduler.info(name);
    if (!info || info.removed) {
      throw new RbmError('NoSuchJob', `no job named '${name}'`, { hint: `List the jobs with: rbmctl jobs (config: ${configPath})` });
    }
    return info;
  }

  function computeStatusLine(): string {
    const jobs = scheduler.jobs().filter((j) => !j.removed);
    const running = scheduler.runningJobs();
    const queued = scheduler.queuedJobs();
    let line = `${jobs.length} job${jobs.length === 1 ? '' : 's'}`;
    line += running.length > 0 ? `, ${running.length} running: ${running.join(', ')}` : ', idle';
    if (queued.length > 0) line += `, ${queued.length} queued`;
    const attention = jobs.filter((j) => j.activity === 'needs-resync' || j.activity === 'needs-approval' || j.activity === 'check-failed').map((j) => j.name);
    if (attention.length > 0) line += `, needs attention: ${attention.join(', ')}`;
    const paused = jobs.filter((j) => j.paused).length;
    if (paused > 0) line += `, ${paused} paused`;
    if (state === 'stopping') return `stopping: ${running.length > 0 ? `waiting for ${running.join(', ')}` : 'done'}`;
    if (configErrorLine !== '') line = `config error: ${configErrorLine}; ${config ? 'last good config in force' : 'no config loaded'}; ${line}`;
    return line;
  }

  function serviceSummary(): ServiceSummary {
    return {
      state,
      version: deps.version,
      configPath,
      configError,
      rcloneVersion: caps?.version ?? '',
      runningJobs: scheduler.runningJobs(),
      queuedJobs: scheduler.queuedJobs(),
    };
  }

  function serviceStatus(): ServiceStatus {
    return { ...serviceSummary(), jobs: scheduler.jobs().filter((j) => !j.removed).map(jobStatusOf) };
  }

  /** Push STATUS= and serviceChanged when the service-level picture changed. */
  function refresh(): void {
    const line = computeStatusLine();
    if (line !== lastStatusLine) {
      lastStatusLine = line;
      notifier.status(line);
    }
    const key = JSON.stringify([state, configError, caps?.version, scheduler.runningJobs(), scheduler.queuedJobs(), scheduler.jobs().map((j) => j.name)]);
    if (key !== lastServiceKey) {
      lastServiceKey = key;
      emit('serviceChanged', serviceSummary());
    }
  }

  function setState(next: ServiceState): void {
    state = next;
    refresh();
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
    refreshSoon();
  });

  /**
   * One refresh for a burst of scheduler events (a config with 1,000 jobs adds 1,000 at once; refreshing after each
   * made loading quadratic). A microtask, so STATUS= and serviceChanged still follow before any I/O.
   */
  let refreshQueued = false;
  function refreshSoon(): void {
    if (refreshQueued) return;
    refreshQueued = true;
    queueMicrotask(() => {
      refreshQueued = false;
      refresh();
    });
  }

  function logRecord(record: RunRecord): void {
    const meta = { job: record.job, runId: record.runId, outcome: record.outcome, message: record.message };
    if (record.outcome === 'failed' || record.outcome === 'needs-resync' || record.outcome === 'needs-approval' || record.outcome === 'check-failed') logger.warn('run finished', meta);
    else logger.info('run finished', meta);
  }

  function watchedFiles(): string[] {
    const files = new Set<string>([configPath]);
    if (config?.global.exclusionRulesFile) files.add(config.global.exclusionRulesFile);
    for (const job of config?.jobs ?? []) if (job.filtersFile) files.add(job.filtersFile);
    return [...files];
  }

  async function probe(binary: string): Promise<void> {
    if (!deps.probeCaps || caps?.binary === binary) return;
    try {
      caps = await deps.probeCaps(binary);
      logger.info('rclone detected', { binary, version: caps.version });
    } catch (e: unknown) {
      caps = undefined;
      logger.warn('cannot detect the rclone version', { binary, error: errorText(e) });
    }
  }

  function loadFailure(e: unknown): RbmError {
    if (!existsSync(configPath)) {
      return new RbmError('InvalidConfig', `config file ${configPath} does not exist`, {
        hint: 'Create it (see examples/ in the package, or use rbmctl add-job); the service picks it up as soon as it is saved.',
        cause: e,
      });
    }
    if (isRbmError(e)) return e;
    return new RbmError('InvalidConfig', `cannot load ${configPath}: ${errorText(e)}`, { hint: 'Fix the config file; the service reloads it when it is saved.', cause: e });
  }

  function isDirectory(path: string): boolean {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  }

  /** A watcher-driven reload must not point a job at a path that may be a cut or a typo: the whole file waits. */
  function heldPathChange(changes: readonly PathChange[]): RbmError | undefined {
    const reasons = changes.flatMap((c) => {
      const why = suspiciousPathChange(c, isDirectory);
      return why === undefined ? [] : [`job '${c.job}': ${why}`];
    });
    if (reasons.length === 0) return undefined;
    return new RbmError('InvalidConfig', `config change not applied: ${reasons.join('; ')}`, {
      hint: 'A half-written or mistyped path would make the job resync against the wrong folder. Fix the path, or if it is meant, apply it with: rbmctl reload',
    });
  }

  /** Verify (load and validate everything) then commit; on failure the last good config stays in force. */
  async function loadAndCommit(origin: 'explicit' | 'watcher' = 'explicit'): Promise<void> {
    let next: Config;
    let changes: PathChange[] = [];
    try {
      next = await deps.loadConfig(configPath);
      changes = jobPathChanges(config?.jobs ?? [], next.jobs);
      const held = origin === 'watcher' ? heldPathChange(changes) : undefined;
      if (held) throw held;
    } catch (e: unknown) {
      const error = loadFailure(e);
      configError = describeError(error);
      configErrorLine = configErrorSummary(error);
      logger.error('config not loaded; keeping the last good config', { path: configPath, error: configError, jobs: config?.jobs.length ?? 0 });
      deps.watchFiles?.(watchedFiles());
      emit('configReloaded', false, configError);
      throw error;
    }
    const previousNames = new Set(config?.jobs.map((j) => j.name));
    for (const c of changes) {
      // Loud on purpose: the job's next run resyncs the new pair.
      logger.warn(`job '${c.job}': ${c.side} path changed by a reload; its next run resyncs the new pair`, { job: c.job, side: c.side, from: c.from, to: c.to, origin });
    }
    config = next;
    configError = '';
    configErrorLine = '';
    await probe(next.global.rcloneBinary);
    scheduler.applyConfig(next.jobs, next.global.maxParallelJobs);
    restorePausedOnce();
    savePaused(); // forgets jobs that left the config
    runStartupChecksOnce();
    const names = next.jobs.map((j) => j.name);
    logger.info('config loaded', {
      path: configPath,
      jobs: names.length,
      added: names.filter((n) => !previousNames.has(n)),
      removed: [...previousNames].filter((n) => !names.includes(n)),
    });
    deps.watchFiles?.(watchedFiles());
    emit('configReloaded', true, '');
  }

  /** Jobs paused before the last stop stay paused (before any start-up run can queue them). */
  let pausedRestored = false;
  function restorePausedOnce(): void {
    if (pausedRestored || !deps.pausedJobs) return;
    pausedRestored = true;
    let names: string[];
    try {
      names = deps.pausedJobs.load();
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
    if (!deps.pausedJobs || !pausedRestored) return;
    const names = scheduler.jobs().filter((j) => j.paused && !j.removed).map((j) => j.name);
    const key = JSON.stringify(names);
    if (key === lastSavedPaused) return; // a reload that changed nothing writes nothing
    try {
      deps.pausedJobs.save(names);
      lastSavedPaused = key;
    } catch (e: unknown) {
      logger.warn('cannot record the paused jobs; they are paused until the service stops', { error: errorText(e) });
    }
  }

  /** The first good config after start() counts as start-up, even when it arrives after a broken start. */
  function runStartupChecksOnce(): void {
    if (!started || startupChecksDone || !config) return;
    startupChecksDone = true;
    scheduler.runStartupChecks({ runMissed: config.global.runMissedJobs, runInitial: config.global.runInitialSyncOnStartup });
  }

  function ensureNotStopping(): void {
    if (state === 'stopping') throw new RbmError('ServiceUnavailable', 'the service is shutting down', { hint: 'Start it again with: systemctl --user start rclone-bisync-manager' });
  }

  function reload(origin: 'explicit' | 'watcher' = 'explicit'): Promise<void> {
    return serialize('reload', async () => {
      ensureNotStopping();
      const wasStarting = state === 'starting';
      notifier.reloading();
      setState('reloading');
      try {
        await loadAndCommit(origin);
      } finally {
        if (state === 'reloading') {
          state = wasStarting ? 'starting' : 'running';
          if (!wasStarting) notifier.ready();
        }
        refresh();
      }
    });
  }

  /** The full pending list with its token, from the runner (or from the state, for runners without the full list). */
  function pendingOf(name: string): PendingApproval {
    if (runner.pendingApproval) return runner.pendingApproval(name);
    const s = runner.readState(name);
    return s.needsApproval ? { token: s.approvalToken, deletes: [...s.pendingDeletes] } : { token: '', deletes: [] };
  }

  function trigger(jobs: JobScheduleInfo[], request: RunRequest): number[] {
    return jobs.map((j) => scheduler.trigger(j.name, request));
  }

  const service: Service = {
    load() {
      loaded ??= serialize('reload', async () => {
        try {
          await loadAndCommit();
        } catch {
          // Reported by loadAndCommit (log, configError, STATUS=); the watcher picks up the fixed file.
        }
      });
      return loaded;
    },

    start() {
      starting ??= (async () => {
        await service.load();
        // Before any run: a run cut short by a killed service is recorded as interrupted (docs/engine.md).
        for (const job of config?.jobs ?? []) runner.recordInterrupted?.(job.name);
        started = true;
        scheduler.start();
        runStartupChecksOnce();
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
        if (scheduler.runningJobs().length > 0) {
          const graceMs = (config?.global.shutdownGraceSec ?? DEFAULT_GRACE_SEC) * 1000;
          let timer: Timer | undefined;
          const graceOver = new Promise<'grace'>((resolve) => {
            timer = clock.setTimer(graceMs, () => resolve('grace'));
          });
          const first = await Promise.race([scheduler.idle().then(() => 'idle' as const), graceOver]);
          timer?.cancel();
          if (first === 'grace') {
            logger.warn('shutdown grace over; stopping the running syncs', { running: scheduler.runningJobs(), graceSec: graceMs / 1000 });
            scheduler.cancelAll();
          }
          await scheduler.idle();
        }
        notifier.stopWatchdog();
        refresh();
        logger.info('all runs ended');
      })();
      return shutdownPromise;
    },

    statusLine: () => lastStatusLine || computeStatusLine(),

    reloadChangedFile: () => reload('watcher'),

    sync(jobsArg, requestArg) {
      try {
        const request: RunRequest = { ...requestArg };
        const names = [...new Set(jobsArg)];
        ensureNotStopping();
        request.trigger ??= 'manual';
        let targets: JobScheduleInfo[];
        if (names.length === 0) {
          // All active jobs, except those that wait for the user and are not addressed by this request.
          targets = scheduler
            .jobs()
            .filter((j) => !j.removed && j.config.active && !j.paused)
            // A job waiting for approval runs (it previews again); force is refused below for an empty list.
            .filter((j) => !runner.readState(j.name).needsResync || j.config.autoResync || request.resync === true);
        } else {
          targets = names.map(knownJob);
          for (const j of targets) {
            const s = runner.readState(j.name);
            if (j.paused) throw new RbmError('Paused', `job '${j.name}' is paused`, { hint: `Resume it first: rbmctl resume ${j.name}` });
            if (s.needsResync && !j.config.autoResync && request.resync !== true) {
              throw new RbmError('NeedsResync', `job '${j.name}' needs a resync: ${s.lastMessage || 'its listings are unusable'}`, { hint: `Run: rbmctl sync --resync ${j.name}` });
            }
          }
        }
        return Promise.resolve(trigger(targets, request));
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },

    status: serviceStatus,

    summary: serviceSummary,

    jobStatus(name) {
      return jobStatusOf(knownJob(name));
    },

    reload: () => reload(),

    addJob(nameArg, definition) {
      return serialize('edit', async () => {
        const name = nameArg;
        if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) throw invalidArgs('definition: expected a map of job settings');
        ensureNotStopping();
        if (Object.keys(definition).length === 0) {
          await reload();
          const info = knownJob(name);
          if (!info.config.active) return;
          scheduler.trigger(name, { trigger: 'add-job' });
          return;
        }
        const existing = scheduler.info(name);
        if (existing && !existing.removed) throw new RbmError('JobExists', `a job named '${name}' already exists`, { hint: `Pick another name, or remove it first: rbmctl remove-job ${name}` });
        await deps.editor.addJob(configPath, name, definition);
        logger.info('job added to the config file', { job: name, path: configPath });
        await reload();
        const info = knownJob(name);
        if (info.config.active && !info.paused) scheduler.trigger(name, { trigger: 'add-job' });
      });
    },

    removeJob(nameArg) {
      return serialize('edit', async () => {
        const name = nameArg;
        ensureNotStopping();
        knownJob(name);
        await deps.editor.removeJob(configPath, name);
        logger.info('job removed from the config file', { job: name, path: configPath });
        await reload();
      });
    },

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

    cancel(jobsArg) {
      try {
        const names = jobsArg;
        const targets = names.length === 0 ? scheduler.jobs().filter((j) => j.running || j.queued).map((j) => j.name) : names.map((n) => knownJob(n).name);
        for (const name of targets) scheduler.cancel(name);
        return Promise.resolve();
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },

    history(jobArg, limit) {
      const name = jobArg;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw invalidArgs(`limit: expected a whole number ≥ 0, got ${quote(limit)}`);
      knownJob(name);
      return runner.history(name, limit === 0 ? MAX_HISTORY : Math.min(limit, MAX_HISTORY));
    },

    pendingDeletes(jobArg) {
      const name = jobArg;
      knownJob(name);
      return pendingOf(name).deletes.slice(0, MAX_PENDING_PAGE);
    },

    pendingApproval(jobArg, offset, limit) {
      const name = jobArg;
      for (const [arg, v] of [['offset', offset], ['limit', limit]] as const) {
        if (!Number.isInteger(v) || v < 0) throw invalidArgs(`${arg}: expected a whole number ≥ 0, got ${quote(v)}`);
      }
      knownJob(name);
      const pending = pendingOf(name);
      const count = limit === 0 ? DEFAULT_PENDING_PAGE : Math.min(limit, MAX_PENDING_PAGE);
      return { token: pending.token, total: pending.deletes.length, deletes: pending.deletes.slice(offset, offset + count) };
    },

    approve(jobArg, tokenArg) {
      try {
        const name = jobArg;
        ensureNotStopping();
        const info = knownJob(name);
        if (info.paused) throw new RbmError('Paused', `job '${name}' is paused`, { hint: `Resume it first: rbmctl resume ${name}` });
        const current = pendingOf(name);
        if (current.token !== tokenArg) {
          throw new RbmError('ApprovalStale', current.token === '' ? `job '${name}' has nothing waiting for approval (the token is from an older list)` : `job '${name}': the token is not the one of the pending list (${current.deletes.length} delete${current.deletes.length === 1 ? '' : 's'}); it changed since you reviewed it`, {
            hint: `Review the list again and approve what it shows now: rbmctl approve ${name}`,
          });
        }
        return Promise.resolve(scheduler.trigger(name, { trigger: 'manual', approvalToken: tokenArg }));
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },

    on(event, listener): Unsubscribe {
      const set = listeners[event] as Set<typeof listener>;
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  };
  return service;
}

