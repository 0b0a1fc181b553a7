// What a forced run would destroy, read from rclone's `--dry-run --force` preview (pure): every delete, and every
// copy that replaces a file the destination holds now (an overwrite). A copy of a file the destination lacks (a new
// file, a file deleted there since the last run) destroys nothing; a conflict's renamed copy is listed all the same.

import { parseDeltaLine, type RcloneMessage, type Side } from '../../rclone/output.js';
import type { PendingOverwrite } from './approval.js';

/** `Synching Path1 "<root>" with Path2 "<root>"`: the roots as rclone prints them in front of every full path. */
const SYNCHING = /^Synching Path1 "(.*)" with Path2 "(.*)"$/;

/** The two roots as configured (the local path, Path2); rclone's own spelling from the preview is tried first. */
export interface PreviewRoots {
  path1: string;
  path2: string;
}

/** The destructive changes of a preview, and how many copies it queued in all. */
export interface PreviewChanges {
  deletes: string[];
  overwrites: PendingOverwrite[];
  copies: number;
  /**
   * Queue lines whose path cannot be read exactly (a newline in it, or blanks at its end that the log trims): such a
   * preview cannot be the list a user approves, since the name shown would not be the file changed.
   */
  unreadable: number;
}

export interface PreviewReader {
  read(message: RcloneMessage): void;
  result(): PreviewChanges;
}

const other = (side: Side): Side => (side === 'Path1' ? 'Path2' : 'Path1');

/** `root` + `/` unless it already ends a path (`/`) or names a remote's root (`box:`). */
function prefixOf(root: string): string {
  return root.endsWith('/') || root.endsWith(':') ? root : `${root}/`;
}

/** The path relative to one of the roots, undefined when it is under none of them. */
function relativeTo(roots: readonly string[], full: string): string | undefined {
  for (const root of roots) {
    const prefix = prefixOf(root);
    if (root !== '' && full.startsWith(prefix)) return full.slice(prefix.length);
  }
  return undefined;
}

/**
 * Reads a preview message by message (only its sets of names are kept). When in doubt a copy counts as an
 * overwrite: a destination path outside the roots, or a file the preview says nothing about.
 */
export function createPreviewReader(roots: PreviewRoots): PreviewReader {
  const printed: Record<Side, string> = { Path1: '', Path2: '' };
  const isNew: Record<Side, Set<string>> = { Path1: new Set(), Path2: new Set() };
  const deleted: Record<Side, Set<string>> = { Path1: new Set(), Path2: new Set() };
  const copies: PendingOverwrite[] = [];
  const deletes: string[] = [];
  let unreadable = 0;

  function read(message: RcloneMessage): void {
    if (message.stats) return;
    const raw = message.text.split('\n', 1)[0] ?? '';
    const line = raw.trim();
    const synching = SYNCHING.exec(line);
    if (synching) {
      printed.Path1 = synching[1] ?? '';
      printed.Path2 = synching[2] ?? '';
      return;
    }
    const delta = parseDeltaLine(line);
    if (!delta) return;
    const { side, action, subject } = delta;
    const copyTo = /^Queue copy to (Path[12])$/.exec(action)?.[1];
    if ((copyTo !== undefined || action === 'Queue delete') && (message.text.trimEnd() !== raw.trimEnd() || /\s$/.test(raw.replace(/\n$/, '')))) unreadable++;
    if (copyTo === 'Path1' || copyTo === 'Path2') copies.push({ to: copyTo, path: subject });
    else if (action === 'Queue delete') deletes.push(subject);
    else if ((side === 'Path1' || side === 'Path2') && action === 'File is new') isNew[side].add(subject);
    else if ((side === 'Path1' || side === 'Path2') && action === 'File was deleted') deleted[side].add(subject);
  }

  /** The destination has no file at this path now, by the preview's own account. */
  function destinationLacks(to: Side, rel: string): boolean {
    if (isNew[to].has(rel)) return false; // new on the destination too: it is there
    if (deleted[to].has(rel)) return true; // deleted there since the last run: the copy restores it
    if (isNew[other(to)].has(rel)) return true; // new on the source, unknown to the destination
    // A conflict's renamed copies (`f..path1`, `f.conflict1`) are listed too: their names cannot tell them from an
    // existing file of the same name (an earlier conflict's copy, `report.txt.old1`), and listing more is safe.
    return false;
  }

  function result(): PreviewChanges {
    const overwrites = copies.filter((copy) => {
      const rel = relativeTo([printed[copy.to], copy.to === 'Path1' ? roots.path1 : roots.path2], copy.path);
      return rel === undefined || !destinationLacks(copy.to, rel);
    });
    return { deletes: [...deletes], overwrites, copies: copies.length, unreadable };
  }

  return { read, result };
}
