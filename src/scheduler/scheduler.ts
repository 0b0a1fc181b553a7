// When each job runs: cron slots, start-up and missed runs, retries, coalesced triggers, the parallel limit and
// path-overlap exclusion, pause, cancel and live config changes. Pure: one timer through the injected Clock, no node timers.
import type { JobConfig } from '../config/types.js';
import { refusedRecordOf } from '../run/rules/run-refused.js';
import { buildRunRecord } from '../run/rules/run-record.js';
import { conditionsStop } from '../run/rules/stop-policy.js';
import type { JobState, RunRecord, RunRequest } from '../run/types.js';
import { RbmError, errorText, isRbmError } from '../errors.js';
import type { Clock, Logger, Timer } from '../ports.js';
import type { JobActivity } from '../api/control-api.js';
import { isLockedOut, waitingOutcome } from '../api/job-attention.js';
import { DEFAULT_TIMEZONE, nextRunAfter } from './next-run.js';
import { addPendingRun, type PendingRun } from './pending-runs.js';
import { afterRefusal, afterStart, type RefusedRetry } from './refused-retry.js';
import { isCatchUpTrigger, missedSlot } from './catch-up.js';
import { pickStartable, type MayStart } from './run-gate.js';

export type StartRun = (job: JobConfig, request: RunRequest, runId: number, signal: AbortSignal) => Promise<RunRecord>;

export interface SchedulerDeps {
  clock: Clock;
  logger: Logger;
  maxParallel: number;
  /** Runs one job to completion; resolves with its record (run failures are outcomes, not rejections). */
  startRun: StartRun;
  /** Allocates the id of a run about to be queued. */
  nextRunId: () => number;
  /** The job's persisted state (needs-resync/approval, retry time, last scheduled slot). */
  readState: (job: string) => JobState;
  /**
   * Longest single sleep. Node timers run on the monotonic clock, which stands still during suspend, so a long
   * sleep could wake far too late after a resume or a wall-clock step; waking at least this often bounds that.
   * Default 60 s: one cheap wake-up a minute, not a polling tick.
   */
  maxSleepMs?: number;
  /**
   * The IANA zone the cron fields are read in (the daemon passes the system's, resolved once at start-up).
   * Default UTC, so no slot ever depends on the process's TZ.
   */
  timezone?: string;
  /**
   * Asked before a queued run that respects the run conditions starts (every trigger but a manual one): true, or why
   * it waits. A waiting run stays queued; recheck() starts what became allowed (issue 17). Default: always true.
   */
  mayStart?: MayStart;
}

export type SchedulerEvent =
  | { type: 'job-added'; job: string }
  | { type: 'job-changed'; job: string }
  | { type: 'job-removed'; job: string }
  | { type: 'run-started'; job: string; runId: number }
  /** Every queued run ends with exactly one of these, including runs dropped before they started (outcome cancelled). */
  | { type: 'run-finished'; record: RunRecord };

export interface JobScheduleInfo {
  name: string;
  config: JobConfig;
  activity: JobActivity;
  paused: boolean;
  /** Next scheduled or retry time, 0 when none (inactive, paused, needs attention, removed). */
  nextRunMs: number;
  /** The running run's id, else the queued run's id, else 0. */
  currentRunId: number;
  running: boolean;
  queued: boolean;
  /** Removed from the config; disappears when its current run ends. */
  removed: boolean;
  /** The job's persisted state as last read (on load, after each run, and on refreshState). */
  state: JobState;
  /** Why its queued run waits for a run condition ("on battery"); '' when it does not. */
  waiting: string;
  /** The running run's request (its trigger and flags), undefined when nothing runs. */
  runRequest: RunRequest | undefined;
}

export interface StartupOptions {
  /** Jobs whose last slot passed while the service was down run once. */
  runMissed: boolean;
  /** Every active job runs once. */
  runInitial: boolean;
}

