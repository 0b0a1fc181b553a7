// An in-memory ControlApi that stands in for the service in the D-Bus adapter's tests: it keeps jobs, queues
// and "runs" them (no rclone), records history and emits the same events the service does. Tests steer it.
import { EventEmitter } from 'node:events';
import { ConfigError, RbmError } from '../../src/errors.js';
import type { JobConfig } from '../../src/config/types.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import { makeJob } from './job.js';
import type { JobState, Outcome, Progress, RunRecord, RunRequest } from '../../src/run/types.js';
import type { ControlApi, ControlEvents, JobActivity, JobHealth, JobStatus, ServiceState, ServiceStatus, ServiceSummary, Unsubscribe } from '../../src/api/control-api.js';

export function fakeJobConfig(name: string, overrides: Partial<JobConfig> = {}): JobConfig {
  return makeJob({ name, local: `/home/user/${name}`, rcloneRemote: 'remote', remote: name, path2: `remote:${name}`, schedule: '*/5 * * * *', ...overrides });
}

function freshState(): JobState {
  return { ...initialJobState(), resyncDone: true };
}

interface FakeJob {
  config: JobConfig;
  state: JobState;
  paused: boolean;
  activity: JobActivity;
  currentRunId: number;
  currentRun: { runId: number; request: RunRequest; startedMs: number } | undefined;
  progress: Progress | undefined;
  outcome: Outcome | undefined;
  held: boolean;
  history: RunRecord[];
  health: JobHealth;
  healthReason: string;
  /** This job's own snooze (ms since the epoch, 0 = none). */
  snoozedUntilMs: number;
}

type MethodName = Exclude<keyof ControlApi, 'on'>;

export interface FakeControl extends ControlApi {
  /** Every call the adapter made, in order. */
  readonly calls: { method: MethodName; args: unknown[] }[];
  /** Outcome of this job's next runs (default: success, or dry-run for dry runs). */
  setOutcome(job: string, outcome: Outcome): void;
  /** Runs of this job stay running until release() or cancel(). */
  hold(job: string): void;
  release(job: string): void;
  /** The next call of `method` throws `error`. */
  failNext(method: MethodName, error: unknown): void;
  /** Reloads fail with this text until cleared with ''. */
  setConfigError(text: string): void;
  /** A job that is in the "config file" but not loaded yet (AddJob with an empty definition picks it up). */
  addFileJob(name: string): void;
  setJobState(job: string, patch: Partial<JobState>): void;
  setServiceState(state: ServiceState): void;
  /** Emit progress for the job's running run (as rclone's stats would). */
  emitProgress(job: string, progress: Progress): void;
  /** Resolves when the job is running (useful with hold()). */
  waitRunning(job: string): Promise<void>;
  /** The job's health and its reason as the service would decide them (jobChanged and serviceChanged follow). */
  setHealth(job: string, health: JobHealth, reason?: string): void;
  /** The job's own snooze and the global one, as snooze()/unsnooze() left them (ms since the epoch, 0 = none). */
  snoozes(): { global: number; jobs: Record<string, number> };
}

