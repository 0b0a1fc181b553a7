// Sync on change (issue 16), the pure half: when a burst of local changes becomes a run (a quiet period
// `watch_delay`, capped by `watch_max_wait` for a folder that never stops changing), and whether the changes seen
// while a run was going need one follow-up run or none (none when they are exactly what the run itself wrote
// locally, so the job's own downloads never retrigger it).
//
// Interface (for the wiring; the watcher is src/platform/tree-watcher.ts):
//   const t = createWatchTrigger({ clock, timing, trigger });
//   watcher onChange(paths)          → t.changed(paths)
//   the job's run starts (any cause) → t.runStarted()        changes seen so far are in that run
//   rclone output lines of the run   → a LocalWritesCollector (collectLocalWrites) → its writes()
//   the run ends                     → t.runEnded(writes)    the run's events may still be on their way: changes
//                                                            its writes explain keep counting as its own
//   the watcher has delivered every event from before the end (tree watcher's settled())
//                                    → t.echoesSettled()     returns the FollowUpDecision (for the log)
//   trigger(paths, cause)            called when a run is due: `cause` 'watch' (quiet period over or max wait
//                                    reached) or 'watch-follow-up' (changes during a run it did not write).
// Clock injected; no timers of its own. The defaults of watch_delay and watch_max_wait live with the config keys
// (src/config/watch-settings.ts).

import type { Clock, Timer } from '../../ports.js';
import { decodeJsonLine, parseDeltaLine, type RcloneMessage } from '../../rclone/output.js';

export interface WatchTiming {
  /** Quiet period: a run starts this long after the last change. */
  delayMs: number;
  /** A run starts at the latest this long after the first change of a burst, even if changes go on. */
  maxWaitMs: number;
}

/** The most paths one run's bookkeeping keeps (its writes, the changes seen during it); beyond, the list is "incomplete". */
export const MAX_TRACKED_PATHS = 20_000;

/** When a burst whose first change came at `firstMs` and last at `lastMs` is due to run. */
export function watchRunDueAt(firstMs: number, lastMs: number, timing: WatchTiming): number {
  return Math.min(lastMs + timing.delayMs, firstMs + Math.max(timing.maxWaitMs, timing.delayMs));
}

/** What one run wrote into the local root, as relative POSIX paths. */
export interface RunWrites {
  paths: ReadonlySet<string>;
  /** False when the list is not the whole story (a resync, an overflowing queue, a path outside the root). */
  complete: boolean;
}

export const NO_WRITES: RunWrites = Object.freeze({ paths: new Set<string>(), complete: true });

export type FollowUpDecision =
  | { kind: 'none'; reason: 'no-changes' | 'own-writes' | 'chain-limit'; unexplained: string[] }
  | { kind: 'follow-up'; unexplained: string[] };

/** The folders above each written path ('' for the root), once per run: a lookup per change instead of a scan. */
function foldersAbove(writes: RunWrites): Set<string> {
  const folders = new Set<string>();
  for (const written of writes.paths) {
    folders.add('');
    for (let i = written.indexOf('/'); i >= 0; i = written.indexOf('/', i + 1)) folders.add(written.slice(0, i));
  }
  return folders;
}

/** Is `path` explained by the run's own writes: written itself, or a folder above a written path (rclone made or changed it)? */
export function explainedByWrites(path: string, writes: RunWrites, folders: ReadonlySet<string> = foldersAbove(writes)): boolean {
  return writes.paths.has(path) || folders.has(path);
}

/**
 * After a run: one follow-up run when changes were seen that the run did not write itself, none when they are
 * exactly its own writes. A user's change is never dropped: the only other changes a run may skip are those the
 * writes of the run it follows up explain (`chain-limit`: that run's late echoes), when every change is explained so.
 */
export function followUpAfterRun(input: { seen: readonly string[]; seenOverflow?: boolean; writes: RunWrites; followedWrites?: RunWrites | undefined }): FollowUpDecision {
  const { seen, writes } = input;
  if (seen.length === 0) return { kind: 'none', reason: 'no-changes', unexplained: [] };
  // Too many changes to keep them all: the ones left out cannot be matched, so the run gets its follow-up.
  if (input.seenOverflow === true) return { kind: 'follow-up', unexplained: [...seen] };
  const folders = foldersAbove(writes);
  const unexplained = writes.complete ? seen.filter((p) => !explainedByWrites(p, writes, folders)) : [...seen];
  if (unexplained.length === 0) return { kind: 'none', reason: 'own-writes', unexplained };
  const followed = input.followedWrites;
  if (followed !== undefined && followed.paths.size > 0) {
    const followedFolders = foldersAbove(followed);
    if (unexplained.every((p) => explainedByWrites(p, followed, followedFolders))) return { kind: 'none', reason: 'chain-limit', unexplained };
  }
  return { kind: 'follow-up', unexplained };
}

