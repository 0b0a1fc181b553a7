// Watches the config file and the filters files for changes: one fs.watch per parent directory (editors save by
// rename, which replaces the inode), filtered by file name, debounced, and re-armed when a directory watch fails.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../ports.js';

export interface FileWatcher {
  /** Replace the set of watched files (absolute or relative paths). */
  setFiles(paths: readonly string[]): void;
  close(): void;
}

export interface FileWatcherOptions {
  /** Called once per burst of changes with the changed paths (debounced). */
  onChange: (paths: string[]) => void;
  logger: Logger;
  /** Quiet time before a burst is reported. Default 300 ms. */
  debounceMs?: number;
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

export function createFileWatcher(options: FileWatcherOptions): FileWatcher {
  const { logger } = options;
  const debounceMs = options.debounceMs ?? 300;
  const rearmDelayMs = options.rearmDelayMs ?? 1000;
  const dirs = new Map<string, DirWatch>();
  const changed = new Set<string>();
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function report(paths: Iterable<string>): void {
    for (const p of paths) changed.add(p);
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      const paths = [...changed];
      changed.clear();
      if (closed || paths.length === 0) return;
      try {
        options.onChange(paths);
      } catch (e: unknown) {
        logger.error('file change handler failed', { error: e instanceof Error ? e.message : String(e) });
      }
    }, debounceMs);
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
      const w = watch(d.dir, (_event, filename) => {
        const name = filename === null ? null : String(filename);
        if (name === null) report(filesOf(d));
        else if (d.names.has(name)) report([resolve(d.dir, name)]);
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
      if (debounce !== undefined) clearTimeout(debounce);
      debounce = undefined;
    },
  };
}
