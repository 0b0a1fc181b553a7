// Where each rclone option applies: bisync's own flags (`rclone bisync --help`, section "Flags:") exist only on the
// bisync command, so the setup commands that prepare a new pair (mkdir, lsf, touch) must not get them; every other
// option is a global rclone flag and applies to every command. Pure.

import { buildOptionFlags, flagName } from './flags.js';
import type { Config, GlobalSettings, JobConfig, OptionMap } from '../config/types.js';

/**
 * The flags `rclone bisync --help` lists under its own "Flags:" section in 1.60 and 1.75 (test/fixtures/rclone/
 * v1.*-bisync-help.txt; a unit test keeps this list equal to what parseBisyncOwnFlags reads there), plus
 * `localtime`, which 1.66+ still accepts but no longer lists.
 */
export const BISYNC_ONLY_FLAGS: ReadonlySet<string> = new Set([
  'backup-dir1',
  'backup-dir2',
  'check-access',
  'check-filename',
  'check-sync',
  'compare',
  'conflict-loser',
  'conflict-resolve',
  'conflict-suffix',
  'create-empty-src-dirs',
  'download-hash',
  'filters-file',
  'force',
  'ignore-listing-checksum',
  'localtime',
  'max-lock',
  'no-cleanup',
  'no-slow-hash',
  'recover',
  'remove-empty-dirs',
  'resilient',
  'resync',
  'resync-mode',
  'slow-hash-sync-only',
  'workdir',
]);

/** Long flag names in the first "Flags:" section of `rclone bisync --help` (bisync's own flags), without `help`. */
export function parseBisyncOwnFlags(helpText: string): Set<string> {
  const flags = new Set<string>();
  let inOwnSection = false;
  for (const line of helpText.split('\n')) {
    if (/^\S.*:\s*$/.test(line)) {
      if (inOwnSection) break; // the next section holds global flags
      inOwnSection = line.trim() === 'Flags:';
      continue;
    }
    if (!inOwnSection) continue;
    const match = /^\s+(?:-[A-Za-z0-9], )?--([A-Za-z0-9][A-Za-z0-9_-]*)/.exec(line);
    if (match?.[1] && match[1] !== 'help') flags.add(match[1]);
  }
  return flags;
}

export type OptionScope = 'bisync only' | 'every rclone command';

export function optionScope(key: string): OptionScope {
  return BISYNC_ONLY_FLAGS.has(flagName(key.replace(/^-+/, ''))) ? 'bisync only' : 'every rclone command';
}

function withoutBisyncOnly(map: OptionMap | undefined): OptionMap {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => optionScope(key) === 'every rclone command'));
}

/** The option maps of a setup command (mkdir, lsf, touch) on the job's remote: global and job rclone_options minus bisync's own. */
export function setupOptionMaps(job: JobConfig, global: GlobalSettings): OptionMap[] {
  return [withoutBisyncOnly(global.rcloneOptions), withoutBisyncOnly(job.rcloneOptions)];
}

/** The flags for a setup command (secrets included; the engine moves them to the environment, rclone/args.ts). */
export function setupCommandFlags(job: JobConfig, global: GlobalSettings): string[] {
  return buildOptionFlags(...setupOptionMaps(job, global));
}

export interface OptionPlacement {
  /** `rclone_options`, `sync_jobs.NAME.bisync_options`, … */
  map: string;
  key: string;
  scope: OptionScope;
  /** The runs and commands that get it. */
  appliesTo: string;
}

function placements(prefix: string, maps: { rclone?: OptionMap | undefined; bisync?: OptionMap | undefined; resync?: OptionMap | undefined }): OptionPlacement[] {
  const out: OptionPlacement[] = [];
  const add = (name: string, map: OptionMap | undefined, runs: string): void => {
    for (const key of Object.keys(map ?? {})) {
      const scope = optionScope(key);
      const setup = name === 'rclone_options' && scope === 'every rclone command' ? ', setup commands (mkdir, lsf, touch)' : '';
      out.push({ map: `${prefix}${name}`, key, scope, appliesTo: `${runs}${setup}` });
    }
  };
  add('rclone_options', maps.rclone, 'bisync and resync runs');
  add('bisync_options', maps.bisync, 'bisync runs');
  add('resync_options', maps.resync, 'resync runs');
  return out;
}

/** Every option of the config with where it applies (for `rbmctl check-config`). */
export function describeOptionPlacements(config: Pick<Config, 'global' | 'jobs'>): OptionPlacement[] {
  const { global } = config;
  const out = placements('', { rclone: global.rcloneOptions, bisync: global.bisyncOptions, resync: global.resyncOptions });
  for (const job of config.jobs) {
    out.push(...placements(`sync_jobs.${job.name}.`, { rclone: job.rcloneOptions, bisync: job.bisyncOptions, resync: job.resyncOptions }));
  }
  return out;
}

/** One line per option: `sync_jobs.photos.rclone_options.compare: bisync only (bisync and resync runs)`. */
export function formatOptionPlacement(p: OptionPlacement): string {
  return `${p.map}.${p.key}: ${p.scope} (${p.appliesTo})`;
}
