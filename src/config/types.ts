// The validated, resolved configuration: what the rest of the product consumes.
// Produced only by config/parse.ts; every path here is absolute and every option key is checked.

import type { RunConditions } from '../conditions/types.js';

/** A value in an rclone option map: `true`/`null` → bare flag, `false` → omitted, list → flag repeated. */
export type OptionScalar = string | number | boolean | null;
export type OptionValue = OptionScalar | readonly (string | number)[];
/** Option maps keep the user's key order (it is the flag order). Keys are rclone flag names without `--`, `_` or `-` separated. */
export type OptionMap = Readonly<Record<string, OptionValue>>;

export type ConflictResolve = 'none' | 'path1' | 'path2' | 'newer' | 'older' | 'larger' | 'smaller';
export type ConflictLoser = 'num' | 'pathname' | 'delete';

/** Which events reach the desktop and the on_attention hook: every problem and recovery, only what needs a person, nothing. */
export type NotificationLevel = 'all' | 'attention' | 'none';

/** How a job tells the person (issue 15): a job's own keys win over the global ones. */
export interface AlertSettings {
  notifications: NotificationLevel;
  /** argv of the user's hook run for each notification event ([] = none); never through a shell. */
  onAttention: readonly string[];
  /** A job that has not succeeded for this long is stale; undefined = three schedule periods, at least one hour. */
  staleAfterSec: number | undefined;
  /** Failed (or retryable) runs in a row before the job is `failing` and announced. */
  failuresBeforeAlert: number;
}

/** Sync on change (issue 16): a job's own keys win over the global ones. */
export interface WatchSettings {
  /** Watch the local root and run after a quiet period. */
  enabled: boolean;
  /** Quiet period after the last change (watch_delay). */
  delayMs: number;
  /** Longest wait after the first change of a burst (watch_max_wait, ≥ delayMs). */
  maxWaitMs: number;
}

export interface GlobalSettings {
  /** Absolute directory that relative job `local` paths are resolved against. */
  localBasePath: string;
  /** Absolute path of a global rclone filters file, passed as `--filters-file`. */
  exclusionRulesFile: string | undefined;
  /** Copy rclone's own output lines into our log. */
  redirectRcloneLogOutput: boolean;
  /** 1–100; below 100 rclone runs under cpulimit. */
  maxCpuUsagePercent: number;
  /** 0–19: rclone runs this much below the service's CPU priority (nice increment); 0 = the same priority. */
  rcloneNice: number;
  runMissedJobs: boolean;
  runInitialSyncOnStartup: boolean;
  maxParallelJobs: number;
  /** Command name or absolute path of rclone. */
  rcloneBinary: string;
  /** Seconds a running sync may take to finish on shutdown before it is stopped. */
  shutdownGraceSec: number;
  /** Global dry run: every job runs with --dry-run and no state changes. */
  dryRun: boolean;
  rcloneOptions: OptionMap;
  bisyncOptions: OptionMap;
  resyncOptions: OptionMap;
  /** Defaults for the job keys of the same names (a job's own value wins). */
  jobDefaults: JobDefaults;
  /** The global alert settings (a job's `alerts` has them merged in). */
  alerts: AlertSettings;
  /** argv run by a notification's default action; `{job}` is replaced by the job's name. */
  detailsCommand: readonly string[];
  /** The global run conditions (issue 17; a job's `runConditions` has them merged in). */
  runConditions: RunConditions;
  /** The global watch keys (a job's `watch` has them merged in). */
  watch: WatchSettings;
}

/** Job-level safety and conflict keys that may also be set once at the top level for every job. */
export interface JobDefaults {
  checkAccess: boolean;
  checksumCompare: boolean;
  conflictResolve: ConflictResolve | undefined;
  conflictLoser: ConflictLoser | undefined;
  conflictSuffix: string | undefined;
}

export interface JobConfig {
  /** Unique, [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
  name: string;
  /** Absolute local directory (Path1). */
  local: string;
  rcloneRemote: string;
  remote: string;
  /** Path2 exactly as passed to rclone: `remote:path`, or an absolute directory when rclone_remote is empty/local. */
  path2: string;
  /** Cron expression (5 or 6 fields), checked by croner. */
  schedule: string;
  active: boolean;
  dryRun: boolean;
  /** Run the next sync as a resync. */
  forceResync: boolean;
  /** The user's standing approval: every bisync gets --force (bypasses safety aborts). */
  forceOperation: boolean;
  /** Seed and check RCLONE_TEST files (--check-access). */
  checkAccess: boolean;
  /** Compare checksums too where rclone (>= 1.66) and the remote can (rclone/compare.ts). */
  checksumCompare: boolean;
  /** Resync on its own after a lockout instead of waiting for the user. */
  autoResync: boolean;
  /** rclone >= 1.66 conflict policy; undefined leaves rclone's default. */
  conflictResolve: ConflictResolve | undefined;
  conflictLoser: ConflictLoser | undefined;
  conflictSuffix: string | undefined;
  /** Absolute path of this job's filters file (overrides the global exclusion_rules_file). */
  filtersFile: string | undefined;
  rcloneOptions: OptionMap;
  bisyncOptions: OptionMap;
  resyncOptions: OptionMap;
  /** The job's alert settings, global ones merged in. */
  alerts: AlertSettings;
  /** When the job may run (issue 17): the job's own run_conditions keys over the global ones, key by key. */
  runConditions: RunConditions;
  /** Sync on change, global keys merged in. */
  watch: WatchSettings;
}

export interface Config {
  /** Absolute path of the file this was read from. */
  path: string;
  global: GlobalSettings;
  /** Jobs in file order. */
  jobs: readonly JobConfig[];
}

export { JOB_NAME_PATTERN } from '../api/requests.js';

/** What the installed rclone offers, detected once per binary (rclone/caps.ts). */
export interface RcloneCapabilities {
  /** The binary as configured (command name or absolute path). */
  binary: string;
  /** e.g. "1.75.2" (a "-DEV"/"-beta" suffix dropped). */
  version: string;
  major: number;
  minor: number;
  patch: number;
  /** Flag names without leading dashes that `rclone bisync --help` lists (bisync flags and global flags). */
  flags: ReadonlySet<string>;
}
