// The history record of a run the job lock refused: nothing ran, nothing changed, and the service retries it.
import type { JobConfig } from '../config/types.js';
import { buildRunRecord } from './rules/run-record.js';
import type { RunRecord, RunRequest } from './types.js';
import type { RbmError } from '../errors.js';

export function refusedRunRecord(input: { job: JobConfig; request: RunRequest; runId: number; dryRun: boolean; nowMs: number; error: RbmError }): RunRecord {
  const { job, request, runId, nowMs, error } = input;
  return buildRunRecord({
    runId,
    job: job.name,
    operation: request.resync === true ? 'resync' : 'bisync',
    trigger: request.trigger,
    dryRun: input.dryRun,
    startedMs: nowMs,
    outcome: 'locked',
    message: `refused: ${error.message}; nothing was run`,
    hint: 'The service retries it with backoff (30 s, 1 min, … up to 30 min); rbmctl sync --standalone only reports it.',
    errorText: error.message,
  });
}
