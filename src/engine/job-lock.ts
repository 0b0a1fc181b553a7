// One run per job across processes (service and one-shot): jobs/<name>/lock is created with O_EXCL and
// holds our PID and process start time. A lock whose process is gone (or whose PID was reused) is stale.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { RbmError } from '../errors.js';
import type { Logger } from '../ports.js';
import { FILE_MODE } from './paths.js';
import { pidAlive, processStartTime } from './process-info.js';

export interface JobLock {
  release(): void;
}

interface LockContent {
  pid: number;
  start: string;
  acquiredMs: number;
}

function readLock(path: string): LockContent | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as LockContent).pid === 'number') return parsed as LockContent;
  } catch {
    // unreadable: treated as stale below
  }
  return undefined;
}

function holderAlive(holder: LockContent | undefined): boolean {
  if (!holder || !pidAlive(holder.pid)) return false;
  const start = processStartTime(holder.pid);
  return holder.start === '' || start === '' || start === holder.start;
}

/** Take the job's lock or throw RbmError('AlreadyRunning') naming the holder. */
export function acquireJobLock(path: string, jobName: string, logger: Logger, nowMs: number): JobLock {
  const content: LockContent = { pid: process.pid, start: processStartTime(process.pid), acquiredMs: nowMs };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', FILE_MODE);
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(path);
      if (holderAlive(holder)) {
        throw new RbmError('AlreadyRunning', `job ${jobName} is already running (process ${holder?.pid ?? '?'})`, {
          hint: 'Wait for that run to finish (rbmctl status), or stop it with rbmctl cancel.',
        });
      }
      logger.warn('removing a stale job lock', { job: jobName, path, holderPid: holder?.pid });
      try {
        unlinkSync(path);
      } catch {
        // another process took it over first; try again
      }
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(content));
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      release(): void {
        if (released) return;
        released = true;
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
  throw new RbmError('AlreadyRunning', `job ${jobName}: could not take the job lock ${path}`, { hint: 'Try again.' });
}
