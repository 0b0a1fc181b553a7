// Approvals bound to what the user was shown (pure). A safety abort parks the job with the exact list of deletes
// a forced run would make, identified by a token; an approval names that token, and the approved run proceeds
// with --force only when every delete it would now make is in the approved list.

import type { RcloneMessage } from '../../rclone/output.js';

/** At most this many pending deletes are kept in state.json (the full list lives beside it, see state/pending-deletes.ts). */
export const STATE_PENDING_CAP = 1000;
/** Paths named in a "the list changed" message. */
const CHANGE_EXAMPLES = 5;

/** What a parked job waits for: the full list of deletes and the token that identifies it. */
export interface PendingApproval {
  /** '' when nothing waits for approval. */
  token: string;
  /** Full paths as rclone printed them, sorted, without duplicates. */
  deletes: string[];
}

/** The list in one canonical order (sorted, no duplicates), so the same set always gives the same token. */
export function canonicalDeletes(deletes: Iterable<string>): string[] {
  return [...new Set(deletes)].sort();
}

/** Computes the token of a list (state/approval-token.ts: sha256, which the pure rules do not import). */
export type ApprovalTokenOf = (job: string, deletes: Iterable<string>) => string;

export type ApprovalVerdict =
  /** Every delete the run would make was shown and approved: run it with --force. */
  | { kind: 'proceed' }
  /** The approval does not cover this run: park again with the new list. `added` were never shown. */
  | { kind: 'park'; reason: 'changed' | 'stale-token'; added: string[]; message: string };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function examples(paths: readonly string[]): string {
  const shown = paths.slice(0, CHANGE_EXAMPLES).join(', ');
  return paths.length > CHANGE_EXAMPLES ? `${shown}, … (${paths.length - CHANGE_EXAMPLES} more)` : shown;
}

/**
 * Decide an approved run after rclone's preview (`--dry-run --force`) listed `wouldDelete`.
 * `approved` is the stored list the token was handed out with, undefined when no list with that token exists
 * any more (a scheduled run replaced it meanwhile). `tokenOf` re-derives the stored list's token, so a damaged list never proceeds.
 */
export function judgeApprovedRun(
  job: string,
  token: string,
  approved: PendingApproval | undefined,
  wouldDelete: readonly string[],
  tokenOf: ApprovalTokenOf,
): ApprovalVerdict {
  const fresh = canonicalDeletes(wouldDelete);
  if (approved === undefined || approved.token !== token || tokenOf(job, approved.deletes) !== token) {
    return {
      kind: 'park',
      reason: 'stale-token',
      added: fresh,
      message: `the approved list is no longer the pending one (it was replaced); nothing was deleted, ${plural(fresh.length, 'delete')} now wait for a new approval`,
    };
  }
  const allowed = new Set(approved.deletes);
  const added = fresh.filter((path) => !allowed.has(path));
  if (added.length === 0) return { kind: 'proceed' };
  return {
    kind: 'park',
    reason: 'changed',
    added,
    message: `the deletes changed since the approval: ${plural(added.length, 'new delete')} not in the ${plural(approved.deletes.length, 'approved path')} (${examples(added)}); nothing was deleted, ${plural(fresh.length, 'delete')} now wait for a new approval`,
  };
}

/** The path of a `Queue delete - <full path>` line (rclone's plan of one delete), undefined for other lines. */
export function queuedDeleteOf(message: RcloneMessage): string | undefined {
  if (message.stats) return undefined;
  const match = /^-\s+(?:Path1|Path2)?\s*Queue delete\s+- (.*)$/.exec(message.text.split('\n', 1)[0]?.trim() ?? '');
  return match?.[1];
}

/** The first STATE_PENDING_CAP paths, for state.json and the job status. */
export function statePendingList(deletes: readonly string[]): string[] {
  return deletes.slice(0, STATE_PENDING_CAP);
}
