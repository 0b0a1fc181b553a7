// Where the engine keeps its files: `$XDG_STATE_HOME/rclone-bisync-manager/` (dirs 0700, files 0600).
// jobs/<name>/{state.json,history.jsonl,workdir/,lock}, run-id, logs/. Functions take the base dir.

import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { JOB_NAME_PATTERN } from '../config/types.js';
import { RbmError } from '../errors.js';

export const APP_DIR_NAME = 'rclone-bisync-manager';
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** `$XDG_STATE_HOME/rclone-bisync-manager`, else `~/.local/state/rclone-bisync-manager`. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(env.HOME ?? homedir(), '.local', 'state');
  return join(base, APP_DIR_NAME);
}

export interface JobPaths {
  dir: string;
  state: string;
  history: string;
  /** rclone's --workdir for this job: private, so session names cannot collide across jobs. */
  workdir: string;
  lock: string;
  /** A copy of rclone's listings taken before a 1.60 run with check_access (run/side-check.ts). */
  listingsBackup: string;
}

export function jobPaths(baseDir: string, jobName: string): JobPaths {
  // The name becomes a directory: the pattern rules out '/', '..' and leading dots.
  if (!JOB_NAME_PATTERN.test(jobName)) throw new RbmError('InvalidArgs', `invalid job name ${JSON.stringify(jobName)}`);
  const dir = join(baseDir, 'jobs', jobName);
  return { dir, state: join(dir, 'state.json'), history: join(dir, 'history.jsonl'), workdir: join(dir, 'workdir'), lock: join(dir, 'lock'), listingsBackup: join(dir, 'listings-backup') };
}

/** What the rclone probe found, kept across restarts (platform/rclone-probe.ts). */
export function rcloneProbeCachePath(baseDir: string): string {
  return join(baseDir, 'rclone-probe.json');
}

/** The names of paused jobs, kept across restarts by the service. */
export function pausedJobsPath(baseDir: string): string {
  return join(baseDir, 'paused.json');
}

/** The snoozed notifications (global and per job), kept across restarts by the service. */
export function snoozesPath(baseDir: string): string {
  return join(baseDir, 'snoozes.json');
}

/** When the service first saw each job (the staleness reference of a job that never ran), kept across restarts. */
export function firstSeenPath(baseDir: string): string {
  return join(baseDir, 'first-seen.json');
}

export function runIdPath(baseDir: string): string {
  return join(baseDir, 'run-id');
}

export function logsDir(baseDir: string): string {
  return join(baseDir, 'logs');
}

/** mkdir -p with 0700 on the leaf (existing dirs are tightened too). */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: DIR_MODE });
  chmodSync(path, DIR_MODE);
}
