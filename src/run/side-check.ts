// The side check before a run (the decision is in src/run/rules/side-check.ts): looks at both roots, the check file
// (local: the file system; a remote: one `rclone lsf` of its root), the mounts around the local root and, only when
// something looks wrong, rclone's listings of the last good run. Also keeps a copy of rclone's listings around a
// 1.60 run, whose failed check-access test renames them `*.lst-err` (a lockout) although it changed nothing.

import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GlobalSettings, JobConfig } from '../config/types.js';
import { rcloneOnlyFlags } from '../rclone/args.js';
import {
  countListed, decideSideCheck, FILES_NOW_CAP, isResidue, listingFiles, localMountsOf, missingMounts, parseMountInfo,
  type LocalMounts, type MountFacts, type SideCheckFailure, type SideFacts,
} from './rules/side-check.js';
import type { RunPlan } from './rules/plan.js';
import type { Logger } from '../ports.js';
import { ensurePrivateDir } from '../state/paths.js';
import { checkFilename } from './seed.js';
import { runHelperCommand, type HelperCommandDeps } from './helper-command.js';

export const MOUNTINFO_PATH = '/proc/self/mountinfo';

export function readProcMountInfo(): string {
  return readFileSync(MOUNTINFO_PATH, 'utf8');
}

export interface SideCheckDeps extends HelperCommandDeps {
  /** The text of /proc/self/mountinfo (injected so tests can describe mounts). */
  readMountInfo: () => string;
  signal?: AbortSignal | undefined;
}

/**
 * Every run is checked except a resync the user asked for, the first one (seeding creates the check files) and the
 * one after the pair changed (nothing recorded belongs to the new pair). Automatic resyncs are checked too.
 */
export function sideCheckApplies(plan: RunPlan): boolean {
  return plan.operation === 'bisync' || !['requested', 'first-run', 'pair-changed'].includes(plan.reason);
}

function isLocalPath(path: string): boolean {
  return path.startsWith('/');
}

/** The names at a local root; 'missing' when it does not exist; undefined when it cannot be read. */
function rootEntries(root: string): string[] | 'missing' | undefined {
  try {
    return readdirSync(root);
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : undefined;
  }
}

