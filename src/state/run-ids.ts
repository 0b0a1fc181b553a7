// Run ids, unique and increasing across restarts and across processes sharing the state dir (the service and
// `rbmctl sync --standalone`), without an fsync per run: ids are reserved in blocks, and `run-id` durably holds the
// high-water mark (the last id reserved). A restart starts above the mark.

import { readFileSync } from 'node:fs';
import { RbmError, errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import { tryLockFile } from './job-lock.js';
import { runIdPath } from './paths.js';
import { nodeDurability, replaceFileNoSync, writeFileAtomic, type Durability } from './state-store.js';

/** Ids reserved per durable write of the mark. A restart skips what is left of the block (a gap, never a repeat). */
export const RUN_ID_BLOCK = 100;
/** How long a reservation waits for another process's reservation (a write and an fsync) before giving up. */
const LOCK_WAIT_MS = 2_000;
const LOCK_POLL_MS = 5;

export interface RunIdAllocator {
  /** The next id. Throws RbmError('StateError') when the state directory cannot be written (nothing may run then). */
  next(): number;
  /** Reserve more ids now when few are left, so that the next triggers need no fsync. Call it off the trigger path; never throws. */
  topUp(): void;
}

export interface RunIdDeps {
  stateDir: string;
  logger: Logger;
  now: () => number;
  durability?: Durability;
  /** Override of RUN_ID_BLOCK (tests). */
  block?: number;
  /** Override of LOCK_WAIT_MS (tests). */
  lockWaitMs?: number;
}

/** The stored mark; 0 when the file is missing or unreadable (the first run, or a lost file: see `reserve`). */
function readMark(path: string): number {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function stateError(path: string, e: unknown): RbmError {
  // Read-only or full state dir: a named error for the caller (D-Bus StateError), not an internal one.
  return new RbmError('StateError', `cannot record the run id in ${path}: ${errorText(e)}`, {
    hint: 'Make the state directory writable again (disk full? read-only file system?); nothing was run.',
    cause: e,
  });
}

/**
 * Why two processes never hand out the same id, and why ids increase:
 * - A process hands out only ids in (start, mark] of a block it reserved, and reserves while holding `run-id.lock`
 *   (O_EXCL): under the lock it reads the stored mark S and durably writes S' > S before handing out any id of the
 *   new block, which starts above S. Blocks reserved under the lock are therefore disjoint, and since the mark is
 *   fsynced before use, a restart (even after a power loss) reads a mark at least as high as every id handed out.
 * - Each `next()` re-reads the mark (a read, no write): once another process has reserved, the stored mark is no
 *   longer ours, and we reserve again above it. So an id allocated after another allocation finished (in any
 *   process) is larger, as when every allocation re-read the file (before blocks).
 * - Limits: the lock is taken over only when its holder is dead (as the job lock); two processes taking over the same
 *   stale lock at once could both hold it. Deleting `run-id` by hand loses the mark (ids restart above what this
 *   process handed out).
 */
export function createRunIdAllocator(deps: RunIdDeps): RunIdAllocator {
  const path = runIdPath(deps.stateDir);
  const lockPath = `${path}.lock`;
  const lastPath = `${path}.last`;
  const block = deps.block ?? RUN_ID_BLOCK;
  const durability = deps.durability ?? nodeDurability;
  /** The mark this process wrote last; ids in (last, mark] are ours while the stored mark equals it. */
  let mark = 0;
  let last = 0;

  function lock(): { release(): void } {
    const deadline = deps.now() + (deps.lockWaitMs ?? LOCK_WAIT_MS);
    for (;;) {
      const got = tryLockFile(lockPath, 'run-id lock', {}, deps.logger, deps.now());
      if ('release' in got) return got;
      if (deps.now() >= deadline) {
        throw new RbmError('StateError', `cannot reserve run ids: ${lockPath} is held by process ${got.heldBy ?? '?'}`, {
          hint: 'Another rclone-bisync-manager process is writing the state directory (a slow disk?); try again.',
        });
      }
      sleepSync(LOCK_POLL_MS);
    }
  }

  /** Reserve `block` more ids: extend ours when the stored mark is still ours, else start a block above it. */
  function reserve(): void {
    let held: { release(): void };
    try {
      held = lock();
    } catch (e: unknown) {
      throw e instanceof RbmError ? e : stateError(path, e);
    }
    try {
      const stored = readMark(path);
      const extend = stored === mark;
      // A lost or garbled file reads 0: our own last id is then the only lower bound we know.
      const base = extend ? last : Math.max(stored, last);
      const next = (extend ? mark : base) + block;
      writeFileAtomic(path, `${next}\n`, durability);
      mark = next;
      last = base;
    } catch (e: unknown) {
      throw stateError(path, e);
    } finally {
      held.release();
    }
  }

  return {
    next(): number {
      if (readMark(path) !== mark || last >= mark) {
        reserve();
      } else {
        // No reservation: still prove that the state dir takes writes (read-only, full) before anything is queued.
        // No fsync: this file is informational, never trusted for uniqueness.
        try {
          replaceFileNoSync(lastPath, `${last + 1}\n`);
        } catch (e: unknown) {
          throw stateError(path, e);
        }
      }
      last += 1;
      return last;
    },

    topUp(): void {
      if (readMark(path) === mark && mark - last >= Math.ceil(block / 2)) return;
      try {
        reserve();
      } catch (e: unknown) {
        deps.logger.debug('could not reserve run ids ahead; the next run reserves them', { error: errorText(e) });
      }
    },
  };
}
