// The logic behind `rbmctl check-config`: validate a file offline and summarise it in one line.
// Exit codes (wired by the CLI): 0 when valid, 78 (InvalidConfig, EX_CONFIG) when not.

import { basename } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';
import type { LoadOptions } from './load.js';
import type { Config, RcloneCapabilities } from './types.js';

export type CheckResult = { ok: true; summary: string; config: Config } | { ok: false; error: ConfigError };

/** `config.yaml: OK, 3 jobs (2 active), rclone 1.75.2` */
export function summarizeConfig(config: Config, caps?: RcloneCapabilities): string {
  const total = config.jobs.length;
  const active = config.jobs.filter((job) => job.active).length;
  const jobs = `${total} job${total === 1 ? '' : 's'} (${active} active)`;
  const rclone = caps ? `, rclone ${caps.version}` : '';
  const dry = config.global.dryRun ? ', dry run' : '';
  return `${basename(config.path)}: OK, ${jobs}${rclone}${dry}`;
}

/** Validate the file at `path`; never throws a ConfigError (other errors, e.g. a bug, still propagate). */
export async function checkConfigFile(path: string, options: LoadOptions): Promise<CheckResult> {
  try {
    const config = await loadConfig(path, options);
    return { ok: true, summary: summarizeConfig(config, options.caps), config };
  } catch (e: unknown) {
    if (e instanceof ConfigError) return { ok: false, error: e };
    throw e;
  }
}
