// The one table of what a finished run can mean. Everything that lists outcomes derives from it: the Outcome type,
// "is ok", rbmctl's exit code and the D-Bus error name (both through src/errors.ts), the severity and whether a
// person must act. (Every run end is an info line: src/run/run-finish.ts.) Pure; imports only the error table.

import { EXIT_OK, exitCodeFor, type ErrorCode } from '../errors.js';
import type { JobActivity } from './control-api.js';

export interface OutcomeRow {
  /** What the outcome means, for readers of this table. */
  meaning: string;
  /**
   * The error code: one D-Bus error name and one rbmctl exit code (src/errors.ts). Undefined for an ok outcome,
   * which exits 0 and is no error.
   */
  error: ErrorCode | undefined;
  /**
   * When several runs end differently, the higher severity is the more serious (0: ok). Agrees with the order in
   * which worstExitCode ranks the exit codes (a test holds them together).
   */
  severity: number;
  /** Set when the job waits for a person: what the error-log line calls it (run/rules/attention.ts). */
  attention: string | undefined;
}

export const OUTCOMES = Object.freeze({
  success: { meaning: 'changes were synced', error: undefined, severity: 0, attention: undefined },
  'no-changes': { meaning: 'nothing to transfer', error: undefined, severity: 0, attention: undefined },
  conflicts: { meaning: 'synced, but conflicting copies were made: both versions kept, listed in the run record', error: undefined, severity: 0, attention: undefined },
  'needs-approval': { meaning: 'safety abort (too many deletes, all files changed): nothing deleted; waits for an approval of the list', error: 'NeedsApproval', severity: 5, attention: 'waits for your approval' },
  'needs-resync': { meaning: 'a lockout --recover could not heal: the job stops running on schedule until a resync', error: 'NeedsResync', severity: 6, attention: 'needs a resync' },
  locked: { meaning: "another rclone holds the pair's lock", error: 'AlreadyRunning', severity: 3, attention: undefined },
  retryable: { meaning: 'remote unreachable or a transient error, nothing changed: retried with backoff', error: 'Retryable', severity: 1, attention: undefined },
  failed: { meaning: 'any other error', error: 'RunFailed', severity: 7, attention: 'failed' },
  cancelled: { meaning: 'stopped by the user, a shutdown, or its run conditions (a window that ended, a metered connection: the message says which, and the run waits for them); a graceful stop, not a failure', error: 'Cancelled', severity: 2, attention: undefined },
  'dry-run': { meaning: 'nothing changed, on purpose', error: undefined, severity: 0, attention: undefined },
  'check-failed': {
    meaning: 'a side looked unmounted or emptied (or the check-access test failed): nothing ran, nothing changed; the job runs normally at its next trigger once the check passes (run/rules/side-check.ts)',
    error: 'CheckFailed',
    severity: 4,
    attention: 'waits for a side that looks unmounted or emptied',
  },
} as const satisfies Record<string, OutcomeRow>);

/** What a finished run means: one of the table's rows. */
export type Outcome = keyof typeof OUTCOMES;

/** Every outcome, in the table's order. */
export const OUTCOME_NAMES: readonly Outcome[] = Object.freeze(Object.keys(OUTCOMES) as Outcome[]);

/** `value` names an outcome (a result read back from disk or the bus). */
export function isOutcome(value: string): value is Outcome {
  return Object.hasOwn(OUTCOMES, value);
}

/** The run did what was asked (synced, nothing to do, both versions kept, or a dry run): exit 0, no error. */
export function isOkOutcome(outcome: Outcome): boolean {
  return OUTCOMES[outcome].error === undefined;
}

/**
 * A person must act: the job is parked in this outcome (a job's activity has the same names) or the run failed
 * in a way no retry cures. The one place that says so: the status line, the service log and the error log ask here.
 */
export function needsAttention(outcome: Outcome | JobActivity): boolean {
  return isOutcome(outcome) && OUTCOMES[outcome].attention !== undefined;
}

/** rbmctl's exit code for a run that ended so (sync --wait, one-shot, approve). */
export function exitCodeForOutcome(outcome: Outcome): number {
  const code = OUTCOMES[outcome].error;
  return code === undefined ? EXIT_OK : exitCodeFor(code);
}

