// When a watched file may be read: not while someone is still writing it (issue 12 case 6). A file replaced by a
// rename (how editors and `rbmctl add-job` save) was complete before it appeared, so it is taken after a short
// settle time; a file written in place is taken only once its identity, size, mtime and content hash have stayed the
// same for a quiet period. Every file touched in a burst must be ready before the burst is reported, once.
// The file system is read through `snapshot`, and time through the Clock, so this is tested without real timers.
import type { Clock, Timer } from '../ports.js';

/** What is compared between two looks at a file; undefined when the file does not exist. */
export interface FileSnapshot {
  ino: number;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** `rename`: the name now points to another file (or it appeared or went away); `change`: written in place. */
export type TouchKind = 'rename' | 'change';

export interface StabilityGateOptions {
  clock: Clock;
  snapshot: (path: string) => FileSnapshot | undefined;
  /** How long a file written in place must stay unchanged. */
  quietMs: number;
  /** How long after a rename into place before the file is taken (more events may follow). */
  settleMs: number;
  /** Called once per burst with every touched path, when all of them are ready. */
  onReady: (paths: string[]) => void;
}

export interface StabilityGate {
  touched(path: string, kind: TouchKind): void;
  close(): void;
}

interface Watch {
  kind: TouchKind;
  seen: FileSnapshot | undefined;
  timer: Timer | undefined;
  ready: boolean;
}

export function sameSnapshot(a: FileSnapshot | undefined, b: FileSnapshot | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.sha256 === b.sha256;
}

export function createStabilityGate(options: StabilityGateOptions): StabilityGate {
  const { clock } = options;
  const watches = new Map<string, Watch>();
  let closed = false;

  function wait(path: string, w: Watch): void {
    w.timer?.cancel();
    w.ready = false;
    w.timer = clock.setTimer(w.kind === 'rename' ? options.settleMs : options.quietMs, () => check(path, w));
  }

  function check(path: string, w: Watch): void {
    w.timer = undefined;
    if (closed || watches.get(path) !== w) return;
    const now = options.snapshot(path);
    if (!sameSnapshot(now, w.seen)) {
      // It changed since we looked, whether or not its event has arrived yet: it is being written.
      w.seen = now;
      w.kind = 'change';
      wait(path, w);
      return;
    }
    w.ready = true;
    const all = [...watches.values()];
    if (!all.every((x) => x.ready)) return;
    const paths = [...watches.keys()];
    watches.clear();
    options.onReady(paths);
  }

  return {
    touched(path, kind) {
      if (closed) return;
      let w = watches.get(path);
      if (!w) {
        w = { kind, seen: undefined, timer: undefined, ready: false };
        watches.set(path, w);
      }
      // In-place writes after a rename still need the quiet period: the last kind of event decides.
      w.kind = kind;
      w.seen = options.snapshot(path);
      wait(path, w);
    },
    close() {
      closed = true;
      for (const w of watches.values()) w.timer?.cancel();
      watches.clear();
    },
  };
}
