// Watches a job's local root for changes (issue 16): one non-recursive fs.watch per directory, walked at start;
// directories that appear are walked and watched, directories that go away are dropped. Files cost no inotify watch
// (a directory's watch reports its entries), so 100,000 files in 10,000 folders take 10,001 watches, not 110,001
// (docs/decisions.md "Sync on change, groundwork": the measured comparison with node:fs recursive, chokidar and
// @parcel/watcher).
//
// Interface (for the wiring):
//   const w = createTreeWatcher({ root, onChange, onFailure, onReady, ignore, workdir, barrierDir, privateDirs, clock });
//   onChange(paths)   relative POSIX paths ('' = the root itself) that changed, a batch per event-loop turn; the
//                     caller debounces (src/run/rules/watch-debounce.ts). A new folder reports itself and every
//                     entry found in it (they may have been created before its watch was in place).
//   onReady(info)     the walk finished: watching `dirs` directories (again after a root-gone).
//   onFailure(f)      'limit': inotify watches (ENOSPC) or instances (EMFILE) ran out; the watcher has stopped and
//                     released everything: fall back to the schedule. 'root-gone': the root no longer exists (removed,
//                     or its mount went away); the watcher polls for it every `rootPollMs` (the one poll, only while
//                     it is gone) and calls onReady again once it is back.
//   w.settled()       resolves once every event that happened before the call has reached onChange: the run's
//                     last writes are reported before its bookkeeping ends (see "The barrier" below).
//   w.close()         releases every FSWatcher and timer; no callback fires afterwards. Watches are `persistent` by
//                     default (they keep the process alive, like the config watcher's): close them on shutdown.
// Ignored: the job's workdir, the barrier's folder and the service's own folders (its state folder with the logs and
// every job's history, its config folder: `privateDirs`) when they lie inside the root (not even watched: a root of
// ~ would otherwise see each run's own bookkeeping as a change and run again, forever), and whatever
// the caller's `ignore` says (the job's rclone filters, with `- *.partial` for rclone's temporary copies unless an
// include of the user's names them: rclone/filter-match.ts).
// The barrier (platform/watch-barrier.ts): settled() writes a file into `barrierDir` (a private folder watched on the
// same inotify descriptor) and waits for its event: every earlier event of the tree has been dispatched by then. It
// then waits for the lstat/walk work those earlier events started, and reports what is pending at once.
// inotify drops events silently when its queue overflows: keep a periodic full bisync (the schedule) anyway.

import { lstatSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Clock, Timer } from '../ports.js';
import { systemClock } from './clock.js';
import { createEventBarrier } from './watch-barrier.js';

export type TreeWatchFailure =
  | { kind: 'limit'; code: 'ENOSPC' | 'EMFILE'; message: string }
  | { kind: 'root-gone'; message: string };

export interface TreeWatcherOptions {
  /** The job's local root (absolute or relative to the working directory). */
  root: string;
  onChange: (paths: string[]) => void;
  onFailure: (failure: TreeWatchFailure) => void;
  onReady?: (info: { dirs: number }) => void;
  /** The job's filters as a predicate on a relative POSIX path (a directory's path has no trailing slash). */
  ignore?: (relPath: string) => boolean;
  /** The job's rclone workdir: never watched nor reported when it lies inside the root. */
  workdir?: string;
  /** More folders of the service's own (its state folder, its config folder): never watched nor reported when they
   * lie inside the root (or are the root's ancestors: then nothing of theirs is inside). */
  privateDirs?: readonly string[];
  /** Default: the system clock. Used for the root poll and the batch turn. */
  clock?: Clock;
  /** How often to look for a root that went away. Default 5 s. */
  rootPollMs?: number;
  /** Keep the process alive while watching (fs.watch `persistent`). Default true. */
  persistent?: boolean;
  /** A private folder outside the root for settled()'s barrier files (created if missing). Default: a temporary
   * folder of its own, made at the first settled() and removed by close(). */
  barrierDir?: string;
}

export interface TreeWatcher {
  /** Directories watched now. */
  watchedDirs(): number;
  /** Resolves once every change that happened before the call has been reported (see "The barrier"). */
  settled(): Promise<void>;
  close(): void;
}

export const DEFAULT_ROOT_POLL_MS = 5000;

interface DirWatch {
  rel: string;
  ino: number;
  watcher: FSWatcher;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** The root's stat follows a symlink (a root that is a link to a folder is that folder, for rclone too). */
async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}

/** A directory's inode, read synchronously: a walk does one per folder, and 10,000 promises cost more than the calls. */
function inodeOf(path: string): number | undefined {
  try {
    const st = lstatSync(path);
    return st.isDirectory() ? st.ino : undefined;
  } catch {
    return undefined;
  }
}

function limitMessage(code: 'ENOSPC' | 'EMFILE', root: string): string {
  return code === 'ENOSPC'
    ? `Watching ${root} needs more inotify watches than allowed (one per folder): raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288, and in /etc/sysctl.d/ to keep it). The job runs on its schedule until then.`
    : `No inotify instance left to watch ${root}: raise fs.inotify.max_user_instances (sysctl -w fs.inotify.max_user_instances=512, and in /etc/sysctl.d/ to keep it). The job runs on its schedule until then.`;
}

