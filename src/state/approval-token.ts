// The token that names one job's exact list of pending deletes and overwrites: sha256 over the job and the canonical
// list. Kept out of the pure rules (run/rules/approval.ts) because it needs node:crypto; state/pending-deletes.ts
// checks a stored list against it.

import { createHash } from 'node:crypto';
import { canonicalDeletes, canonicalOverwrites, type PendingApproval, type PendingOverwrite } from '../run/rules/approval.js';

/**
 * The token of a pending list: sha256 over the job name and the canonical list (NUL-separated: a path may hold
 * any other character). It identifies the exact set, whatever its size; the list itself may be handed out in pages.
 * A list without overwrites keeps the token it had before overwrites were listed (v1); with overwrites the input is
 * v2, which counts each part, so no list of one kind can pass for a list of the other.
 */
export function approvalToken(job: string, deletes: Iterable<string>, overwrites: Iterable<PendingOverwrite> = []): string {
  const paths = canonicalDeletes(deletes);
  const replaced = canonicalOverwrites(overwrites);
  if (replaced.length === 0) {
    const hash = createHash('sha256').update(`rbm-approval-v1\u0000${job}`);
    for (const path of paths) hash.update(`\u0000${path}`);
    return hash.digest('hex');
  }
  const hash = createHash('sha256').update(`rbm-approval-v2\u0000${job}\u0000${paths.length}`);
  for (const path of paths) hash.update(`\u0000${path}`);
  hash.update(`\u0000${replaced.length}`);
  for (const o of replaced) hash.update(`\u0000${o.to}\u0000${o.path}`);
  return hash.digest('hex');
}

export function pendingApprovalOf(job: string, deletes: Iterable<string>, overwrites: Iterable<PendingOverwrite> = []): PendingApproval {
  const list = canonicalDeletes(deletes);
  const replaced = canonicalOverwrites(overwrites);
  const token = approvalToken(job, list, replaced);
  // A deletes-only list keeps its old shape (pending-deletes.json, replies, tests written before overwrites).
  return replaced.length === 0 ? { token, deletes: list } : { token, deletes: list, overwrites: replaced };
}
