// rclone capabilities for unit tests: literal objects for the two versions the product supports
// (integration tests probe the real binary with platform/rclone-probe.ts).
import type { RcloneCapabilities } from '../../src/config/types.js';

/** What `rclone bisync --help` lists on Debian's 1.60. */
export const CAPS_160: RcloneCapabilities = {
  binary: 'rclone',
  version: '1.60.1',
  major: 1,
  minor: 60,
  patch: 1,
  flags: new Set(['check-access', 'check-filename', 'check-sync', 'dry-run', 'filters-file', 'force', 'help', 'localtime', 'max-delete', 'no-cleanup', 'remove-empty-dirs', 'resync', 'verbose', 'workdir']),
};

/** A subset of what 1.75 lists (enough for the engine's gating). */
export const CAPS_175: RcloneCapabilities = {
  binary: 'rclone',
  version: '1.75.2',
  major: 1,
  minor: 75,
  patch: 2,
  flags: new Set([...CAPS_160.flags, 'recover', 'resilient', 'max-lock', 'resync-mode', 'conflict-resolve', 'conflict-loser', 'conflict-suffix', 'compare', 'create-empty-src-dirs', 'backup-dir1', 'backup-dir2']),
};