export interface LocalWritesCollector {
  /** One rclone output line (JSON or text, as rclone prints them). */
  push(line: string): void;
  /** One decoded rclone message (the runner's `onMessage`). */
  message(message: Pick<RcloneMessage, 'text'>): void;
  writes(): RunWrites;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const TEXT_PREFIX = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? (?:[A-Z]+\s*: ?)?/;

/**
 * Collect what a bisync writes into the local side (Path1) from its delta lines, on 1.60 and 1.75 alike:
 * `Queue copy to Path1 - <path>`, `Queue delete` on Path1, `Renaming Path1 copy` and the conflicted path itself.
 * Subjects are full paths starting with `localRoot` as passed to rclone. A resync lists no paths: incomplete.
 */
export function collectLocalWrites(localRoot: string, maxPaths = MAX_TRACKED_PATHS): LocalWritesCollector {
  const prefix = localRoot.replace(/\/+$/, '') + '/';
  const paths = new Set<string>();
  let complete = true;

  function add(rel: string): void {
    if (paths.size < maxPaths) paths.add(rel);
    else complete = false;
  }

  function addFull(subject: string): void {
    if (subject.startsWith(prefix)) add(subject.slice(prefix.length));
    else complete = false; // a path we cannot place: assume the worst
  }

  function message(m: Pick<RcloneMessage, 'text'>): void {
    const delta = parseDeltaLine(m.text.replace(ANSI, '').split('\n', 1)[0]?.trim() ?? '');
    if (!delta) return;
    const { side, action, subject } = delta;
    if (side === 'WARNING' && /New or changed in both paths/.test(action)) add(subject);
    else if (/^Queue copy to\s*Path1$/.test(action)) addFull(subject);
    else if (side === 'Path1' && (/^Queue delete$/.test(action) || /^Renaming Path1 copy$/.test(action))) addFull(subject);
    else if (/^Resync is copying files to$/.test(action) && subject === 'Path1') complete = false;
  }

  return {
    push(raw: string): void {
      message({ text: decodeJsonLine(raw)?.text ?? raw.replace(ANSI, '').replace(TEXT_PREFIX, '') });
    },
    message,
    writes: () => ({ paths, complete }),
  };
}

export type WatchTriggerCause = 'watch' | 'watch-follow-up';

export interface WatchTriggerOptions {
  clock: Clock;
  timing: WatchTiming;
  /** A run is due (the caller queues it; it coalesces with the schedule and a running job). */
  trigger: (paths: string[], cause: WatchTriggerCause) => void;
  /** Most changes kept per run (default MAX_TRACKED_PATHS); more make the run's list incomplete: one follow-up. */
  maxSeen?: number | undefined;
}

export interface WatchTrigger {
  /** Changed relative paths from the watcher. */
  changed(paths: readonly string[]): void;
  /** The job's run started, whatever its cause: changes so far are in it; changes from now on are checked against its writes. */
  runStarted(): void;
  /**
   * The run ended with these local writes. Its last events may still be on their way (inotify, the watcher's own
   * lstat): until echoesSettled(), a change its writes explain still counts as seen during it.
   */
  runEnded(writes: RunWrites): void;
  /**
   * Every event from before the run's end has been delivered (the tree watcher's settled()): decide on a follow-up
   * (queued through the quiet period, so a user still saving is waited for). Undefined when no run was ending.
   */
  echoesSettled(): FollowUpDecision | undefined;
  /** Paths waiting for the quiet period (for status and tests). */
  pendingPaths(): number;
  /**
   * Stop for good. Returns the changes no run has synced yet, for a watch that replaces this one: those waiting for
   * their quiet period, those seen during the run going, and the follow-up of a run still ending (decided now).
   */
  dispose(): string[];
}

/** The changes seen during one run, capped. */
interface SeenChanges {
  paths: Set<string>;
  overflow: boolean;
}

/** A run that ended and whose last events may still come. */
interface EndingRun {
  seen: SeenChanges;
  writes: RunWrites;
  folders: Set<string>;
  /** The writes of the run it was the follow-up of. */
  followedWrites: RunWrites | undefined;
}

export function createWatchTrigger(options: WatchTriggerOptions): WatchTrigger {
  const { clock, timing } = options;
  const maxSeen = options.maxSeen ?? MAX_TRACKED_PATHS;
  let pending = new Set<string>();
  let firstMs = 0;
  let lastMs = 0;
  let timer: Timer | undefined;
  let cause: WatchTriggerCause = 'watch';
  let running = false;
  let seenDuringRun = noneSeen();
  let ending: EndingRun | undefined;
  // The writes of the run whose follow-up the run now going is (or the queued run will be).
  let runFollows: RunWrites | undefined;
  let nextFollows: RunWrites | undefined;
  let disposed = false;

  function noneSeen(): SeenChanges {
    return { paths: new Set(), overflow: false };
  }

  function see(into: SeenChanges, path: string): void {
    if (into.paths.size < maxSeen) into.paths.add(path);
    else if (!into.paths.has(path)) into.overflow = true;
  }

  function arm(): void {
    timer?.cancel();
    const delay = Math.max(0, watchRunDueAt(firstMs, lastMs, timing) - clock.now());
    timer = clock.setTimer(delay, fire);
  }

  function fire(): void {
    timer = undefined;
    if (disposed || pending.size === 0) return;
    const paths = [...pending];
    const firedCause = cause;
    pending = new Set();
    cause = 'watch';
    options.trigger(paths, firedCause);
  }

  function addPending(paths: readonly string[], as: WatchTriggerCause): void {
    if (paths.length === 0) return;
    const now = clock.now();
    if (pending.size === 0) firstMs = now;
    lastMs = now;
    for (const p of paths) pending.add(p);
    if (as === 'watch-follow-up') cause = as;
    arm();
  }

  function decideEnding(run: EndingRun): FollowUpDecision {
    return followUpAfterRun({ seen: [...run.seen.paths], seenOverflow: run.seen.overflow, writes: run.writes, followedWrites: run.followedWrites });
  }

  /** Decide the ending run's follow-up (its events are all in). */
  function settle(): FollowUpDecision | undefined {
    const run = ending;
    if (!run) return undefined;
    ending = undefined;
    const decision = decideEnding(run);
    if (decision.kind === 'follow-up' && !disposed) {
      // A run started meanwhile: it ends with its own decision, which these changes join (it may have listed before them).
      if (running) for (const p of decision.unexplained) see(seenDuringRun, p);
      else {
        nextFollows = run.writes;
        addPending(decision.unexplained, 'watch-follow-up');
      }
    }
    return decision;
  }

  return {
    changed(paths: readonly string[]): void {
      if (disposed) return;
      const idle: string[] = [];
      for (const p of paths) {
        // A late event of the run that just ended (its own write) is decided with its end; any other change is the
        // running run's, or (none going) a change like any other: a run of its own, whatever the ending run decides.
        if (ending && explainedByWrites(p, ending.writes, ending.folders)) see(ending.seen, p);
        else if (running) see(seenDuringRun, p);
        else idle.push(p);
      }
      addPending(idle, 'watch');
    },
    runStarted(): void {
      if (disposed) return;
      running = true;
      seenDuringRun = noneSeen();
      runFollows = nextFollows; // fired, or absorbed by this run
      nextFollows = undefined;
      // The run lists the tree after it starts: what changed before is in it.
      timer?.cancel();
      timer = undefined;
      pending = new Set();
      cause = 'watch';
    },
    runEnded(writes: RunWrites): void {
      settle(); // an earlier end never settled (no barrier came): decide it with what it saw
      running = false;
      ending = { seen: seenDuringRun, writes, folders: foldersAbove(writes), followedWrites: runFollows };
      seenDuringRun = noneSeen();
      runFollows = undefined;
    },
    echoesSettled: settle,
    pendingPaths: () => pending.size,
    dispose(): string[] {
      if (disposed) return [];
      const owed = new Set(pending);
      const decision = ending && decideEnding(ending);
      if (decision?.kind === 'follow-up') for (const p of decision.unexplained) owed.add(p);
      if (running) for (const p of seenDuringRun.paths) owed.add(p);
      disposed = true;
      ending = undefined;
      timer?.cancel();
      timer = undefined;
      pending = new Set();
      return [...owed];
    },
  };
}
