// Decides which run comes next for a job (bisync or resync, or a refusal that waits for the user),
// and how the job's state changes after a run. Pure: time and rclone facts come in as arguments.

import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../../config/types.js';
import type { RbmError } from '../../errors.js';
import { hasFlag } from '../../rclone/args.js';
import { isRetryableOutcome, retryDelayMs } from './retry.js';
import type { LocalMounts, SideCheckFailure } from './side-check.js';
import type { PendingOverwrite } from './approval.js';
import type { JobState, Operation, RunRecord, RunRequest } from '../types.js';
import { lockoutRefusal } from '../../api/job-attention.js';
import { isOkOutcome } from '../../api/outcomes.js';

export interface PlanEnv {
  caps: RcloneCapabilities;
  /** sha256 of the filters file in force now ('' when none). */
  filtersHash: string;
  /** Identity of the pair now (path1, path2, workdir), without the force-resync mark. */
  pairKey: string;
  nowMs: number;
}

export type ResyncReason =
  | 'first-run'
  | 'force-resync'
  | 'requested'
  | 'pair-changed'
  | 'filters-changed'
  | 'auto-resync'
  | 'interrupted';

export interface RunPlan {
  operation: Operation;
  /** Why: `scheduled bisync`, or the resync reason. */
  reason: 'bisync' | ResyncReason;
  /** Human text of the reason, for logs. */
  why: string;
  resyncMode: 'newer' | undefined;
  dryRun: boolean;
  /** The user's approval (request.force or force_operation): --force on a bisync. */
  force: boolean;
}

export type PlanResult = RunPlan | { refuse: RbmError };

const WHY: Record<ResyncReason, string> = {
  'first-run': 'first run of this job: an initial resync builds the listings',
  'force-resync': 'force_resync is set in the config',
  requested: 'resync requested',
  'pair-changed': 'the local or remote path changed: the pair is new',
  'filters-changed': 'the filters file changed since the last resync',
  'auto-resync': 'auto_resync is set and the job is locked out',
  interrupted: 'a run was interrupted and rclone requires a resync',
};

/**
 * `force_resync: true` means "the next run is a resync", not every run (a resync never propagates deletes).
 * The pair key recorded after a run carries this mark while the setting is on, so the forced resync happens
 * once; removing the setting and adding it again asks for a new one.
 */
export const FORCE_RESYNC_MARK = ':force-resync';

/** The pair key to record after a successful run of `job`. */
export function recordedPairKey(pairKey: string, job: JobConfig): string {
  return job.forceResync ? pairKey + FORCE_RESYNC_MARK : pairKey;
}

export function isDryRun(job: JobConfig, global: GlobalSettings, request: RunRequest): boolean {
  return request.dryRun === true || job.dryRun || global.dryRun;
}

/** A resync the engine starts on its own keeps the newer copy of each file where rclone can (--resync-mode newer). */
export function resyncPlan(reason: ResyncReason, caps: RcloneCapabilities, dryRun: boolean, automatic: boolean): RunPlan {
  return {
    operation: 'resync',
    reason,
    why: WHY[reason],
    resyncMode: automatic && hasFlag(caps, 'resync-mode') ? 'newer' : undefined,
    dryRun,
    force: false,
  };
}

export function planNextRun(job: JobConfig, global: GlobalSettings, state: JobState, request: RunRequest, env: PlanEnv): PlanResult {
  const dryRun = isDryRun(job, global, request);
  const caps = env.caps;
  if (request.resync === true) return resyncPlan('requested', caps, dryRun, false);
  if (!state.resyncDone) return resyncPlan('first-run', caps, dryRun, true);
  if (job.forceResync && !state.pairKey.endsWith(FORCE_RESYNC_MARK)) return resyncPlan('force-resync', caps, dryRun, false);
  const statePair = state.pairKey.endsWith(FORCE_RESYNC_MARK) ? state.pairKey.slice(0, -FORCE_RESYNC_MARK.length) : state.pairKey;
  if (statePair !== '' && statePair !== env.pairKey) return resyncPlan('pair-changed', caps, dryRun, true);
  if (state.filtersHash !== env.filtersHash) return resyncPlan('filters-changed', caps, dryRun, true);
  if (state.needsResync) {
    if (job.autoResync) return resyncPlan('auto-resync', caps, dryRun, true);
    if (!dryRun) {
      return { refuse: lockoutRefusal(job.name, state) };
    }
  }
  const force = request.force === true || job.forceOperation;
  // A job waiting for approval runs a plain bisync: rclone's own safety check is the preview (it aborts before
  // changing anything). Without the abort the job heals; with it the pending list and token are refreshed, or an
  // approved list is checked against the new one (run/rules/approval.ts).
  return { operation: 'bisync', reason: 'bisync', why: 'bisync', resyncMode: undefined, dryRun, force };
}

