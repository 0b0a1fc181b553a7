// Shared vocabulary of the engine: what a run is asked to do, what it did, and what a job remembers.
// Plain data only, so it crosses the D-Bus adapter and the history file unchanged.

import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import type { LocalMounts, SideCheckFailure } from './rules/side-check.js';
import type { PendingOverwrite } from './rules/approval.js';
import type { Outcome } from '../api/outcomes.js';

/** Per-call options (rbmctl flags, D-Bus a{sv}); they take precedence over the config. */
export interface RunRequest {
  /** Run as --resync (the user's explicit choice, also clears needs-resync). */
  resync?: boolean;
  /** Approve a safety abort: run with --force once. */
  force?: boolean;
  dryRun?: boolean;
  /**
   * The user approved the pending list with this token (Approve): after a safety abort the run previews again and
   * proceeds with --force only when every delete is in that list (run/rules/approval.ts).
   */
  approvalToken?: string;
  /** A manual run that waits for the job's run conditions like a scheduled one (`rbmctl sync --respect-conditions`). */
  respectConditions?: boolean;
  /** Why the run was started, for logs and history ('network', 'resume': a catch-up, src/scheduler/catch-up.ts; 'watch': a local change, service/watching.ts). */
  trigger?: 'schedule' | 'manual' | 'startup' | 'missed' | 'retry' | 'add-job' | 'network' | 'resume' | 'watch';
}

export type Operation = 'bisync' | 'resync';

/** What a finished run means: the rows of the one outcome table (src/api/outcomes.ts). */
export type { Outcome } from '../api/outcomes.js';

export interface Conflict {
  /** Path relative to the pair's roots. */
  path: string;
  /** Copies created for it (full paths as rclone printed them), empty when a winner was kept without renaming. */
  copies: string[];
}

export interface TransferCounts {
  filesTransferred: number;
  bytesTransferred: number;
  deletes: number;
  renames: number;
  errors: number;
}

export interface RunRecord {
  runId: number;
  job: string;
  operation: Operation;
  trigger: NonNullable<RunRequest['trigger']>;
  dryRun: boolean;
  startedMs: number;
  finishedMs: number;
  exitCode: number | null;
  signal: string | null;
  outcome: Outcome;
  /** One line for humans: what happened. */
  message: string;
  /** What the user should do next, empty when nothing. */
  hint: string;
  counts: TransferCounts;
  conflicts: Conflict[];
  hashWarnings: number;
  errorText: string;
  /** Last lines of rclone's output (bounded). */
  tail: string[];
}

/** What a job remembers between runs and restarts (persisted atomically per job). */
export interface JobState {
  version: 1;
  /** A resync has completed for the current pair and filters; until then the next run is a resync. */
  resyncDone: boolean;
  /** sha256 of the filters file content in force at the last resync ('' when none). */
  filtersHash: string;
  /** Identity of the pair (path1 + path2 + workdir) at the last resync: a change means a new share. */
  pairKey: string;
  lastRunId: number;
  lastStartedMs: number;
  lastFinishedMs: number;
  lastOutcome: Outcome | 'never';
  lastMessage: string;
  lastError: string;
  /** Time of the last scheduled slot that ran (for run_missed_jobs). */
  lastScheduledMs: number;
  needsResync: boolean;
  needsApproval: boolean;
  /** What the safety abort would delete, from a --dry-run of the same run (the first STATE_PENDING_CAP paths). */
  pendingDeletes: string[];
  /** Identifies the full pending list (run/rules/approval.ts); '' when nothing waits for approval. */
  approvalToken: string;
  /** Size of the full pending list (pendingDeletes may hold only its beginning). */
  pendingDeleteCount: number;
  /** What the safety abort would overwrite (direction and destination path; the first STATE_PENDING_CAP). */
  pendingOverwrites: PendingOverwrite[];
  /** Size of the full list of pending overwrites. */
  pendingOverwriteCount: number;
  consecutiveFailures: number;
  /** When the last run with an ok outcome finished (not a dry run); 0 = never. Staleness counts from it (api/health.ts). */
  lastSuccessMs: number;
  /** When the job's first run started (0 = it never ran): the staleness reference of a job that never succeeded. */
  trackedSinceMs: number;
  /** When a retryable failure may be retried (0 = no retry pending). */
  retryAtMs: number;
  hashWarning: boolean;
  /** A run was in flight when the process stopped (set at start, cleared at the end). */
  interrupted: boolean;
  /** Why the last run refused to touch the pair (a side looked unmounted or emptied); null once a run passes. */
  sideCheck: SideCheckFailure | null;
  /** The local root's mount and the mount points inside it at the last good run (null before one). */
  localMounts: LocalMounts | null;
}

/** Live progress of a running job, from rclone's JSON stats lines. */
export interface Progress {
  bytes: number;
  totalBytes: number;
  transfers: number;
  totalTransfers: number;
  speed: number;
  etaSec: number | null;
}

/** Hooks a caller passes to one run. */
export interface RunHooks {
  /**
   * rclone is about to be spawned for an attempt (or the run otherwise really started); `rclone` is the binary's
   * capabilities the attempt runs with (the ones its stop policy uses: the run conditions decide a mid-run stop on them).
   */
  onStarted?: (runId: number, operation: Operation, rclone: RcloneCapabilities) => void;
  /** Throttled by the engine to at most a few per second. */
  onProgress?: (progress: Progress) => void;
  /** Aborting asks the engine to stop rclone the way that is safe for its version; the run ends `cancelled`. */
  signal?: AbortSignal;
  /** Each message rclone prints during the bisync itself (not its previews): sync on change reads what the run wrote locally. */
  onRcloneMessage?: (message: { text: string }) => void;
}

/**
 * Runs jobs: plans the operation from config + persisted state, spawns rclone, classifies the result,
 * persists state and history. Implemented in src/run/runner.ts; used by the service and one-shot sync.
 */
export interface JobRunner {
  /** Allocate the id for a run about to be queued (monotonic, persisted). */
  nextRunId(): number;
  /** Run one job to completion. Never throws for run failures (they are outcomes); throws RbmError('AlreadyRunning') when another process holds the job. */
  run(job: JobConfig, global: GlobalSettings, request: RunRequest, runId: number, hooks?: RunHooks): Promise<RunRecord>;
  readState(jobName: string): JobState;
  history(jobName: string, limit: number): RunRecord[];
  /** The full list a parked job waits on and its token (run/rules/approval.ts); optional for runners without one. */
  pendingApproval?(jobName: string): { token: string; deletes: string[]; overwrites?: PendingOverwrite[] };
  /** At start-up: record a run that a killed service cut short (its history record was never written). */
  recordInterrupted?(jobName: string): void;
}
