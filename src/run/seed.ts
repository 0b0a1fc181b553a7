// Prepares a new pair before its first resync: both directories exist, RCLONE_TEST is on both sides when
// check_access is on (1.64+ enforces it during --resync), and a pair with no file at all gets a sentinel
// RCLONE_TEST so it never syncs to an empty side (rclone locks out on empty listings).
// The setup commands get only the options that apply to them (not bisync's own flags); the first one that fails
// stops seeding and is returned with its output, so the run fails with rclone's real error.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeOptionMaps } from '../rclone/flags.js';
import type { GlobalSettings, JobConfig } from '../config/types.js';
import { CHECK_FILENAME, rcloneOnlyEnv, rcloneOnlyFlags } from '../rclone/args.js';
import { createOutputParser, type OutputSummary } from '../rclone/output.js';
import type { ExitStatus } from '../ports.js';
import { runHelperCommand, type HelperCommandDeps } from './helper-command.js';

export interface SeedDeps extends HelperCommandDeps {
  rclone: string;
}

/** A setup command that failed: what ran, how it ended and what it printed. */
export interface SetupFailure {
  /** `rclone mkdir box:share` (no options), for the message. */
  command: string;
  exit: ExitStatus;
  summary: OutputSummary;
}

export interface SeedResult {
  /** Files created, for logs and tests. */
  created: string[];
  /** Set when a setup command failed; seeding stopped there and the run must not go on. */
  failure?: SetupFailure;
}

/** The check file name in force (`check-filename` in the job's options, else RCLONE_TEST). */
export function checkFilename(job: JobConfig, global: GlobalSettings): string {
  const merged = mergeOptionMaps(global.rcloneOptions, global.resyncOptions, job.rcloneOptions, job.resyncOptions);
  const value = merged.get('check-filename');
  return typeof value === 'string' && value !== '' && !value.includes('/') ? value : CHECK_FILENAME;
}

function remoteJoin(path2: string, name: string): string {
  return path2.endsWith(':') || path2.endsWith('/') ? path2 + name : `${path2}/${name}`;
}

interface SetupRun {
  exit: ExitStatus;
  /** Stopped by us after its first line (a listing that only had to show whether anything exists). */
  stoppedEarly: boolean;
  stdout: string[];
  summary: OutputSummary;
}

async function rclone(deps: SeedDeps, args: string[], stopAfterFirstLine = false): Promise<SetupRun> {
  const stdout: string[] = [];
  const parser = createOutputParser(); // stderr is rclone's log: read it like a run's, for the real error
  const { exit, stopped } = await runHelperCommand({
    spawner: deps.spawner,
    binary: deps.rclone,
    args,
    env: deps.env,
    spawnOptions: deps.spawnOptions,
    onLine: (line, stream, stop) => {
      if (stream === 'stderr') {
        parser.push(line);
        return;
      }
      if (line.trim() === '') return;
      if (stdout.length < 20) stdout.push(line.trim());
      if (stopAfterFirstLine) stop();
    },
  });
  return { exit, stoppedEarly: stopped, stdout, summary: parser.summary() };
}

/** The run as a failure, or undefined when it did its job. */
function failureOf(run: SetupRun, command: string): SetupFailure | undefined {
  if (run.exit.code === 0 || run.stoppedEarly) return undefined;
  return { command, exit: run.exit, summary: run.summary };
}

function localHasFiles(dir: string): boolean {
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop() ?? '';
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.isFile() || entry.isSymbolicLink()) return true;
      if (entry.isDirectory()) stack.push(join(current, entry.name));
    }
  }
  return false;
}

export async function seedPair(job: JobConfig, global: GlobalSettings, seedDeps: SeedDeps): Promise<SeedResult> {
  // Secret options go to rclone's environment, never its argv (rclone/secret-options.ts).
  const deps: SeedDeps = { ...seedDeps, env: { ...seedDeps.env, ...rcloneOnlyEnv(job, global) } };
  const result: SeedResult = { created: [] };
  const flags = rcloneOnlyFlags(job, global);
  const path2IsLocal = job.path2.startsWith('/');
  const check = checkFilename(job, global);
  const fail = (failure: SetupFailure): SeedResult => {
    deps.logger.warn('setting up the pair failed', { job: job.name, command: failure.command, code: failure.exit.code, error: failure.summary.failure || failure.summary.errors[0] || '' });
    return { ...result, failure };
  };

  mkdirSync(job.local, { recursive: true });
  if (path2IsLocal) {
    mkdirSync(job.path2, { recursive: true });
  } else {
    const made = failureOf(await rclone(deps, ['mkdir', job.path2, ...flags]), `rclone mkdir ${job.path2}`);
    if (made) return fail(made);
  }

  const localCheck = join(job.local, check);
  const ensureLocalCheck = (): void => {
    if (existsSync(localCheck)) return;
    writeFileSync(localCheck, '');
    result.created.push(localCheck);
  };
  const ensureRemoteCheck = async (): Promise<SetupFailure | undefined> => {
    if (path2IsLocal) {
      const target = join(job.path2, check);
      if (!existsSync(target)) {
        writeFileSync(target, '');
        result.created.push(target);
      }
      return undefined;
    }
    const target = remoteJoin(job.path2, check);
    const listed = await rclone(deps, ['lsf', '--files-only', `--include=/${check}`, job.path2, ...flags]);
    const listFailure = failureOf(listed, `rclone lsf ${job.path2}`);
    if (listFailure) return listFailure;
    if (listed.stdout.includes(check)) return undefined;
    const touched = await rclone(deps, ['touch', target, ...flags]);
    const touchFailure = failureOf(touched, `rclone touch ${target}`);
    if (touchFailure === undefined) result.created.push(target);
    return touchFailure;
  };

  if (job.checkAccess) {
    ensureLocalCheck();
    const failure = await ensureRemoteCheck();
    if (failure) return fail(failure);
  } else if (!localHasFiles(job.local)) {
    let remoteHasFiles: boolean;
    if (path2IsLocal) remoteHasFiles = localHasFiles(job.path2);
    else {
      const listed = await rclone(deps, ['lsf', '-R', '--files-only', job.path2, ...flags], true);
      const failure = failureOf(listed, `rclone lsf ${job.path2}`);
      if (failure) return fail(failure);
      remoteHasFiles = listed.stdout.length > 0;
    }
    if (!remoteHasFiles) ensureLocalCheck(); // the resync copies the sentinel to the other side
  }
  if (result.created.length > 0) deps.logger.info('seeded the pair before its first resync', { job: job.name, created: result.created });
  return result;
}
