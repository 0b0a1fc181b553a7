// What a run result means for rbmctl's exit code (sync --wait, approve): the same table as the D-Bus errors.
import { EXIT_OK, exitCodeFor, type ErrorCode } from '../errors.js';

const RESULT_CODES: Record<string, ErrorCode | undefined> = {
  success: undefined,
  'no-changes': undefined,
  'dry-run': undefined,
  conflicts: undefined,
  failed: 'RunFailed',
  'needs-resync': 'NeedsResync',
  'needs-approval': 'NeedsApproval',
  cancelled: 'Cancelled',
  retryable: 'Retryable',
  locked: 'AlreadyRunning',
  'check-failed': 'CheckFailed',
};

/** Exit code for a run result; unknown results count as failures. */
export function exitCodeForResult(result: string): number {
  if (!Object.prototype.hasOwnProperty.call(RESULT_CODES, result)) return exitCodeFor('RunFailed');
  const code = RESULT_CODES[result];
  return code === undefined ? EXIT_OK : exitCodeFor(code);
}

