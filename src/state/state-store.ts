// Persists each job's state atomically (temp file + rename). The runner's saves skip the synchronous fsyncs and make
// the file durable with `flush` on libuv's thread pool (after the spawn, and before a run is reported); a plain
// `save` is durable on the spot.
// A missing or corrupt file is reported and replaced by a rebuilt state; reading never throws.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { initialJobState, parseJobState, rebuiltJobState } from '../run/rules/job-state.js';
import type { JobState } from '../run/types.js';
import type { Logger } from '../ports.js';
import { ensurePrivateDir, FILE_MODE, jobPaths } from './paths.js';

/**
 * How writes reach the disk. A seam: tests pass a recording one to prove that no fsync sits between a trigger and
 * rclone's spawn (each fsync costs tens of milliseconds on a busy disk, on the event loop when synchronous).
 */
export interface Durability {
  /** fsync an open file or directory descriptor on the calling thread (blocks the event loop). */
  syncFd(fd: number): void;
  /** fsync `path` and then its directory on libuv's thread pool, off the event loop. Never rejects. */
  flush(path: string): Promise<void>;
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const nodeDurability: Durability = Object.freeze({
  syncFd: (fd: number): void => fsyncSync(fd),
  async flush(path: string): Promise<void> {
    try {
      await fsyncPath(path);
      await fsyncPath(dirname(path));
    } catch {
      // replaced or removed meanwhile: whoever replaced it made its own write durable (or not) in turn
    }
  },
});

function replace(path: string, data: string, durability: Durability | undefined): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', FILE_MODE);
  try {
    writeSync(fd, data);
    durability?.syncFd(fd);
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
  if (!durability) return;
  const dfd = openSync(dirname(path), 'r');
  try {
    durability.syncFd(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** Replace `path` with `data` durably: a crash, even a power loss, leaves either the old or the new content, never a mix. */
export function writeFileAtomic(path: string, data: string, durability: Durability = nodeDurability): void {
  replace(path, data, durability);
}

/**
 * Replace `path` with `data` (temp file + rename) without fsync: a killed process leaves the old or the new content
 * (the page cache survives it), but after a power loss the file may hold either, or be empty. Only for data whose
 * loss the reader tolerates.
 */
export function replaceFileNoSync(path: string, data: string): void {
  replace(path, data, undefined);
}

export interface LoadedState {
  state: JobState;
  /** 'ok' | 'missing' (never ran) | 'rebuilt' (the file was unreadable or invalid). */
  status: 'ok' | 'missing' | 'rebuilt';
}

export interface StateStore {
  load(jobName: string): LoadedState;
  /** Durable by default; `{ durable: false }` skips the fsyncs (pair it with `flush` later). */
  save(jobName: string, state: JobState, opts?: { durable?: boolean }): void;
  /** Make the job's state file durable off the event loop. Never rejects. */
  flush(jobName: string): Promise<void>;
}

/**
 * The store keeps what it last read or wrote per job and re-reads a file only when its size or mtime changed
 * (a one-shot `rbmctl sync` may write it behind the service's back): Status and property reads ask for every
 * job's state on each call, and must not read and parse every file each time.
 */
export function createStateStore(deps: { baseDir: string; logger: Logger; durability?: Durability }): StateStore {
  const durability = deps.durability ?? nodeDurability;
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
    save(jobName: string, state: JobState, opts: { durable?: boolean } = {}): void {
      const paths = jobPaths(deps.baseDir, jobName);
      ensurePrivateDir(paths.dir);
      cache.delete(jobName);
      replace(paths.state, JSON.stringify(state, null, 2) + '\n', opts.durable === false ? undefined : durability);
      remember(jobName, paths.state, state);
    },
    flush(jobName: string): Promise<void> {
      return durability.flush(jobPaths(deps.baseDir, jobName).state);
    },
  };
}
