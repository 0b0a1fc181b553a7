// The JobRunner: job lock → state → plan → seed → rclone (streamed, stoppable) → classify → follow-ups
// (stale lock, automatic resync, pending deletes) → state and history. Used by the service and one-shot sync.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import { atLeast } from '../config/rclone-caps.js';
import { buildRunArgv, hasFlag, pendingDeletesArgv, rcloneOnlyFlags, unsupportedSettings } from '../core/args.js';
import { classifyRun, type Classification } from '../core/classify.js';
import { createOutputParser, emptySummary, type CopyBatch, type OutputSummary, type RcloneMessage } from '../core/output.js';
import { applyRunResult, isDryRun, planNextRun, recordedPairKey, resyncPlan, type RunPlan } from '../core/plan.js';
import type { JobRunner, JobState, Operation, Outcome, RunHooks, RunRecord, RunRequest } from '../core/types.js';
import { errorText, isRbmError } from '../errors.js';
import { redactText } from '../log/redact.js';
import type { Child, Clock, ExitStatus, Logger, SpawnOptions, Spawner } from '../ports.js';
import { attachCpuLimit } from './cpulimit.js';
import { createHistoryStore } from './history.js';
import { interruptedRecord } from './interrupted-runs.js';
import { acquireJobLock } from './job-lock.js';
import { ensurePrivateDir, jobPaths } from './paths.js';
import { removeStaleRcloneLocks } from './rclone-lock.js';
import { createRunIdAllocator } from './run-ids.js';
import { openRunJournal } from './run-journal.js';
import { seedPair } from './seed.js';
import { createStateStore, type Durability } from './state-store.js';
import { journalPath, readJournal } from './transfer-journal.js';

/** ≥ 1.66: one SIGTERM, then this long for the graceful shutdown (30 s grace + 60 s wrap-up + margin) before SIGKILL. */
export const STOP_GRACE_MS = 95_000;
const PROGRESS_INTERVAL_MS = 250;
const TAIL_KEEP = 50;

export interface JobRunnerDeps {
  spawner: Spawner;
  clock: Clock;
  logger: Logger;
  /** Base state directory (`defaultStateDir()` in production). */
  stateDir: string;
  /** Detects the capabilities of an rclone binary (config/rclone-caps.ts); may cache. */
  probeCaps: (binary: string) => Promise<RcloneCapabilities>;
  /** Absolute path of cpulimit, undefined when it is not installed (`findCpulimit()`). */
  cpulimitPath?: string | undefined;
  /** Environment for rclone (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Override of STOP_GRACE_MS (tests). */
  stopGraceMs?: number;
  /** How state reaches the disk (default: fsync); tests count the fsyncs. */
  durability?: Durability;
  /** Run ids reserved per durable write (default RUN_ID_BLOCK; tests). */
  runIdBlock?: number;
}

export interface EngineRunner extends JobRunner {
  /** At service start: a run cut short by a killed service gets its history record (outcome cancelled, "interrupted"). */
  recordInterrupted(jobName: string): void;
  /** max_cpu_usage_percent < 100 but cpulimit is missing: rclone runs without a limit. */
  cpuLimitNotApplied(global: GlobalSettings): boolean;
}

interface Attempt {
  exit: ExitStatus;
  summary: OutputSummary;
  cancelled: boolean;
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of the filters file ('' without one; a marker when unreadable, so a later fix counts as a change). */
export function filtersFileHash(path: string | undefined): string {
  if (path === undefined) return '';
  try {
    return sha256(readFileSync(path));
  } catch {
    return 'unreadable';
  }
}

export function pairKeyOf(job: JobConfig, workdir: string): string {
  return sha256(`${job.local}\u0000${job.path2}\u0000${workdir}`);
}

function hasListings(workdir: string): boolean {
  try {
    const names = readdirSync(workdir);
    return names.some((n) => n.endsWith('.path1.lst')) && names.some((n) => n.endsWith('.path2.lst'));
  } catch {
    return false;
  }
}

function logRcloneMessage(log: Logger, message: RcloneMessage): void {
  if (message.stats) return;
  const text = message.object !== undefined ? `${message.object}: ${message.text}` : message.text;
  if (message.level === 'error') log.warn(text.trim());
  else if (message.level === 'debug') log.debug(text.trim());
  else log.info(text.trim());
}

/** `spawner`, calling `fn` once right after its first spawn. */
function afterFirstSpawn(spawner: Spawner, fn: () => void): Spawner {
  let done = false;
  return {
    spawn(command, args, options) {
      const child = spawner.spawn(command, args, options);
      if (!done) {
        done = true;
        fn();
      }
      return child;
    },
  };
}

function rcloneEnv(base: Readonly<Record<string, string | undefined>>, caps: RcloneCapabilities): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  // 1.60 binds RCLONE_COLOR to an unrelated flag and exits 1.
  if (!hasFlag(caps, 'color')) delete env.RCLONE_COLOR;
  return env;
}

