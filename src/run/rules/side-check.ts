// The side check before a run touches the pair (pure): a side that lost its check file, a local root that is empty or
// holds only residue while the last good run saw files, or a recorded mount point that is no longer mounted means the
// drive is probably missing. rclone must not run then: it would delete the missing files on the other side (under
// max_delete) or, resynced, fill the empty mount point with copies that later overwrite newer edits.

import { renderHint } from '../../api/hints.js';

/** Why a run refused to touch the pair; kept in the job state until a run passes the check. */
export interface SideCheckFailure {
  /** `local` is Path1 (the job's local root); `remote` is Path2, which may be a local directory too. */
  side: 'local' | 'remote';
  /** The path that looks unmounted or emptied: a side's root, or a mount point inside the local root. */
  path: string;
  /** What is missing there: the check file name, `mount` (no longer a mount point), `files`, or `matching check files`. */
  missing: string[];
  /** Files rclone's listing held for that path after the last good run (-1 when unknown). */
  filesLastSeen: number;
  /** Files there now (-1 when unknown; counting stops at FILES_NOW_CAP). */
  filesNow: number;
  /** Residue found instead of files (lost+found, .Trash-1000, …). */
  residue: string[];
}

/** The mounts around the local root at the last good run. */
export interface LocalMounts {
  /** The mount point the local root lives on (the root itself when it is one). */
  rootMount: string;
  /** Mount points strictly inside the local root. */
  nested: string[];
}

/** Counting the files of a side stops here: a side that is not empty is already known to hold files. */
export const FILES_NOW_CAP = 100_000;

/**
 * Entries a file system, a desktop or an OS leaves in an empty drive or mount point. A root holding only these holds
 * no user files. `.Trash-<uid>` is matched by prefix.
 */
export const RESIDUE_NAMES: readonly string[] = [
  'lost+found',
  '.Trash',
  '.Trashes',
  '.directory',
  '.DS_Store',
  '.localized',
  '.fseventsd',
  '.Spotlight-V100',
  '.TemporaryItems',
  'Thumbs.db',
  'desktop.ini',
  'System Volume Information',
  '$RECYCLE.BIN',
];

export function isResidue(name: string): boolean {
  return RESIDUE_NAMES.includes(name) || /^\.Trash-\d+$/.test(name);
}

// ---------------------------------------------------------------- mountinfo

/** `\040` → space and the other octal escapes the kernel writes in /proc/self/mountinfo. */
export function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mount points listed in /proc/self/mountinfo (field 5 of each line), unescaped. */
export function parseMountInfo(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const mountPoint = fields[4];
    if (fields.length < 6 || mountPoint === undefined || !mountPoint.startsWith('/')) continue;
    out.push(unescapeMountPath(mountPoint));
  }
  return out;
}

function isInside(path: string, dir: string): boolean {
  return dir === '/' ? path !== '/' : path.startsWith(`${dir}/`);
}

/** The local root's own mount point and the mount points inside it, from the current mount table. */
export function localMountsOf(root: string, mountPoints: readonly string[]): LocalMounts {
  let rootMount = '/';
  for (const mp of mountPoints) {
    if ((mp === root || isInside(root, mp)) && mp.length > rootMount.length) rootMount = mp;
  }
  const nested = [...new Set(mountPoints.filter((mp) => isInside(mp, root)))].sort();
  return { rootMount, nested };
}

/** The recorded mount points (the root's own first, then nested ones) that are not mounted now. */
export function missingMounts(recorded: LocalMounts, mountPoints: readonly string[]): string[] {
  const now = new Set(mountPoints);
  return [recorded.rootMount, ...recorded.nested].filter((mp) => !now.has(mp));
}

// ---------------------------------------------------------------- rclone listings

/** The file names in an rclone bisync listing (`<S>.path1.lst`): one `- <size> <hash> <id> <time> "<name>"` line per file. */
export function listingFiles(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('- ')) continue; // `d ` lines are directories, `#` the header
    const at = line.indexOf(' "');
    if (at < 0) continue;
    const quoted = line.slice(at + 1);
    try {
      out.push(JSON.parse(quoted) as string);
    } catch {
      out.push(quoted.slice(1, -1)); // a Go escape JSON does not know; the count is what matters
    }
  }
  return out;
}

/** Files of a listing under `rel` (a path relative to the side's root; '' for all), residue at the root left out. */
export function countListed(files: readonly string[], rel: string): number {
  if (rel === '') return files.filter((f) => !isResidue(f.split('/')[0] ?? '')).length;
  return files.filter((f) => f.startsWith(`${rel}/`)).length;
}

// ---------------------------------------------------------------- the decision

/** What the engine found on one side before a run. */
export interface SideFacts {
  side: 'local' | 'remote';
  root: string;
  /** A local directory (its entries are known); false for a remote. */
  isLocal: boolean;
  /** With check_access: whether the check file is at the root; undefined when not checked or unknown (remote down). */
  checkFilePresent: boolean | undefined;
  /** Local sides: the names at the root, or 'missing' when the root does not exist. */
  rootEntries: readonly string[] | 'missing' | undefined;
  /** Files in this side's listing after the last good run (-1 when there is no listing). */
  filesLastSeen: number;
  /** Files there now, counted only when something is already wrong (-1 when unknown). */
  filesNow: number;
}

export interface MountFacts {
  /** Recorded mount points that are not mounted now, with the files the last listing had under each. */
  missing: { path: string; filesLastSeen: number; filesNow: number }[];
}

