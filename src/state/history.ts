// Per-job run history: one JSON line per run in jobs/<name>/history.jsonl, bounded to the last
// HISTORY_KEEP records (rewritten atomically once it holds twice that many).

import { renderHint } from '../api/hints.js';
import { appendFileSync, readFileSync } from 'node:fs';
import type { RunRecord } from '../run/types.js';
import type { Logger } from '../ports.js';
import { ensurePrivateDir, FILE_MODE, jobPaths } from './paths.js';
import { nodeDurability, writeFileAtomic, type Durability } from './state-store.js';

export const HISTORY_KEEP = 500;

export interface HistoryStore {
  append(record: RunRecord): void;
  /** The last `limit` records, newest first. Unreadable lines are skipped. */
  read(jobName: string, limit: number): RunRecord[];
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '');
  } catch {
    return [];
  }
}

function isRecord(value: unknown): value is RunRecord {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.runId === 'number' && typeof v.job === 'string' && typeof v.outcome === 'string';
}

export function createHistoryStore(deps: { baseDir: string; logger: Logger; keep?: number; durability?: Durability }): HistoryStore {
  const keep = deps.keep ?? HISTORY_KEEP;
  const durability = deps.durability ?? nodeDurability;
  const lineCounts = new Map<string, number>();
  return {
    append(record: RunRecord): void {
      const paths = jobPaths(deps.baseDir, record.job);
      ensurePrivateDir(paths.dir);
      let count = lineCounts.get(record.job) ?? readLines(paths.history).length;
      appendFileSync(paths.history, JSON.stringify(record) + '\n', { mode: FILE_MODE });
      count += 1;
      if (count > 2 * keep) {
        const lines = readLines(paths.history).slice(-keep);
        writeFileAtomic(paths.history, lines.join('\n') + '\n', durability);
        count = lines.length;
        deps.logger.debug('history rotated', { job: record.job, kept: count });
      }
      lineCounts.set(record.job, count);
    },
    read(jobName: string, limit: number): RunRecord[] {
      const lines = readLines(jobPaths(deps.baseDir, jobName).history);
      const out: RunRecord[] = [];
      for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
        try {
          const parsed: unknown = JSON.parse(lines[i] ?? '');
          // Records written before hints were rendered when built still say JOB: render them on the way out.
          if (isRecord(parsed)) out.push({ ...parsed, hint: typeof parsed.hint === 'string' ? renderHint(parsed.hint, parsed.job) : '' });
        } catch {
          // a torn last line after a crash: skip it
        }
      }
      return out;
    },
  };
}
