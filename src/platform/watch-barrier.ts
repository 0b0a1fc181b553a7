// The tree watcher's settled() barrier (issue 16, review finding 5: a run's last file events could reach the watch after
// its end and start one extra run). libuv reads every fs.watch of a process from one inotify descriptor, and the kernel
// queues events in the order they happen. So a file written now into a folder watched on that descriptor gives an
// event that comes after every event that happened before the write: when it is dispatched, all of those have been.
//
// Interface (for src/platform/tree-watcher.ts):
//   const b = createEventBarrier({ dir, persistent, clock });
//   b.pass(atEvent)   writes `barrier-<n>` into `dir` and resolves with atEvent()'s value, called synchronously when
//                     that file's event is dispatched (the watcher snapshots the work earlier events started).
//   b.close()         releases the watch and resolves whatever waits.
// When no barrier can be set (an inotify limit, a folder we cannot write), pass() resolves at once: the caller then
// knows only what it has seen. A watch that died (an error), or whose folder was removed or replaced, is dropped and
// set afresh (the folder made again) at the next pass or retry; a barrier file no waiter needs is removed. inotify drops events when its queue overflows, so a barrier whose event has not come
// after `retryMs` is written again under a new number (the queue has drained by then); after a few tries it gives up.

import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, Timer } from '../ports.js';

export interface EventBarrierOptions {
  /** A private folder for the barrier files (created 0700 if missing); default a temporary folder removed by close(). */
  dir?: string | undefined;
  persistent: boolean;
  clock: Clock;
  /** Write the barrier again after this long without its event. Default 1 s. */
  retryMs?: number;
}

export interface EventBarrier {
  pass<T>(atEvent: () => T): Promise<T>;
  close(): void;
}

const BARRIER_NAME = /^barrier-(\d+)$/;
const DEFAULT_RETRY_MS = 1000;
const MAX_TRIES = 5;

interface Waiter {
  seq: number;
  release: () => void;
}

export function createEventBarrier(options: EventBarrierOptions): EventBarrier {
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  let dir: string | undefined;
  let ownDir = false;
  let watcher: FSWatcher | undefined;
  /** The folder's inode when its watch was set: another folder in its place is watched afresh. */
  let watchedIno: number | undefined;
  let sequence = 0;
  let waiters: Waiter[] = [];
  /** Barrier files written and not removed yet. */
  const onDisk = new Set<number>();
  let retryTimer: Timer | undefined;
  let tries = 0;
  let closed = false;

  function inodeOfDir(): number | undefined {
    try {
      return lstatSync(dir!).ino;
    } catch {
      return undefined;
    }
  }

  /** Drop a watch that died (an error) or watches a folder no longer there (removed, or replaced): the next pass opens afresh. */
  function dropWatch(): void {
    watcher?.close();
    watcher = undefined;
    watchedIno = undefined;
  }

  function open(): boolean {
    if (watcher && inodeOfDir() === watchedIno) return true;
    dropWatch();
    try {
      if (options.dir === undefined) {
        dir ??= mkdtempSync(join(tmpdir(), 'rbm-watch-barrier-'));
        ownDir = true;
      } else {
        dir = options.dir;
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Left by a process that stopped mid-barrier; removed before the watch, so their removal is no event.
        for (const name of readdirSync(dir)) if (BARRIER_NAME.test(name)) rmSync(join(dir, name), { force: true });
      }
      const opened = watch(dir, { persistent: options.persistent }, (_event, filename) => onEvent(filename));
      opened.on('error', () => {
        if (watcher === opened) dropWatch();
        releaseAll();
      });
      watcher = opened;
      watchedIno = inodeOfDir();
      return true;
    } catch {
      dropWatch();
      return false;
    }
  }

  function removeFile(seq: number): void {
    onDisk.delete(seq);
    try {
      unlinkSync(join(dir!, `barrier-${seq}`));
    } catch {
      // gone already (or its folder)
    }
  }

  /** A barrier file is needed while a waiter it would pass waits (one with a number up to its own). */
  function removeUnneeded(): void {
    const lowest = Math.min(...waiters.map((w) => w.seq));
    for (const seq of [...onDisk]) if (seq < lowest) removeFile(seq);
  }

  function release(which: readonly Waiter[]): void {
    waiters = waiters.filter((w) => !which.includes(w));
    if (waiters.length === 0) {
      retryTimer?.cancel();
      retryTimer = undefined;
    }
    removeUnneeded();
    for (const w of which) w.release();
  }

  function releaseAll(): void {
    release([...waiters]);
  }

  function onEvent(filename: string | Buffer | null): void {
    const n = Number(BARRIER_NAME.exec(filename === null ? '' : filename.toString())?.[1] ?? 0);
    if (n === 0) return;
    const passed = waiters.filter((w) => w.seq <= n);
    if (passed.length === 0) {
      // The second event of a write, the removal of a passed barrier, or a retry's file whose waiter an earlier
      // barrier passed: not needed any more.
      if (onDisk.has(n) && !waiters.some((w) => w.seq <= n)) removeFile(n);
      return;
    }
    tries = 0;
    release(passed);
  }

  /** Write the next barrier file; the waiters up to its number pass with its event. Undefined when it cannot be written. */
  function writeBarrier(): number | undefined {
    const seq = ++sequence;
    try {
      writeFileSync(join(dir!, `barrier-${seq}`), '');
      onDisk.add(seq);
      return seq;
    } catch {
      dropWatch(); // its folder is gone: made and watched again at the next pass
      return undefined;
    }
  }

  function armRetry(): void {
    retryTimer ??= options.clock.setTimer(retryMs, () => {
      retryTimer = undefined;
      if (waiters.length === 0) return;
      tries += 1;
      // The event was lost (an overflowing queue, or the folder replaced: watched afresh): a new barrier passes every
      // waiter before it.
      if (tries >= MAX_TRIES || !open() || writeBarrier() === undefined) {
        if (tries >= MAX_TRIES) dropWatch(); // the next pass starts on a fresh watch
        releaseAll();
      } else armRetry();
    });
  }

  return {
    pass<T>(atEvent: () => T): Promise<T> {
      if (closed || !open()) return Promise.resolve(atEvent());
      return new Promise<T>((resolve) => {
        const seq = writeBarrier() ?? (open() ? writeBarrier() : undefined);
        if (seq === undefined) {
          resolve(atEvent());
          return;
        }
        waiters.push({ seq, release: () => resolve(atEvent()) });
        armRetry();
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      releaseAll();
      for (const seq of [...onDisk]) removeFile(seq);
      dropWatch();
      if (ownDir && dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