export function createFakeControl(options: { jobs?: readonly string[]; configPath?: string } = {}): FakeControl {
  const events = new EventEmitter();
  events.setMaxListeners(100);
  const jobs = new Map<string, FakeJob>();
  const fileJobs = new Set<string>();
  const failures = new Map<MethodName, unknown>();
  const calls: { method: MethodName; args: unknown[] }[] = [];
  let serviceState: ServiceState = 'running';
  let configError = '';
  let pendingConfigError = '';
  let nextRunId = 1;
  let globalSnoozeMs = 0;
  // One next slot for the whole fake: a value that moved with Date.now() changed NextRunUsec on every jobChanged.
  const nextSlotMs = Date.now() + 300_000;

  const emit = <E extends keyof ControlEvents>(event: E, ...args: Parameters<ControlEvents[E]>): void => {
    events.emit(event, ...args);
  };

  function newJob(config: JobConfig): FakeJob {
    return { config, state: freshState(), paused: false, activity: config.active ? 'idle' : 'inactive', currentRunId: 0, currentRun: undefined, progress: undefined, outcome: undefined, held: false, history: [], health: 'ok', healthReason: '', snoozedUntilMs: 0 };
  }
  for (const name of options.jobs ?? ['photos', 'docs']) jobs.set(name, newJob(fakeJobConfig(name)));

  function get(name: string): FakeJob {
    const job = jobs.get(name);
    if (!job) throw new RbmError('NoSuchJob', `no job named '${name}'`, { hint: 'rbmctl jobs lists the configured jobs.' });
    return job;
  }

  function jobStatus(name: string): JobStatus {
    const job = get(name);
    return {
      name,
      config: job.config,
      activity: job.activity,
      paused: job.paused,
      state: { ...job.state, pendingDeletes: [...job.state.pendingDeletes] },
      nextRunMs: job.activity === 'idle' ? nextSlotMs : 0,
      currentRunId: job.currentRunId,
      progress: job.progress,
      cpuLimitNotApplied: false,
      health: job.health,
      healthReason: job.healthReason,
      snoozedUntilMs: Math.max(job.snoozedUntilMs, globalSnoozeMs),
      waiting: '',
    };
  }

  function status(): ServiceStatus {
    const all = [...jobs.keys()].map(jobStatus);
    return {
      state: serviceState,
      version: '0.1.0',
      configPath: options.configPath ?? '/home/user/.config/rclone-bisync-manager/config.yaml',
      configError,
      rcloneVersion: '1.75.2',
      runningJobs: all.filter((j) => j.activity === 'running').map((j) => j.name),
      queuedJobs: all.filter((j) => j.activity === 'queued').map((j) => j.name),
      attentionJobs: all.filter((j) => j.health !== 'ok').map((j) => j.name),
      snoozedUntilMs: globalSnoozeMs,
      jobs: all,
    };
  }

  function changed(name: string): void {
    emit('jobChanged', jobStatus(name));
    emit('serviceChanged', status());
  }

  function checkFailure(method: MethodName, args: unknown[]): void {
    calls.push({ method, args });
    if (failures.has(method)) {
      const error = failures.get(method);
      failures.delete(method);
      throw error;
    }
  }

  function restingActivity(job: FakeJob): JobActivity {
    if (!job.config.active) return 'inactive';
    if (job.paused) return 'paused';
    if (job.state.needsApproval) return 'needs-approval';
    if (job.state.needsResync) return 'needs-resync';
    if (job.state.sideCheck !== null) return 'check-failed';
    return 'idle';
  }

  function finish(name: string, outcome: Outcome): void {
    const job = jobs.get(name);
    const run = job?.currentRun;
    if (!job || !run) return;
    const now = Date.now();
    const record: RunRecord = {
      runId: run.runId,
      job: name,
      operation: run.request.resync ? 'resync' : 'bisync',
      trigger: run.request.trigger ?? 'manual',
      dryRun: run.request.dryRun === true,
      startedMs: run.startedMs,
      finishedMs: now,
      exitCode: outcome === 'cancelled' ? null : outcome === 'failed' ? 2 : 0,
      signal: outcome === 'cancelled' ? 'SIGINT' : null,
      outcome,
      message: `fake run ${outcome}`,
      hint: outcome === 'failed' ? 'look at the log' : '',
      counts: { filesTransferred: 3, bytesTransferred: 3072, deletes: 1, renames: 0, errors: outcome === 'failed' ? 1 : 0 },
      conflicts: outcome === 'conflicts' ? [{ path: 'notes.txt', copies: ['notes.txt.conflict1', 'notes.txt.conflict2'] }] : [],
      hashWarnings: 0,
      errorText: outcome === 'failed' ? 'fake failure' : '',
      tail: ['line 1', 'line 2'],
    };
    job.currentRun = undefined;
    job.currentRunId = 0;
    job.progress = undefined;
    job.state.lastRunId = run.runId;
    job.state.lastStartedMs = run.startedMs;
    job.state.lastFinishedMs = now;
    job.state.lastOutcome = outcome;
    job.state.lastMessage = record.message;
    job.state.lastError = record.errorText;
    if (outcome === 'needs-approval') job.state.needsApproval = true;
    if (outcome === 'needs-resync') job.state.needsResync = true;
    if (outcome === 'success' && run.request.force) job.state.needsApproval = false;
    if (outcome === 'success' && run.request.resync) job.state.needsResync = false;
    job.activity = restingActivity(job);
    job.history.unshift(record);
    emit('jobFinished', record);
    changed(name);
  }

  function start(name: string): void {
    const job = jobs.get(name);
    const run = job?.currentRun;
    if (!job || !run || job.activity !== 'queued') return;
    job.activity = 'running';
    emit('jobStarted', name, run.runId, run.request.resync ? 'resync' : 'bisync');
    changed(name);
    for (let i = 1; i <= 3; i++) {
      api.emitProgress(name, { bytes: i * 1024, totalBytes: 3072, transfers: i, totalTransfers: 3, speed: 2048, etaSec: 3 - i });
    }
    if (!job.held) setTimeout(() => finish(name, job.outcome ?? (run.request.dryRun ? 'dry-run' : 'success')), 5);
  }

  function queue(name: string, request: RunRequest): number {
    const job = get(name);
    const runId = nextRunId++;
    job.currentRun = { runId, request, startedMs: Date.now() };
    job.currentRunId = runId;
    job.activity = 'queued';
    changed(name);
    setImmediate(() => start(name));
    return runId;
  }

  const api: FakeControl = {
    calls,
    sync(names: readonly string[], request: RunRequest): Promise<number[]> {
      try {
        checkFailure('sync', [names, request]);
        const targets = names.length > 0 ? [...names] : [...jobs.values()].filter((j) => j.config.active).map((j) => j.config.name);
        for (const name of targets) {
          const job = get(name);
          if (job.paused) throw new RbmError('Paused', `job '${name}' is paused`, { hint: `rbmctl resume ${name}` });
          if (job.currentRun) throw new RbmError('AlreadyRunning', `job '${name}' is already ${job.activity}`);
          if (job.state.needsApproval && !request.force) throw new RbmError('NeedsApproval', `job '${name}' waits for approval`, { hint: `rbmctl approve ${name}` });
          if (job.state.needsResync && !request.resync) throw new RbmError('NeedsResync', `job '${name}' needs a resync`, { hint: `rbmctl sync --resync ${name}` });
        }
        return Promise.resolve(targets.map((name) => queue(name, request)));
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    status(): ServiceStatus {
      checkFailure('status', []);
      return status();
    },
    summary(): ServiceSummary {
      checkFailure('summary', []);
      const { state, version, configPath, configError, rcloneVersion, runningJobs, queuedJobs, attentionJobs, snoozedUntilMs } = status();
      return { state, version, configPath, configError, rcloneVersion, runningJobs, queuedJobs, attentionJobs, snoozedUntilMs };
    },
    jobStatus(name: string): JobStatus {
      return jobStatus(name);
    },
    snooze(names: readonly string[], seconds: number): void {
      checkFailure('snooze', [names, seconds]);
      // Every name is checked before anything changes, as the service does.
      const targets = names.map(get);
      const until = Date.now() + seconds * 1000;
      if (targets.length === 0) globalSnoozeMs = until;
      for (const job of targets) job.snoozedUntilMs = until;
      for (const name of names.length === 0 ? [...jobs.keys()] : names) emit('jobChanged', jobStatus(name));
      emit('serviceChanged', status());
    },
    unsnooze(names: readonly string[]): void {
      checkFailure('unsnooze', [names]);
      const targets = names.length === 0 ? [...jobs.values()] : names.map(get);
      if (names.length === 0) globalSnoozeMs = 0;
      for (const job of targets) job.snoozedUntilMs = 0;
      for (const job of targets) emit('jobChanged', jobStatus(job.config.name));
      emit('serviceChanged', status());
    },
    async reload(): Promise<void> {
      checkFailure('reload', []);
      await Promise.resolve();
      if (pendingConfigError) {
        configError = pendingConfigError;
        emit('configReloaded', false, pendingConfigError);
        emit('serviceChanged', status());
        throw new ConfigError([{ file: status().configPath, line: 1, col: 1, path: '', message: pendingConfigError }]);
      }
      configError = '';
      emit('configReloaded', true, '');
      emit('serviceChanged', status());
    },
    async addJob(name: string, definition: Readonly<Record<string, unknown>>): Promise<void> {
      checkFailure('addJob', [name, definition]);
      await Promise.resolve();
      if (Object.keys(definition).length === 0) {
        if (!jobs.has(name)) {
          if (!fileJobs.has(name)) throw new RbmError('NoSuchJob', `no job named '${name}' in the config file`, { hint: 'Add it under sync_jobs first.' });
          fileJobs.delete(name);
          jobs.set(name, newJob(fakeJobConfig(name)));
          emit('jobAdded', jobStatus(name));
          emit('serviceChanged', status());
        }
      } else {
        if (jobs.has(name)) throw new RbmError('JobExists', `a job named '${name}' already exists`);
        const missing = ['local', 'remote', 'schedule'].filter((k) => typeof definition[k] !== 'string');
        if (missing.length > 0) {
          throw new ConfigError(missing.map((k) => ({ file: status().configPath, line: 0, col: 0, path: `sync_jobs.${name}.${k}`, message: 'required' })));
        }
        jobs.set(name, newJob(fakeJobConfig(name, { local: definition.local as string, remote: definition.remote as string, path2: definition.remote as string, schedule: definition.schedule as string, active: definition.active !== false })));
        emit('jobAdded', jobStatus(name));
        emit('serviceChanged', status());
      }
      queue(name, { trigger: 'add-job' });
    },
    async removeJob(name: string): Promise<void> {
      checkFailure('removeJob', [name]);
      await Promise.resolve();
      const job = get(name);
      if (job.currentRun) finish(name, 'cancelled');
      jobs.delete(name);
      emit('jobRemoved', name);
      emit('serviceChanged', status());
    },
    pause(names: readonly string[]): void {
      checkFailure('pause', [names]);
      for (const name of names) get(name);
      for (const name of names) {
        const job = get(name);
        job.paused = true;
        if (!job.currentRun) job.activity = restingActivity(job);
        changed(name);
      }
    },
    resume(names: readonly string[]): void {
      checkFailure('resume', [names]);
      for (const name of names) get(name);
      for (const name of names) {
        const job = get(name);
        job.paused = false;
        if (!job.currentRun) job.activity = restingActivity(job);
        changed(name);
      }
    },
    async cancel(names: readonly string[]): Promise<void> {
      checkFailure('cancel', [names]);
      for (const name of names) get(name);
      await Promise.resolve();
      for (const name of names) if (get(name).currentRun) finish(name, 'cancelled');
    },
    history(name: string, limit: number): RunRecord[] {
      checkFailure('history', [name, limit]);
      return get(name).history.slice(0, limit);
    },
    pendingDeletes(name: string): string[] {
      checkFailure('pendingDeletes', [name]);
      return [...get(name).state.pendingDeletes];
    },
    pendingApproval(name: string, offset: number, limit: number) {
      checkFailure('pendingApproval', [name, offset, limit]);
      const state = get(name).state;
      const deletes = state.needsApproval ? state.pendingDeletes : [];
      return { token: state.needsApproval ? state.approvalToken : '', total: deletes.length, deletes: deletes.slice(offset, offset + (limit === 0 ? 1000 : limit)) };
    },
    pendingOverwrites(name: string, offset: number, limit: number) {
      checkFailure('pendingOverwrites', [name, offset, limit]);
      const state = get(name).state;
      const overwrites = state.needsApproval ? state.pendingOverwrites : [];
      return { token: state.needsApproval ? state.approvalToken : '', total: overwrites.length, overwrites: overwrites.slice(offset, offset + (limit === 0 ? 1000 : limit)) };
    },
    approve(name: string, token: string): Promise<number> {
      try {
        checkFailure('approve', [name, token]);
        const job = get(name);
        if (!job.state.needsApproval || job.state.approvalToken !== token) throw new RbmError('ApprovalStale', `job '${name}': the token is not the one of the pending list`, { hint: `rbmctl approve ${name}` });
        return Promise.resolve(queue(name, { trigger: 'manual', approvalToken: token }));
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    on<E extends keyof ControlEvents>(event: E, listener: ControlEvents[E]): Unsubscribe {
      events.on(event, listener);
      return () => events.off(event, listener);
    },
    setOutcome(name, outcome) {
      get(name).outcome = outcome;
    },
    hold(name) {
      get(name).held = true;
    },
    release(name) {
      const job = get(name);
      job.held = false;
      if (job.activity === 'running' && job.currentRun) finish(name, job.outcome ?? (job.currentRun.request.dryRun ? 'dry-run' : 'success'));
    },
    failNext(method, error) {
      failures.set(method, error);
    },
    setConfigError(text) {
      pendingConfigError = text;
    },
    addFileJob(name) {
      fileJobs.add(name);
    },
    setJobState(name, patch) {
      const job = get(name);
      Object.assign(job.state, patch);
      if (!job.currentRun) job.activity = restingActivity(job);
      changed(name);
    },
    setServiceState(state) {
      serviceState = state;
      emit('serviceChanged', status());
    },
    emitProgress(name, progress) {
      const job = get(name);
      if (!job.currentRun) return;
      job.progress = progress;
      emit('jobProgress', name, job.currentRun.runId, progress);
    },
    setHealth(name, health, reason = health === 'ok' ? '' : `fake ${health}`) {
      const job = get(name);
      job.health = health;
      job.healthReason = reason;
      changed(name);
    },
    snoozes() {
      return { global: globalSnoozeMs, jobs: Object.fromEntries([...jobs.entries()].map(([name, job]) => [name, job.snoozedUntilMs])) };
    },
    waitRunning(name) {
      return new Promise((resolve) => {
        const check = (): void => {
          if (jobs.get(name)?.activity === 'running') {
            events.off('jobChanged', check);
            resolve();
          }
        };
        events.on('jobChanged', check);
        check();
      });
    },
  };
  return api;
}
