// What a run result means for rbmctl's exit code (sync --wait, approve): the outcome table's exit code.
import { exitCodeFor } from '../errors.js';
import { exitCodeForOutcome, isOutcome } from '../api/outcomes.js';

/** Exit code for a run result as the bus reports it; an unknown result counts as a failure. */
export function exitCodeForResult(result: string): number {
  return isOutcome(result) ? exitCodeForOutcome(result) : exitCodeFor('RunFailed');
}
