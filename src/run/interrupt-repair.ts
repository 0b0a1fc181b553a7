// Repairs what an interrupted or failed run left behind, BEFORE anything else syncs the pair (docs/engine.md,
// "What an interruption leaves behind"): rclone's `.partial` temp files and 1.60's truncated files under their real
// names are removed from the destination of the copies the transfer journal names; after a full disk the listings
// rclone set aside (`-err`) are put back; on rclone < 1.64 the listing entries of files the run had already copied
// completely (identical on both sides now) are brought up to date so they do not become conflicts.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobConfig } from '../config/types.js';
import {
  isPartialOf,
  isTruncatedCopy,
  listingTime,
  parseListing,
  formatListing,
  reconcileIdenticalFiles,
  type FileFacts,
  type Listing,
} from './rules/interrupt-rules.js';
import type { Side } from '../rclone/output.js';
import { conflictName } from './rules/resync-guard.js';
import type { Logger, SpawnOptions, Spawner } from '../ports.js';
import { FILE_MODE } from '../state/paths.js';
import { lockPid } from './rclone-lock.js';
import { pidAlive } from '../platform/process-info.js';
import type { TransferJournal } from './transfer-journal.js';
import { runHelperCommand } from './helper-command.js';

export interface RepairDeps {
  spawner: Spawner;
  rclone: string;
  env: Record<string, string | undefined>;
  /** Global and job rclone options (remote settings), for the helper commands. */
  flags: readonly string[];
  spawnOptions: Pick<SpawnOptions, 'nice' | 'onNiceError'>;
  log: Logger;
}

export interface RepairInput {
  job: JobConfig;
  workdir: string;
  journal: TransferJournal;
  /** Put `*.lst-err` back (a full disk is not a reason to resync). */
  restoreErrListings: boolean;
  /** rclone < 1.64 renames files that are identical on both sides but changed since the listings. */
  reconcileListings: boolean;
  /** rclone writes copies under their real names (< 1.63, or `--inplace`): only then can a real name hold a cut copy. */
  inPlaceWrites: boolean;
  /** Now, for the name of a copy kept aside. */
  nowMs: number;
  /** rclone exited moments ago (this run): nobody can have edited a destination since, so a cut copy is rclone's. */
  justEnded: boolean;
}

export interface RepairResult {
  /** A live rclone still holds the pair: nothing was touched. */
  busy: boolean;
  /** Leftovers removed (side and relative path). */
  removed: string[];
  restoredListings: boolean;
  /** Listing entries brought up to date (files identical on both sides). */
  reconciled: string[];
}

interface Entry {
  size: number;
  mtimeMs: number;
  modTime: string;
  md5: string | undefined;
}

function isLocal(root: string): boolean {
  return root.startsWith('/');
}

function joinRoot(root: string, rel: string): string {
  return root.endsWith('/') || root.endsWith(':') ? root + rel : `${root}/${rel}`;
}

async function rcloneLines(deps: RepairDeps, args: readonly string[]): Promise<{ code: number | null; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const { exit } = await runHelperCommand({
    spawner: deps.spawner,
    binary: deps.rclone,
    args: [...args, ...deps.flags],
    env: deps.env,
    spawnOptions: deps.spawnOptions,
    onLine: (line, stream) => (stream === 'stdout' ? out : err).push(line),
  });
  return { code: exit.code, out, err };
}

/** Every file under `root` (relative path → facts), with md5 when asked. */
async function listTree(deps: RepairDeps, root: string, withHash: boolean): Promise<Map<string, Entry>> {
  const args = ['lsjson', root, '-R', '--files-only', ...(withHash ? ['--hash', '--hash-type=md5'] : [])];
  const r = await rcloneLines(deps, args);
  if (r.code !== 0) throw new Error(`rclone lsjson ${root} failed: ${r.err.slice(-1)[0] ?? `exit ${r.code}`}`);
  const map = new Map<string, Entry>();
  for (const raw of r.out) {
    const line = raw.trim().replace(/,$/, '');
    if (!line.startsWith('{')) continue;
    const v = JSON.parse(line) as { Path?: unknown; Size?: unknown; ModTime?: unknown; Hashes?: { md5?: unknown } };
    if (typeof v.Path !== 'string' || typeof v.Size !== 'number' || typeof v.ModTime !== 'string') continue;
    const md5 = typeof v.Hashes?.md5 === 'string' && v.Hashes.md5 !== '' ? v.Hashes.md5 : undefined;
    map.set(v.Path, { size: v.Size, mtimeMs: Date.parse(v.ModTime), modTime: v.ModTime, md5 });
  }
  return map;
}