export function createTreeWatcher(options: TreeWatcherOptions): TreeWatcher {
  const root = resolve(options.root);
  const clock = options.clock ?? systemClock;
  const pollMs = options.rootPollMs ?? DEFAULT_ROOT_POLL_MS;
  const persistent = options.persistent ?? true;
  // Our own folders inside the root (rclone's workdir, the barrier's folder, the service's state and config) are
  // never watched nor reported.
  const privateRels = [options.workdir, options.barrierDir, ...(options.privateDirs ?? [])].flatMap((dir) => (dir === undefined ? [] : [insideRoot(resolve(dir))])).filter((rel): rel is string => rel !== undefined);
  const dirs = new Map<string, DirWatch>();
  let pending = new Set<string>();
  let flushTimer: Timer | undefined;
  let pollTimer: Timer | undefined;
  let rootIno: number | undefined;
  let closed = false;
  let stopped = false; // a limit was hit: for good
  // Bumped whenever every watch is dropped (root gone, limit, close): async work of an older generation is void.
  let generation = 0;
  // The lstat/walk work events started and that may still report: settled() waits for what was started before it.
  const inFlight = new Set<Promise<unknown>>();
  const barrier = createEventBarrier({ dir: options.barrierDir, persistent, clock });

  function insideRoot(path: string): string | undefined {
    const rel = relative(root, path);
    if (rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..')) return toPosix(rel);
    return undefined;
  }

  function underWorkdir(rel: string): boolean {
    return privateRels.some((own) => own === '' || rel === own || rel.startsWith(`${own}/`));
  }

  function ignored(rel: string): boolean {
    if (rel === '') return false;
    return underWorkdir(rel) || (options.ignore?.(rel) ?? false);
  }

  function report(rel: string): void {
    if (closed || stopped || ignored(rel)) return;
    pending.add(rel);
    flushTimer ??= clock.setTimer(0, flush);
  }

  function flush(): void {
    flushTimer = undefined;
    if (closed || stopped || pending.size === 0) return;
    const batch = [...pending];
    pending = new Set();
    options.onChange(batch);
  }

  function dropAll(): void {
    generation += 1;
    for (const d of dirs.values()) d.watcher.close();
    dirs.clear();
  }

  function dropSubtree(rel: string): void {
    for (const [key, d] of dirs) {
      if (rel === '' || key === rel || key.startsWith(`${rel}/`)) {
        d.watcher.close();
        dirs.delete(key);
      }
    }
  }

  function failLimit(code: 'ENOSPC' | 'EMFILE'): void {
    if (stopped || closed) return;
    stopped = true;
    dropAll();
    flushTimer?.cancel();
    flushTimer = undefined;
    pending.clear();
    options.onFailure({ kind: 'limit', code, message: limitMessage(code, root) });
  }

  /** Watch one directory; false when the watcher must stop (a limit) or the directory is gone. */
  function addWatch(rel: string, ino: number): boolean {
    const abs = rel === '' ? root : join(root, rel);
    let watcher: FSWatcher;
    try {
      watcher = watch(abs, { persistent }, (event, filename) => onEvent(rel, event, filename));
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOSPC' || code === 'EMFILE') failLimit(code);
      return false; // ENOENT/EACCES: gone, or not ours to read (rclone reports it in its run)
    }
    watcher.on('error', () => onWatchError(rel));
    dirs.get(rel)?.watcher.close();
    dirs.set(rel, { rel, ino, watcher });
    return true;
  }

  /** Walk `rel` (a directory) and watch it and every directory under it; `announce` reports what it finds. */
  async function walk(rel: string, ino: number, announce: boolean): Promise<void> {
    const gen = generation;
    const queue: { rel: string; ino: number }[] = [{ rel, ino }];
    for (let i = 0; i < queue.length; i++) {
      const next = queue[i]!;
      if (closed || stopped || gen !== generation) return;
      if (next.rel !== '' && underWorkdir(next.rel)) continue;
      if (!addWatch(next.rel, next.ino)) continue;
      if (announce && i > 0) report(next.rel);
      let entries;
      try {
        entries = await readdir(next.rel === '' ? root : join(root, next.rel), { withFileTypes: true });
      } catch {
        continue; // gone meanwhile, or unreadable
      }
      for (const entry of entries) {
        const childRel = joinRel(next.rel, entry.name);
        if (entry.isDirectory()) {
          const ino = inodeOf(join(root, childRel));
          if (ino !== undefined) queue.push({ rel: childRel, ino });
        } else if (announce) {
          report(childRel);
        }
      }
    }
    if (announce && gen === generation) report(rel); // last: by now the whole new subtree is watched
  }

  function track(work: Promise<unknown>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  function onEvent(dirRel: string, event: string, filename: string | Buffer | null): void {
    if (closed || stopped) return;
    if (filename === null) {
      report(dirRel); // the kernel gave no name: say the folder changed
      return;
    }
    const name = typeof filename === 'string' ? filename : filename.toString();
    const rel = joinRel(dirRel, name);
    if (event === 'change') {
      if (name === basename(dirRel === '' ? root : join(root, dirRel))) track(onSelfOrChildChange(dirRel, rel));
      else report(rel);
      return;
    }
    track(onRename(dirRel, name, rel));
  }

  async function settled(): Promise<void> {
    if (closed || stopped) return;
    // At the barrier's event every earlier event has been dispatched: the work they started is what to wait for.
    const earlierWork = await barrier.pass(() => [...inFlight]);
    await Promise.allSettled(earlierWork);
    // Report now what is pending instead of at the next turn: the caller decides right after this.
    flushTimer?.cancel();
    flushTimer = undefined;
    flush();
  }

  // libuv names a folder's own events (its mtime set, its attributes) by the folder's base name, like a child of
  // that name: without such a child it is the folder itself; with one, it may be either, so report both.
  async function onSelfOrChildChange(dirRel: string, childRel: string): Promise<void> {
    const gen = generation;
    const child = await lstatOrUndefined(join(root, childRel));
    if (gen !== generation || closed || stopped) return;
    report(dirRel);
    if (child) report(childRel);
  }

  // A 'rename' is an entry appearing or going away (or, with the folder's own name, the folder itself). The path
  // is reported once the watches match the tree again, so a change reported later is never under a stale name.
  async function onRename(dirRel: string, name: string, rel: string): Promise<void> {
    const gen = generation;
    const stale = (): boolean => gen !== generation || closed || stopped;
    const selfNamed = name === basename(dirRel === '' ? root : join(root, dirRel));
    if (selfNamed && (await selfGone(dirRel))) return;
    if (stale() || underWorkdir(rel)) return;
    const st = await lstatOrUndefined(join(root, rel));
    if (stale()) return;
    if (selfNamed) report(dirRel); // the folder's own event (see onSelfOrChildChange)
    if (selfNamed && !st) return;
    if (!st?.isDirectory()) {
      dropSubtree(rel); // gone, or a file now: its old watches describe another path
      report(rel);
      return;
    }
    const known = dirs.get(rel);
    if (known && known.ino === st.ino) {
      report(rel);
      return;
    }
    dropSubtree(rel); // a directory moved in over an old one, or new: watch it afresh
    await walk(rel, st.ino, true);
  }

  /** The watched folder `dirRel` itself went away (self event): true when handled. */
  async function selfGone(dirRel: string): Promise<boolean> {
    if (dirRel === '') return checkRoot();
    const st = await lstatOrUndefined(join(root, dirRel));
    const known = dirs.get(dirRel);
    if (st?.isDirectory() && known?.ino === st.ino) return false;
    dropSubtree(dirRel); // its parent reports the removal or the move
    return true;
  }

  function onWatchError(rel: string): void {
    if (rel === '') {
      track(checkRoot());
      return;
    }
    dirs.get(rel)?.watcher.close();
    dirs.delete(rel);
    report(rel);
  }

  /** Is the root still the directory we watch? If not: root-gone, and poll for its return. */
  async function checkRoot(): Promise<boolean> {
    const gen = generation;
    const st = await statOrUndefined(root);
    if (gen !== generation || closed || stopped) return true;
    if (st?.isDirectory() && st.ino === rootIno) return false;
    dropAll();
    pending.clear();
    if (st?.isDirectory()) {
      await start(); // replaced by another directory (re-created, or remounted): watch the new one
      return true;
    }
    options.onFailure({ kind: 'root-gone', message: `The folder ${root} is gone (removed or unmounted); watching it again once it is back. The job does not run on changes until then.` });
    armPoll();
    return true;
  }

  function armPoll(): void {
    pollTimer = clock.setTimer(pollMs, () => {
      pollTimer = undefined;
      void (async () => {
        const st = await statOrUndefined(root);
        if (closed || stopped) return;
        if (st?.isDirectory()) await start();
        else armPoll();
      })();
    });
  }

  async function start(): Promise<void> {
    const st = await statOrUndefined(root);
    if (closed || stopped) return;
    if (!st?.isDirectory()) {
      options.onFailure({ kind: 'root-gone', message: `The folder ${root} does not exist (removed or not mounted); watching it once it is there. The job does not run on changes until then.` });
      armPoll();
      return;
    }
    rootIno = st.ino;
    const gen = generation;
    await walk('', st.ino, false);
    if (closed || stopped || gen !== generation) return;
    options.onReady?.({ dirs: dirs.size });
  }

  void start();

  return {
    watchedDirs: () => dirs.size,
    settled,
    close(): void {
      if (closed) return;
      closed = true;
      barrier.close();
      dropAll();
      flushTimer?.cancel();
      pollTimer?.cancel();
      flushTimer = undefined;
      pollTimer = undefined;
      pending.clear();
    },
  };
}
