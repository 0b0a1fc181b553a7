// The transfer journal: `jobs/<name>/transfers.json`, the copies a run has started, by destination side. Written
// before rclone starts and each time rclone starts a batch of copies, removed when the run's outcome is settled.
// If it is still there, the run was cut short (a killed service) or its leftovers were not repaired yet.
// Atomic (temp + rename) but not fsynced: a killed process leaves the page cache intact, and power loss only loses
// a repair hint (docs/engine.md). Bounded: at most MAX_QUEUED_COPIES paths per batch.

import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Side } from '../rclone/output.js';
import type { Operation, RunRecord } from './types.js';
import { FILE_MODE } from '../state/paths.js';

export const JOURNAL_FILE = 'transfers.json';

export interface JournalBatch {
  to: Side;
  /** Destination paths relative to the pair's roots. */
  paths: string[];
  overflow: boolean;
}

export interface TransferJournal {
  version: 1;
  runId: number;
  operation: Operation;
  trigger: RunRecord['trigger'];
  startedMs: number;
  /** rclone's version (`1.60.1`): what an interruption leaves behind depends on it. */
  rcloneVersion: string;
  batches: JournalBatch[];
  /** Put the listings rclone set aside (`*.lst-err`) back once repaired (a full disk; a remote lost on 1.60). */
  restoreListings?: boolean;
}

export function journalPath(jobDir: string): string {
  return join(jobDir, JOURNAL_FILE);
}

export function writeJournal(path: string, journal: TransferJournal): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(journal), { mode: FILE_MODE });
  renameSync(tmp, path);
}

function isBatch(v: unknown): v is JournalBatch {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return (b.to === 'Path1' || b.to === 'Path2') && Array.isArray(b.paths) && b.paths.every((p) => typeof p === 'string') && typeof b.overflow === 'boolean';
}

/** The journal at `path`, undefined when there is none; an unreadable one counts as a run with unknown copies. */
export function readJournal(path: string): TransferJournal | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v.version === 1 && typeof v.runId === 'number' && typeof v.startedMs === 'number' && Array.isArray(v.batches) && v.batches.every(isBatch)) {
      return {
        version: 1,
        runId: v.runId,
        operation: v.operation === 'resync' ? 'resync' : 'bisync',
        trigger: typeof v.trigger === 'string' ? (v.trigger as RunRecord['trigger']) : 'manual',
        startedMs: v.startedMs,
        rcloneVersion: typeof v.rcloneVersion === 'string' ? v.rcloneVersion : '',
        batches: v.batches,
        restoreListings: v.restoreListings === true,
      };
    }
  } catch {
    // fall through
  }
  return { version: 1, runId: 0, operation: 'bisync', trigger: 'manual', startedMs: 0, rcloneVersion: '', batches: [] };
}

export function removeJournal(path: string): void {
  rmSync(path, { force: true });
}
