// rclone's own lock, `<workdir>/<session>.lck` (1.60: a plain PID; 1.66+: JSON with "PID"). rclone never
// checks that the PID is alive, so a killed run blocks the pair forever; a lock whose PID is dead and not
// ours is removed. The workdir is private to one job, so every .lck in it belongs to that job.

import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../ports.js';
import { pidAlive } from '../platform/process-info.js';

/** The PID in a lock file's text, undefined when unreadable. */
export function lockPid(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === 'object' && parsed !== null) {
      const pid = (parsed as Record<string, unknown>).PID;
      const n = typeof pid === 'string' ? Number(pid) : typeof pid === 'number' ? pid : NaN;
      if (Number.isInteger(n) && n > 0) return n;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

export interface StaleLockResult {
  removed: string[];
  /** Locks whose process is alive (or ours): left alone. */
  held: { path: string; pid: number | undefined }[];
}

/** Remove stale rclone locks in `workdir` (and `extra`, a lock path rclone printed). */
export function removeStaleRcloneLocks(workdir: string, logger: Logger, extra?: string): StaleLockResult {
  const result: StaleLockResult = { removed: [], held: [] };
  let names: string[] = [];
  try {
    names = readdirSync(workdir).filter((name) => name.endsWith('.lck'));
  } catch {
    // no workdir yet
  }
  const paths = new Set(names.map((name) => join(workdir, name)));
  if (extra !== undefined && extra.startsWith(workdir + '/') && extra.endsWith('.lck')) paths.add(extra);
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const pid = lockPid(text);
    if (pid !== undefined && (pid === process.pid || pidAlive(pid))) {
      result.held.push({ path, pid });
      continue;
    }
    // Unreadable locks count as stale only when empty or garbage from a crash: rclone writes them in one go.
    try {
      unlinkSync(path);
      result.removed.push(path);
      logger.warn('removed a stale rclone lock file', { path, pid });
    } catch {
      // gone already
    }
  }
  return result;
}
