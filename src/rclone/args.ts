// Builds the argv of one `rclone bisync` run from the job, global settings and the detected rclone (pure).
// Every value is attached with `=`, paths are absolute or `remote:path`, so nothing can be read as a flag.

import { flagName, mergeOptionMaps } from './flags.js';
import { setupOptionMaps } from './option-scope.js';
import { supportsFlag } from './caps.js';
import type { GlobalSettings, JobConfig, OptionMap, OptionValue, RcloneCapabilities } from '../config/types.js';
import { RbmError } from '../errors.js';
import { secretOptionProblem, splitSecretOptions } from './secret-options.js';
import type { Operation } from '../run/types.js';

export const PARTIAL_FILTER = '- *.partial';
export const DEFAULT_MAX_LOCK = '2m';
export const CHECK_FILENAME = 'RCLONE_TEST';

export interface RunArgvInput {
  job: JobConfig;
  global: GlobalSettings;
  caps: RcloneCapabilities;
  operation: Operation;
  /** Private per-job workdir under the state directory. */
  workdir: string;
  /** Filters file in force (job filters_file, else global exclusion_rules_file). */
  filtersFile: string | undefined;
  /** `newer` for automatic resyncs (only passed where rclone has --resync-mode). */
  resyncMode?: 'newer' | undefined;
  dryRun: boolean;
  /** Add --force (the user's approval); never set by the engine on its own for a real run. */
  force: boolean;
  /** Per-call options, highest precedence. */
  callOptions?: OptionMap | undefined;
  /** `--compare` value chosen by rclone/compare.ts (undefined: rclone's default); a compare in the user's options wins. */
  compare?: string | undefined;
}

/** The rclone accepts `--name` on bisync (version table first, then its help output; rclone/caps.ts). */
export function hasFlag(caps: RcloneCapabilities, name: string): boolean {
  return supportsFlag(caps, name);
}

const OPTION_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

function checkOptionKeys(maps: readonly OptionMap[]): void {
  for (const map of maps) {
    for (const key of Object.keys(map)) {
      if (!OPTION_KEY.test(key)) throw new RbmError('InvalidConfig', `invalid rclone option name ${JSON.stringify(key)}`, { hint: 'Option names are rclone flag names without the leading dashes.' });
      const secret = secretOptionProblem(key, map[key] ?? null);
      if (secret !== undefined) throw new RbmError('InvalidConfig', secret, { hint: 'Give the secret as one string.' });
    }
  }
}

function mentionsPartial(merged: Map<string, unknown>): boolean {
  for (const value of merged.values()) {
    const items = Array.isArray(value) ? (value as unknown[]) : [value];
    if (items.some((item) => typeof item === 'string' && item.includes('.partial'))) return true;
  }
  return false;
}

/** The option maps of one run, lowest precedence first. */
export function optionMapsFor(input: Pick<RunArgvInput, 'job' | 'global' | 'operation' | 'callOptions'>): OptionMap[] {
  const { job, global, operation } = input;
  const maps: OptionMap[] = [
    global.rcloneOptions,
    operation === 'resync' ? global.resyncOptions : global.bisyncOptions,
    job.rcloneOptions,
    operation === 'resync' ? job.resyncOptions : job.bisyncOptions,
  ];
  if (input.callOptions) maps.push(input.callOptions);
  return maps;
}

/**
 * The options of one run merged as rclone receives them (flag names, the winning value of each), and whether the
 * argv adds the engine's `--filter=- *.partial` (first among the --filter rules) because the user's options do not
 * mention `.partial`. The argv and the watch's filters (rclone/filter-match.ts) both read this.
 */
export function mergedRunOptions(input: Pick<RunArgvInput, 'job' | 'global' | 'operation' | 'callOptions'>): { merged: Map<string, OptionValue>; partialFilter: boolean } {
  const merged = mergeOptionMaps(...optionMapsFor(input));
  return { merged, partialFilter: !mentionsPartial(merged) };
}

/** The filters file in force for a job's runs: its own `filters_file`, else the global `exclusion_rules_file`. */
export function filtersFileOf(job: Pick<JobConfig, 'filtersFile'>, global: Pick<GlobalSettings, 'exclusionRulesFile'>): string | undefined {
  return job.filtersFile ?? global.exclusionRulesFile;
}

/** Job settings this rclone cannot honour (they are left out of the argv and reported). */
export function unsupportedSettings(job: JobConfig, caps: RcloneCapabilities): string[] {
  const out: string[] = [];
  if (job.conflictResolve !== undefined && !hasFlag(caps, 'conflict-resolve')) out.push('conflict_resolve');
  if (job.conflictLoser !== undefined && !hasFlag(caps, 'conflict-loser')) out.push('conflict_loser');
  if (job.conflictSuffix !== undefined && !hasFlag(caps, 'conflict-suffix')) out.push('conflict_suffix');
  return out;
}

