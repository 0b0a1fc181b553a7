// The full list a parked job waits on, beside its state: jobs/<job>/pending-deletes.json = { token, deletes,
// overwrites? } (overwrites: [{ to, path }], absent when there are none).
// state.json keeps only the first paths and the token, so a safety abort of 100,000 deletes does not make every
// state read (Status, properties) parse megabytes. Written atomically; an unreadable file means "no list".

import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { approvalToken } from './approval-token.js';
import type { PendingApproval, PendingOverwrite } from '../run/rules/approval.js';
import type { Logger } from '../ports.js';
import { jobPaths } from './paths.js';
import { replaceFileNoSync } from './state-store.js';

export function pendingDeletesPath(baseDir: string, jobName: string): string {
  return join(jobPaths(baseDir, jobName).dir, 'pending-deletes.json');
}

/**
 * Store the list atomically and return its path. Not fsynced here (no synchronous fsync on the event loop): the
 * caller flushes it on the thread pool before the state that names its token is made durable.
 */
export function savePendingDeletes(baseDir: string, jobName: string, pending: PendingApproval): string {
  const path = pendingDeletesPath(baseDir, jobName);
  replaceFileNoSync(path, JSON.stringify(pending) + '\n');
  return path;
}

/** The stored list, undefined when there is none or it does not match its own token (damaged). */
export function loadPendingDeletes(baseDir: string, jobName: string, logger?: Logger): PendingApproval | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(pendingDeletesPath(baseDir, jobName), 'utf8'));
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') logger?.warn('the pending deletes file is unreadable', { job: jobName, error: String(e) });
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { token, deletes, overwrites } = parsed as Record<string, unknown>;
  if (typeof token !== 'string' || !Array.isArray(deletes) || !deletes.every((d): d is string => typeof d === 'string')) return undefined;
  const replaced = overwrites === undefined ? [] : overwrites;
  if (!Array.isArray(replaced) || !replaced.every(isOverwrite)) return undefined;
  if (approvalToken(jobName, deletes, replaced) !== token) {
    logger?.warn('the pending deletes file does not match its token; it is ignored', { job: jobName });
    return undefined;
  }
  return replaced.length === 0 ? { token, deletes } : { token, deletes, overwrites: replaced.map((o) => ({ to: o.to, path: o.path })) };
}

function isOverwrite(v: unknown): v is PendingOverwrite {
  const o = v as Partial<PendingOverwrite> | null;
  return typeof o === 'object' && o !== null && (o.to === 'Path1' || o.to === 'Path2') && typeof o.path === 'string';
}

export function removePendingDeletes(baseDir: string, jobName: string): void {
  try {
    unlinkSync(pendingDeletesPath(baseDir, jobName));
  } catch {
    // none
  }
}