/** Files under `dir` (residue at its top left out), counting up to FILES_NOW_CAP. */
export function countLocalFiles(dir: string): number {
  let n = 0;
  const stack: { path: string; top: boolean }[] = [{ path: dir, top: true }];
  while (stack.length > 0 && n < FILES_NOW_CAP) {
    const current = stack.pop();
    if (!current) break;
    let entries;
    try {
      entries = readdirSync(current.path, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (current.top && isResidue(entry.name)) continue;
      if (entry.isDirectory()) stack.push({ path: join(current.path, entry.name), top: false });
      else n++;
    }
  }
  return Math.min(n, FILES_NOW_CAP);
}

/** Whether a remote root holds the check file: one `rclone lsf` of the root; undefined when rclone could not tell. */
async function remoteHasCheckFile(job: JobConfig, global: GlobalSettings, check: string, deps: SideCheckDeps): Promise<boolean | undefined> {
  const args = ['lsf', '--files-only', '--max-depth=1', `--include=/${check}`, job.path2, ...rcloneOnlyFlags(job, global)];
  const names: string[] = [];
  const { exit: status } = await runHelperCommand({
    spawner: deps.spawner,
    binary: global.rcloneBinary,
    args,
    env: deps.env,
    spawnOptions: deps.spawnOptions,
    signal: deps.signal,
    onLine: (line, stream) => {
      if (stream === 'stdout' && names.length < 10) names.push(line.trim());
    },
  });
  // Unreachable remote, missing folder: not ours to judge; the bisync reports it (retryable).
  if (status.code !== 0) return undefined;
  return names.includes(check);
}

/** The newest listing of one side in the workdir (a pair's listings are `<session>.path1.lst` / `.path2.lst`). */
function newestListing(workdir: string, suffix: '.path1.lst' | '.path2.lst'): string | undefined {
  let best: { path: string; mtimeMs: number } | undefined;
  let names: string[];
  try {
    names = readdirSync(workdir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (!name.endsWith(suffix)) continue;
    const path = join(workdir, name);
    try {
      const { mtimeMs } = statSync(path);
      if (!best || mtimeMs > best.mtimeMs) best = { path, mtimeMs };
    } catch {
      // removed meanwhile
    }
  }
  return best?.path;
}

function listedFiles(workdir: string, suffix: '.path1.lst' | '.path2.lst'): string[] | undefined {
  const path = newestListing(workdir, suffix);
  if (path === undefined) return undefined;
  try {
    return listingFiles(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The mounts around the local root now (undefined when the mount table cannot be read). */
export function currentLocalMounts(root: string, readMountInfo: () => string): LocalMounts | undefined {
  try {
    return localMountsOf(root, parseMountInfo(readMountInfo()));
  } catch {
    return undefined;
  }
}

/** Recorded mount points that are not mounted now ([] when none is recorded or the mount table cannot be read). */
function lostMounts(recorded: LocalMounts | null, readMountInfo: () => string): string[] {
  if (recorded === null) return [];
  try {
    return missingMounts(recorded, parseMountInfo(readMountInfo()));
  } catch {
    return []; // no mount table (not Linux, a sandbox): the other checks still apply
  }
}

function mountFacts(job: JobConfig, lost: readonly string[], files1: string[] | undefined): MountFacts {
  const missing = lost.map((path) => {
    // A nested mount held the files under it; the root's own mount (the root or a directory above it) held them all.
    const nested = path.startsWith(`${job.local}/`);
    const rel = nested ? path.slice(job.local.length + 1) : '';
    return { path, filesLastSeen: files1 ? countListed(files1, rel) : -1, filesNow: countLocalFiles(nested ? path : job.local) };
  });
  return { missing };
}

function looksWrong(s: SideFacts): boolean {
  if (s.checkFilePresent === false) return true;
  return s.rootEntries === 'missing' || (Array.isArray(s.rootEntries) && s.rootEntries.every(isResidue));
}

async function sideFacts(side: 'local' | 'remote', root: string, job: JobConfig, global: GlobalSettings, check: string, deps: SideCheckDeps): Promise<SideFacts> {
  if (isLocalPath(root)) {
    return { side, root, isLocal: true, checkFilePresent: job.checkAccess ? existsSync(join(root, check)) : undefined, rootEntries: rootEntries(root), filesLastSeen: -1, filesNow: -1 };
  }
  const present = job.checkAccess ? await remoteHasCheckFile(job, global, check, deps) : undefined;
  return { side, root, isLocal: false, checkFilePresent: present, rootEntries: undefined, filesLastSeen: -1, filesNow: -1 };
}

/**
 * Whether the pair may be touched: undefined when it may, else what looks unmounted or emptied. Cheap when all is
 * well (a readdir of each local root, the mount table, and with check_access on a remote one `rclone lsf`); the
 * listings are read only when something already looks wrong.
 */
export async function checkSides(job: JobConfig, global: GlobalSettings, workdir: string, recordedMounts: LocalMounts | null, deps: SideCheckDeps): Promise<SideCheckFailure | undefined> {
  const check = checkFilename(job, global);
  const local = await sideFacts('local', job.local, job, global, check, deps);
  const remote = await sideFacts('remote', job.path2, job, global, check, deps);
  const lost = lostMounts(recordedMounts, deps.readMountInfo);
  if (!looksWrong(local) && !looksWrong(remote) && lost.length === 0) return undefined;

  const files1 = listedFiles(workdir, '.path1.lst');
  const files2 = listedFiles(workdir, '.path2.lst');
  const withCounts = (s: SideFacts, files: string[] | undefined): SideFacts => ({
    ...s,
    filesLastSeen: files ? countListed(files, '') : -1,
    filesNow: s.isLocal ? countLocalFiles(s.root) : -1,
  });
  return decideSideCheck([withCounts(local, files1), withCounts(remote, files2)], mountFacts(job, lost, files1), check);
}

// ---------------------------------------------------------------- 1.60: listings kept across a failed check

const LISTING = /\.path[12]\.lst$/;

/** Copy the pair's listings aside before a run of an rclone that renames them on a failed check (1.60). */
export function backupListings(workdir: string, backupDir: string): void {
  rmSync(backupDir, { recursive: true, force: true });
  ensurePrivateDir(backupDir);
  for (const name of readdirSync(workdir)) {
    if (LISTING.test(name)) copyFileSync(join(workdir, name), join(backupDir, name));
  }
}

/**
 * After rclone failed the check-access test (which it runs before changing anything): put the listings back and drop
 * the `-err`/`-new` files, so the next run is a normal bisync instead of a lockout that only a resync would clear.
 */
export function restoreListings(workdir: string, backupDir: string, log: Logger): boolean {
  let names: string[];
  try {
    names = readdirSync(backupDir).filter((n) => LISTING.test(n));
  } catch {
    return false;
  }
  if (names.length === 0) return false;
  for (const name of names) {
    copyFileSync(join(backupDir, name), join(workdir, name));
    rmSync(join(workdir, `${name}-err`), { force: true });
    rmSync(join(workdir, `${name}-new`), { force: true });
  }
  log.warn('the check-access test failed before anything changed: rclone listings restored, no resync needed', { listings: names.length });
  return true;
}
