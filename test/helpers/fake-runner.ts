// A JobRunner double for service tests: runs settle when the test says so; state and history live in memory.
import { DEFAULT_ALERTS, DEFAULT_DETAILS_COMMAND, JOB_DEFAULTS } from '../../src/config/parse.js';
import { NO_CONDITIONS } from '../../src/conditions/evaluate.js';
import { DEFAULT_WATCH } from '../../src/config/watch-settings.js';
import type { Config, GlobalSettings, JobConfig, RcloneCapabilities } from '../../src/config/types.js';
import type { JobRunner, JobState, RunHooks, RunRecord, RunRequest } from '../../src/run/types.js';
import { deferred, makeRecord, makeState } from './scheduler-fixtures.js';

export interface FakeRunnerRun {
  job: JobConfig;
  global: GlobalSettings;
  request: RunRequest;
  runId: number;
  hooks: RunHooks | undefined;
  finished: boolean;
  finish(overrides?: Partial<RunRecord>): void;
}

export class FakeRunner implements JobRunner {
  runs: FakeRunnerRun[] = [];
  states = new Map<string, JobState>();
  records: RunRecord[] = [];
  /** The rclone each run reports it started (RunHooks.onStarted); a test sets an older one. */
  rclone: RcloneCapabilities = { binary: 'rclone', version: '1.75.2', major: 1, minor: 75, patch: 2, flags: new Set() };
  private id = 0;

  nextRunId(): number {
    return ++this.id;
  }

  run(job: JobConfig, global: GlobalSettings, request: RunRequest, runId: number, hooks?: RunHooks): Promise<RunRecord> {
    const d = deferred<RunRecord>();
    const run: FakeRunnerRun = {
      job,
      global,
      request,
      runId,
      hooks,
      finished: false,
      finish: (overrides = {}) => {
        if (run.finished) return;
        run.finished = true;
        const record = makeRecord(job.name, runId, request, Date.now(), overrides);
        this.records.push(record);
        d.resolve(record);
      },
    };
    hooks?.signal?.addEventListener('abort', () => run.finish({ outcome: 'cancelled' }));
    this.runs.push(run);
    hooks?.onStarted?.(runId, request.resync === true ? 'resync' : 'bisync', this.rclone);
    return d.promise;
  }

  readState(jobName: string): JobState {
    return this.states.get(jobName) ?? makeState();
  }

  history(jobName: string, limit: number): RunRecord[] {
    return this.records.filter((r) => r.job === jobName).slice(-limit).reverse();
  }

  active(): FakeRunnerRun[] {
    return this.runs.filter((r) => !r.finished);
  }
}

export function makeGlobal(overrides: Partial<GlobalSettings> = {}): GlobalSettings {
  return {
    localBasePath: '/data',
    exclusionRulesFile: undefined,
    redirectRcloneLogOutput: false,
    maxCpuUsagePercent: 100,
    rcloneNice: 10,
    runMissedJobs: false,
    runInitialSyncOnStartup: false,
    maxParallelJobs: 2,
    rcloneBinary: 'rclone',
    shutdownGraceSec: 30,
    dryRun: false,
    rcloneOptions: {},
    bisyncOptions: {},
    resyncOptions: {},
    jobDefaults: { ...JOB_DEFAULTS },
    alerts: DEFAULT_ALERTS,
    detailsCommand: DEFAULT_DETAILS_COMMAND,
    runConditions: NO_CONDITIONS,
    watch: DEFAULT_WATCH,
    ...overrides,
  };
}

export function makeConfig(jobs: JobConfig[], global: Partial<GlobalSettings> = {}, path = '/home/u/.config/rclone-bisync-manager/config.yaml'): Config {
  return { path, global: makeGlobal(global), jobs };
}
