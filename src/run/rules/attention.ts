// Which finished runs need the user, and the words of their run-end line: the job, what happened and what to do (the
// hint with the job's name filled in). Pure: the runner logs what this returns at info; the one warning/error line
// per problem (error.log, `journalctl -p warning`) is the alerts', decided by the job's health (failures_before_alert).

import type { Outcome, RunRecord } from '../types.js';
import { renderHint } from '../../api/hints.js';
import { OUTCOMES } from '../../api/outcomes.js';

export interface AttentionLine {
  message: string;
  /** `error` is rclone's own line ('' on a refusal without one), for the details the message sums up. */
  meta: { outcome: Outcome; consecutiveFailures: number; error: string };
}

function line(record: RunRecord, what: string, consecutiveFailures: number): AttentionLine {
  const hint = renderHint(record.hint, record.job);
  const todo = hint === '' ? 'see rbmctl history ' + record.job : hint;
  const happened = record.message.replace(/\.+$/, '');
  return {
    message: `job ${record.job} ${what}: ${happened}. What to do: ${todo}`,
    meta: { outcome: record.outcome, consecutiveFailures, error: record.errorText },
  };
}

/**
 * The run-end line of a finished run that needs a person, or undefined when it needs no one. `consecutiveFailures`
 * is the job's count after this run (0 for a dry run, which changes no state). Retried failures (retryable, locked)
 * need no one on their own: the job's health turns failing after failures_before_alert of them (src/api/health.ts).
 */
export function attentionLine(record: RunRecord, consecutiveFailures: number): AttentionLine | undefined {
  if (record.dryRun) return undefined;
  // The table says which outcomes need a person and what the line calls them; others are no error on their own.
  const what = OUTCOMES[record.outcome].attention;
  if (what === undefined) return undefined;
  const again = record.outcome === 'failed' && consecutiveFailures > 1 ? ` (${consecutiveFailures} times in a row)` : '';
  return line(record, what + again, consecutiveFailures);
}