function checkPaths(job: JobConfig): void {
  if (!job.local.startsWith('/')) {
    throw new RbmError('InvalidConfig', `job ${job.name}: local path must be absolute: ${job.local}`);
  }
  // A remote name cannot start with '-' (rclone validates names) and a local path2 must be absolute.
  if (job.path2.startsWith('-') || job.path2 === '') {
    throw new RbmError('InvalidConfig', `job ${job.name}: invalid remote path ${JSON.stringify(job.path2)}`);
  }
}

export function buildRunArgv(input: RunArgvInput): string[] {
  const { job, caps, operation } = input;
  checkPaths(job);
  const maps = optionMapsFor(input);
  checkOptionKeys(maps);
  const { merged, partialFilter } = mergedRunOptions(input);
  const userHas = (name: string): boolean => merged.has(flagName(name));

  const argv = ['bisync', job.local, job.path2, `--workdir=${input.workdir}`, '--use-json-log'];
  if (hasFlag(caps, 'color')) argv.push('--color=NEVER');
  if (!userHas('log-level') && !userHas('verbose') && !userHas('quiet') && !userHas('v') && !userHas('q')) argv.push('-v');
  argv.push('--stats=1s');
  if (partialFilter) argv.push(`--filter=${PARTIAL_FILTER}`);
  if (hasFlag(caps, 'recover')) argv.push('--recover');
  if (hasFlag(caps, 'resilient')) argv.push('--resilient');
  if (hasFlag(caps, 'max-lock') && !userHas('max-lock')) argv.push(`--max-lock=${DEFAULT_MAX_LOCK}`);
  if (job.checkAccess) argv.push('--check-access');
  if (input.filtersFile !== undefined) argv.push(`--filters-file=${input.filtersFile}`);
  if (job.conflictResolve !== undefined && hasFlag(caps, 'conflict-resolve')) argv.push(`--conflict-resolve=${job.conflictResolve}`);
  if (job.conflictLoser !== undefined && hasFlag(caps, 'conflict-loser')) argv.push(`--conflict-loser=${job.conflictLoser}`);
  if (job.conflictSuffix !== undefined && hasFlag(caps, 'conflict-suffix')) argv.push(`--conflict-suffix=${job.conflictSuffix}`);
  if (input.compare !== undefined && hasFlag(caps, 'compare') && !userHas('compare')) argv.push(`--compare=${input.compare}`);
  if (operation === 'resync') {
    argv.push('--resync');
    if (input.resyncMode !== undefined && hasFlag(caps, 'resync-mode') && !userHas('resync-mode')) argv.push(`--resync-mode=${input.resyncMode}`);
  }
  if (input.dryRun) argv.push('--dry-run');
  if (input.force && operation === 'bisync') argv.push('--force');
  // Secret options are left out: they reach rclone through its environment (buildRunEnv).
  argv.push(...splitSecretOptions(maps).flags);
  return argv;
}

/** `RCLONE_<FLAG>` variables for the secret options of this run (never on the argv, which every local user can read). */
export function buildRunEnv(input: Pick<RunArgvInput, 'job' | 'global' | 'operation' | 'callOptions'>): Record<string, string> {
  return splitSecretOptions(optionMapsFor(input)).env;
}

/**
 * The argv of the --dry-run that lists what a safety-aborted run would delete: the same run plus
 * `--dry-run --force`. --force is safe here only because --dry-run changes no file and no listing.
 */
export function pendingDeletesArgv(argv: readonly string[]): string[] {
  // The preview is parsed, never shown: its Queue lines are INFO, so the user's log level (NOTICE, -q) must not hide
  // them, or an empty list would be approved while --force changes everything.
  const out = argv.filter((arg) => arg !== '--dry-run' && arg !== '--force' && (arg === '-v' || !LOG_LEVEL_FLAG.test(arg)));
  return [...out, ...(out.includes('-v') ? [] : ['-v']), '--dry-run', '--force'];
}

/** Flags that set rclone's log level (values are always attached with `=` in our argv). */
const LOG_LEVEL_FLAG = /^(?:--log-level(?:=.*)?|--quiet|-q|-v+|--verbose(?:=.*)?)$/;

/** Global and job rclone options that apply to helper commands (mkdir, lsf, touch): bisync's own flags are left out. */
export function rcloneOnlyFlags(job: JobConfig, global: GlobalSettings): string[] {
  checkOptionKeys([global.rcloneOptions, job.rcloneOptions]);
  return splitSecretOptions(setupOptionMaps(job, global)).flags;
}

/** The environment for the secrets among the global and job rclone options (helper commands). */
export function rcloneOnlyEnv(job: JobConfig, global: GlobalSettings): Record<string, string> {
  return splitSecretOptions(setupOptionMaps(job, global)).env;
}
