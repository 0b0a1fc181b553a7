// rclone capabilities for tests: literal objects for the two versions the product supports, and a small
// probe of a real binary (`rclone version` + `rclone bisync --help`) until the config layer's probe lands.
import { execFileSync } from 'node:child_process';
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

export function probeCaps(binary: string): Promise<RcloneCapabilities> {
  const first = execFileSync(binary, ['version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const m = /^rclone v(\d+)\.(\d+)\.(\d+)/.exec(first);
  if (!m) throw new Error(`cannot read the version of ${binary}: ${first}`);
  const help = execFileSync(binary, ['bisync', '--help'], { encoding: 'utf8' });
  const flags = new Set([...help.matchAll(/--([a-z0-9][a-z0-9-]*)/g)].map((x) => x[1] ?? ''));
  return Promise.resolve({ binary, version: `${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), flags });
}
