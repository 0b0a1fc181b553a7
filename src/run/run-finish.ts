// Phase 3 of a run: the record. Builds it (rules/run-record.ts), applies it to the job's state, makes that durable,
// appends it to the history and logs the run's end; also the records of runs that end early or fail unexpectedly.

import { redactSecrets } from '../log/redact.js';
import { errorText, isRbmError } from '../errors.js';
import type { Logger } from '../ports.js';
import { removePendingDeletes } from '../state/pending-deletes.js';
import { attentionLine } from './rules/attention.js';
import type { Classification } from './rules/classify.js';
import { applyRunResult, isDryRun, recordedPairKey } from './rules/plan.js';
import { buildRunRecord } from './rules/run-record.js';
import { checkAccessFailureFrom, sideCheckError, sideCheckMessage, type SideCheckFailure } from './rules/side-check.js';
import type { Attempted } from './run-attempts.js';
import type { RunInput, RunnerCore } from './run-context.js';
import type { PreparedRun } from './run-prepare.js';
import { currentLocalMounts } from './side-check.js';
import type { JobState, Operation, Outcome, RunRecord } from './types.js';

/**
 * The end of a run in the log, at info whatever the outcome (the history keeps it too): the one warning/error line
 * per problem is the alerts' (src/service/alerts.ts), written when the job's health changes, so a parked job's every
 * scheduled preview or a single failed run does not reach `journalctl -p warning` or error.log.
 */
export function logRunEnd(log: Logger, record: RunRecord, consecutiveFailures: number, meta: Record<string, unknown> = {}): void {
  const attention = attentionLine(record, consecutiveFailures);
  if (attention) log.info(attention.message, { ...attention.meta, ...meta });
  else log.info(`${record.operation} ${record.outcome}: ${record.message}`, { hint: record.hint, ...meta });
}

/** The record of a run that ended before rclone synced anything. */
export function earlyRecord(core: RunnerCore, run: RunInput, outcome: Outcome, message: string, hint: string, error: string, operation: Operation = 'bisync'): RunRecord {
  return buildRunRecord({
    runId: run.runId, job: run.job.name, operation, trigger: run.request.trigger, dryRun: isDryRun(run.job, run.global, run.request),
    startedMs: run.startedMs, finishedMs: core.clock.now(), outcome, message, hint, errorText: error, redact: (text) => redactSecrets(text, run.secrets),
  });
}

/**
 * Durable before the run is reported, but fsynced on libuv's thread pool: a synchronous fsync here held up the
 * event loop (other jobs' schedules, D-Bus calls) for every run that ended.
 */
export async function saveStateNow(core: RunnerCore, jobName: string, state: JobState): Promise<void> {
  core.store.save(jobName, state, { durable: false });
  await core.store.flush(jobName);
}

/** A check-access failure names the side and path rclone reported, for the message and the status. */
function withSideCheck(c: Classification, attempted: Attempted, run: RunInput): { c: Classification; sideCheck: SideCheckFailure | undefined } {
  if (c.outcome !== 'check-failed') return { c, sideCheck: undefined };
  const sideCheck = checkAccessFailureFrom(attempted.attempt.summary.errors, { local: run.job.local, remote: run.job.path2 });
  return { c: { ...c, message: `${c.message}: ${sideCheckMessage(sideCheck)}`, errorText: sideCheckError(sideCheck) }, sideCheck };
}

function messageOf(c: Classification, prepared: PreparedRun): string {
  const prefix = prepared.notes.length > 0 ? `${prepared.notes.join('; ')}: ` : '';
  const repairs = prepared.runJournal?.notes() ?? [];
  return prefix + c.message + (repairs.length > 0 ? ` (${repairs.join('; ')})` : '');
}

/** Records a run that reached rclone: state (unless a dry run), history, the journal closed, the end logged. */
export async function recordRun(core: RunnerCore, run: RunInput, prepared: PreparedRun, attempted: Attempted): Promise<RunRecord> {
  const { job, log } = run;
  const { plan, attempt, approval, pendingDeletes, pendingOverwrites, ok } = attempted;
  const { c, sideCheck } = withSideCheck(attempted.c, attempted, run);
  const record = buildRunRecord({
    runId: run.runId, job: job.name, operation: plan.operation, trigger: run.request.trigger, dryRun: plan.dryRun, startedMs: run.startedMs, finishedMs: core.clock.now(),
    exit: attempt.exit, outcome: c.outcome, message: messageOf(c, prepared), hint: c.hint, summary: attempt.summary, errorText: c.errorText, tail: attempted.tail, redact: (text) => redactSecrets(text, run.secrets),
  });
  let state = prepared.state;
  if (!plan.dryRun) {
    const localMounts = ok ? currentLocalMounts(job.local, core.readMountInfo) : undefined;
    state = applyRunResult(state, record, { lockout: c.lockout, pendingDeletes, pendingOverwrites, ...(approval ? { approval: { token: approval.token, count: approval.deletes.length, overwriteCount: approval.overwrites?.length ?? 0 } } : {}), filtersHash: prepared.filtersHash, pairKey: recordedPairKey(prepared.pairKey, job), sideCheck, localMounts });
    if (!state.needsApproval) removePendingDeletes(core.stateDir, job.name);
    await saveStateNow(core, job.name, state);
  }
  core.history.append(record);
  prepared.runJournal?.close();
  logRunEnd(log, record, state.consecutiveFailures, { operation: plan.operation, exitCode: record.exitCode, counts: record.counts, conflicts: record.conflicts.length });
  return record;
}

/** Not a run outcome but a bug or an I/O error (disk full, permissions): recorded, so the job never hangs. */
export function recordUnexpectedFailure(core: RunnerCore, run: RunInput, e: unknown): RunRecord {
  const { job, log } = run;
  log.error('the run failed unexpectedly', { error: errorText(e) });
  const now = core.clock.now();
  const record = buildRunRecord({
    runId: run.runId, job: job.name, trigger: run.request.trigger, dryRun: isDryRun(job, run.global, run.request), startedMs: now, finishedMs: now, outcome: 'failed',
    message: `the run failed: ${errorText(e)}`, hint: isRbmError(e) && e.hint ? e.hint : 'See the error log; fix the cause and run rbmctl sync JOB.',
    counts: { errors: 1 }, errorText: errorText(e), redact: (text) => redactSecrets(text, run.secrets),
  });
  try {
    const current = core.store.load(job.name).state;
    if (!record.dryRun) core.store.save(job.name, applyRunResult(current, record, { lockout: false, pendingDeletes: [], filtersHash: current.filtersHash, pairKey: current.pairKey }));
    core.history.append(record);
  } catch (inner: unknown) {
    log.error('could not record the failed run', { error: errorText(inner) });
  }
  return record;
}
