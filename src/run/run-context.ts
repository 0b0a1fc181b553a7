// What the three phases of a run (run-prepare.ts → run-attempts.ts → run-finish.ts) share, passed explicitly:
// the runner's long-lived parts (RunnerCore), the one run being made (RunInput), and what rclone runs with (RcloneContext).

import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import type { CopyBatch } from '../rclone/output.js';
import type { Clock, Logger, SpawnOptions, Spawner } from '../ports.js';
import type { HistoryStore } from '../state/history.js';
import type { JobPaths } from '../state/paths.js';
import type { Durability, StateStore } from '../state/state-store.js';
import type { RunHooks, RunRequest } from './types.js';

/** The runner's parts that outlive one run (built once by createJobRunner). */
export interface RunnerCore {
  spawner: Spawner;
  clock: Clock;
  stateDir: string;
  probeCaps: (binary: string) => Promise<RcloneCapabilities>;
  cpulimitPath: string | undefined;
  /** The environment rclone starts from (before rclone-specific changes). */
  baseEnv: Readonly<Record<string, string | undefined>>;
  stopGraceMs: number;
  readMountInfo: () => string;
  durability: Durability;
  store: StateStore;
  history: HistoryStore;
  /** nice for rclone and its helpers; a failure to lower the priority is reported once per runner. */
  priorityOptions(global: GlobalSettings, log: Logger): Pick<SpawnOptions, 'nice' | 'onNiceError'>;
  /** The job lock is held: record a run an earlier process left in its transfer journal. */
  recordInterruptedLocked(jobName: string): void;
}

/** One run of one job, with the job lock held. */
export interface RunInput {
  job: JobConfig;
  global: GlobalSettings;
  request: RunRequest;
  runId: number;
  hooks: RunHooks;
  /** The job's logger, secrets masked. */
  log: Logger;
  startedMs: number;
  paths: JobPaths;
  /** The job's secret option values: masked in its records. */
  secrets: readonly string[];
}

/** What one `rclone bisync` runs with. */
export interface RcloneContext {
  caps: RcloneCapabilities;
  global: GlobalSettings;
  log: Logger;
  hooks: RunHooks;
  env: Record<string, string | undefined>;
  /** Names of the variables that carry secret options (logged by name only). */
  secretEnv: ReadonlySet<string>;
  spawner: Spawner;
  onCopyBatch?: (batch: CopyBatch) => void;
}
