// The JobRunner: job lock → prepare (run-prepare.ts: state, plan, side check, repair) → attempts (run-attempts.ts:
// seed, rclone streamed and stoppable, follow-ups, approval) → record (run-finish.ts: state and history).
// Used by the service and one-shot sync.

import { existsSync } from 'node:fs';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import { optionMapsFor } from '../rclone/args.js';
import { secretOptionValues } from '../rclone/secret-options.js';
import type { PendingApproval } from './rules/approval.js';
import { isDryRun } from './rules/plan.js';
import { RunRefusedError } from './rules/run-refused.js';
import type { JobRunner, JobState, RunHooks, RunRecord, RunRequest } from './types.js';
import { errorText, isRbmError } from '../errors.js';
import { maskingLogger } from '../log/redact.js';
import type { Clock, Logger, SpawnOptions, Spawner } from '../ports.js';
import { jobChecksumNote } from './compare-mode.js';
import { createHistoryStore } from '../state/history.js';
import { interruptedRecord } from './interrupted-runs.js';
import { acquireJobLock } from '../state/job-lock.js';
import { refusedRunRecord } from './refused-run.js';
import { ensurePrivateDir, jobPaths } from '../state/paths.js';
import { loadPendingDeletes } from '../state/pending-deletes.js';
import { createRunIdAllocator } from '../state/run-ids.js';
import { attemptRun } from './run-attempts.js';
import type { RunInput, RunnerCore } from './run-context.js';
import { recordRun, recordUnexpectedFailure } from './run-finish.js';
import { prepareRun } from './run-prepare.js';
import { applyRunResult } from './rules/plan.js';
import { readProcMountInfo } from './side-check.js';
import { STOP_GRACE_MS } from './rules/stop-policy.js';
import { createStateStore, nodeDurability, type Durability } from '../state/state-store.js';
import { journalPath, readJournal } from './transfer-journal.js';

export { STOP_GRACE_MS } from './rules/stop-policy.js';
export { filtersFileHash, pairKeyOf } from './run-prepare.js';

export interface JobRunnerDeps {
  /**
   * Only reads what jobs keep on disk (a look at the state while the service is stopped): the state directory
   * is not created and no run ids are reserved. Such a runner is never asked to run.
   */
  readOnly?: boolean;
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

/** Every secret value in the job's and the global option maps: masked in this job's logs and run records. */
function jobSecretValues(job: JobConfig, global: GlobalSettings): string[] {
  return secretOptionValues([...optionMapsFor({ job, global, operation: 'bisync' }), global.resyncOptions, job.resyncOptions]);
}

export function createJobRunner(deps: JobRunnerDeps): EngineRunner {
  const { clock, stateDir } = deps;
  if (deps.readOnly !== true) ensurePrivateDir(stateDir);
  const durability = deps.durability ? { durability: deps.durability } : {};
  const store = createStateStore({ baseDir: stateDir, logger: deps.logger, ...durability });
  const historyStore = createHistoryStore({ baseDir: stateDir, logger: deps.logger, ...durability });
  const runIds = createRunIdAllocator({ stateDir, logger: deps.logger, now: () => clock.now(), ...durability, ...(deps.runIdBlock !== undefined ? { block: deps.runIdBlock } : {}) });
  // Reserve the first ids now (one fsync at start-up) rather than on the first trigger. A failure is not fatal
  // here: nextRunId reserves again and reports it to the caller.
  if (deps.readOnly !== true) runIds.topUp();
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

  const core: RunnerCore = {
    spawner: deps.spawner,
    clock,
    stateDir,
    probeCaps: deps.probeCaps,
    cpulimitPath: deps.cpulimitPath,
    baseEnv: deps.env ?? process.env,
    stopGraceMs: deps.stopGraceMs ?? STOP_GRACE_MS,
    readMountInfo: deps.readMountInfo ?? readProcMountInfo,
    durability: deps.durability ?? nodeDurability,
    store,
    history: historyStore,
    priorityOptions,
    recordInterruptedLocked,
  };

  /** prepare → attempts → record, with the job lock held. */
  async function runLocked(run: RunInput): Promise<RunRecord> {
    const prepared = await prepareRun(core, run);
    if (prepared.kind === 'finished') return prepared.record;
    const attempted = await attemptRun(core, run, prepared.run);
    return recordRun(core, run, prepared.run, attempted);
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
      const run: RunInput = { job, global, request, runId, hooks, log, startedMs: clock.now(), paths, secrets };
      try {
        return await runLocked(run);
      } catch (e: unknown) {
        return recordUnexpectedFailure(core, run, e);
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
      const fallback: PendingApproval = { token: state.approvalToken, deletes: [...state.pendingDeletes] };
      if (state.pendingOverwrites.length > 0) fallback.overwrites = [...state.pendingOverwrites];
      return fallback;
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