export function createJobRunner(deps: JobRunnerDeps): EngineRunner {
  const { spawner, clock, stateDir } = deps;
  const baseEnv = deps.env ?? process.env;
  const stopGraceMs = deps.stopGraceMs ?? STOP_GRACE_MS;
  ensurePrivateDir(stateDir);
  const durability = deps.durability ? { durability: deps.durability } : {};
  const store = createStateStore({ baseDir: stateDir, logger: deps.logger, ...durability });
  const historyStore = createHistoryStore({ baseDir: stateDir, logger: deps.logger, ...durability });
  const runIds = createRunIdAllocator({ stateDir, logger: deps.logger, now: () => clock.now(), ...durability, ...(deps.runIdBlock !== undefined ? { block: deps.runIdBlock } : {}) });
  // Reserve the first ids now (one fsync at start-up) rather than on the first trigger. A failure is not fatal
  // here: nextRunId reserves again and reports it to the caller.
  runIds.topUp();
  let niceWarned = false;

  /** rclone runs `global.rcloneNice` below the service's priority; a failure to lower it is reported once. */
  function priorityOptions(global: GlobalSettings, log: Logger): Pick<SpawnOptions, 'nice' | 'onNiceError'> {
    if (global.rcloneNice <= 0) return {};
    return {
      nice: global.rcloneNice,
      onNiceError: (e: Error) => {
        if (niceWarned) return;
        niceWarned = true;
        log.warn('cannot lower the CPU priority of rclone; it runs at the priority of the service', { rcloneNice: global.rcloneNice, error: e.message });
      },
    };
  }

  function execute(
    argv: readonly string[],
    ctx: { caps: RcloneCapabilities; global: GlobalSettings; log: Logger; hooks: RunHooks; env: Record<string, string | undefined>; spawner: Spawner; onCopyBatch?: (batch: CopyBatch) => void },
  ): Promise<Attempt> {
    const { caps, global, log, hooks } = ctx;
    let lastProgressMs = 0;
    const rcloneLog = log.child({ source: 'rclone' });
    const parser = createOutputParser({
      onProgress: (progress) => {
        const now = clock.now();
        if (now - lastProgressMs < PROGRESS_INTERVAL_MS) return;
        lastProgressMs = now;
        hooks.onProgress?.(progress);
      },
      ...(global.redirectRcloneLogOutput ? { onMessage: (m: RcloneMessage) => logRcloneMessage(rcloneLog, m) } : {}),
      ...(ctx.onCopyBatch ? { onCopyBatch: ctx.onCopyBatch } : {}),
    });
    if (hooks.signal?.aborted) return Promise.resolve({ exit: { code: null, signal: null }, summary: emptySummary(), cancelled: true });
    log.debug('starting rclone', { argv });
    const child: Child = ctx.spawner.spawn(global.rcloneBinary, argv, { env: ctx.env, onLine: (line) => parser.push(line), ...priorityOptions(global, log) });
    const limiter = attachCpuLimit(spawner, deps.cpulimitPath, child.pid, global.maxCpuUsagePercent, log);
    let cancelled = false;
    let killTimer: { cancel(): void } | undefined;
    const stop = (): void => {
      if (cancelled) return;
      cancelled = true;
      limiter?.kill('SIGTERM'); // cpulimit sends SIGCONT on exit, so a paused rclone can handle the signal
      if (atLeast(caps, '1.66')) {
        // One SIGTERM only: a second signal defeats rclone's graceful shutdown.
        log.info('stopping rclone gracefully (SIGTERM)', { graceMs: stopGraceMs });
        child.kill('SIGTERM');
        killTimer = clock.setTimer(stopGraceMs, () => {
          log.warn('rclone did not stop in time; killing it');
          child.kill('SIGKILL');
        });
      } else {
        // 1.60: any SIGTERM/SIGINT marks the listings failed (a resync is then forced, and a truncated file on the
        // source side would win it). SIGKILL keeps the listings valid; the stale lock is removed on the next run.
        log.info('stopping rclone (SIGKILL: on rclone < 1.66 a signal would force a resync)');
        child.kill('SIGKILL');
      }
    };
    hooks.signal?.addEventListener('abort', stop, { once: true });
    return child.exited.then((exit) => {
      hooks.signal?.removeEventListener('abort', stop);
      killTimer?.cancel();
      limiter?.kill('SIGTERM');
      return { exit, summary: parser.summary(), cancelled };
    });
  }

  async function listPendingDeletes(argv: readonly string[], job: JobConfig, summary: OutputSummary, ctx: Parameters<typeof execute>[1]): Promise<string[]> {
    const dry = await execute(pendingDeletesArgv(argv), ctx);
    const list = [...dry.summary.queuedDeletes];
    if (list.length === 0) {
      // Fall back to the aborted run's own lines: a file deleted on one side would be deleted on the other.
      for (const d of summary.deletedFiles) {
        const other = d.side === 'Path1' ? job.path2 : job.local;
        list.push(other.endsWith('/') || other.endsWith(':') ? other + d.path : `${other}/${d.path}`);
      }
    }
    return list;
  }

  function makeRecord(base: {
    runId: number;
    job: JobConfig;
    operation: Operation;
    request: RunRequest;
    dryRun: boolean;
    startedMs: number;
    exit: ExitStatus | undefined;
    outcome: Outcome;
    message: string;
    hint: string;
    summary: OutputSummary;
    errorText: string;
    tail: string[];
  }): RunRecord {
    const st = base.summary.stats;
    return {
      runId: base.runId,
      job: base.job.name,
      operation: base.operation,
      trigger: base.request.trigger ?? 'manual',
      dryRun: base.dryRun,
      startedMs: base.startedMs,
      finishedMs: clock.now(),
      exitCode: base.exit?.code ?? null,
      signal: base.exit?.signal ?? null,
      outcome: base.outcome,
      // Records reach History and JobFinished: rclone's text may carry credentials (URLs, tokens), so mask them.
      message: redactText(base.message),
      hint: base.hint,
      counts: {
        filesTransferred: st?.transfers ?? 0,
        bytesTransferred: st?.bytes ?? 0,
        deletes: st?.deletes ?? 0,
        renames: st?.renames ?? 0,
        errors: st?.errors ?? 0,
      },
      conflicts: base.summary.conflicts.map((c) => ({ path: c.path, copies: [...c.copies] })),
      hashWarnings: base.summary.hashBlank,
      errorText: redactText(base.errorText),
      tail: base.tail.slice(-TAIL_KEEP).map(redactText),
    };
  }

  /** The job lock is held: a transfer journal left here belongs to a run of an earlier process. */
  function recordInterruptedLocked(jobName: string): void {
    const journal = readJournal(journalPath(jobPaths(stateDir, jobName).dir));
    if (journal === undefined || journal.runId === 0) return;
    if (historyStore.read(jobName, 100).some((r) => r.runId === journal.runId)) return;
    const record = interruptedRecord(journal, jobName, clock.now());
    const current = store.load(jobName).state;
    // Still `interrupted`: the next run knows it recovers from an interruption (docs/engine.md).
    const next = { ...applyRunResult(current, record, { lockout: false, pendingDeletes: [], filtersHash: current.filtersHash, pairKey: current.pairKey }), interrupted: true };
    store.save(jobName, next);
    historyStore.append(record);
    deps.logger.warn(`job ${jobName}: run ${journal.runId} was interrupted by a service stop; recorded as interrupted`, { job: jobName, runId: journal.runId });
  }

  async function runLocked(job: JobConfig, global: GlobalSettings, request: RunRequest, runId: number, hooks: RunHooks, log: Logger): Promise<RunRecord> {
    const startedMs = clock.now();
    const paths = jobPaths(stateDir, job.name);
    const requestedDryRun = isDryRun(job, global, request);
    const simpleRecord = (outcome: Outcome, message: string, hint: string, error: string, operation: Operation = 'bisync'): RunRecord =>
      makeRecord({ runId, job, operation, request, dryRun: requestedDryRun, startedMs, exit: undefined, outcome, message, hint, summary: emptySummary(), errorText: error, tail: [] });

    let caps: RcloneCapabilities;
    try {
      caps = await deps.probeCaps(global.rcloneBinary);
    } catch (e: unknown) {
      const record = simpleRecord('failed', `rclone could not be used: ${errorText(e)}`, isRbmError(e) && e.hint ? e.hint : 'Check that rclone is installed and rclone_binary points to it.', errorText(e));
      historyStore.append(record);
      return record;
    }
    if (global.maxCpuUsagePercent < 100 && deps.cpulimitPath === undefined) log.warn('cpulimit is not installed: max_cpu_usage_percent is not applied');
    for (const setting of unsupportedSettings(job, caps)) log.warn(`rclone ${caps.version} cannot honour ${setting}; it is ignored (needs rclone 1.66 or later)`);

    recordInterruptedLocked(job.name);
    const loaded = store.load(job.name);
    let state: JobState = loaded.state;
    const filtersFile = job.filtersFile ?? global.exclusionRulesFile;
    const filtersHash = filtersFileHash(filtersFile);
    const pairKey = pairKeyOf(job, paths.workdir);
    if (loaded.status === 'rebuilt' && hasListings(paths.workdir)) {
      // rclone's own listings survived: trust them (bisync with --recover) rather than forcing a resync.
      state = { ...state, resyncDone: true, pairKey: recordedPairKey(pairKey, job), filtersHash, interrupted: true };
      log.warn('job state was rebuilt; rclone listings exist, so the next run is a normal bisync with --recover');
    }

    const planned = planNextRun(job, global, state, request, { caps, filtersHash, pairKey, nowMs: startedMs });
    if ('refuse' in planned) {
      const e = planned.refuse;
      const outcome: Outcome = e.code === 'NeedsResync' ? 'needs-resync' : 'needs-approval';
      log.warn(e.message, { hint: e.hint });
      const record = simpleRecord(outcome, e.message, e.hint ?? '', e.message);
      historyStore.append(record);
      return record;
    }
    let plan: RunPlan = planned;
    const notes: string[] = [];
    const wasInterrupted = state.interrupted;
    if (wasInterrupted) log.warn('the previous run of this job was interrupted; recovering', { recover: hasFlag(caps, 'recover') });
    if (plan.operation === 'resync') log.info(`resync: ${plan.why}`);
    if (plan.operation === 'resync' && plan.reason !== 'requested' && plan.reason !== 'first-run') notes.push(`automatic resync (${plan.why})`);
    // "A run is in progress" must be on disk before rclone starts, so that a killed service is detected at the next
    // start. Atomic but not fsynced here (no fsync between a trigger and the spawn): the page cache survives a killed
    // process, and the fsync runs on the thread pool once rclone has started (docs/engine.md: power loss).
    let runSpawner = spawner;
    if (!plan.dryRun) {
      state = { ...state, interrupted: true };
      store.save(job.name, state, { durable: false });
      runSpawner = afterFirstSpawn(spawner, () => void store.flush(job.name));
    }
    ensurePrivateDir(paths.workdir);

    const ctx = { caps, global, log, hooks, env: rcloneEnv(baseEnv, caps), spawner: runSpawner };
    // Repair what an earlier run left before rclone runs; journal the copies of this one (src/engine/run-journal.ts).
    const runJournal = plan.dryRun
      ? undefined
      : openRunJournal({ job, caps, workdir: paths.workdir, journalFile: journalPath(paths.dir), runId, trigger: request.trigger ?? 'manual', clock, log,
          repair: { spawner, rclone: global.rcloneBinary, env: ctx.env, flags: rcloneOnlyFlags(job, global), spawnOptions: priorityOptions(global, log), log } });
    try {
      await runJournal?.repairLeftovers();
    } catch (e: unknown) {
      // Never sync over what may be half-written: wait and retry (a remote that is down comes back).
      log.warn('cannot check what the interrupted run left behind; not syncing yet', { error: errorText(e) });
      const record = simpleRecord('retryable', `could not check what the interrupted run left behind, so nothing was synced: ${errorText(e)}`, 'It is retried automatically with backoff. Check that both sides are reachable.', errorText(e));
      state = { ...applyRunResult(state, record, { lockout: false, pendingDeletes: [], filtersHash: state.filtersHash, pairKey: state.pairKey }), interrupted: wasInterrupted };
      store.save(job.name, state, { durable: false });
      await store.flush(job.name);
      historyStore.append(record);
      return record;
    }
    const journaled = (runArgv: readonly string[], operation: Operation): Promise<Attempt> =>
      runJournal ? runJournal.attempt(operation, (onCopyBatch) => execute(runArgv, { ...ctx, onCopyBatch })) : execute(runArgv, ctx);
    const tail: string[] = [];
    let retriedLock = false;
    let autoResynced = false;
    let argv: string[] = [];
    let attempt: Attempt;
    let c: Classification;
    for (;;) {
      if (plan.operation === 'resync' && !plan.dryRun && !state.resyncDone) {
        await seedPair(job, global, { spawner: runSpawner, logger: log, rclone: global.rcloneBinary, env: ctx.env, spawnOptions: priorityOptions(global, log) });
      }
      removeStaleRcloneLocks(paths.workdir, log);
      argv = buildRunArgv({ job, global, caps, operation: plan.operation, workdir: paths.workdir, filtersFile, resyncMode: plan.resyncMode, dryRun: plan.dryRun, force: plan.force });
      hooks.onStarted?.(runId, plan.operation);
      attempt = await journaled(argv, plan.operation);
      tail.push(...attempt.summary.tail);
      c = classifyRun(attempt.exit, attempt.summary, { operation: plan.operation, dryRun: plan.dryRun, cancelled: attempt.cancelled, paths: { local: job.local, remote: job.path2 } });
      log.debug('rclone finished', { code: attempt.exit.code, signal: attempt.exit.signal, outcome: c.outcome });
      if (attempt.cancelled) break;
      if (c.followUp === 'stale-lock' && !retriedLock) {
        retriedLock = true;
        const removed = removeStaleRcloneLocks(paths.workdir, log, attempt.summary.lockFile);
        if (removed.removed.length > 0) {
          notes.push('removed a stale rclone lock');
          continue;
        }
      }
      if (!plan.dryRun && !autoResynced && plan.operation === 'bisync') {
        let reason: 'check-access' | 'filters-changed' | 'auto-resync' | 'interrupted' | undefined;
        if (c.followUp === 'auto-resync') reason = c.autoResyncReason === 'check-access' ? 'check-access' : 'filters-changed';
        else if (c.followUp === 'lockout' && job.autoResync) reason = 'auto-resync';
        else if (c.followUp === 'lockout' && wasInterrupted && hasFlag(caps, 'resync-mode')) reason = 'interrupted';
        if (reason !== undefined) {
          autoResynced = true;
          plan = resyncPlan(reason, caps, false, true);
          log.warn(`resyncing automatically: ${plan.why}`, { error: c.errorText });
          notes.push(`automatic resync (${plan.why})`);
          continue;
        }
      }
      break;
    }

    let pendingDeletes: string[] = [];
    if (c.followUp === 'pending-deletes' && !plan.dryRun && !attempt.cancelled) {
      pendingDeletes = await listPendingDeletes(argv, job, attempt.summary, ctx);
      log.warn('safety abort: waiting for approval', { pendingDeletes: pendingDeletes.length });
    }
    const okOutcome = c.outcome === 'success' || c.outcome === 'no-changes' || c.outcome === 'conflicts';
    if (okOutcome && plan.operation === 'resync' && !plan.dryRun && hasFlag(caps, 'recover') && !hooks.signal?.aborted) {
      // One normal run right after a resync writes the *.lst-old backup that --recover needs.
      const follow = await journaled(buildRunArgv({ job, global, caps, operation: 'bisync', workdir: paths.workdir, filtersFile, dryRun: false, force: false }), 'bisync');
      if (follow.exit.code !== 0) log.warn('the bisync after the resync did not succeed; the next run retries', { code: follow.exit.code, error: follow.summary.failure || follow.summary.errors[0] });
    }

    const prefix = notes.length > 0 ? `${notes.join('; ')}: ` : '';
    const record = makeRecord({
      runId,
      job,
      operation: plan.operation,
      request,
      dryRun: plan.dryRun,
      startedMs,
      exit: attempt.exit,
      outcome: c.outcome,
      message: prefix + c.message + (runJournal && runJournal.notes().length > 0 ? ` (${runJournal.notes().join('; ')})` : ''),
      hint: c.hint,
      summary: attempt.summary,
      errorText: c.errorText,
      tail,
    });
    if (!plan.dryRun) {
      state = applyRunResult(state, record, { lockout: c.lockout, pendingDeletes, filtersHash, pairKey: recordedPairKey(pairKey, job) });
      // Durable before the run is reported, but fsynced on libuv's thread pool: a synchronous fsync here held up the
      // event loop (other jobs' schedules, D-Bus calls) for every run that ended.
      store.save(job.name, state, { durable: false });
      await store.flush(job.name);
    }
    historyStore.append(record);
    runJournal?.close();
    const level = okOutcome || c.outcome === 'dry-run' ? 'info' : c.outcome === 'failed' ? 'error' : 'warn';
    log[level](`${plan.operation} ${c.outcome}: ${record.message}`, { hint: c.hint, exitCode: record.exitCode, counts: record.counts, conflicts: record.conflicts.length });
    return record;
  }

  return {
    nextRunId(): number {
      return runIds.next();
    },

    async run(job: JobConfig, global: GlobalSettings, request: RunRequest, runId: number, hooks: RunHooks = {}): Promise<RunRecord> {
      const log = deps.logger.child({ job: job.name, runId });
      const paths = jobPaths(stateDir, job.name);
      ensurePrivateDir(paths.dir);
      const lock = acquireJobLock(paths.lock, job.name, log, clock.now());
      try {
        return await runLocked(job, global, request, runId, hooks, log);
      } catch (e: unknown) {
        // Not a run outcome but a bug or an I/O error (disk full, permissions): record it, never leave the job hanging.
        log.error('the run failed unexpectedly', { error: errorText(e) });
        const record: RunRecord = {
          runId, job: job.name, operation: 'bisync', trigger: request.trigger ?? 'manual', dryRun: isDryRun(job, global, request),
          startedMs: clock.now(), finishedMs: clock.now(), exitCode: null, signal: null, outcome: 'failed',
          message: `the run failed: ${errorText(e)}`, hint: isRbmError(e) && e.hint ? e.hint : 'See the error log; fix the cause and run rbmctl sync JOB.',
          counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 1 }, conflicts: [], hashWarnings: 0,
          errorText: errorText(e), tail: [],
        };
        try {
          const current = store.load(job.name).state;
          if (!record.dryRun) store.save(job.name, applyRunResult(current, record, { lockout: false, pendingDeletes: [], filtersHash: current.filtersHash, pairKey: current.pairKey }));
          historyStore.append(record);
        } catch (inner: unknown) {
          log.error('could not record the failed run', { error: errorText(inner) });
        }
        return record;
      } finally {
        lock.release();
        // Off the trigger path: reserve the next run ids now if few are left.
        runIds.topUp();
      }
    },

    recordInterrupted(jobName: string): void {
      const paths = jobPaths(stateDir, jobName);
      if (!existsSync(journalPath(paths.dir))) return; // the common case: no run was cut short
      let lock: { release(): void };
      try {
        lock = acquireJobLock(paths.lock, jobName, deps.logger, clock.now());
      } catch {
        return; // another process runs the job: its journal is live
      }
      try {
        recordInterruptedLocked(jobName);
      } catch (e: unknown) {
        deps.logger.error('cannot record an interrupted run', { job: jobName, error: errorText(e) });
      } finally {
        lock.release();
      }
    },

    readState(jobName: string): JobState {
      return store.load(jobName).state;
    },

    history(jobName: string, limit: number): RunRecord[] {
      return historyStore.read(jobName, limit);
    },

    cpuLimitNotApplied(global: GlobalSettings): boolean {
      return global.maxCpuUsagePercent < 100 && deps.cpulimitPath === undefined;
    },
  };
}
