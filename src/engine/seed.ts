// Prepares a new pair before its first resync: both directories exist, RCLONE_TEST is on both sides when
// check_access is on (1.64+ enforces it during --resync), and a pair with no file at all gets a sentinel
// RCLONE_TEST so it never syncs to an empty side (rclone locks out on empty listings).

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeOptionMaps } from '../config/flags.js';
import type { GlobalSettings, JobConfig } from '../config/types.js';
import { CHECK_FILENAME, rcloneOnlyEnv, rcloneOnlyFlags } from '../core/args.js';
import type { Logger, SpawnOptions, Spawner } from '../ports.js';

export interface SeedDeps {
  spawner: Spawner;
  logger: Logger;
  rclone: string;
  env: Readonly<Record<string, string | undefined>>;
  /** CPU priority of the rclone processes (rclone_nice). */
  spawnOptions?: Pick<SpawnOptions, 'nice' | 'onNiceError'>;
}

export interface SeedResult {
  /** Files created, for logs and tests. */
  created: string[];
  /** Problems that did not stop seeding (the resync will report the real error). */
  warnings: string[];
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

async function rclone(deps: SeedDeps, args: string[], stopAfterFirstLine = false): Promise<{ code: number | null; lines: string[]; stdout: string[] }> {
  const lines: string[] = [];
  const stdout: string[] = [];
  let child: ReturnType<Spawner['spawn']> | undefined = undefined;
  child = deps.spawner.spawn(deps.rclone, args, {
    ...deps.spawnOptions,
    env: deps.env,
    onLine: (line, stream) => {
      if (lines.length < 20) lines.push(line);
      if (stream !== 'stdout' || line.trim() === '') return;
      if (stdout.length < 20) stdout.push(line.trim());
      if (stopAfterFirstLine) child?.kill('SIGTERM');
    },
  });
  const status = await child.exited;
  return { code: status.code, lines, stdout };
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
  // Secret options go to rclone's environment, never its argv (config/secret-options.ts).
  const deps: SeedDeps = { ...seedDeps, env: { ...seedDeps.env, ...rcloneOnlyEnv(job, global) } };
  const result: SeedResult = { created: [], warnings: [] };
  const remoteFlags = rcloneOnlyFlags(job, global);
  const path2IsLocal = job.path2.startsWith('/');
  const check = checkFilename(job, global);

  mkdirSync(job.local, { recursive: true });
  if (path2IsLocal) {
    mkdirSync(job.path2, { recursive: true });
  } else {
    const made = await rclone(deps, ['mkdir', job.path2, ...remoteFlags]);
    if (made.code !== 0) result.warnings.push(`rclone mkdir ${job.path2} failed: ${made.lines.slice(-1).join('')}`);
  }

  const localCheck = join(job.local, check);
  const ensureLocalCheck = (): void => {
    if (existsSync(localCheck)) return;
    writeFileSync(localCheck, '');
    result.created.push(localCheck);
  };
  const ensureRemoteCheck = async (): Promise<void> => {
    if (path2IsLocal) {
      const target = join(job.path2, check);
      if (!existsSync(target)) {
        writeFileSync(target, '');
        result.created.push(target);
      }
      return;
    }
    const target = remoteJoin(job.path2, check);
    const listed = await rclone(deps, ['lsf', '--files-only', `--include=/${check}`, job.path2, ...remoteFlags]);
    if (listed.code === 0 && listed.stdout.includes(check)) return;
    const touched = await rclone(deps, ['touch', target, ...remoteFlags]);
    if (touched.code === 0) result.created.push(target);
    else result.warnings.push(`rclone touch ${target} failed: ${touched.lines.slice(-1).join('')}`);
  };

  if (job.checkAccess) {
    ensureLocalCheck();
    await ensureRemoteCheck();
  } else if (!localHasFiles(job.local)) {
    const remoteHasFiles = path2IsLocal
      ? localHasFiles(job.path2)
      : (await rclone(deps, ['lsf', '-R', '--files-only', job.path2, ...remoteFlags], true)).stdout.length > 0;
    if (!remoteHasFiles) ensureLocalCheck(); // the resync copies the sentinel to the other side
  }
  if (result.created.length > 0) deps.logger.info('seeded the pair before its first resync', { job: job.name, created: result.created });
  for (const warning of result.warnings) deps.logger.warn('seeding problem', { job: job.name, warning });
  return result;
}
