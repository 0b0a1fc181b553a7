// What the engine writes about a run that a killed service cut short, and how rclone's copy batches enter the
// transfer journal (paths made relative to the pair's roots).

import type { JobConfig } from '../config/types.js';
import { relativeToRoot } from './rules/interrupt-rules.js';
import type { CopyBatch } from '../rclone/output.js';
import { buildRunRecord } from './rules/run-record.js';
import type { RunRecord } from './types.js';
import type { JournalBatch, TransferJournal } from './transfer-journal.js';

export const INTERRUPTED_MESSAGE = 'interrupted: the service stopped while this run was in progress';

/** The history record of a run whose journal outlived the service: `cancelled`, with a message that says so. */
export function interruptedRecord(journal: TransferJournal, jobName: string, nowMs: number): RunRecord {
  const copying = journal.batches.reduce((n, b) => n + b.paths.length, 0);
  return buildRunRecord({
    runId: journal.runId,
    job: jobName,
    operation: journal.operation,
    trigger: journal.trigger,
    startedMs: journal.startedMs,
    finishedMs: nowMs,
    outcome: 'cancelled',
    message: `${INTERRUPTED_MESSAGE}${copying > 0 ? ` (${copying} file${copying === 1 ? ' was' : 's were'} queued for copying)` : ''}`,
    hint: 'Nothing to do: the next run removes what this one left half-written, then completes the sync.',
    errorText: 'interrupted',
  });
}

/** A copy batch as the journal keeps it: paths relative to the destination root (others are dropped). */
export function journalBatch(job: Pick<JobConfig, 'local' | 'path2'>, batch: CopyBatch): JournalBatch {
  const root = batch.to === 'Path1' ? job.local : job.path2;
  const paths: string[] = [];
  for (const full of batch.paths) {
    const rel = relativeToRoot(root, full);
    if (rel !== undefined) paths.push(rel);
  }
  return { to: batch.to, paths, overflow: batch.overflow || paths.length < batch.paths.length };
}
