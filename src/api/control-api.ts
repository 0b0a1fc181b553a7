// What the running service offers its control adapters (D-Bus today). Plain TypeScript values only;
// the D-Bus adapter translates them to variants and RbmError codes to error names.

import type { JobConfig } from '../config/types.js';
import type { JobState, Progress, RunRecord, RunRequest } from '../run/types.js';

export type ServiceState = 'starting' | 'running' | 'reloading' | 'stopping';
/**
 * idle: waiting for its schedule; queued: waiting for a free slot; running; paused: by the user; needs-resync /
 * needs-approval: waiting for the user; check-failed: a side looked unmounted or emptied, each scheduled run checks
 * again (and syncs once the check passes); inactive: active: false.
 */
export type JobActivity = 'idle' | 'queued' | 'running' | 'paused' | 'needs-resync' | 'needs-approval' | 'check-failed' | 'inactive';

/**
 * One word for how a job is doing (issue 15), decided in src/api/health.ts: ok; attention: it waits for a person
 * (approval, resync, a side that looks unmounted); failing: its runs failed N times in a row; stale: it has not
 * succeeded for stale_after, whatever the reason.
 */
export type JobHealth = 'ok' | 'attention' | 'stale' | 'failing';

/** Sync on change (issue 16): whether the job's local folder is watched, and why not. */
export type WatchState = 'off' | 'starting' | 'watching' | 'failed' | 'root-gone';

export interface JobWatch {
  state: WatchState;
  /** What happened and what to do ('' when off or watching). */
  message: string;
}

export const WATCH_OFF: JobWatch = Object.freeze({ state: 'off', message: '' });

export interface JobStatus {
  name: string;
  config: JobConfig;
  activity: JobActivity;
  paused: boolean;
  state: JobState;
  /** Next scheduled run in ms since the epoch, 0 when none (inactive, paused, needs resync); a job waiting for approval keeps its schedule. */
  nextRunMs: number;
  /** Id of the running or queued run, 0 when none. */
  currentRunId: number;
  progress: Progress | undefined;
  /** Set when max_cpu_usage_percent < 100 but cpulimit is missing. */
  cpuLimitNotApplied: boolean;
  /** Set when same-size edits within the remote's modtime precision cannot be detected for this job (rclone 1.60, no common hash). */
  checksumNote?: string | undefined;
  health: JobHealth;
  /** Why the health is not ok, one sentence naming what to do ('' when ok). */
  healthReason: string;
  /** Notifications for this job are silenced until then (ms since the epoch; 0 = not snoozed). The job's own or the global snooze, the later. */
  snoozedUntilMs: number;
  /** Sync on change: off, starting (the first walk), watching, failed (an inotify limit: the schedule only), root-gone. */
  watch?: JobWatch | undefined;
  /** Why a queued run waits for the job's run conditions ("on battery", "metered connection"); '' when not waiting. */
  waiting: string;
  /** Which of the job's run conditions this machine cannot judge (counted as met), and why; absent when none. */
  conditionsNote?: string | undefined;
}

/** The service-level half of the status: cheap whatever the number of jobs (manager properties, STATUS=). */
export interface ServiceSummary {
  state: ServiceState;
  version: string;
  configPath: string;
  /** Empty when the config in force loaded cleanly; else the full error text (the last good config stays in force). */
  configError: string;
  rcloneVersion: string;
  runningJobs: string[];
  queuedJobs: string[];
  /** Jobs whose health is not ok, in config order. */
  attentionJobs: string[];
  /** `rbmctl snooze` without a job: every job is silenced until then (ms since the epoch; 0 = not snoozed). */
  snoozedUntilMs: number;
}

export interface ServiceStatus extends ServiceSummary {
  jobs: JobStatus[];
}

export interface ControlEvents {
  jobStarted(job: string, runId: number, operation: 'bisync' | 'resync'): void;
  jobProgress(job: string, runId: number, progress: Progress): void;
  jobFinished(record: RunRecord): void;
  /** A job's status changed (activity, state, next run, paused, config). */
  jobChanged(status: JobStatus): void;
  jobAdded(status: JobStatus): void;
  jobRemoved(name: string): void;
  /** Service-level status changed (state, config error, running/queued lists, the set of jobs). */
  serviceChanged(summary: ServiceSummary): void;
  configReloaded(ok: boolean, error: string): void;
}

export type Unsubscribe = () => void;

/** One page of a parked job's pending deletes; `token` identifies the full list of `total` paths. */
export interface PendingPage {
  token: string;
  total: number;
  deletes: string[];
}

/** A copy a forced run would make over a file the destination holds now: to which side (Path1 = local), the full path. */
export interface PendingOverwriteEntry {
  to: 'Path1' | 'Path2';
  path: string;
}

/** One page of a parked job's pending overwrites; `token` is the same token PendingPage carries (the whole list). */
export interface OverwritePage {
  token: string;
  total: number;
  overwrites: PendingOverwriteEntry[];
}

/** Arguments are typed values its adapters parsed (api/requests.ts); methods throw RbmError (NoSuchJob, …) without side effects on failure. */
export interface ControlApi {
  /** Queue runs; an empty list means all active jobs. Resolves with one run id per job once queued. */
  sync(jobs: readonly string[], request: RunRequest): Promise<number[]>;
  status(): ServiceStatus;
  /** status() without the jobs. */
  summary(): ServiceSummary;
  jobStatus(name: string): JobStatus;
  /** Re-read the config; resolves after commit, throws ConfigError and keeps the old config otherwise. */
  reload(): Promise<void>;
  /**
   * Empty definition: pick up a job already in the config file (reloading it) and run it now.
   * Otherwise validate the definition (config keys of a sync_jobs entry), write it into the config file
   * preserving comments, schedule it and run its first sync.
   */
  addJob(name: string, definition: Readonly<Record<string, unknown>>): Promise<void>;
  /** Remove from the config file and from the schedule; a running run finishes first. */
  removeJob(name: string): Promise<void>;
  pause(jobs: readonly string[]): void;
  resume(jobs: readonly string[]): void;
  /** Stop running or queued runs of these jobs the way that is safe for the installed rclone. */
  cancel(jobs: readonly string[]): Promise<void>;
  history(job: string, limit: number): RunRecord[];
  /** The first paths of the pending list (at most MAX_PENDING_PAGE). */
  pendingDeletes(job: string): string[];
  /** A page of the pending list with its token and full size; limit 0 means the default page. */
  pendingApproval(job: string, offset: number, limit: number): PendingPage;
  /** A page of the overwrites of the same pending list (its token covers deletes and overwrites); limit 0 means the default page. */
  pendingOverwrites(job: string, offset: number, limit: number): OverwritePage;
  /**
   * Approve the pending list the token identifies: queue a run that previews again and deletes only what the list
   * holds. Throws ApprovalStale when the token is not the current list's. Resolves with the run id.
   */
  approve(job: string, token: string): Promise<number>;
  /**
   * Silence notifications and the on_attention hook for these jobs (empty: all jobs, new ones too) for `seconds`
   * from now; the state and the health stay visible. Kept across restarts.
   */
  snooze(jobs: readonly string[], seconds: number): void;
  /** End a snooze (empty: the global one and every job's). */
  unsnooze(jobs: readonly string[]): void;
  on<E extends keyof ControlEvents>(event: E, listener: ControlEvents[E]): Unsubscribe;
}
