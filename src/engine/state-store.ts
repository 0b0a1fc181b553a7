// Persists each job's state atomically (write temp, fsync, rename, fsync dir). A missing or corrupt file is
// reported and replaced by a rebuilt state; reading never throws.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
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

export function createStateStore(deps: { baseDir: string; logger: Logger }): StateStore {
  return {
    load(jobName: string): LoadedState {
      const path = jobPaths(deps.baseDir, jobName).state;
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
      if (state) return { state, status: 'ok' };
      deps.logger.error('job state file is corrupt; rebuilding it', { job: jobName, path });
      return { state: rebuiltJobState(), status: 'rebuilt' };
    },
    save(jobName: string, state: JobState): void {
      const paths = jobPaths(deps.baseDir, jobName);
      ensurePrivateDir(paths.dir);
      writeFileAtomic(paths.state, JSON.stringify(state, null, 2) + '\n');
    },
  };
}
