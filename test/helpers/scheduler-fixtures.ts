// Builders for scheduler and service unit tests: complete JobConfig/JobState values and a controllable fake run.
import type { JobConfig } from '../../src/config/types.js';
import type { JobState, RunRecord, RunRequest } from '../../src/run/types.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import { makeJob as makeJobConfig } from './job.js';

export function makeJob(name: string, overrides: Partial<JobConfig> = {}): JobConfig {
  return makeJobConfig({ name, local: `/data/${name}`, rcloneRemote: 'remote', remote: name, path2: `remote:${name}`, schedule: '0 * * * *', ...overrides });
}

export function makeState(overrides: Partial<JobState> = {}): JobState {
  return { ...initialJobState(), resyncDone: true, ...overrides };
}

export function makeRecord(job: string, runId: number, request: RunRequest, at: number, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    job,
    operation: request.resync === true ? 'resync' : 'bisync',
    trigger: request.trigger ?? 'manual',
    dryRun: request.dryRun === true,
    startedMs: at,
    finishedMs: at,
    exitCode: 0,
    signal: null,
    outcome: 'success',
    message: 'synced',
    hint: '',
    counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 },
    conflicts: [],
    hashWarnings: 0,
    errorText: '',
    tail: [],
    ...overrides,
  };
}

/** Lets a test decide when a promise settles. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (e: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let queued promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