export interface Scheduler {
  /** Arms the timer and allows runs to start. Jobs come from applyConfig (before or after). */
  start(): void;
  /** The one-time start-up runs (initial sync / missed slots); later calls do nothing. */
  runStartupChecks(options: StartupOptions): void;
  /** Commit a new job list: added jobs are scheduled, removed ones finish their run then disappear, changed ones use the new settings from their next run. */
  applyConfig(jobs: readonly JobConfig[], maxParallel?: number): void;
  /**
   * Queue a run (coalesced into the pending run of its kind, dry or real, if the job is queued or running). Returns
   * the run id. Throws RbmError NoSuchJob/ServiceUnavailable.
   */
  trigger(job: string, request: RunRequest): number;
  /** Stop scheduling the job; a queued run is dropped, a running one finishes. */
  pause(job: string): void;
  /** Schedule again from now (slots missed while paused are not run). */
  resume(job: string): void;
  /** Drop a queued run and abort a running one. Returns whether anything was cancelled. */
  cancel(job: string): boolean;
  /** Abort every running run (used after the shutdown grace). */
  cancelAll(): void;
  /** Stop scheduling for good: no timer, queued runs dropped, running runs continue. */
  stop(): void;
  /** Resolves once no run is in flight. */
  idle(): Promise<void>;
  /** Re-read a job's persisted state (after something outside the scheduler changed it). */
  refreshState(job: string): void;
  /** Ask the run gate again for every queued run (the run conditions changed) and start what it now allows. */
  recheck(): void;
  /**
   * Stop the running run (like cancel) and queue its request again, so it runs when the conditions allow (a window
   * that ended, a metered connection). Returns whether a run was stopped.
   */
  stopAndRequeue(job: string, why: string): boolean;
  info(job: string): JobScheduleInfo | undefined;
  /** Jobs in config order (removed-but-running ones last). */
  jobs(): JobScheduleInfo[];
  runningJobs(): string[];
  queuedJobs(): string[];
  on(listener: (event: SchedulerEvent) => void): () => void;
}

interface ActiveRun {
  runId: number;
  request: RunRequest;
  /** The settings the run started with; a reload does not change them. */
  config: JobConfig;
  controller: AbortController;
}

interface Entry {
  config: JobConfig;
  state: JobState;
  paused: boolean;
  removed: boolean;
  /** The latest schedule slot already handled; the next slot is the first one after it. */
  lastSlotMs: number;
  /** retryAtMs value already triggered, so one retry time fires once. */
  retryHandledMs: number;
  /** Queued runs in trigger order: at most one real and one dry (pending-runs.ts). */
  pending: PendingRun[];
  /** Runs the job lock refused, to be retried (refused-retry.ts). */
  refusedRetries: RefusedRetry[];
  run: ActiveRun | undefined;
  /** Why its queued run waits for a run condition; '' when none does (run-gate.ts). */
  waiting: string;
  /** Memo of nextRunAfter(schedule, lastSlotMs). */
  dueCache: { schedule: string; from: number; due: number | undefined } | undefined;
}

const DEFAULT_MAX_SLEEP_MS = 60_000;
/** A last slot this far in the future means the clock used to be wrong (set ahead); forget it instead of stalling. */
const FUTURE_SLOT_LIMIT_MS = 24 * 3600_000;

/** The paths a job touches, normalised with one trailing '/' so prefix tests respect path boundaries. */
function jobPaths(job: JobConfig): string[] {
  return [job.local, job.path2].map((p) => p.replace(/\/+$/, '') + '/');
}

/** Equal or nested paths (on either side) mean two jobs must never run at the same time. */
export function jobsOverlap(a: JobConfig, b: JobConfig): boolean {
  for (const pa of jobPaths(a)) {
    for (const pb of jobPaths(b)) {
      if (pa.startsWith(pb) || pb.startsWith(pa)) return true;
    }
  }
  return false;
}

