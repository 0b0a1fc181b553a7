// The logic behind `rbmctl check-config`: validate a file offline and summarise it in one line.
// Exit codes (wired by the CLI): 0 when valid, 78 (InvalidConfig, EX_CONFIG) when not.

import { basename } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadConfig, loadConfigWithRclone } from './load.js';
import type { RcloneProbe } from './load.js';
import type { Config, RcloneCapabilities } from './types.js';

/** `caps`: the rclone the file was checked against, when known. */
export type CheckResult = { ok: true; summary: string; config: Config; caps?: RcloneCapabilities | undefined } | { ok: false; error: ConfigError };

/** `config.yaml: OK, 3 jobs (2 active), rclone 1.75.2` */
export function summarizeConfig(config: Config, caps?: RcloneCapabilities): string {
  const total = config.jobs.length;
  const active = config.jobs.filter((job) => job.active).length;
  const jobs = `${total} job${total === 1 ? '' : 's'} (${active} active)`;
  const rclone = caps ? `, rclone ${caps.version}` : '';
  const dry = config.global.dryRun ? ', dry run' : '';
  return `${basename(config.path)}: OK, ${jobs}${rclone}${dry}`;
}

export interface CheckOptions {
  home: string;
  /** Capabilities already known; otherwise `probe` detects them for the file's rclone_binary. */
  caps?: RcloneCapabilities;
  /** Detect the rclone the file names; without caps and probe, version checks are skipped. */
  probe?: RcloneProbe;
}

/**
 * Validate the file at `path`, including its options against the installed rclone when `caps` or `probe`
 * is given. Problems in the file come back as `{ok: false}` (exit 78); a missing or too old rclone is
 * thrown as the probe's RbmError('RcloneUnsupported') (exit 10).
 */
export async function checkConfigFile(path: string, options: CheckOptions): Promise<CheckResult> {
  try {
    if (options.caps === undefined && options.probe !== undefined) {
      const { config, caps } = await loadConfigWithRclone(path, { home: options.home, probe: options.probe });
      return { ok: true, summary: summarizeConfig(config, caps), config, caps };
    }
    const config = await loadConfig(path, options.caps === undefined ? { home: options.home } : { home: options.home, caps: options.caps });
    return { ok: true, summary: summarizeConfig(config, options.caps), config, ...(options.caps === undefined ? {} : { caps: options.caps }) };
  } catch (e: unknown) {
    if (e instanceof ConfigError) return { ok: false, error: e };
    throw e;
  }
}
