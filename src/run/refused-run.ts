// The history record of a run the job lock refused: nothing ran, nothing changed, and the service retries it.
import type { JobConfig } from '../config/types.js';
import type { RunRecord, RunRequest } from './types.js';
import type { RbmError } from '../errors.js';

export function refusedRunRecord(input: { job: JobConfig; request: RunRequest; runId: number; dryRun: boolean; nowMs: number; error: RbmError }): RunRecord {
  const { job, request, runId, nowMs, error } = input;
  return {
    runId,
    job: job.name,
    operation: request.resync === true ? 'resync' : 'bisync',
    trigger: request.trigger ?? 'manual',
    dryRun: input.dryRun,
    startedMs: nowMs,
    finishedMs: nowMs,
    exitCode: null,
    signal: null,
    outcome: 'locked',
    message: `refused: ${error.message}; nothing was run`,
    hint: 'The service retries it with backoff (30 s, 1 min, … up to 30 min); rbmctl sync --standalone only reports it.',
    counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 },
    conflicts: [],
    hashWarnings: 0,
    errorText: error.message,
    tail: [],
  };
}
