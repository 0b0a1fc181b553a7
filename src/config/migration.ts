// Keys of the original Python rclone-bisync-manager's config that this manager reads differently, and for each
// exactly what to change. parse.ts asks here first, so a migrating user gets one instruction per old key.

import { COMPARE_MIN_VERSION } from '../rclone/compare.js';
import { flagName } from '../rclone/flags.js';
import type { OptionMapKind } from '../rclone/option-rules.js';
import { flagSupport } from '../rclone/caps.js';
import type { RcloneCapabilities } from './types.js';

const EVERY_JOB = 'at the top level for every job';

/** Top-level keys of the original tool that this manager does not have. */
const LEGACY_TOP_LEVEL: Readonly<Record<string, string>> = Object.freeze({
  log_directory: 'the logs are kept in ~/.local/state/rclone-bisync-manager/logs/ and the journal (remove the key)',
  sync_paths: 'the jobs are now under sync_jobs (rename sync_paths to sync_jobs, and give every job a schedule, e.g. schedule: "*/30 * * * *")',
});

/** What to do with a top-level key the original tool knew, or undefined for any other unknown key. */
export function legacyTopLevelProblem(key: string): string | undefined {
  const hint = Object.hasOwn(LEGACY_TOP_LEVEL, key) ? LEGACY_TOP_LEVEL[key] : undefined;
  return hint === undefined ? undefined : `"${key}" is a key of the original tool: ${hint}`;
}

/** `value` as it would be written after `key:` in YAML, when it is a plain scalar. */
function yamlScalar(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '') return undefined;
  return /^[A-Za-z0-9][A-Za-z0-9._,-]*$/.test(value) ? value : JSON.stringify(value);
}

/** `check_access: true` / `conflict_resolve: newer` (the value left out when it is not a plain one). */
function setting(key: string, value: unknown): string {
  const text = yamlScalar(value);
  return text === undefined ? key : `${key}: ${text}`;
}

function tooOld(caps: RcloneCapabilities | undefined, key: string): string | undefined {
  if (caps === undefined) return undefined;
  const support = flagSupport(caps, key);
  return !support.ok && support.reason === 'too-old' ? support.addedIn : undefined;
}

/**
 * The instruction for an option the original tool passed through but this manager reads as a key of its own
 * (check_access, conflict_*), or takes care of itself (compare in rclone_options); undefined for any other option.
 */
export function legacyOptionProblem(key: string, kind: OptionMapKind, value: unknown, caps: RcloneCapabilities | undefined): string | undefined {
  const name = flagName(key);
  if (name === 'check-access') {
    return `option "${key}" is set by the manager (use the job key check_access: true, or set check_access: true ${EVERY_JOB}); remove it from ${kind}`;
  }
  if (name === 'conflict-resolve' || name === 'conflict-loser' || name === 'conflict-suffix') {
    const jobKey = name.replace(/-/g, '_');
    const since = tooOld(caps, name);
    if (since !== undefined) {
      return `option "${key}" is set by the manager, and rclone ${caps?.version ?? ''} has no --${name} (remove it: the job key ${jobKey} needs rclone >= ${since})`;
    }
    const wanted = value === true ? jobKey : setting(jobKey, value);
    return `option "${key}" is set by the manager (use the job key ${wanted}, or set ${wanted} ${EVERY_JOB}); remove it from ${kind}`;
  }
  if (name === 'compare' && kind === 'rclone_options') return compareProblem(caps);
  return undefined;
}

/**
 * compare in rclone_options (the original tool's sample has it): from 1.66 it is accepted as a bisync flag (bisync and
 * resync runs get it, the setup commands do not: rclone/option-scope.ts); 1.60 has no --compare.
 */
function compareProblem(caps: RcloneCapabilities | undefined): string | undefined {
  if (tooOld(caps, 'compare') === undefined) return undefined;
  return `--compare needs rclone >= ${COMPARE_MIN_VERSION}, but the installed rclone is ${caps?.version ?? ''} (remove it; with this rclone a same-size edit within the remote's modtime precision is not detected, which rbmctl status notes per job)`;
}