/**
 * The first reason not to run, or undefined. Order: a lost mount (the most specific cause), a missing check file,
 * then a root that holds no files while the last good run saw some.
 */
export function decideSideCheck(sides: readonly SideFacts[], mounts: MountFacts, checkFile: string): SideCheckFailure | undefined {
  const lostMount = mounts.missing.find((m) => m.filesLastSeen !== 0);
  const local = sides.find((s) => s.side === 'local');
  if (lostMount && local) {
    const missing = ['mount'];
    if (lostMount.path === local.root && local.checkFilePresent === false) missing.push(checkFile);
    return { side: 'local', path: lostMount.path, missing, filesLastSeen: lostMount.filesLastSeen, filesNow: lostMount.filesNow, residue: residueOf(local) };
  }
  for (const s of sides) {
    if (s.checkFilePresent !== false) continue;
    const missing = [checkFile];
    if (isEmptied(s)) missing.push('files');
    return { side: s.side, path: s.root, missing, filesLastSeen: s.filesLastSeen, filesNow: s.filesNow, residue: residueOf(s) };
  }
  for (const s of sides) {
    if (!isEmptied(s)) continue;
    return { side: s.side, path: s.root, missing: ['files'], filesLastSeen: s.filesLastSeen, filesNow: 0, residue: residueOf(s) };
  }
  return undefined;
}

/** A local root with no entry but residue (or no root at all) while the last good run saw files. */
function isEmptied(s: SideFacts): boolean {
  // Unknown (no listing) is no evidence: rclone has nothing to compare against and refuses a bisync by itself.
  if (!s.isLocal || s.rootEntries === undefined || s.filesLastSeen <= 0) return false;
  return s.rootEntries === 'missing' || s.rootEntries.every(isResidue);
}

function residueOf(s: SideFacts): string[] {
  return s.rootEntries === undefined || s.rootEntries === 'missing' ? [] : s.rootEntries.filter(isResidue).sort();
}

// ---------------------------------------------------------------- words

function count(n: number): string {
  if (n < 0) return 'unknown';
  return n >= FILES_NOW_CAP ? `${FILES_NOW_CAP}+` : String(n);
}

/** One line for the status: side, path, what is missing, files last seen and now. */
export function sideCheckMessage(f: SideCheckFailure): string {
  const what: string[] = [];
  for (const m of f.missing) {
    if (m === 'mount') what.push('no longer a mount point');
    else if (m === 'files') what.push(f.residue.length > 0 ? `only ${f.residue.join(', ')} left` : 'no files');
    else if (m === 'matching check files') what.push('its check files differ from the other side');
    else what.push(`${m} is missing`);
  }
  const counts = f.filesLastSeen >= 0 ? `; last run saw ${count(f.filesLastSeen)} files, now ${count(f.filesNow)}` : '';
  const ask = f.side === 'local' || f.path.startsWith('/') ? 'is the drive mounted?' : 'is the remote folder intact?';
  return `the ${f.side} side looks unmounted or emptied: ${f.path} (${what.join('; ')}${counts}); ${ask}`;
}

/** What the user can do; the job also heals by itself at its next run once the check passes. */
export function sideCheckHint(f: SideCheckFailure): string {
  const fix = f.missing.includes('mount')
    ? `Mount the drive at ${f.path}`
    : f.missing.some((m) => m !== 'files' && m !== 'mount')
      ? `Mount the drive or put the check file back in ${f.path}`
      : `Mount the drive or restore the files in ${f.path}`;
  return `${fix}: the job syncs again by itself at its next run. Nothing was deleted or resynced. ` +
    'If the files are gone on purpose, put any file back in the folder: the next run then stops at a safety abort that lists the deletes for rbmctl approve JOB; a mount point removed for good is forgotten after rbmctl sync JOB --resync.';
}

/** The short error text of a refused run. */
export function sideCheckError(f: SideCheckFailure): string {
  const counts = f.filesLastSeen >= 0 ? ` (last run saw ${count(f.filesLastSeen)} files, now ${count(f.filesNow)})` : '';
  return `side check failed: ${f.side} ${f.path}: missing ${f.missing.join(', ')}${counts}`;
}

/** Message, hint (naming the job) and error text of a run the side check refused. */
export function describeSideCheck(f: SideCheckFailure, jobName: string): { message: string; hint: string; errorText: string } {
  return { message: sideCheckMessage(f), hint: renderHint(sideCheckHint(f), jobName), errorText: sideCheckError(f) };
}

/**
 * rclone's own check-access failure (check files deeper in the tree differ): the side and path rclone named in
 * `Access test failed: PathA file not found in PathB - sub/RCLONE_TEST`, as a failure for the status.
 */
export function checkAccessFailureFrom(lines: readonly string[], roots: { local: string; remote: string }): SideCheckFailure {
  for (const line of lines) {
    const m = /Access test failed: Path[12] file not found in Path([12]) - (.+)$/.exec(line);
    if (!m) continue;
    const side = m[1] === '1' ? 'local' : 'remote';
    const root = side === 'local' ? roots.local : roots.remote;
    const rel = (m[2] ?? '').trim();
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    const sep = root.endsWith('/') || root.endsWith(':') ? '' : '/';
    return { side, path: dir === '' ? root : `${root}${sep}${dir}`, missing: [rel.split('/').pop() ?? rel], filesLastSeen: -1, filesNow: -1, residue: [] };
  }
  return { side: 'local', path: roots.local, missing: ['matching check files'], filesLastSeen: -1, filesNow: -1, residue: [] };
}
