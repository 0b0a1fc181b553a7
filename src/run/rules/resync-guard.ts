// The pure rules of the resync guard: before any real resync, every file that differs between the two sides gets
// one winner (which keeps the name on both sides) and one loser (kept beside it under a conflict name), so that no
// resync, automatic or asked for, ever drops a version. No processes, no clock: facts come in as arguments.

import type { RcloneCapabilities } from '../../config/types.js';
import { hasFlag } from '../../rclone/args.js';
import type { Classification } from './classify.js';
import type { OutputSummary } from '../../rclone/output.js';
import type { Conflict } from '../types.js';
import { isOkOutcome } from '../../api/outcomes.js';

/** How a resync picks between two differing versions (rclone's `--resync-mode` values). */
export type ResyncMode = 'path1' | 'path2' | 'newer' | 'older' | 'larger' | 'smaller';

export type Side = 'path1' | 'path2';

/** What rclone lists for one version of a file. */
export interface FileFacts {
  size: number;
  /** Modification time in ms since the epoch (NaN when the remote gave none). */
  modTimeMs: number;
}

export interface Verdict {
  winner: Side;
  /** Why this side won, for the log and the record's message. */
  why: string;
}

/** Modtimes closer than this are a tie: sftp and many remotes keep whole seconds only. */
export const MODTIME_TIE_MS = 1000;

/** Marker in every conflict name the guard makes; users search for it, and the guard avoids names already taken. */
export const CONFLICT_MARKER = '.rbm-conflict-';

/** At most this many kept versions are listed in a run record (all of them are kept and logged). */
export const MAX_RECORDED_KEPT = 1000;

const MODES: readonly ResyncMode[] = ['path1', 'path2', 'newer', 'older', 'larger', 'smaller'];

function argValue(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (const arg of argv) if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
  return value;
}

/**
 * The mode the resync in `argv` will use. 1.60 has none (Path1 always wins); `--resync` alone means path1; rclone
 * falls back to path1 when `--compare` lacks what the mode needs (modtime for newer/older, size for larger/smaller).
 */
export function effectiveResyncMode(argv: readonly string[], caps: RcloneCapabilities): ResyncMode {
  if (!hasFlag(caps, 'resync-mode')) return 'path1';
  const given = argValue(argv, '--resync-mode')?.toLowerCase();
  const mode = MODES.find((m) => m === given) ?? 'path1';
  const compare = argValue(argv, '--compare');
  if (compare === undefined) return mode;
  const parts = compare.toLowerCase().split(',');
  if ((mode === 'newer' || mode === 'older') && !parts.includes('modtime')) return 'path1';
  if ((mode === 'larger' || mode === 'smaller') && !parts.includes('size')) return 'path1';
  return mode;
}

function byNumber(a: number, b: number, preferGreater: boolean, tie: number, what: string): Verdict | undefined {
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a - b) <= tie) return undefined;
  const path1Wins = preferGreater ? a > b : a < b;
  return { winner: path1Wins ? 'path1' : 'path2', why: what };
}

/**
 * Which version keeps the name. A non-empty version always beats an empty one (a 0-byte file is what a full disk or
 * a cut transfer leaves behind); otherwise the resync mode decides, and a tie goes to Path1 like rclone's default.
 * The loser is never dropped: the caller keeps it under a conflict name.
 */