function sameConfig(a: JobConfig, b: JobConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A job that cannot run on its schedule: only a lockout. A job waiting for approval keeps its schedule: each run
 * previews again (rclone's safety check), so it heals by itself once the deletes are gone, and refreshes its list.
 */
function needsAttention(state: JobState, config: JobConfig): boolean {
  return isLockedOut(config, state);
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { clock, logger } = deps;
  const maxSleepMs = deps.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS;
  const timezone = deps.timezone ?? DEFAULT_TIMEZONE;
  let maxParallel = Math.max(1, deps.maxParallel);
  const entries = new Map<string, Entry>();
  /** Job names with a pending run, in trigger order. */
  const queue: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const listeners = new Set<(event: SchedulerEvent) => void>();
  let timer: Timer | undefined;
  let started = false;
  let stopped = false;
  let startupDone = false;

  function emit(event: SchedulerEvent): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (e: unknown) {
        logger.error('scheduler listener failed', { error: errorText(e) });
      }
    }
  }

  function readState(name: string): JobState {
    return deps.readState(name);
  }

  function nextDue(e: Entry): number | undefined {
    if (!e.config.active || e.paused || e.removed || needsAttention(e.state, e.config)) return undefined;
    const cached = e.dueCache;
    if (cached?.schedule === e.config.schedule && cached.from === e.lastSlotMs) return cached.due;
    let due: number | undefined;
    try {
      due = nextRunAfter(e.config.schedule, e.lastSlotMs, timezone);
    } catch (err: unknown) {
      logger.error('cannot compute the next run', { job: e.config.name, schedule: e.config.schedule, error: errorText(err) });
    }
    e.dueCache = { schedule: e.config.schedule, from: e.lastSlotMs, due };
    return due;
  }

  function retryDue(e: Entry): number | undefined {
    if (!e.config.active || e.paused || e.removed || needsAttention(e.state, e.config)) return undefined;
    const at = e.state.retryAtMs;
    const refused = e.refusedRetries.filter((r) => r.atMs > 0).map((r) => r.atMs);
    const dues = at > 0 && at !== e.retryHandledMs ? [at, ...refused] : refused;
    return dues.length === 0 ? undefined : Math.min(...dues);
  }

  function activityOf(e: Entry): JobActivity {
    if (e.run) return 'running';
    if (e.pending.length > 0) return 'queued';
    if (e.paused) return 'paused';
    if (!e.config.active) return 'inactive';
    return waitingOutcome(e.state) ?? 'idle';
  }

  function infoOf(e: Entry): JobScheduleInfo {
    const dues = [nextDue(e), retryDue(e)].filter((d): d is number => d !== undefined);
    return {
      state: e.state,
      name: e.config.name,
      config: e.config,
      activity: activityOf(e),
      paused: e.paused,
      nextRunMs: dues.length === 0 ? 0 : Math.min(...dues),
      currentRunId: e.run?.runId ?? e.pending[0]?.runId ?? 0,
      running: e.run !== undefined,
      queued: e.pending.length > 0,
      removed: e.removed,
      waiting: e.waiting,
      runRequest: e.run?.request,
    };
  }

  function syntheticRecord(job: JobConfig, runId: number, request: RunRequest, outcome: RunRecord['outcome'], message: string, error = ''): RunRecord {
    return buildRunRecord({ runId, job: job.name, operation: request.resync === true ? 'resync' : 'bisync', trigger: request.trigger, dryRun: request.dryRun === true, startedMs: clock.now(), outcome, message, errorText: error });
  }

  function dropPending(e: Entry, why: string): void {
    const dropped = e.pending;
    if (dropped.length === 0) return;
    e.pending = [];
    e.waiting = '';
    const at = queue.indexOf(e.config.name);
    if (at >= 0) queue.splice(at, 1);
    for (const pending of dropped) {
      logger.info('queued run dropped', { job: e.config.name, runId: pending.runId, why });
      emit({ type: 'run-finished', record: syntheticRecord(e.config, pending.runId, pending.request, 'cancelled', `cancelled before it started (${why})`) });
    }
  }

  function forget(e: Entry): void {
    entries.delete(e.config.name);
    emit({ type: 'job-removed', job: e.config.name });
  }

  function overlapsRunning(job: JobConfig): string | undefined {
    for (const other of entries.values()) {
      if (other.run && other.config.name !== job.name && jobsOverlap(job, other.run.config)) return other.config.name;
    }
    return undefined;
  }

  function runningCount(): number {
    let n = 0;
    for (const e of entries.values()) if (e.run) n++;
    return n;
  }

  /** Why none of `pending` may start for the job's run conditions ('' when one may: it waits at most for a slot). */
  function waitingOf(job: JobConfig, pending: readonly PendingRun[]): string {
    if (pending.length === 0) return '';
    const { index, waiting } = pickStartable(job, pending, deps.mayStart);
    return index < 0 ? waiting : '';
  }

  function dispatch(): void {
    if (!started || stopped) return;
    for (const name of [...queue]) {
      const e = entries.get(name);
      if (!e || e.pending.length === 0) continue;
      // A job held by a slot, an overlapping job or its own run is judged too, so its `waiting` never keeps a reason
      // that no longer holds (a condition gone by a reload, a window that opened meanwhile); nothing starts from here.
      const blocked = e.run !== undefined || runningCount() >= maxParallel || overlapsRunning(e.config) !== undefined;
      // A run waiting for its run conditions stays queued and does not hold up the ones behind it either.
      const { index, waiting } = pickStartable(e.config, e.pending, deps.mayStart);
      if (blocked || index < 0) {
        setWaiting(e, index < 0 ? waiting : '');
        continue;
      }
      queue.splice(queue.indexOf(name), 1);
      // Its other kind of run (dry or real) may still wait for the conditions: say so, not the started one's ''.
      setWaiting(e, waitingOf(e.config, e.pending.filter((_, i) => i !== index)), false);
      launch(e, index);
    }
  }

  function setWaiting(e: Entry, waiting: string, announce = true): void {
    if (e.waiting === waiting) return;
    if (waiting !== '') logger.info('run waits for its run conditions', { job: e.config.name, waiting });
    e.waiting = waiting;
    if (announce) emit({ type: 'job-changed', job: e.config.name });
  }

  function launch(e: Entry, index = 0): void {
    const [pending] = e.pending.splice(index, 1);
    if (!pending) return;
    // Its other kind of run (dry or real) waits for this one, behind the jobs already queued.
    if (e.pending.length > 0) queue.push(e.config.name);
    const run: ActiveRun = { runId: pending.runId, request: pending.request, config: e.config, controller: new AbortController() };
    e.run = run;
    const name = run.config.name;
    logger.info('run starting', { job: name, runId: run.runId, trigger: run.request.trigger ?? 'manual' });
    emit({ type: 'run-started', job: name, runId: run.runId });
    emit({ type: 'job-changed', job: name });
    const done = (async () => {
      let record: RunRecord;
      try {
        record = await deps.startRun(run.config, run.request, run.runId, run.controller.signal);
        e.refusedRetries = afterStart(e.refusedRetries, run.request);
      } catch (err: unknown) {
        const locked = isRbmError(err) && err.code === 'AlreadyRunning';
        record = refusedRecordOf(err) ?? syntheticRecord(run.config, run.runId, run.request, locked ? 'locked' : 'failed', errorText(err), errorText(err));
        if (locked) {
          // Another process holds the job: retried with backoff like a `locked` run (docs/engine.md "Retries").
          e.refusedRetries = afterRefusal(e.refusedRetries, run.request, clock.now());
          logger.warn('run refused: the job is held by another process; it is retried', { job: name, runId: run.runId, error: errorText(err), retryInMs: (e.refusedRetries.at(-1)?.atMs ?? 0) - clock.now() });
        } else {
          logger.error('run could not be carried out', { job: name, runId: run.runId, error: errorText(err) });
        }
      }
      finish(e, run, record);
    })();
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }

  function finish(e: Entry, run: ActiveRun, record: RunRecord): void {
    e.run = undefined;
    const name = run.config.name;
    const current = entries.get(name);
    if (current === e) {
      try {
        e.state = readState(name);
      } catch (err: unknown) {
        logger.error('cannot read job state', { job: name, error: errorText(err) });
      }
    }
    emit({ type: 'run-finished', record });
    if (current === e && e.removed && e.pending.length === 0) forget(e);
    else if (current === e) emit({ type: 'job-changed', job: name });
    dispatch();
    rearm();
  }

  function enqueue(e: Entry, request: RunRequest): number {
    const { runId, added } = addPendingRun(e.pending, request, deps.nextRunId);
    if (!added) return runId;
    if (!queue.includes(e.config.name)) queue.push(e.config.name);
    logger.debug('run queued', { job: e.config.name, runId, trigger: request.trigger ?? 'manual' });
    emit({ type: 'job-changed', job: e.config.name });
    return runId;
  }

  /** A timer has no caller to answer: a failure to queue (no run id: state dir read-only) is logged, the slot is skipped. */
  function enqueueFromTimer(e: Entry, request: RunRequest): void {
    try {
      enqueue(e, request);
    } catch (err: unknown) {
      logger.error('cannot queue the scheduled run; it is skipped', { job: e.config.name, trigger: request.trigger, error: errorText(err) });
    }
  }

  function wake(): void {
    timer = undefined;
    if (stopped) return;
    // Everything is recomputed from the wall clock now: a suspend or a forward step runs what became due once.
    const now = clock.now();
    for (const e of entries.values()) {
      if (e.lastSlotMs - now > FUTURE_SLOT_LIMIT_MS) e.lastSlotMs = now;
      const due = nextDue(e);
      if (due !== undefined && due <= now) {
        e.lastSlotMs = now;
        enqueueFromTimer(e, { trigger: 'schedule' });
      }
      const retry = retryDue(e);
      if (retry !== undefined && retry <= now) {
        const at = e.state.retryAtMs;
        if (at > 0 && at !== e.retryHandledMs && at <= now) {
          e.retryHandledMs = at;
          enqueueFromTimer(e, { trigger: 'retry' });
        }
        // A fired retry stays (atMs 0) until its run gets past the lock, so a new refusal backs off further.
        const refused = e.refusedRetries.filter((r) => r.atMs > 0 && r.atMs <= now);
        e.refusedRetries = e.refusedRetries.map((r) => (refused.includes(r) ? { ...r, atMs: 0 } : r));
        for (const r of refused) enqueueFromTimer(e, r.request);
      }
    }
    dispatch();
    rearm();
  }

  function rearm(): void {
    timer?.cancel();
    timer = undefined;
    if (!started || stopped) return;
    let earliest: number | undefined;
    for (const e of entries.values()) {
      for (const due of [nextDue(e), retryDue(e)]) {
        if (due !== undefined && (earliest === undefined || due < earliest)) earliest = due;
      }
    }
    if (earliest === undefined) return; // nothing scheduled: no timer at all
    const delay = Math.min(Math.max(0, earliest - clock.now()), maxSleepMs);
    timer = clock.setTimer(delay, wake);
  }

  function entryOrThrow(name: string): Entry {
    const e = entries.get(name);
    if (!e || e.removed) throw new RbmError('NoSuchJob', `no job named '${name}'`, { hint: 'List the jobs with: rbmctl jobs' });
    return e;
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      dispatch();
      rearm();
    },

    runStartupChecks({ runMissed, runInitial }) {
      if (startupDone || stopped) return;
      startupDone = true;
      const now = clock.now();
      for (const e of entries.values()) {
        if (!e.config.active || e.paused || e.removed || needsAttention(e.state, e.config)) continue;
        if (runInitial) {
          enqueue(e, { trigger: 'startup' });
          continue;
        }
        if (!runMissed) continue;
        // However many slots passed, one run catches up (a job that never ran missed nothing).
        if (missedSlot(e.config.schedule, e.state, now, timezone)) enqueue(e, { trigger: 'missed' });
      }
      dispatch();
      rearm();
    },

    applyConfig(jobs, newMaxParallel) {
      if (newMaxParallel !== undefined) maxParallel = Math.max(1, newMaxParallel);
      const now = clock.now();
      const wanted = new Set(jobs.map((j) => j.name));
      const previous = new Map(entries);
      entries.clear();
      const added: string[] = [];
      const changed: string[] = [];
      for (const job of jobs) {
        const e = previous.get(job.name);
        if (e === undefined) {
          entries.set(job.name, { config: job, state: readState(job.name), paused: false, removed: false, lastSlotMs: now, retryHandledMs: 0, pending: [], refusedRetries: [], run: undefined, waiting: '', dueCache: undefined });
          added.push(job.name);
          continue;
        }
        const wasRemoved = e.removed;
        e.removed = false;
        if (!sameConfig(e.config, job) || wasRemoved) {
          // A new schedule (or a job switched back on) counts from now: the slots it would have had between the last
          // run and this reload are not "missed" runs (editing 03:00 to 04:00 at 10:00 must not run at once).
          if (e.config.schedule !== job.schedule || (!e.config.active && job.active)) e.lastSlotMs = Math.max(e.lastSlotMs, now);
          // A running run keeps the settings it started with (ActiveRun.config); the next run uses these.
          e.config = job;
          e.state = readState(job.name);
          changed.push(job.name);
        }
        entries.set(job.name, e);
      }
      const removed: Entry[] = [];
      for (const [name, e] of previous) {
        if (wanted.has(name)) continue;
        dropPending(e, 'job removed from the config');
        if (e.run) {
          e.removed = true;
          entries.set(name, e); // stays until its run ends
          changed.push(name);
        } else {
          removed.push(e);
        }
      }
      for (const e of removed) emit({ type: 'job-removed', job: e.config.name });
      for (const name of added) emit({ type: 'job-added', job: name });
      for (const name of changed) emit({ type: 'job-changed', job: name });
      dispatch();
      rearm();
    },

    trigger(name, request) {
      if (stopped) throw new RbmError('ServiceUnavailable', 'the service is shutting down', { hint: 'Start it again with: systemctl --user start rclone-bisync-manager' });
      const e = entryOrThrow(name);
      // A catch-up makes up for the passed slot and brings the retry forward: neither fires again after it.
      if (isCatchUpTrigger(request.trigger)) {
        e.lastSlotMs = Math.max(e.lastSlotMs, clock.now());
        e.retryHandledMs = e.state.retryAtMs;
      }
      const runId = enqueue(e, request);
      dispatch();
      rearm();
      return runId;
    },

    pause(name) {
      const e = entryOrThrow(name);
      if (e.paused) return;
      e.paused = true;
      dropPending(e, 'job paused');
      emit({ type: 'job-changed', job: name });
      rearm();
    },

    resume(name) {
      const e = entryOrThrow(name);
      if (!e.paused) return;
      e.paused = false;
      e.lastSlotMs = Math.max(e.lastSlotMs, clock.now());
      emit({ type: 'job-changed', job: name });
      rearm();
    },

    cancel(name) {
      const e = entries.get(name);
      if (!e) throw new RbmError('NoSuchJob', `no job named '${name}'`, { hint: 'List the jobs with: rbmctl jobs' });
      let any = false;
      // A cancelled job's refused runs are not retried either.
      e.refusedRetries = [];
      if (e.pending.length > 0) {
        dropPending(e, 'cancelled');
        any = true;
      }
      if (e.run && !e.run.controller.signal.aborted) {
        logger.info('cancelling run', { job: name, runId: e.run.runId });
        e.run.controller.abort();
        any = true;
      }
      if (any) emit({ type: 'job-changed', job: name });
      dispatch();
      return any;
    },

    cancelAll() {
      for (const e of entries.values()) {
        dropPending(e, 'cancelled');
        if (e.run && !e.run.controller.signal.aborted) {
          logger.info('cancelling run', { job: e.config.name, runId: e.run.runId });
          e.run.controller.abort();
        }
      }
    },

    stop() {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      timer = undefined;
      for (const e of entries.values()) dropPending(e, 'service stopping');
    },

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    refreshState(name) {
      const e = entries.get(name);
      if (!e) return;
      e.state = readState(name);
      emit({ type: 'job-changed', job: name });
      rearm();
    },

    recheck() {
      dispatch();
    },

    stopAndRequeue(name, why) {
      const e = entries.get(name);
      if (!e?.run || e.run.controller.signal.aborted || stopped) return false;
      logger.info('stopping the run for its run conditions; it runs again when they are met', { job: name, runId: e.run.runId, why });
      // The reason reaches the runner: the record says what stopped the run and that it runs again by itself.
      e.run.controller.abort(conditionsStop(why));
      // Queued again under its own trigger, so the gate holds it until the conditions are met; a job the user paused,
      // switched off or removed meanwhile is only stopped (pause promises no new run).
      if (!e.paused && !e.removed && e.config.active) enqueue(e, e.run.request);
      dispatch(); // its `waiting` says at once what the queued run waits for
      return true;
    },

    info(name) {
      const e = entries.get(name);
      return e === undefined ? undefined : infoOf(e);
    },

    jobs() {
      const all = [...entries.values()];
      return [...all.filter((e) => !e.removed), ...all.filter((e) => e.removed)].map(infoOf);
    },

    runningJobs() {
      return [...entries.values()].filter((e) => e.run).map((e) => e.config.name);
    },

    queuedJobs() {
      return queue.filter((name) => (entries.get(name)?.pending.length ?? 0) > 0);
    },

    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
