// Persists each job's state atomically (write temp, fsync, rename, fsync dir). A missing or corrupt file is
// reported and replaced by a rebuilt state; reading never throws.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { initialJobState, parseJobState, rebuiltJobState } from '../core/job-state.js';
import type { JobState } from '../core/types.js';
import type { Logger } from '../ports.js';
import { ensurePrivateDir, FILE_MODE, jobPaths } from './paths.js';

/** Replace `path` with `data` so that a crash leaves either the old or the new content, never a mix. */
export function writeFileAtomic(path: string, data: string): void {
  const dir = dirname(path);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', FILE_MODE);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e: unknown) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export interface LoadedState {
  state: JobState;
  /** 'ok' | 'missing' (never ran) | 'rebuilt' (the file was unreadable or invalid). */
  status: 'ok' | 'missing' | 'rebuilt';
}

export interface StateStore {
  load(jobName: string): LoadedState;
  save(jobName: string, state: JobState): void;
}

/**
 * The store keeps what it last read or wrote per job and re-reads a file only when its size or mtime changed
 * (a one-shot `rbmctl sync` may write it behind the service's back): Status and property reads ask for every
 * job's state on each call, and must not read and parse every file each time.
 */
export function createStateStore(deps: { baseDir: string; logger: Logger }): StateStore {
  const cache = new Map<string, { mtimeMs: number; size: number; state: JobState }>();
  const copy = (state: JobState): JobState => ({ ...state, pendingDeletes: [...state.pendingDeletes] });
  const remember = (jobName: string, path: string, state: JobState): void => {
    try {
      const { mtimeMs, size } = statSync(path);
      cache.set(jobName, { mtimeMs, size, state: copy(state) });
    } catch {
      cache.delete(jobName);
    }
  };

  return {
    load(jobName: string): LoadedState {
      const path = jobPaths(deps.baseDir, jobName).state;
      const cached = cache.get(jobName);
      if (cached) {
        try {
          const { mtimeMs, size } = statSync(path);
          if (mtimeMs === cached.mtimeMs && size === cached.size) return { state: copy(cached.state), status: 'ok' };
        } catch {
          // gone or unreadable: read it below and report as before
        }
        cache.delete(jobName);
      }
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: initialJobState(), status: 'missing' };
        deps.logger.error('job state file is unreadable; rebuilding it', { job: jobName, path, error: String(e) });
        return { state: rebuiltJobState(), status: 'rebuilt' };
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const state = parseJobState(parsed);
      if (state) {
        remember(jobName, path, state);
        return { state, status: 'ok' };
      }
      deps.logger.error('job state file is corrupt; rebuilding it', { job: jobName, path });
      return { state: rebuiltJobState(), status: 'rebuilt' };
    },
    save(jobName: string, state: JobState): void {
      const paths = jobPaths(deps.baseDir, jobName);
      ensurePrivateDir(paths.dir);
      cache.delete(jobName);
      writeFileAtomic(paths.state, JSON.stringify(state, null, 2) + '\n');
      remember(jobName, paths.state, state);
    },
  };
}
