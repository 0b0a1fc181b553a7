// Whether a run compares checksums (`--compare=size,modtime,checksum`), and how an existing job switches to it (pure).
// Without checksums, a same-size edit whose mtime stays within the remote's modtime precision (1 s on sftp, Dropbox,
// OneDrive…) looks unchanged to bisync for good. The facts (rclone version, hash types, listing contents) come in
// as arguments: src/run/compare-mode.ts gathers them.

import { atLeast } from './caps.js';
import type { JobConfig, RcloneCapabilities } from '../config/types.js';

export const CHECKSUM_COMPARE = 'size,modtime,checksum';
/** The first rclone with `--compare`. */
export const COMPARE_MIN_VERSION = '1.66';

/** Hash types of Path2 as `rclone backend features` reports them; 'all' for a local directory (local has every type). */
export type RemoteHashes = readonly string[] | 'all';

export type ChecksumSupport =
  | { ok: true }
  | { ok: false; reason: 'off' | 'rclone-too-old' | 'no-common-hash' | 'unknown-hashes' | 'user-compare' };

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

/** Whether this job can compare checksums with this rclone and these hash types (undefined: not detected). */
export function checksumSupport(job: Pick<JobConfig, 'checksumCompare'>, caps: RcloneCapabilities, hashes: RemoteHashes | undefined, userCompare: boolean): ChecksumSupport {
  if (userCompare) return { ok: false, reason: 'user-compare' };
  if (!job.checksumCompare) return { ok: false, reason: 'off' };
  if (!atLeast(caps, COMPARE_MIN_VERSION)) return { ok: false, reason: 'rclone-too-old' };
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

/** One listing file's text: does every file entry carry a hash? Lines are `- <size> <hash|-> - <mtime> "<name>"`. */
export function listingHashed(text: string): boolean {
  for (const line of text.split('\n')) {
    if (!line.startsWith('- ')) continue; // header, directories (`d`), blank lines
    const fields = line.split(' ').filter((f) => f !== '');
    if (fields[2] === '-') return false;
  }
  return true;
}

/** `Hashes` from the JSON printed by `rclone backend features REMOTE:`; undefined when it is not that JSON. */
export function parseFeatureHashes(stdout: string): string[] | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(stdout.slice(start)) as { Hashes?: unknown };
    if (!Array.isArray(parsed.Hashes)) return parsed.Hashes === null ? [] : undefined;
    return parsed.Hashes.filter((h): h is string => typeof h === 'string');
  } catch {
    return undefined;
  }
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
      return undefined;
  }
}
