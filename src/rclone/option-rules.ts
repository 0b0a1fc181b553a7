// Which rclone flags a user may put in an option map, and why the others are refused.
// The manager owns the flags that decide where state lives, how output is read, and when to resync or force.

import { flagName } from './flags.js';
import { flagSupport } from './caps.js';
import type { RcloneCapabilities } from '../config/types.js';

export type OptionMapKind = 'rclone_options' | 'bisync_options' | 'resync_options';

const VERBOSITY = 'the manager sets the log level and reads rclone output as JSON itself; use redirect_rclone_log_output to see it';
const SELF_HEALING = 'the manager passes it itself whenever the installed rclone supports it';

/** flag name → what to use instead. */
export const OWNED_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  resync: 'the manager decides when to resync: set force_resync: true or run "rbmctl sync --resync"',
  '1': 'the manager decides when to resync: set force_resync: true or run "rbmctl sync --resync"',
  'resync-mode': 'put it in resync_options: it only applies to resync runs',
  workdir: 'the manager keeps a separate working directory per job',
  'log-file': VERBOSITY,
  'log-format': VERBOSITY,
  'use-json-log': VERBOSITY,
  'log-level': VERBOSITY,
  verbose: VERBOSITY,
  v: VERBOSITY,
  quiet: VERBOSITY,
  q: VERBOSITY,
  syslog: VERBOSITY,
  color: VERBOSITY,
  stats: 'the manager sets the stats interval to report progress',
  'stats-one-line': 'the manager sets the stats format to report progress',
  'stats-log-level': 'the manager sets the stats format to report progress',
  progress: 'the manager reports progress itself: rbmctl status',
  P: 'the manager reports progress itself: rbmctl status',
  interactive: 'a service cannot answer prompts',
  i: 'a service cannot answer prompts',
  config: 'set RCLONE_CONFIG in the service environment: systemctl --user edit rclone-bisync-manager',
  'dry-run': 'use dry_run: true (per job or global)',
  n: 'use dry_run: true (per job or global)',
  'check-access': 'use the job key check_access: true',
  'filters-file': 'use the job key filters_file or the global exclusion_rules_file',
  force: 'use the job key force_operation: true, or approve one run with "rbmctl sync --force-bisync"',
  recover: SELF_HEALING,
  resilient: SELF_HEALING,
  'max-lock': 'the manager sets the lock expiry itself and never runs a pair twice at once',
  'conflict-resolve': 'use the job key conflict_resolve',
  'conflict-loser': 'use the job key conflict_loser',
  'conflict-suffix': 'use the job key conflict_suffix',
  rc: 'the manager is controlled over D-Bus with rbmctl; rclone remote control would open a network port',
  help: 'not a sync option',
  h: 'not a sync option',
  version: 'not a sync option',
});

const FLAG_KEY = /^[a-z0-9][a-z0-9_-]*$/;

/** Why `key` may not appear in a `kind` map (without looking at the installed rclone), or undefined if it may. */
export function optionKeyProblem(key: string, kind: OptionMapKind): string | undefined {
  const bare = key.replace(/^-+/, '');
  if (bare !== key && FLAG_KEY.test(bare)) return `option "${key}" starts with a dash (expected the flag name without dashes: ${bare.replace(/-/g, '_')})`;
  const name = flagName(key);
  const owned = Object.hasOwn(OWNED_OPTIONS, name) ? OWNED_OPTIONS[name] : undefined;
  if (owned !== undefined && !(name === 'resync-mode' && kind === 'resync_options')) {
    return `option "${key}" is set by the manager (${owned}); remove it from ${kind}`;
  }
  if (!FLAG_KEY.test(key)) return `option "${key}" is not an rclone flag name (expected lowercase letters, digits, _ and -, e.g. max_delete)`;
  if (name.length === 1) return `option "${key}" is a short flag (expected its long name, e.g. "checksum" rather than "c")`;
  return undefined;
}

/** Why the installed rclone cannot take `key`, or undefined if it can. */
export function optionCapsProblem(key: string, caps: RcloneCapabilities): string | undefined {
  const support = flagSupport(caps, key);
  if (support.ok) return undefined;
  const flag = `--${flagName(key)}`;
  if (support.reason === 'too-old') {
    return `${flag} needs rclone >= ${support.addedIn}, but the installed rclone is ${caps.version} (expected an option rclone ${caps.version} supports, or upgrade rclone)`;
  }
  return `rclone ${caps.version} does not accept ${flag} (expected a flag listed by "rclone bisync --help" or "rclone help flags")`;
}
