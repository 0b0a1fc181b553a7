// A run the job lock refused (another process, e.g. `rbmctl sync --standalone`, holds the job): still an
// AlreadyRunning error for callers that answer at once, but carrying the record that was written to the history,
// so the service reports it (JobFinished) and retries it like a `locked` run.
import { RbmError } from '../../errors.js';
import type { RunRecord } from '../types.js';

export class RunRefusedError extends RbmError {
  readonly record: RunRecord;

  constructor(error: RbmError, record: RunRecord) {
    super('AlreadyRunning', error.message, { ...(error.hint === undefined ? {} : { hint: error.hint }), cause: error });
    this.record = record;
  }
}

/** The recorded run behind an AlreadyRunning refusal, when there is one. */
export function refusedRecordOf(error: unknown): RunRecord | undefined {
  return error instanceof RunRefusedError ? error.record : undefined;
}
