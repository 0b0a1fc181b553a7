// Whether a run compares checksums (`--compare=size,modtime,checksum`), and how an existing job switches to it (pure).
// Without checksums, a same-size edit whose mtime stays within the remote's modtime precision (1 s on sftp, Dropbox,
// OneDrive…) looks unchanged to bisync for good. Where both sides keep modtimes finer than a millisecond (local disks),
// the modtime already tells such an edit apart and checksums add nothing but the cost of hashing every file on every
// run. The facts (rclone version, hash types, precisions, listing contents) come in as arguments:
// src/run/compare-mode.ts gathers them.

import { atLeast } from './caps.js';
import type { JobConfig, RcloneCapabilities } from '../config/types.js';

export const CHECKSUM_COMPARE = 'size,modtime,checksum';
/** The first rclone with `--compare`. */
export const COMPARE_MIN_VERSION = '1.66';

/** Hash types of Path2 as `rclone backend features` reports them; 'all' for a local directory (local has every type). */
export type RemoteHashes = readonly string[] | 'all';

export type ChecksumSupport =
  | { ok: true }
  | { ok: false; reason: 'off' | 'rclone-too-old' | 'no-common-hash' | 'unknown-hashes' | 'user-compare' | 'fine-modtimes' };

/** What the listings in the job's workdir say: none yet, every file entry with a hash, or some without. */
export type ListingHashes = 'none' | 'hashed' | 'unhashed';

export interface ComparePlan {
  /** The --compare value to pass, undefined for rclone's default (size,modtime). */
  compare: string | undefined;
  /**
   * The listings lack hashes (written before checksums were compared): this run goes without them, and a successful
   * run is followed at once by one with them, which rewrites the listings with hashes. Comparing checksums over
   * hash-less listings instead misses the edits and can end in "path1 and path2 are out of sync" (a lockout).
   */
  settle: boolean;
}

/** No --compare and no switch-over. */
export const NO_COMPARE: ComparePlan = Object.freeze({ compare: undefined, settle: false });

/** Path1 is always local, so the common hash types are Path2's. */
export function hasCommonHash(hashes: RemoteHashes): boolean {
  return hashes === 'all' || hashes.length > 0;
}

/**
 * Whether this job compares checksums with this rclone and these hash types (undefined: not detected); not where
 * `modtimesFine` (modtimesTellEditsApart): the modtimes already tell every edit apart.
 */
export function checksumSupport(job: Pick<JobConfig, 'checksumCompare'>, caps: RcloneCapabilities, hashes: RemoteHashes | undefined, userCompare: boolean, modtimesFine = false): ChecksumSupport {
  if (userCompare) return { ok: false, reason: 'user-compare' };
  if (!job.checksumCompare) return { ok: false, reason: 'off' };
  if (!atLeast(caps, COMPARE_MIN_VERSION)) return { ok: false, reason: 'rclone-too-old' };
  if (modtimesFine) return { ok: false, reason: 'fine-modtimes' };
  if (hashes === undefined) return { ok: false, reason: 'unknown-hashes' };
  return hasCommonHash(hashes) ? { ok: true } : { ok: false, reason: 'no-common-hash' };
}

/** The --compare value of one run, and whether it is the switch-over run of an existing job. */
export function planCompare(support: ChecksumSupport, operation: 'bisync' | 'resync', listings: ListingHashes, dryRun: boolean): ComparePlan {
  if (!support.ok) return NO_COMPARE;
  // A resync writes every listing line afresh, with hashes when it compares them.
  if (operation === 'resync' || listings !== 'unhashed') return { compare: CHECKSUM_COMPARE, settle: false };
  return { compare: undefined, settle: !dryRun };
}

// A file entry without a hash: `- <size, padded> - - <mtime> "<name>"` (directories start with `d`, the header with `#`;
// names are quoted with escapes, so no entry spans two lines). One regex pass instead of splitting 10,000 lines.
const UNHASHED_FILE_LINE = /^- +-?\d+ - /m;

/** One listing file's text: does every file entry carry a hash? Lines are `- <size> <hash|-> - <mtime> "<name>"`. */
export function listingHashed(text: string): boolean {
  return !UNHASHED_FILE_LINE.test(text);
}

/**
 * Precisions at or under this tell a same-size edit apart by its modtime alone (short of two writes within one tick of
 * the kernel's clock, with a listing between them: docs/decisions.md, "Session 6: propagation latency").
 */
