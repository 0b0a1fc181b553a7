// Approvals bound to what the user was shown (pure). A safety abort parks the job with the exact list of deletes
// and overwrites a forced run would make, identified by a token; an approval names that token, and the approved run
// proceeds with --force only when every delete and every overwrite it would now make is in the approved list.

import { parseDeltaLine, type RcloneMessage, type Side } from '../../rclone/output.js';

/** At most this many pending deletes are kept in state.json (the full list lives beside it, see state/pending-deletes.ts). */
export const STATE_PENDING_CAP = 1000;
/** Paths named in a "the list changed" message. */
const CHANGE_EXAMPLES = 5;

/** A copy the forced run would make over a file the destination holds now: the side it goes to, the full path. */
export interface PendingOverwrite {
  to: Side;
  /** Full destination path as rclone printed it (`<root>/<relative path>`). */
  path: string;
}

/** What a parked job waits for: the full list of deletes and overwrites and the token that identifies it. */
export interface PendingApproval {
  /** '' when nothing waits for approval. */
  token: string;
  /** Full paths as rclone printed them, sorted, without duplicates. */
  deletes: string[];
  /** Canonical order (canonicalOverwrites). Absent in lists stored before overwrites were listed: none approved. */
  overwrites?: PendingOverwrite[];
}

/** The list in one canonical order (sorted, no duplicates), so the same set always gives the same token. */
export function canonicalDeletes(deletes: Iterable<string>): string[] {
  return [...new Set(deletes)].sort();
}

/** One key per overwrite: the direction and the path (a path never holds NUL). */
export function overwriteKey(o: PendingOverwrite): string {
  return `${o.path}\u0000${o.to}`;
}

/** Overwrites in one canonical order (by path, then direction; no duplicates). */
export function canonicalOverwrites(overwrites: Iterable<PendingOverwrite>): PendingOverwrite[] {
  const byKey = new Map<string, PendingOverwrite>();
  for (const o of overwrites) byKey.set(overwriteKey(o), { to: o.to, path: o.path });
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
}

/** Computes the token of a list (state/approval-token.ts: sha256, which the pure rules do not import). */
export type ApprovalTokenOf = (job: string, deletes: Iterable<string>, overwrites?: Iterable<PendingOverwrite>) => string;

export type ApprovalVerdict =
  /** Every delete the run would make was shown and approved: run it with --force. */
  | { kind: 'proceed' }
  /** The approval does not cover this run: park again with the new list. `added`/`addedOverwrites` were never shown. */
  | { kind: 'park'; reason: 'changed' | 'stale-token'; added: string[]; addedOverwrites: PendingOverwrite[]; message: string };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function examples(paths: readonly string[]): string {
  const shown = paths.slice(0, CHANGE_EXAMPLES).join(', ');
  return paths.length > CHANGE_EXAMPLES ? `${shown}, … (${paths.length - CHANGE_EXAMPLES} more)` : shown;
}

/** `N deletes` or, when overwrites are involved, `N deletes and M overwrites`. */
function changesText(deletes: number, overwrites: number, involved: boolean): string {
  return involved ? `${plural(deletes, 'delete')} and ${plural(overwrites, 'overwrite')}` : plural(deletes, 'delete');
}

/** `to Path2: /r/a` for the examples of a message. */
export function describeOverwrite(o: PendingOverwrite): string {
  return `to ${o.to}: ${o.path}`;
}

/**
 * Decide an approved run after rclone's preview (`--dry-run --force`) listed `wouldDelete` and `wouldOverwrite`.
 * `approved` is the stored list the token was handed out with, undefined when no list with that token exists
 * any more (a scheduled run replaced it meanwhile). `tokenOf` re-derives the stored list's token, so a damaged list never proceeds.
 */
export function judgeApprovedRun(
  job: string,
  token: string,
  approved: PendingApproval | undefined,
  wouldDelete: readonly string[],
  tokenOf: ApprovalTokenOf,
  wouldOverwrite: readonly PendingOverwrite[] = [],
): ApprovalVerdict {
  const fresh = canonicalDeletes(wouldDelete);
  const freshOverwrites = canonicalOverwrites(wouldOverwrite);
  const approvedOverwrites = approved?.overwrites ?? [];
  const involved = freshOverwrites.length > 0 || approvedOverwrites.length > 0;
  const waiting = changesText(fresh.length, freshOverwrites.length, involved);
  const nothing = involved ? 'nothing was deleted or overwritten' : 'nothing was deleted';
  if (approved === undefined || approved.token !== token || tokenOf(job, approved.deletes, approvedOverwrites) !== token) {
    return {
      kind: 'park',
      reason: 'stale-token',
      added: fresh,
      addedOverwrites: freshOverwrites,
      message: `the approved list is no longer the pending one (it was replaced); ${nothing}, ${waiting} now wait for a new approval`,
    };
  }
  const allowed = new Set(approved.deletes);
  const added = fresh.filter((path) => !allowed.has(path));
  const allowedOverwrites = new Set(approvedOverwrites.map(overwriteKey));
  const addedOverwrites = freshOverwrites.filter((o) => !allowedOverwrites.has(overwriteKey(o)));
  if (added.length === 0 && addedOverwrites.length === 0) return { kind: 'proceed' };
  if (!involved) {
    return {
      kind: 'park',
      reason: 'changed',
      added,
      addedOverwrites,
      message: `the deletes changed since the approval: ${plural(added.length, 'new delete')} not in the ${plural(approved.deletes.length, 'approved path')} (${examples(added)}); nothing was deleted, ${waiting} now wait for a new approval`,
    };
  }
  const news = [...added, ...addedOverwrites.map(describeOverwrite)];
  const approvedCount = approved.deletes.length + approvedOverwrites.length;
  return {
    kind: 'park',
    reason: 'changed',
    added,
    addedOverwrites,
    message: `the changes differ from the approval: ${plural(added.length, 'new delete')} and ${plural(addedOverwrites.length, 'new overwrite')} not in the ${plural(approvedCount, 'approved change')} (${examples(news)}); ${nothing}, ${waiting} now wait for a new approval`,
  };
}

/** The path of a `Queue delete - <full path>` line (rclone's plan of one delete), undefined for other lines. */
export function queuedDeleteOf(message: RcloneMessage): string | undefined {
  if (message.stats) return undefined;
  const delta = parseDeltaLine(message.text.split('\n', 1)[0]?.trim() ?? '');
  return delta?.action === 'Queue delete' ? delta.subject : undefined;
}

/** The first STATE_PENDING_CAP entries (paths or overwrites), for state.json and the job status. */
export function statePendingList<T>(entries: readonly T[]): T[] {
  return entries.slice(0, STATE_PENDING_CAP);
}

/** `approved (19 deletes)`, or with overwrites `approved (2 deletes, 11 overwrites)`: the record's note. */
export function approvedNote(deletes: number, overwrites: number): string {
  return overwrites === 0 ? `approved (${plural(deletes, 'delete')})` : `approved (${plural(deletes, 'delete')}, ${plural(overwrites, 'overwrite')})`;
}
