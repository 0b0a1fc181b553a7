// Lock files shared across processes (service and one-shot): created exclusively, holding our PID and process start
// time; a lock whose process is gone (or whose PID was reused) is stale. jobs/<name>/lock keeps one run per job.

import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { RbmError } from '../errors.js';
import type { LogMeta, Logger } from '../ports.js';
import { FILE_MODE } from './paths.js';
import { pidAlive, processStartTime } from '../platform/process-info.js';

export interface JobLock {
  release(): void;
}

interface LockContent {
  pid: number;
  start: string;
  acquiredMs: number;
}

function parseLock(text: string): LockContent | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as LockContent).pid === 'number') return parsed as LockContent;
  } catch {
    // unreadable: treated as stale
  }
  return undefined;
}

/** The lock file's text, undefined when it is gone (released meanwhile). */
function readLockText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLock(path: string): LockContent | undefined {
  const text = readLockText(path);
  return text === undefined ? undefined : parseLock(text);
}

/**
 * Lock files this process holds right now. A lock file naming this process that is not among them is a leftover: its
 * release could not remove it (the directory was read-only or immutable at that moment). Without this, our own live
 * PID would hold the job's lock forever once the directory is writable again.
 */
const heldHere = new Set<string>();

function holderAlive(holder: LockContent | undefined): boolean {
  if (!holder || !pidAlive(holder.pid)) return false;
  const start = processStartTime(holder.pid);
  return holder.start === '' || start === '' || start === holder.start;
}

/**
 * Try once (plus stale take-overs) to create the lock file `path` exclusively. Returns the lock, or the PID of the live
 * process that holds it. `label` and `meta` name the lock in the stale-lock warning.
 */
export function tryLockFile(path: string, label: string, meta: LogMeta, logger: Logger, nowMs: number): JobLock | { heldBy: number | undefined } {
  const content: LockContent = { pid: process.pid, start: processStartTime(process.pid), acquiredMs: nowMs };
  // The lock appears with its content in one step (link of a complete temp file, which fails if the lock exists):
  // an O_EXCL file written afterwards would be empty for a moment, and a contender would take it for stale.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(content), { mode: FILE_MODE });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path);
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const text = readLockText(path);
        if (text === undefined) continue; // released meanwhile: never unlink what is there now, it may be a new holder's
        const holder = parseLock(text);
        const leftoverOfOurs = holder?.pid === process.pid && !heldHere.has(path);
        if (holderAlive(holder) && !leftoverOfOurs) return { heldBy: holder?.pid };
        // Remove the stale lock only if it is still the one we judged (a new holder may have replaced it meanwhile).
        // Two processes judging the same dead holder at once remain a (narrow) race.
        if (readLockText(path) !== text) continue;
        logger.warn(`removing a stale ${label}`, { ...meta, path, holderPid: holder?.pid });
        try {
          unlinkSync(path);
        } catch {
          // another process took it over first; try again
        }
        continue;
      }
      return heldLock(path, content);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  return { heldBy: undefined };
}

function heldLock(path: string, content: LockContent): JobLock {
  let released = false;
  heldHere.add(path);
  return {
    release(): void {
      if (released) return;
      released = true;
      heldHere.delete(path);
      const holder = readLock(path);
      if (holder?.pid === content.pid && holder.acquiredMs === content.acquiredMs) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Take the job's lock or throw RbmError('AlreadyRunning') naming the holder. */
export function acquireJobLock(path: string, jobName: string, logger: Logger, nowMs: number): JobLock {
  const lock = tryLockFile(path, 'job lock', { job: jobName }, logger, nowMs);
  if ('release' in lock) return lock;
  if (lock.heldBy !== undefined) {
    throw new RbmError('AlreadyRunning', `job ${jobName} is already running (process ${lock.heldBy})`, {
      hint: 'Wait for that run to finish (rbmctl status), or stop it with rbmctl cancel.',
    });
  }
  throw new RbmError('AlreadyRunning', `job ${jobName}: could not take the job lock ${path}`, { hint: 'Try again.' });
}
