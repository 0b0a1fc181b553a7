// The JobRunner: job lock → state → plan → seed → rclone (streamed, stoppable) → classify → follow-ups
// (stale lock, automatic resync, pending deletes) → state and history. Used by the service and one-shot sync.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import { atLeast } from '../rclone/caps.js';
import { secretOptionValues } from '../rclone/secret-options.js';
import { approvalToken, pendingApprovalOf } from './approval-token.js';
import { judgeApprovedRun, queuedDeleteOf, statePendingList, type ApprovalVerdict, type PendingApproval } from './rules/approval.js';
import { buildRunArgv, buildRunEnv, hasFlag, optionMapsFor, pendingDeletesArgv, rcloneOnlyEnv, rcloneOnlyFlags, unsupportedSettings } from '../rclone/args.js';
import { attentionLine } from './rules/attention.js';
import { classifyRun, type Classification } from './rules/classify.js';
import { CHECKSUM_COMPARE, NO_COMPARE, planCompare, type ComparePlan } from '../rclone/compare.js';
import { createOutputParser, emptySummary, type CopyBatch, type OutputSummary, type RcloneMessage } from '../rclone/output.js';
import { classifySetupFailure } from './rules/setup-failure.js';
import { applyRunResult, isDryRun, planNextRun, recordedPairKey, resyncPlan, type RunPlan } from './rules/plan.js';
import { RunRefusedError } from './rules/run-refused.js';
import { checkAccessFailureFrom, describeSideCheck, sideCheckError, sideCheckMessage, type SideCheckFailure } from './rules/side-check.js';
import type { JobRunner, JobState, Operation, Outcome, RunHooks, RunRecord, RunRequest } from './types.js';
import { errorText, isRbmError } from '../errors.js';
import { withKeptVersions, type KeptVersion } from './rules/resync-guard.js';
import { maskingLogger } from '../log/redact.js';
import type { Child, Clock, ExitStatus, Logger, SpawnOptions, Spawner } from '../ports.js';
import { checksumSupportFor, jobChecksumNote, listingHashes } from './compare-mode.js';
import { attachCpuLimit } from './cpulimit.js';
import { createHistoryStore } from '../state/history.js';
import { interruptedRecord } from './interrupted-runs.js';
import { acquireJobLock } from '../state/job-lock.js';
import { refusedRunRecord } from './refused-run.js';
import { ensurePrivateDir, jobPaths } from '../state/paths.js';
import { loadPendingDeletes, removePendingDeletes, savePendingDeletes } from '../state/pending-deletes.js';
import { removeStaleRcloneLocks } from './rclone-lock.js';
import { buildRunRecord } from './rules/run-record.js';
import { createResyncGuard, type ResyncGuardResult } from './resync-guard.js';
import { createRunIdAllocator } from '../state/run-ids.js';
import { openRunJournal } from './run-journal.js';
import { seedPair } from './seed.js';
import { backupListings, checkSides, currentLocalMounts, readProcMountInfo, restoreListings, sideCheckApplies } from './side-check.js';
import { createStateStore, nodeDurability, type Durability } from '../state/state-store.js';
import { journalPath, readJournal } from './transfer-journal.js';

/** ≥ 1.66: one SIGTERM, then this long for the graceful shutdown (30 s grace + 60 s wrap-up + margin) before SIGKILL. */
export const STOP_GRACE_MS = 95_000;
const PROGRESS_INTERVAL_MS = 250;

export interface JobRunnerDeps {
  spawner: Spawner;
  clock: Clock;
  logger: Logger;
  /** Base state directory (`defaultStateDir()` in production). */
  stateDir: string;
  /** Detects the capabilities of an rclone binary (rclone/caps.ts); may cache. */
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
  /** The text of /proc/self/mountinfo (default: read it); tests describe mounts with it. */
  readMountInfo?: () => string;
}

