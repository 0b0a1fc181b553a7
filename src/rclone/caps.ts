// What an installed rclone can do: its version and the flags it accepts, read from its own output.
// Pure text parsing plus the table of flags that appeared after bisync's first release (1.58).

import { flagName } from './flags.js';
import type { RcloneCapabilities } from '../config/types.js';

/** bisync first shipped in rclone 1.58; older binaries cannot run it at all. */
export const MIN_RCLONE_VERSION = '1.58';

/**
 * First rclone version that accepts (or, for backup-dir and track-renames, honours in bisync) each flag.
 * Flags not listed here have been in bisync since 1.58 or are ordinary global flags; for them the
 * installed binary's own help output decides.
 */
export const FLAG_MIN_VERSION: Readonly<Record<string, string>> = Object.freeze({
  resync: '1.58',
  'check-access': '1.58',
  'check-filename': '1.58',
  'check-sync': '1.58',
  'filters-file': '1.58',
  force: '1.58',
  workdir: '1.58',
  'remove-empty-dirs': '1.58',
  'no-cleanup': '1.58',
  localtime: '1.58',
  'max-delete': '1.58',
  'dry-run': '1.58',
  color: '1.61',
  'create-empty-src-dirs': '1.64',
  resilient: '1.64',
  'ignore-listing-checksum': '1.64',
  'resync-mode': '1.66',
  recover: '1.66',
  'max-lock': '1.66',
  'conflict-resolve': '1.66',
  'conflict-loser': '1.66',
  'conflict-suffix': '1.66',
  compare: '1.66',
  'no-slow-hash': '1.66',
  'slow-hash-sync-only': '1.66',
  'download-hash': '1.66',
  'backup-dir1': '1.66',
  'backup-dir2': '1.66',
  // Accepted by 1.60 as global flags, but bisync only honours them since 1.66.
  'backup-dir': '1.66',
  'track-renames': '1.66',
});

export interface RcloneVersion {
  /** "major.minor.patch", any -DEV/-beta suffix dropped. */
  version: string;
  major: number;
  minor: number;
  patch: number;
}

/** Reads the first line of `rclone version` (`rclone v1.60.1-DEV`). Throws Error on anything else. */
export function parseRcloneVersion(output: string): RcloneVersion {
  const match = /^rclone v(\d+)\.(\d+)(?:\.(\d+))?/m.exec(output);
  if (!match) throw new Error(`not the output of "rclone version": ${JSON.stringify(output.split('\n')[0] ?? '')}`);
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const patch = Number(match[3] ?? 0);
  return { version: `${major}.${minor}.${patch}`, major, minor, patch };
}

/** Orders "1.60" / "1.66.0" style versions; a missing patch counts as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function atLeast(caps: Pick<RcloneCapabilities, 'version'>, version: string): boolean {
  return compareVersions(caps.version, version) >= 0;
}

/**
 * The first rclone whose bisync stops gracefully on one SIGTERM: transfers in flight finish, the listings are saved and
 * the next run is a plain bisync (rclone-bisync.md §3). Before it, any SIGTERM/SIGINT forces a resync.
 */
export const GRACEFUL_STOP_SINCE = '1.66';

/** The one rule for "this rclone can be stopped without forcing a resync" (the stop policy and the run conditions ask it). */
export function stopsGracefully(caps: Pick<RcloneCapabilities, 'version'>): boolean {
  return atLeast(caps, GRACEFUL_STOP_SINCE);
}

export interface ParseHelpOptions {
  /**
   * Skip the first `Flags:` section. In `rclone help flags` that section lists the flags of the help
   * command itself (`--group`, `--name`), which no sync accepts.
   */
  skipOwnFlags?: boolean;
}

/** Long flag names (no dashes) listed in rclone help output (`  -1, --resync   …` / `      --max-lock Duration …`). */
export function parseHelpFlags(helpText: string, options: ParseHelpOptions = {}): Set<string> {
  const flags = new Set<string>();
  let skipping = false;
  for (const line of helpText.split('\n')) {
    if (/^\S.*:\s*$/.test(line)) {
      // A section header such as "Flags:" or "Global Flags:".
      skipping = options.skipOwnFlags === true && line.trim() === 'Flags:';
      continue;
    }
    if (skipping) continue;
    const match = /^\s+(?:-[A-Za-z0-9], )?--([A-Za-z0-9][A-Za-z0-9_-]*)/.exec(line);
    if (match?.[1]) flags.add(match[1]);
  }
  flags.delete('help');
  return flags;
}

/** Capabilities from the raw outputs of `rclone version`, `rclone bisync --help` and `rclone help flags`. */
export function buildCapabilities(binary: string, versionOutput: string, bisyncHelp: string, helpFlags = ''): RcloneCapabilities {
  const version = parseRcloneVersion(versionOutput);
  const flags = parseHelpFlags(bisyncHelp);
  for (const flag of parseHelpFlags(helpFlags, { skipOwnFlags: true })) flags.add(flag);
  return { binary, ...version, flags };
}

/** The version that introduced `flag` (a key or flag name, with or without dashes), if it is in the table. */
export function flagAddedIn(flag: string): string | undefined {
  const name = flagName(flag.replace(/^-+/, ''));
  return Object.hasOwn(FLAG_MIN_VERSION, name) ? FLAG_MIN_VERSION[name] : undefined;
}

export type FlagSupport = { ok: true } | { ok: false; reason: 'too-old'; addedIn: string } | { ok: false; reason: 'unknown' };

/** Whether the installed rclone takes `flag`, and why not. The version table wins over the help text. */
export function flagSupport(caps: RcloneCapabilities, flag: string): FlagSupport {
  const name = flagName(flag.replace(/^-+/, ''));
  const addedIn = flagAddedIn(name);
  if (addedIn !== undefined) {
    return atLeast(caps, addedIn) ? { ok: true } : { ok: false, reason: 'too-old', addedIn };
  }
  return caps.flags.has(name) ? { ok: true } : { ok: false, reason: 'unknown' };
}

export function supportsFlag(caps: RcloneCapabilities, flag: string): boolean {
  return flagSupport(caps, flag).ok;
}
