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
};

/** Exit code for a run result; unknown results count as failures. */
export function exitCodeForResult(result: string): number {
  if (!Object.prototype.hasOwnProperty.call(RESULT_CODES, result)) return exitCodeFor('RunFailed');
  const code = RESULT_CODES[result];
  return code === undefined ? EXIT_OK : exitCodeFor(code);
}

/** When runs end differently the most serious code wins (same order as the engine's one-shot mode). */
const SEVERITY: readonly number[] = [3, 70, 1, 6, 7, 5, 8, 75];

export function worstExitCode(codes: readonly number[]): number {
  let worst = EXIT_OK;
  let worstRank = Infinity;
  for (const code of codes) {
    if (code === EXIT_OK) continue;
    const rank = SEVERITY.indexOf(code);
    const r = rank === -1 ? SEVERITY.length : rank;
    if (r < worstRank) {
      worst = code;
      worstRank = r;
    }
  }
  return worst;
}