export interface EngineRunner extends JobRunner {
  /** The full list a parked job waits on, with its token (empty when nothing waits). */
  pendingApproval(jobName: string): PendingApproval;
  /** At service start: a run cut short by a killed service gets its history record (outcome cancelled, "interrupted"). */
  recordInterrupted(jobName: string): void;
  /** max_cpu_usage_percent < 100 but cpulimit is missing: rclone runs without a limit. */
  cpuLimitNotApplied(global: GlobalSettings): boolean;
  /** Why same-size edits within the remote's modtime precision go unnoticed for this job (rclone/compare.ts), if they do. */
  checksumNote(job: JobConfig, global: GlobalSettings, caps: RcloneCapabilities): string | undefined;
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

/** The end of a run in the log: at error level (so in error.log) when it needs the user, else at `level`. */
function logRunEnd(log: Logger, record: RunRecord, consecutiveFailures: number, level: 'info' | 'warn', meta: Record<string, unknown> = {}): void {
  const attention = attentionLine(record, consecutiveFailures);
  if (attention) log.error(attention.message, { ...attention.meta, ...meta });
  else log[level](`${record.operation} ${record.outcome}: ${record.message}`, { hint: record.hint, ...meta });
}

/** The user's options ask rclone to write copies in place (`--inplace`): a cut copy can then sit under its real name. */
function wantsInplace(job: JobConfig, global: GlobalSettings): boolean {
  return optionMapsFor({ job, global, operation: 'bisync' }).some((map) => Object.entries(map).some(([key, value]) => key.replace(/_/g, '-') === 'inplace' && value !== false));
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

/** Every secret value in the job's and the global option maps: masked in this job's logs and run records. */
function jobSecretValues(job: JobConfig, global: GlobalSettings): string[] {
  return secretOptionValues([...optionMapsFor({ job, global, operation: 'bisync' }), global.resyncOptions, job.resyncOptions]);
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
  const readMountInfo = deps.readMountInfo ?? readProcMountInfo;
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
    ctx: { caps: RcloneCapabilities; global: GlobalSettings; log: Logger; hooks: RunHooks; env: Record<string, string | undefined>; secretEnv: ReadonlySet<string>; spawner: Spawner; onCopyBatch?: (batch: CopyBatch) => void },
    onMessage?: (message: RcloneMessage) => void,
  ): Promise<Attempt> {
    const { caps, global, log, hooks } = ctx;
    let lastProgressMs = 0;
    const rcloneLog = log.child({ source: 'rclone' });
    const toLog = global.redirectRcloneLogOutput ? (m: RcloneMessage): void => logRcloneMessage(rcloneLog, m) : undefined;
    const messageHook =
      toLog && onMessage
        ? (m: RcloneMessage): void => {
            toLog(m);
            onMessage(m);
          }
        : (toLog ?? onMessage);
    const parser = createOutputParser({
      onProgress: (progress) => {
        const now = clock.now();
        if (now - lastProgressMs < PROGRESS_INTERVAL_MS) return;
        lastProgressMs = now;
        hooks.onProgress?.(progress);
      },
      ...(messageHook ? { onMessage: messageHook } : {}),
      ...(ctx.onCopyBatch ? { onCopyBatch: ctx.onCopyBatch } : {}),
    });
    if (hooks.signal?.aborted) return Promise.resolve({ exit: { code: null, signal: null }, summary: emptySummary(), cancelled: true });
    log.debug('starting rclone', { argv, secretEnv: [...ctx.secretEnv] }); // the names only
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
    return child.exited.then(async (exit) => {
      hooks.signal?.removeEventListener('abort', stop);
      killTimer?.cancel();
      limiter?.kill('SIGTERM');
      // Reap cpulimit before the run ends: its last lines ("No process found") must not reach a closed logger.
      await limiter?.exited;
      return { exit, summary: parser.summary(), cancelled };
    });
  }

  /**
   * What the safety-aborted run would delete, from `--dry-run --force` of the same argv. Every `Queue delete` line is
   * collected (the summary keeps only the first MAX_LIST_ENTRIES); `complete` is false when the preview failed.
   */
  async function listPendingDeletes(argv: readonly string[], job: JobConfig, summary: OutputSummary, ctx: Parameters<typeof execute>[1]): Promise<{ deletes: string[]; complete: boolean }> {
    const list: string[] = [];
    const dry = await execute(pendingDeletesArgv(argv), ctx, (m) => {
      const path = queuedDeleteOf(m);
      if (path !== undefined) list.push(path);
    });
    // "Too many deletes" with no delete listed means the lines were not printed (a user log level above INFO): an
    // empty list would approve nothing yet let --force delete everything, so such a preview never counts.
    const listed = list.length > 0 || summary.safetyAbort !== 'too-many-deletes';
    const complete = dry.exit.code === 0 && !dry.cancelled && listed;
    if (list.length === 0) {
      // Fall back to the aborted run's own lines: a file deleted on one side would be deleted on the other.
      for (const d of summary.deletedFiles) {
        const other = d.side === 'Path1' ? job.path2 : job.local;
        list.push(other.endsWith('/') || other.endsWith(':') ? other + d.path : `${other}/${d.path}`);
      }
    }
    return { deletes: list, complete };
  }

  function guardResync(job: JobConfig, argv: readonly string[], dryRun: boolean, ctx: Parameters<typeof execute>[1], scratchDir: string): Promise<ResyncGuardResult> {
    const guard = createResyncGuard({ spawner: ctx.spawner, logger: ctx.log, env: ctx.env, spawnOptions: priorityOptions(ctx.global, ctx.log) });
    return guard.guard({ job, global: ctx.global, caps: ctx.caps, resyncArgv: argv, dryRun, nowMs: clock.now(), scratchDir, signal: ctx.hooks.signal });
  }

  /** The job lock is held: a transfer journal left here belongs to a run of an earlier process. */
  function recordInterruptedLocked(jobName: string): void {
    const journal = readJournal(journalPath(jobPaths(stateDir, jobName).dir));
    if (journal === undefined || journal.runId === 0) return;
    const current = store.load(jobName).state;
    // Already recorded (or a later run has been recorded since): a journal may outlive its run while repairs wait.
    if (journal.runId <= current.lastRunId || historyStore.read(jobName, 100).some((r) => r.runId === journal.runId)) return;
    const record = interruptedRecord(journal, jobName, clock.now());
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
    const secrets = jobSecretValues(job, global);
    const simpleRecord = (outcome: Outcome, message: string, hint: string, error: string, operation: Operation = 'bisync'): RunRecord =>
      buildRunRecord({ runId, job: job.name, operation, trigger: request.trigger, dryRun: requestedDryRun, startedMs, finishedMs: clock.now(), outcome, message, hint, errorText: error, secrets });

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
      const record = simpleRecord(outcome, e.message, e.hint ?? '', e.message);
      logRunEnd(log, record, state.consecutiveFailures, 'warn');
      historyStore.append(record);
      return record;
    }
    let plan: RunPlan = planned;
    const runEnv = rcloneEnv(baseEnv, caps);
    // Helper commands (side check, repair, hash detection) get the job's secret options through the environment too.
    const helperEnv = { ...runEnv, ...rcloneOnlyEnv(job, global) };
    if (sideCheckApplies(plan)) {
      // A missing drive is a check that waits: rclone never runs on it (no deletes, no resync, no 1.60 lockout).
      const failure = await checkSides(job, global, paths.workdir, state.localMounts, { spawner, logger: log, env: helperEnv, spawnOptions: priorityOptions(global, log), readMountInfo, signal: hooks.signal });
      if (failure) {
        const words = describeSideCheck(failure, job.name);
        const record = simpleRecord('check-failed', words.message, words.hint, words.errorText, plan.operation);
        logRunEnd(log, record, state.consecutiveFailures, 'warn');
        if (!record.dryRun) {
          const waiting = applyRunResult(state, record, { lockout: false, pendingDeletes: [], filtersHash: state.filtersHash, pairKey: state.pairKey, sideCheck: failure });
          // rclone did not run: an interrupted earlier run still needs its recovery when the drive is back.
          store.save(job.name, { ...waiting, interrupted: state.interrupted }, { durable: false });
          await store.flush(job.name);
        }
        historyStore.append(record);
        return record;
      }
    }
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

    const baseCtx = { caps, global, log, hooks, env: runEnv, secretEnv: new Set<string>(), spawner: runSpawner };
    // Secret options reach rclone through its environment, never its argv (/proc/PID/cmdline is world-readable).
    const ctxFor = (operation: Operation): typeof baseCtx => {
      const secretEnv = buildRunEnv({ job, global, operation });
      return { ...baseCtx, env: { ...baseCtx.env, ...secretEnv }, secretEnv: new Set(Object.keys(secretEnv)) };
    };
    let ctx = baseCtx;
    // Repair what an earlier run left before rclone runs; journal the copies of this one (src/run/run-journal.ts).
    const runJournal = plan.dryRun
      ? undefined
      : openRunJournal({ job, caps, workdir: paths.workdir, journalFile: journalPath(paths.dir), runId, trigger: request.trigger ?? 'manual', clock, log, inplace: wantsInplace(job, global),
          repair: { spawner, rclone: global.rcloneBinary, env: helperEnv, flags: rcloneOnlyFlags(job, global), spawnOptions: priorityOptions(global, log), log } });
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
    const journaled = (runArgv: readonly string[], operation: Operation, runCtx: typeof baseCtx): Promise<Attempt> =>
      runJournal ? runJournal.attempt(operation, (onCopyBatch) => execute(runArgv, { ...runCtx, onCopyBatch })) : execute(runArgv, runCtx);
    const checksums = await checksumSupportFor({ spawner, clock, stateDir }, { job, global, caps, operation: plan.operation, env: helperEnv, log, signal: hooks.signal });
    let compare: ComparePlan = NO_COMPARE;
    const tail: string[] = [];
    let retriedLock = false;
    let autoResynced = false;
    let argv: string[] = [];
    const kept: KeptVersion[] = [];
    const roots = { path1: job.local, path2: job.path2 };
    let attempt: Attempt;
    let c: Classification;
    // 1.60 renames its listings -err on a failed check-access test (a lockout): a copy taken before the run goes back.
    // rclone runs that test before it changes anything, so the copy is still the pair's trusted state.
    let keepListings = false;
    const restoreAfterFailedCheck = (a: Attempt): void => {
      if (keepListings && a.summary.checkAccessFailed) restoreListings(paths.workdir, paths.listingsBackup, log);
    };
    for (;;) {
      // A path change is a new share: it gets the same preparation as one (docs/engine.md, "Which run comes next").
      if (plan.operation === 'resync' && !plan.dryRun && (!state.resyncDone || plan.reason === 'pair-changed')) {
        const seeded = await seedPair(job, global, { spawner: runSpawner, logger: log, rclone: global.rcloneBinary, env: baseCtx.env, spawnOptions: priorityOptions(global, log) });
        if (seeded.failure) {
          // A failed setup step fails the run with its own error; the resync would only abort on the same cause.
          const { command, exit, summary } = seeded.failure;
          attempt = { exit, summary, cancelled: false };
          tail.push(...summary.tail);
          c = classifySetupFailure(command, exit, summary, plan.operation);
          break;
        }
      }
      removeStaleRcloneLocks(paths.workdir, log);
      keepListings = job.checkAccess && plan.operation === 'bisync' && !plan.dryRun && !hasFlag(caps, 'resilient');
      if (keepListings) backupListings(paths.workdir, paths.listingsBackup);
      compare = planCompare(checksums, plan.operation, listingHashes(paths.workdir), plan.dryRun);
      argv = buildRunArgv({ job, global, caps, operation: plan.operation, workdir: paths.workdir, filtersFile, resyncMode: plan.resyncMode, dryRun: plan.dryRun, force: plan.force, compare: compare.compare });
      hooks.onStarted?.(runId, plan.operation);
      ctx = ctxFor(plan.operation);
      if (plan.operation === 'resync') {
        // No resync may drop a version: the guard keeps every losing version first (src/run/resync-guard.ts).
        const guarded = await guardResync(job, argv, plan.dryRun, ctx, paths.dir);
        kept.push(...guarded.kept);
        if (!guarded.ok && !plan.dryRun) {
          ({ classification: c, summary: guarded.stop.summary } = withKeptVersions(guarded.stop.classification, guarded.stop.summary, kept, roots, false));
          attempt = guarded.stop;
          tail.push(...attempt.summary.tail);
          break;
        }
      }
      attempt = await journaled(argv, plan.operation, ctx);
      tail.push(...attempt.summary.tail);
      c = classifyRun(attempt.exit, attempt.summary, { operation: plan.operation, dryRun: plan.dryRun, cancelled: attempt.cancelled, paths: { local: job.local, remote: job.path2 } });
      ({ classification: c, summary: attempt.summary } = withKeptVersions(c, attempt.summary, kept, roots, plan.dryRun));
      log.debug('rclone finished', { code: attempt.exit.code, signal: attempt.exit.signal, outcome: c.outcome });
      restoreAfterFailedCheck(attempt);
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
        let reason: 'filters-changed' | 'auto-resync' | 'interrupted' | undefined;
        if (c.followUp === 'auto-resync') reason = 'filters-changed';
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
    let approval: PendingApproval | undefined;
    if (c.followUp === 'pending-deletes' && !plan.dryRun && !attempt.cancelled) {
      const preview = await listPendingDeletes(argv, job, attempt.summary, ctx);
      if (request.approvalToken !== undefined && !plan.force) {
        const verdict: ApprovalVerdict = preview.complete
          ? judgeApprovedRun(job.name, request.approvalToken, loadPendingDeletes(stateDir, job.name, log), preview.deletes, approvalToken)
          : { kind: 'park', reason: 'changed', added: [], message: 'the preview of the approved run did not complete or did not list the deletes; nothing was deleted' };
        if (verdict.kind === 'proceed' && !hooks.signal?.aborted) {
          // Kept as short as possible: the window between this preview and the forced run (docs/decisions.md).
          log.info('approved: every delete of this run is in the approved list; running with --force', { deletes: preview.deletes.length });
          argv = buildRunArgv({ job, global, caps, operation: plan.operation, workdir: paths.workdir, filtersFile, resyncMode: plan.resyncMode, dryRun: false, force: true, compare: compare.compare });
          attempt = await journaled(argv, plan.operation, ctx);
          tail.push(...attempt.summary.tail);
          c = classifyRun(attempt.exit, attempt.summary, { operation: plan.operation, dryRun: false, cancelled: attempt.cancelled, paths: { local: job.local, remote: job.path2 } });
          restoreAfterFailedCheck(attempt);
          notes.push(`approved (${preview.deletes.length} delete${preview.deletes.length === 1 ? '' : 's'})`);
        } else if (verdict.kind === 'park') {
          log.warn(`approval not applied: ${verdict.message}`, { added: verdict.added.length });
          notes.push(verdict.message);
        }
      }
      if (c.followUp === 'pending-deletes' && !attempt.cancelled) {
        approval = pendingApprovalOf(job.name, preview.deletes);
        pendingDeletes = statePendingList(approval.deletes);
        await (deps.durability ?? nodeDurability).flush(savePendingDeletes(stateDir, job.name, approval));
        log.warn('safety abort: waiting for approval', { pendingDeletes: approval.deletes.length, token: approval.token });
      }
    }
    const okOutcome = c.outcome === 'success' || c.outcome === 'no-changes' || c.outcome === 'conflicts';
    if (okOutcome && plan.operation === 'resync' && !plan.dryRun && hasFlag(caps, 'recover') && !hooks.signal?.aborted) {
      // One normal run right after a resync writes the *.lst-old backup that --recover needs.
      const followCompare = planCompare(checksums, 'bisync', listingHashes(paths.workdir), false).compare;
      const follow = await journaled(buildRunArgv({ job, global, caps, operation: 'bisync', workdir: paths.workdir, filtersFile, dryRun: false, force: false, compare: followCompare }), 'bisync', ctxFor('bisync'));
      if (follow.exit.code !== 0) log.warn('the bisync after the resync did not succeed; the next run retries', { code: follow.exit.code, error: follow.summary.failure || follow.summary.errors[0] });
    }
    if (okOutcome && compare.settle && plan.operation === 'bisync' && !hooks.signal?.aborted) {
      // Switch-over to checksums: the sides were just brought level without them; this run finds nothing to do and
      // so writes every listing line afresh, with hashes. If something changed meanwhile, the next run tries again.
      const settle = await journaled(buildRunArgv({ job, global, caps, operation: 'bisync', workdir: paths.workdir, filtersFile, dryRun: false, force: false, compare: CHECKSUM_COMPARE }), 'bisync', ctxFor('bisync'));
      const hashed = settle.exit.code === 0 && listingHashes(paths.workdir) === 'hashed';
      if (hashed) notes.push('from now on checksums are compared too');
      else log.warn('the listings do not carry checksums yet; the next run tries again', { code: settle.exit.code, error: settle.summary.failure || settle.summary.errors[0] });
    }

    let sideCheck: SideCheckFailure | undefined;
    if (c.outcome === 'check-failed') {
      sideCheck = checkAccessFailureFrom(attempt.summary.errors, { local: job.local, remote: job.path2 });
      c = { ...c, message: `${c.message}: ${sideCheckMessage(sideCheck)}`, errorText: sideCheckError(sideCheck) };
    }
    const prefix = notes.length > 0 ? `${notes.join('; ')}: ` : '';
    const record = buildRunRecord({
      runId,
      job: job.name,
      operation: plan.operation,
      trigger: request.trigger,
      dryRun: plan.dryRun,
      startedMs,
      finishedMs: clock.now(),
      exit: attempt.exit,
      outcome: c.outcome,
      message: prefix + c.message + (runJournal && runJournal.notes().length > 0 ? ` (${runJournal.notes().join('; ')})` : ''),
      hint: c.hint,
      summary: attempt.summary,
      errorText: c.errorText,
      tail,
      secrets,
    });
    if (!plan.dryRun) {
      const localMounts = okOutcome ? currentLocalMounts(job.local, readMountInfo) : undefined;
      state = applyRunResult(state, record, { lockout: c.lockout, pendingDeletes, ...(approval ? { approval: { token: approval.token, count: approval.deletes.length } } : {}), filtersHash, pairKey: recordedPairKey(pairKey, job), sideCheck, localMounts });
      if (!state.needsApproval) removePendingDeletes(stateDir, job.name);
      // Durable before the run is reported, but fsynced on libuv's thread pool: a synchronous fsync here held up the
      // event loop (other jobs' schedules, D-Bus calls) for every run that ended.
      store.save(job.name, state, { durable: false });
      await store.flush(job.name);
    }
    historyStore.append(record);
    runJournal?.close();
    const level = okOutcome || c.outcome === 'dry-run' ? 'info' : 'warn';
    logRunEnd(log, record, state.consecutiveFailures, level, { operation: plan.operation, exitCode: record.exitCode, counts: record.counts, conflicts: record.conflicts.length });
    return record;
  }

  /** The job lock, or a RunRefusedError whose `locked` record is already in the history (docs/engine.md "Retries"). */
  function acquireOrRecordRefusal(job: JobConfig, global: GlobalSettings, request: RunRequest, runId: number, lockPath: string, log: Logger): ReturnType<typeof acquireJobLock> {
    try {
      return acquireJobLock(lockPath, job.name, log, clock.now());
    } catch (e: unknown) {
      if (!isRbmError(e) || e.code !== 'AlreadyRunning') throw e;
      const record = refusedRunRecord({ job, request, runId, dryRun: isDryRun(job, global, request), nowMs: clock.now(), error: e });
      log.warn('run refused: another process holds the job', { error: e.message });
      try {
        historyStore.append(record);
      } catch (inner: unknown) {
        log.error('could not record the refused run', { error: errorText(inner) });
      }
      throw new RunRefusedError(e, record);
    }
  }

  return {
    nextRunId(): number {
      return runIds.next();
    },

    async run(job: JobConfig, global: GlobalSettings, request: RunRequest, runId: number, hooks: RunHooks = {}): Promise<RunRecord> {
      const secrets = jobSecretValues(job, global);
      const log = maskingLogger(deps.logger.child({ job: job.name, runId }), secrets);
      const paths = jobPaths(stateDir, job.name);
      ensurePrivateDir(paths.dir);
      const lock = acquireOrRecordRefusal(job, global, request, runId, paths.lock, log);
      try {
        return await runLocked(job, global, request, runId, hooks, log);
      } catch (e: unknown) {
        // Not a run outcome but a bug or an I/O error (disk full, permissions): record it, never leave the job hanging.
        log.error('the run failed unexpectedly', { error: errorText(e) });
        const now = clock.now();
        const record = buildRunRecord({
          runId, job: job.name, trigger: request.trigger, dryRun: isDryRun(job, global, request), startedMs: now, finishedMs: now, outcome: 'failed',
          message: `the run failed: ${errorText(e)}`, hint: isRbmError(e) && e.hint ? e.hint : 'See the error log; fix the cause and run rbmctl sync JOB.',
          counts: { errors: 1 }, errorText: errorText(e), secrets,
        });
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

    pendingApproval(jobName: string): PendingApproval {
      const state = store.load(jobName).state;
      if (!state.needsApproval) return { token: '', deletes: [] };
      const stored = loadPendingDeletes(stateDir, jobName, deps.logger);
      // The state's token is the one an approval is checked against; a list that does not carry it is not shown.
      if (stored && stored.token === state.approvalToken) return stored;
      return { token: state.approvalToken, deletes: [...state.pendingDeletes] };
    },

    history(jobName: string, limit: number): RunRecord[] {
      return historyStore.read(jobName, limit);
    },

    cpuLimitNotApplied(global: GlobalSettings): boolean {
      return global.maxCpuUsagePercent < 100 && deps.cpulimitPath === undefined;
    },

    checksumNote(job: JobConfig, global: GlobalSettings, caps: RcloneCapabilities): string | undefined {
      return jobChecksumNote(stateDir, job, global, caps);
    },
  };
}