function md5OfPrefix(path: string, length: number): string {
  const hash = createHash('md5');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, length - done), done);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The destination holds the first bytes of the source, checked where the source is local; undefined where it cannot be. */
async function prefixMatches(deps: RepairDeps, srcRoot: string, dstRoot: string, rel: string, dstSize: number): Promise<boolean | undefined> {
  if (!isLocal(srcRoot)) return undefined;
  const want = md5OfPrefix(joinRoot(srcRoot, rel), dstSize);
  if (isLocal(dstRoot)) return md5OfPrefix(joinRoot(dstRoot, rel), dstSize) === want;
  const r = await rcloneLines(deps, ['lsjson', joinRoot(dstRoot, rel), '--files-only', '--hash', '--hash-type=md5']);
  const md5 = /"md5":"([0-9a-f]{32})"/.exec(r.out.join(''))?.[1];
  return md5 === undefined ? undefined : md5 === want;
}

async function removeFile(deps: RepairDeps, root: string, rel: string): Promise<void> {
  if (isLocal(root)) {
    rmSync(joinRoot(root, rel), { force: true });
    return;
  }
  const r = await rcloneLines(deps, ['deletefile', joinRoot(root, rel)]);
  if (r.code !== 0) throw new Error(`rclone deletefile ${joinRoot(root, rel)} failed: ${r.err.slice(-1)[0] ?? `exit ${r.code}`}`);
}

/** Renames `rel` on `root` to a conflict name (`name.rbm-conflict-<time>-<local|remote>.ext`) and returns it. */
async function keepAside(deps: RepairDeps, root: string, rel: string, side: Side, nowMs: number, taken: ReadonlyMap<string, unknown>): Promise<string> {
  const target = conflictName(rel, side === 'Path1' ? 'path1' : 'path2', nowMs, new Set(taken.keys()));
  if (isLocal(root)) {
    renameSync(joinRoot(root, rel), joinRoot(root, target));
    return target;
  }
  const r = await rcloneLines(deps, ['moveto', joinRoot(root, rel), joinRoot(root, target)]);
  if (r.code !== 0) throw new Error(`rclone moveto ${joinRoot(root, rel)} failed: ${r.err.slice(-1)[0] ?? `exit ${r.code}`}`);
  return target;
}

/** `<workdir>/<session>.path1.lst` (or the `-err` set aside by a failed run): the session whose listings exist. */
function listingFile(workdir: string, side: Side, suffix: '' | '-err'): string | undefined {
  let names: string[];
  try {
    names = readdirSync(workdir);
  } catch {
    return undefined;
  }
  const end = `.${side === 'Path1' ? 'path1' : 'path2'}.lst${suffix}`;
  const name = names.find((n) => n.endsWith(end));
  return name === undefined ? undefined : join(workdir, name);
}

