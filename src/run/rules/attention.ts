// Which finished runs need the user, and the one error-log line that tells them: the job, what happened and
// what to do (the hint with the job's name filled in). Pure: the runner logs what this returns.

import { renderHint } from '../../api/hints.js';
import type { Outcome, RunRecord } from '../types.js';

/** A job that failed this many times in a row is reported once, even when each failure is retried on its own. */
export const REPEATED_FAILURE_THRESHOLD = 3;

/**
 * Outcomes that stop the job until the user acts, with what the line calls them. Outcomes missing here
 * (success, retries, cancelled, …) are not errors on their own; a retried failure is reported when it repeats.
 */
export const ATTENTION_OUTCOMES: Readonly<Partial<Record<Outcome, string>>> = Object.freeze({
  'needs-approval': 'waits for your approval',
  'needs-resync': 'needs a resync',
  'check-failed': 'waits for a side that looks unmounted or emptied',
  failed: 'failed',
});

export interface AttentionLine {
  message: string;
  /** `error` is rclone's own line ('' on a refusal without one), for the details the message sums up. */
  meta: { outcome: Outcome; consecutiveFailures: number; error: string };
}

/** The hint as the user types it: `rbmctl sync JOB` becomes `rbmctl sync photos`. */
export function hintForJob(hint: string, job: string): string {
  return renderHint(hint, job);
}

function line(record: RunRecord, what: string, consecutiveFailures: number): AttentionLine {
  const hint = hintForJob(record.hint, record.job);
  const todo = hint === '' ? 'see rbmctl history ' + record.job : hint;
  const happened = record.message.replace(/\.+$/, '');
  return {
    message: `job ${record.job} ${what}: ${happened}. What to do: ${todo}`,
    meta: { outcome: record.outcome, consecutiveFailures, error: record.errorText },
  };
}

/**
 * The error-log line for a finished run, or undefined when it needs no one. `consecutiveFailures` is the job's
 * count after this run (0 for a dry run, which changes no state).
 */
export function attentionLine(record: RunRecord, consecutiveFailures: number): AttentionLine | undefined {
  if (record.dryRun) return undefined;
  const what = ATTENTION_OUTCOMES[record.outcome];
  if (what !== undefined) {
    const again = record.outcome === 'failed' && consecutiveFailures >= REPEATED_FAILURE_THRESHOLD ? ` (${consecutiveFailures} times in a row)` : '';
    return line(record, what + again, consecutiveFailures);
  }
  if ((record.outcome === 'retryable' || record.outcome === 'locked') && consecutiveFailures === REPEATED_FAILURE_THRESHOLD) {
    return line(record, `failed ${consecutiveFailures} times in a row (each retried automatically)`, consecutiveFailures);
  }
  return undefined;
}