export const FINE_MODTIME_NS = 1_000_000;

/**
 * Options (as flag names, and as their RCLONE_* environment variables) that widen rclone's modtime window, stop it
 * comparing sizes or modtimes, or stop modtimes being kept: with any of them set, checksums stay on.
 */
export const MODTIME_OPTIONS: readonly string[] = ['modify-window', 'size-only', 'ignore-size', 'ignore-times', 'use-server-modtime', 'no-update-modtime', 'local-no-set-modtime', 'checksum'];

/** What decides whether the modtimes alone tell every edit apart. */
export interface ModtimeFacts {
  /** rclone's modtime precision of each side in ns (`Precision` of `rclone backend features`); undefined: not known. */
  path1PrecisionNs: number | undefined;
  path2PrecisionNs: number | undefined;
  /**
   * Every file system under the local roots keeps modtimes finer than a millisecond (seen on the file systems
   * themselves: rclone measures the local precision on its temp directory, not on the roots).
   */
  localFilesystemsFine: boolean;
  /** The MODTIME_OPTIONS in force for the job (options or environment). */
  modtimeOptions: readonly string[];
}

/** Both sides keep modtimes at FINE_MODTIME_NS or finer and nothing widens or bypasses rclone's modtime compare. */
export function modtimesTellEditsApart(facts: ModtimeFacts): boolean {
  const fine = (ns: number | undefined): boolean => ns !== undefined && ns > 0 && ns <= FINE_MODTIME_NS;
  return facts.modtimeOptions.length === 0 && facts.localFilesystemsFine && fine(facts.path1PrecisionNs) && fine(facts.path2PrecisionNs);
}

/**
 * A directory's modtime or change time (ns since the epoch) with digits under the millisecond: its file system keeps
 * times finer than FINE_MODTIME_NS. A file system that keeps whole seconds (ext4 with small inodes, sshfs), 2 s
 * (FAT) or 10 ms (exFAT) can never show such digits; the change time is set by the kernel's clock, never copied from
 * elsewhere, so on a fine file system it shows them.
 */
export function showsFineTimes(...timesNs: readonly bigint[]): boolean {
  return timesNs.some((ns) => ns % BigInt(FINE_MODTIME_NS) !== BigInt(0));
}

/** The env variable rclone reads a flag from: `modify-window` → `RCLONE_MODIFY_WINDOW`. */
export function rcloneEnvName(flag: string): string {
  return `RCLONE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function featuresJson(stdout: string): { Hashes?: unknown; Precision?: unknown } | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(stdout.slice(start)) as { Hashes?: unknown; Precision?: unknown };
  } catch {
    return undefined;
  }
}

/** `Hashes` from the JSON printed by `rclone backend features REMOTE:`; undefined when it is not that JSON. */
export function parseFeatureHashes(stdout: string): string[] | undefined {
  const parsed = featuresJson(stdout);
  if (parsed === undefined) return undefined;
  if (!Array.isArray(parsed.Hashes)) return parsed.Hashes === null ? [] : undefined;
  return parsed.Hashes.filter((h): h is string => typeof h === 'string');
}

/** `Precision` (ns) from the same JSON; undefined when absent. "Not supported" is a huge value (100 years). */
export function parseFeaturePrecision(stdout: string): number | undefined {
  const precision = featuresJson(stdout)?.Precision;
  return typeof precision === 'number' && Number.isFinite(precision) ? precision : undefined;
}

/**
 * One line for status and check-config when same-size edits within the modtime precision cannot be detected for
 * this job; undefined when they can, when that is not known yet, or when the user chose otherwise
 * (checksum_compare: false, their own compare).
 */
export function checksumNote(support: ChecksumSupport, caps: Pick<RcloneCapabilities, 'version'>): string | undefined {
  if (support.ok) return undefined;
  switch (support.reason) {
    case 'rclone-too-old':
      return `same-size edits within the remote's modtime precision are not detected: rclone ${caps.version} cannot compare checksums (needs rclone >= ${COMPARE_MIN_VERSION})`;
    case 'no-common-hash':
      return `same-size edits within the remote's modtime precision are not detected: the remote has no hash type in common with the local side`;
    case 'unknown-hashes': // not detected yet (the next run does): nothing known to report
    case 'off':
    case 'user-compare':
    case 'fine-modtimes': // the modtimes tell them apart
      return undefined;
  }
}