export interface RunResultFacts {
  /** The run ended in a lockout nothing healed. */
  lockout: boolean;
  pendingDeletes: readonly string[];
  /** The beginning of the overwrites a safety abort waits on (absent: none). */
  pendingOverwrites?: readonly PendingOverwrite[];
  /** Token and sizes of the full pending list after a safety abort (run/rules/approval.ts). */
  approval?: { token: string; count: number; overwriteCount?: number };
  filtersHash: string;
  /** recordedPairKey(): recorded after any successful run. */
  pairKey: string;
  /** A check-failed run: what looked unmounted or emptied. */
  sideCheck?: SideCheckFailure | undefined;
  /** A good run: the mounts around the local root now (undefined keeps the recorded ones). */
  localMounts?: LocalMounts | undefined;
}

/** The job's state after a run. A dry run changes nothing. */
export function applyRunResult(state: JobState, record: RunRecord, facts: RunResultFacts): JobState {
  if (record.dryRun) return state;
  const next: JobState = {
    ...state,
    lastRunId: record.runId,
    lastStartedMs: record.startedMs,
    lastFinishedMs: record.finishedMs,
    lastOutcome: record.outcome,
    lastMessage: record.message,
    lastError: record.errorText,
    interrupted: false,
    trackedSinceMs: state.trackedSinceMs > 0 ? state.trackedSinceMs : record.startedMs,
    pendingDeletes: [...state.pendingDeletes],
    pendingOverwrites: [...state.pendingOverwrites],
    // Any other result means the sides passed the check (or the run never got that far): the wait is over.
    sideCheck: record.outcome === 'check-failed' ? (facts.sideCheck ?? state.sideCheck) : null,
  };
  if (isOkOutcome(record.outcome)) {
    next.lastSuccessMs = record.finishedMs;
    next.consecutiveFailures = 0;
    next.retryAtMs = 0;
    next.needsApproval = false;
    next.pendingDeletes = [];
    next.approvalToken = '';
    next.pendingDeleteCount = 0;
    next.pendingOverwrites = [];
    next.pendingOverwriteCount = 0;
    next.lastError = '';
    next.hashWarning = record.hashWarnings > 0;
    next.pairKey = facts.pairKey;
    if (facts.localMounts !== undefined) next.localMounts = facts.localMounts;
    if (record.operation === 'resync') {
      next.resyncDone = true;
      next.needsResync = false;
      next.filtersHash = facts.filtersHash;
    }
    return next;
  }
  if (record.hashWarnings > 0) next.hashWarning = true;
  if (isRetryableOutcome(record.outcome)) {
    next.consecutiveFailures = state.consecutiveFailures + 1;
    next.retryAtMs = record.finishedMs + retryDelayMs(next.consecutiveFailures);
  }
  switch (record.outcome) {
    case 'needs-approval':
      next.needsApproval = true;
      next.pendingDeletes = [...facts.pendingDeletes];
      next.approvalToken = facts.approval?.token ?? '';
      next.pendingDeleteCount = facts.approval?.count ?? facts.pendingDeletes.length;
      next.pendingOverwrites = [...(facts.pendingOverwrites ?? [])];
      next.pendingOverwriteCount = facts.approval?.overwriteCount ?? next.pendingOverwrites.length;
      next.consecutiveFailures = 0;
      next.retryAtMs = 0;
      break;
    case 'needs-resync':
      next.needsResync = true;
      next.retryAtMs = 0;
      break;
    case 'check-failed':
      // Not a failure to retry with backoff: the next scheduled trigger checks again (and heals the job).
      next.retryAtMs = 0;
      break;
    case 'locked':
    case 'retryable':
      break; // backoff above (isRetryableOutcome)
    case 'failed':
      next.consecutiveFailures = state.consecutiveFailures + 1;
      next.retryAtMs = 0;
      break;
    case 'cancelled':
    case 'dry-run':
    case 'success':
    case 'no-changes':
    case 'conflicts':
      break;
  }
  if (facts.lockout && record.outcome !== 'needs-resync' && record.operation === 'bisync') next.needsResync = true;
  return next;
}
