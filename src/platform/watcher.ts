// Watches the config file and the filters files for changes: one fs.watch per parent directory (editors save by
// rename, which replaces the inode), filtered by file name, reported only once the files are complete
// (file-stability.ts: a rename into place after a short settle, an in-place write after a quiet period), and
// re-armed when a directory watch fails.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Clock, Logger } from '../ports.js';
import { systemClock } from './clock.js';
import { createStabilityGate, type FileSnapshot, type TouchKind } from './file-stability.js';

export interface FileWatcher {
  /** Replace the set of watched files (absolute or relative paths). */
  setFiles(paths: readonly string[]): void;
  close(): void;
}

export interface FileWatcherOptions {
  /** Called once per burst of changes with the changed paths, when every one of them is complete. */
  onChange: (paths: string[]) => void;
  logger: Logger;
  /** Settle time after a file was renamed into place, before it is reported. Default 300 ms. */
  debounceMs?: number;
  /** How long a file written in place must stay unchanged (identity, size, mtime, sha256). Default 2 s. */
  quietMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Delay before re-arming a failed or missing directory; doubles up to 30 s. Default 1 s. */
  rearmDelayMs?: number;
}

interface DirWatch {
  dir: string;
  names: Set<string>;
  watcher: FSWatcher | undefined;
  retry: ReturnType<typeof setTimeout> | undefined;
  retryDelayMs: number;
}

const MAX_REARM_DELAY_MS = 30_000;
export const DEFAULT_QUIET_MS = 2000;

/** The file as it is now, for the stability check; undefined when it cannot be read (missing, or going away). */
export function fileSnapshot(path: string): FileSnapshot | undefined {
  try {
    const st = statSync(path);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
  } catch {
    return undefined;
  }
}

export function createFileWatcher(options: FileWatcherOptions): FileWatcher {
  const { logger } = options;
  const debounceMs = options.debounceMs ?? 300;
  const rearmDelayMs = options.rearmDelayMs ?? 1000;
  const dirs = new Map<string, DirWatch>();
  let closed = false;
  const gate = createStabilityGate({
    clock: options.clock ?? systemClock,
    snapshot: fileSnapshot,
    quietMs: options.quietMs ?? DEFAULT_QUIET_MS,
    settleMs: debounceMs,
    onReady: (paths) => {
      if (closed || paths.length === 0) return;
      try {
        options.onChange(paths);
      } catch (e: unknown) {
        logger.error('file change handler failed', { error: e instanceof Error ? e.message : String(e) });
      }
    },
  });

  /** An event we cannot attribute (no name, a re-armed directory) is treated as an in-place write: wait for quiet. */
  function report(paths: Iterable<string>, kind: TouchKind = 'change'): void {
    for (const p of paths) gate.touched(p, kind);
  }

  function filesOf(d: DirWatch): string[] {
    return [...d.names].map((n) => resolve(d.dir, n));
  }

  function scheduleRearm(d: DirWatch): void {
    if (closed || d.retry !== undefined) return;
    d.retry = setTimeout(() => {
      d.retry = undefined;
      if (dirs.get(d.dir) !== d) return;
      if (arm(d)) report(filesOf(d)); // changes may have happened while unwatched
    }, d.retryDelayMs);
    d.retryDelayMs = Math.min(d.retryDelayMs * 2, MAX_REARM_DELAY_MS);
  }

  function arm(d: DirWatch): boolean {
    try {
      const w = watch(d.dir, (event, filename) => {
        const name = filename === null ? null : String(filename);
        if (name === null) report(filesOf(d));
        else if (d.names.has(name)) report([resolve(d.dir, name)], event === 'rename' ? 'rename' : 'change');
      });
      w.on('error', (e: unknown) => {
        logger.warn('directory watch failed; re-arming', { dir: d.dir, error: e instanceof Error ? e.message : String(e) });
        w.close();
        if (d.watcher === w) d.watcher = undefined;
        scheduleRearm(d);
      });
      d.watcher = w;
      d.retryDelayMs = rearmDelayMs;
      return true;
    } catch (e: unknown) {
      logger.warn('cannot watch directory; will retry', { dir: d.dir, error: e instanceof Error ? e.message : String(e) });
      scheduleRearm(d);
      return false;
    }
  }

  function release(d: DirWatch): void {
    d.watcher?.close();
    d.watcher = undefined;
    if (d.retry !== undefined) clearTimeout(d.retry);
    d.retry = undefined;
  }

  return {
    setFiles(paths) {
      if (closed) return;
      const wanted = new Map<string, Set<string>>();
      for (const p of paths) {
        const abs = resolve(p);
        const dir = dirname(abs);
        const names = wanted.get(dir) ?? new Set<string>();
        names.add(basename(abs));
        wanted.set(dir, names);
      }
      for (const [dir, d] of dirs) {
        if (!wanted.has(dir)) {
          release(d);
          dirs.delete(dir);
        }
      }
      for (const [dir, names] of wanted) {
        const existing = dirs.get(dir);
        if (existing) {
          existing.names = names;
          continue;
        }
        const d: DirWatch = { dir, names, watcher: undefined, retry: undefined, retryDelayMs: rearmDelayMs };
        dirs.set(dir, d);
        arm(d);
      }
    },
    close() {
      closed = true;
      for (const d of dirs.values()) release(d);
      dirs.clear();
      gate.close();
    },
  };
}