function readListing(path: string | undefined): Listing | undefined {
  if (path === undefined) return undefined;
  try {
    return parseListing(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function priorListing(workdir: string, side: Side): Listing | undefined {
  return readListing(listingFile(workdir, side, '') ?? listingFile(workdir, side, '-err'));
}

function liveRcloneHolds(workdir: string): boolean {
  let names: string[] = [];
  try {
    names = readdirSync(workdir).filter((n) => n.endsWith('.lck'));
  } catch {
    return false;
  }
  return names.some((n) => {
    try {
      const pid = lockPid(readFileSync(join(workdir, n), 'utf8'));
      return pid !== undefined && pid !== process.pid && pidAlive(pid);
    } catch {
      return false;
    }
  });
}

async function removeLeftovers(input: RepairInput, deps: RepairDeps): Promise<string[]> {
  const removed: string[] = [];
  const { job, journal } = input;
  for (const batch of journal.batches) {
    if (batch.paths.length === 0) continue;
    const dstRoot = batch.to === 'Path1' ? job.local : job.path2;
    const srcRoot = batch.to === 'Path1' ? job.path2 : job.local;
    const dst = await listTree(deps, dstRoot, false);
    const src = await listTree(deps, srcRoot, false);
    const listed = priorListing(input.workdir, batch.to);
    const partials = [...dst.keys()].filter((name) => name.endsWith('.partial'));
    for (const rel of batch.paths) {
      for (const partial of partials.filter((name) => isPartialOf(name, rel))) {
        await removeFile(deps, dstRoot, partial);
        removed.push(`${batch.to}:${partial}`);
      }
      // With *.partial copies a shorter file under the real name is the user's, never rclone's leftover.
      if (!input.inPlaceWrites) continue;
      const d = dst.get(rel);
      const s = src.get(rel);
      const facts = { dst: d, src: s, listed: listed?.entries.get(rel), runStartedMs: journal.startedMs, prefixMatches: undefined as boolean | undefined };
      if (!isTruncatedCopy(facts) || d === undefined) continue;
      facts.prefixMatches = await prefixMatches(deps, srcRoot, dstRoot, rel, d.size);
      if (!isTruncatedCopy(facts)) continue;
      if (facts.prefixMatches === undefined && !input.justEnded) {
        // Not provably a cut copy (a download, or a remote without md5), and time has passed since the run (a killed
        // service): it may be an edit made since. Keep it aside under a conflict name rather than delete it.
        const aside = await keepAside(deps, dstRoot, rel, batch.to, input.nowMs, dst);
        removed.push(`${batch.to}:${rel} (kept as ${aside})`);
        continue;
      }
      await removeFile(deps, dstRoot, rel);
      removed.push(`${batch.to}:${rel}`);
    }
  }
  return removed;
}

function restoreErrListings(workdir: string): boolean {
  const err1 = listingFile(workdir, 'Path1', '-err');
  const err2 = listingFile(workdir, 'Path2', '-err');
  if (err1 === undefined || err2 === undefined) return false;
  if (listingFile(workdir, 'Path1', '') !== undefined || listingFile(workdir, 'Path2', '') !== undefined) return false;
  renameSync(err1, err1.slice(0, -'-err'.length));
  renameSync(err2, err2.slice(0, -'-err'.length));
  return true;
}

function factsOf(tree: Map<string, Entry>): Map<string, FileFacts> {
  const out = new Map<string, FileFacts>();
  for (const [name, e] of tree) {
    const time = listingTime(e.modTime);
    if (time === undefined) continue;
    out.set(name, { size: e.size, hash: e.md5 !== undefined ? `md5:${e.md5}` : '-', time });
  }
  return out;
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: FILE_MODE });
  renameSync(`${path}.tmp`, path);
}

async function reconcile(input: RepairInput, deps: RepairDeps): Promise<string[]> {
  const file1 = listingFile(input.workdir, 'Path1', '');
  const file2 = listingFile(input.workdir, 'Path2', '');
  const path1 = readListing(file1);
  const path2 = readListing(file2);
  if (file1 === undefined || file2 === undefined || path1 === undefined || path2 === undefined) return [];
  const overflow = input.journal.batches.some((b) => b.overflow);
  const candidates = new Set(input.journal.batches.flatMap((b) => b.paths));
  if (overflow) for (const name of [...path1.entries.keys(), ...path2.entries.keys()]) candidates.add(name);
  if (candidates.size === 0) return [];
  const now1 = factsOf(await listTree(deps, input.job.local, true));
  const now2 = factsOf(await listTree(deps, input.job.path2, true));
  const changed = reconcileIdenticalFiles({ path1, path2, now1, now2, candidates });
  if (changed.length > 0) {
    writeAtomically(file1, formatListing(path1));
    writeAtomically(file2, formatListing(path2));
  }
  return changed;
}

/** Repair after an interrupted or failed run; idempotent (a second call finds nothing left to do). */
export async function repairAfterRun(input: RepairInput, deps: RepairDeps): Promise<RepairResult> {
  const result: RepairResult = { busy: false, removed: [], restoredListings: false, reconciled: [] };
  if (!existsSync(input.workdir)) return result;
  if (liveRcloneHolds(input.workdir)) {
    result.busy = true;
    return result;
  }
  result.removed = await removeLeftovers(input, deps);
  if (input.restoreErrListings) result.restoredListings = restoreErrListings(input.workdir);
  if (input.reconcileListings) result.reconciled = await reconcile(input, deps);
  if (result.removed.length > 0 || result.restoredListings || result.reconciled.length > 0) {
    deps.log.warn('repaired what the interrupted run left behind', { removed: result.removed.slice(0, 20), removedCount: result.removed.length, restoredListings: result.restoredListings, reconciled: result.reconciled.length });
  }
  return result;
}
