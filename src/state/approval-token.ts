// The token that names one job's exact list of pending deletes: sha256 over the job and the canonical list.
// Kept out of the pure rules (run/rules/approval.ts) because it needs node:crypto; state/pending-deletes.ts checks a
// stored list against it.

import { createHash } from 'node:crypto';
import { canonicalDeletes, type PendingApproval } from '../run/rules/approval.js';

/**
 * The token of a pending list: sha256 over the job name and the canonical list (NUL-separated: a path may hold
 * any other character). It identifies the exact set, whatever its size; the list itself may be handed out in pages.
 */
export function approvalToken(job: string, deletes: Iterable<string>): string {
  const hash = createHash('sha256').update(`rbm-approval-v1\u0000${job}`);
  for (const path of canonicalDeletes(deletes)) hash.update(`\u0000${path}`);
  return hash.digest('hex');
}

export function pendingApprovalOf(job: string, deletes: Iterable<string>): PendingApproval {
  const list = canonicalDeletes(deletes);
  return { token: approvalToken(job, list), deletes: list };
}