export function chooseWinner(path1: FileFacts, path2: FileFacts, mode: ResyncMode): Verdict {
  if (path1.size === 0 && path2.size > 0) return { winner: 'path2', why: 'the other version is empty' };
  if (path2.size === 0 && path1.size > 0) return { winner: 'path1', why: 'the other version is empty' };
  let verdict: Verdict | undefined;
  switch (mode) {
    case 'path1':
      return { winner: 'path1', why: 'a resync prefers Path1' };
    case 'path2':
      return { winner: 'path2', why: 'resync mode path2' };
    case 'newer':
      verdict = byNumber(path1.modTimeMs, path2.modTimeMs, true, MODTIME_TIE_MS, 'newer');
      break;
    case 'older':
      verdict = byNumber(path1.modTimeMs, path2.modTimeMs, false, MODTIME_TIE_MS, 'older');
      break;
    case 'larger':
      verdict = byNumber(path1.size, path2.size, true, 0, 'larger');
      break;
    case 'smaller':
      verdict = byNumber(path1.size, path2.size, false, 0, 'smaller');
      break;
  }
  return verdict ?? { winner: 'path1', why: `no clear ${mode} version: Path1 keeps the name` };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `20261204-214500` (UTC) */
export function conflictStamp(nowMs: number): string {
  const d = new Date(nowMs);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** The word users know a side by: the config keys are `local` and `remote`. */
export function sideLabel(side: Side): 'local' | 'remote' {
  return side === 'path1' ? 'local' : 'remote';
}

/**
 * The conflict name for the `side` version of `rel`: `dir/name.rbm-conflict-<stamp>-<local|remote>[-N].ext`. The
 * extension stays last so the copy opens with the same program and matches the same filters; `taken` holds every
 * name already in use (on either side, or handed out in this run), and a counter makes the name unique.
 */
export function conflictName(rel: string, side: Side, nowMs: number, taken: ReadonlySet<string>): string {
  const slash = rel.lastIndexOf('/');
  const dir = rel.slice(0, slash + 1);
  const base = rel.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const head = `${dir}${stem}${CONFLICT_MARKER}${conflictStamp(nowMs)}-${sideLabel(side)}`;
  for (let n = 1; ; n++) {
    const candidate = `${head}${n === 1 ? '' : `-${n}`}${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** One line of `rclone check --combined=-`: `= path`, `* path` (differs), `+`/`-` (on one side only), `! path` (error). */
export interface CheckLine {
  kind: '=' | '*' | '+' | '-' | '!';
  path: string;
}

export function parseCheckLine(line: string): CheckLine | undefined {
  const m = /^([=*+!-]) (.+)$/.exec(line);
  if (!m) return undefined;
  return { kind: m[1] as CheckLine['kind'], path: m[2] ?? '' };
}

/** The closing `N differences found` / `N errors while checking` counts of `rclone check` (both versions print them). */
export interface CheckCounts {
  differences: number;
  errors: number;
  noCommonHash: boolean;
}

export function emptyCheckCounts(): CheckCounts {
  return { differences: 0, errors: 0, noCommonHash: false };
}

/** Reads one stderr line of `rclone check` into the counts. */
export function noteCheckMessage(counts: CheckCounts, line: string): void {
  const diff = /: (\d+) differences found/.exec(line);
  if (diff) counts.differences = Number(diff[1]);
  const errs = /: (\d+) errors while checking/.exec(line);
  if (errs) counts.errors = Number(errs[1]);
  if (/No common hash found|hashes could not be checked/.test(line)) counts.noCommonHash = true;
}

/**
 * Whether `rclone check` compared everything: exit 0, or exit 1 whose only errors are the differences it listed
 * (every missing file and every differing file counts as one). Anything else (a listing error, `!` lines, a remote
 * that is down) means the comparison is incomplete, and a resync must not start on it.
 */
export function checkComplete(code: number | null, counts: CheckCounts, errorLines: number): boolean {
  if (errorLines > 0) return false;
  if (code === 0) return true;
  return code === 1 && counts.differences > 0 && counts.errors === counts.differences;
}

/** A version the guard kept (or, in a dry run, would keep). */
export interface KeptVersion {
  /** Path relative to the roots. */
  path: string;
  winner: Side;
  /** Relative name of the loser's copy. */
  copy: string;
  why: string;
}

function joinRoot(root: string, rel: string): string {
  return root.endsWith('/') || root.endsWith(':') ? root + rel : `${root}/${rel}`;
}

/** The record's conflicts for the kept versions: the copy's full path on both sides (the resync carries it across). */
export function keptConflicts(kept: readonly KeptVersion[], path1: string, path2: string): Conflict[] {
  return kept.slice(0, MAX_RECORDED_KEPT).map((k) => ({ path: k.path, copies: [joinRoot(path1, k.copy), joinRoot(path2, k.copy)] }));
}

/** One line for the message: `a.txt (remote version kept as a.rbm-conflict-…-remote.txt)`. */
export function describeKept(kept: readonly KeptVersion[], limit = 3): string {
  const shown = kept.slice(0, limit).map((k) => `${k.path} (${sideLabel(k.winner === 'path1' ? 'path2' : 'path1')} version kept as ${k.copy.slice(k.copy.lastIndexOf('/') + 1)})`);
  return `${shown.join(', ')}${kept.length > limit ? ', …' : ''}`;
}

/**
 * The run's classification once the resync ran after the guard kept versions: a resync that synced is `conflicts`
 * (the user has copies to review), and the record lists every copy. A failed resync keeps its own outcome; the copies
 * are on disk all the same, so they are listed too.
 */
export function withKeptVersions(c: Classification, summary: OutputSummary, kept: readonly KeptVersion[], roots: { path1: string; path2: string }, dryRun: boolean): { classification: Classification; summary: OutputSummary } {
  if (kept.length === 0) return { classification: c, summary };
  const n = kept.length;
  const what = `${n} file${n === 1 ? '' : 's'} differed on both sides`;
  const conflicts = [...keptConflicts(kept, roots.path1, roots.path2), ...summary.conflicts];
  if (dryRun) {
    return { classification: { ...c, message: `${c.message}; ${what}: the resync would keep ${describeKept(kept)}` }, summary: { ...summary, conflicts } };
  }
  const synced = isOkOutcome(c.outcome); // not a dry run: that returned above
  const classification: Classification = synced
    ? { ...c, outcome: 'conflicts', message: `resync complete; ${what}, both versions kept: ${describeKept(kept)}`, hint: 'Both versions were kept: review the conflict copies listed in the run record (names contain .rbm-conflict-).' }
    : { ...c, message: `${c.message} (before the resync, ${what}; both versions were kept: ${describeKept(kept)})` };
  return { classification, summary: { ...summary, conflicts } };
}
