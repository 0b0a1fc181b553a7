// Issue 13 on a real rclone (whichever RBM_TEST_RCLONE names: the integration run uses 1.75, the compat run 1.60),
// local↔local and local↔sftp on 127.0.0.1: an interrupted transfer (kill -9 of rclone, cancel) leaves no truncated
// file under a real name and the next run converges with no conflict copies; a full LOCAL disk says so, nothing
// half-written reaches the remote, and the run after space is freed converges. Trees are compared by sha256.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import type { Progress, RunRecord } from '../../src/run/types.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles, type EngineEnv } from './engine-env.js';
import { startSftpServer, type SftpServer } from './sftp-server.js';
import { rcloneVersion } from './tools.js';

export type RemoteKind = 'local' | 'sftp';

export interface Pair {
  env: EngineEnv;
  local: string;
  /** The remote side's directory on disk (the sftp server's served dir for sftp). */
  remoteDir: string;
  modern: boolean;
  expected: Record<string, string>;
  /** Content each path had before the interrupted run (an untouched old version is not a leftover). */
  previous: Record<string, string>;
  /** The sftp server (sftp pairs only). */
  server: SftpServer | undefined;
}

/** Every file under `dir`, relative (rclone temp files and conflict copies included, unlike treeHashes). */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

function setMtime(path: string, secondsFromNow: number): void {
  const t = Date.now() / 1000 + secondsFromNow;
  utimesSync(path, t, t);
}

export async function makePair(t: TestContext, rclone: string, kind: RemoteKind, options: { rcloneOptions?: Record<string, string | number>; mountLocal?: (dir: string) => void } = {}): Promise<Pair> {
  const dir = tempDir(t, 'rbm-int-');
  const local = join(dir, 'local');
  mkdirSync(local, { recursive: true });
  options.mountLocal?.(local);
  const job = { rcloneOptions: { ...options.rcloneOptions, ...(kind === 'sftp' ? { low_level_retries: 1, contimeout: '5s' } : {}) } };
  let env: EngineEnv;
  let remoteDir: string;
  let server: SftpServer | undefined;
  if (kind === 'sftp') {
    server = await startSftpServer(t, rclone, dir);
    remoteDir = join(server.root, 'share');
    mkdirSync(remoteDir, { recursive: true });
    env = createEngineEnv({ rclone, dir, path2: `${server.name}:share`, env: server.env, job });
  } else {
    remoteDir = join(dir, 'remote');
    mkdirSync(remoteDir, { recursive: true });
    env = createEngineEnv({ rclone, dir, path2: remoteDir, job });
  }
  const v = rcloneVersion(rclone);
  return { env, local, remoteDir, modern: v.major > 1 || v.minor >= 66, expected: {}, previous: {}, server };
}

export function put(pair: Pair, side: string, rel: string, content: string | Buffer, secondsFromNow = 0): void {
  writeFiles(side, { [rel]: content });
  setMtime(join(side, rel), secondsFromNow);
  pair.expected[rel] = hashOf(content);
}

export function detail(record: RunRecord): string {
  return `${record.outcome}: ${record.message}\n${record.tail.join('\n')}`;
}

/**
 * A share in sync with `large1.bin` (old version) and a file; then `smallFiles` new small files and a new 6 MB
 * large1.bin on LOCAL (300 local↔local; fewer over sftp, where each file costs a round of ssh requests).
 */
export async function preparePendingUpload(pair: Pair, smallFiles: number): Promise<void> {
  put(pair, pair.local, 'large1.bin', randomBytes(256 * 1024), -100);
  put(pair, pair.local, 'keep.txt', 'kept\n', -100);
  const first = await pair.env.run();
  assert.equal(first.outcome, 'success', detail(first));
  assert.deepEqual(treeHashes(pair.remoteDir), pair.expected);
  pair.previous = { ...pair.expected };
  put(pair, pair.local, 'large1.bin', randomBytes(6 * 1024 * 1024), 10);
  for (let i = 0; i < smallFiles; i++) put(pair, pair.local, `small/f${String(i).padStart(3, '0')}.txt`, `small file ${i}\n${'x'.repeat(i)}`, 5);
}

/** True once rclone reports bytes moving and the transfer is not complete. */
export function midTransfer(p: Progress): boolean {
  return p.bytes > 0 && p.totalBytes > 0 && p.bytes < p.totalBytes;
}

/** The bisync rclone the engine spawned last. */
export function lastBisyncPid(env: EngineEnv): number {
  const spawned = [...env.spawned].reverse().find((s) => s.args[0] === 'bisync' && !s.args.includes('--dry-run'));
  const pid = spawned?.child.pid;
  assert.ok(pid !== undefined, 'an rclone bisync was spawned');
  return pid;
}

/** No file on `dir` holds anything but the intended content or the untouched old version; no temp or conflict files. */
export function assertNoLeftovers(pair: Pair, dir: string, what: string): void {
  for (const rel of allFiles(dir)) {
    assert.doesNotMatch(rel, /\.partial$|\.\.path[12]$|\.conflict\d+$/, `${what}: no temp file or conflict copy (${rel})`);
  }
  for (const [rel, hash] of Object.entries(treeHashes(dir))) {
    assert.ok(hash === pair.expected[rel] || hash === pair.previous[rel], `${what}: ${rel} is neither the new nor the old content (a truncated file)`);
  }
}

/** The run after an interruption: no conflicts, and both sides hold exactly the intended content. */
export async function assertConverges(pair: Pair): Promise<RunRecord> {
  const record = await pair.env.run();
  assert.ok(record.outcome === 'success' || record.outcome === 'no-changes', detail(record));
  assert.deepEqual(record.conflicts, []);
  assert.deepEqual(treeHashes(pair.local), pair.expected, 'LOCAL holds the intended content');
  assert.deepEqual(treeHashes(pair.remoteDir), pair.expected, 'the remote holds the intended content');
  assertNoLeftovers(pair, pair.local, 'LOCAL');
  assertNoLeftovers(pair, pair.remoteDir, 'remote');
  return record;
}

/** A small tmpfs as LOCAL (fails, does not skip, when it cannot be mounted under CI=true). The caller unmounts (umountTmpfs). */
export function mountTmpfs(t: TestContext, dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e: unknown) {
    if (process.env.CI === 'true') throw new Error(`CI=true and a tmpfs cannot be mounted (tests run as root in CI): ${String(e)}`);
    t.skip('cannot mount a tmpfs (needs root)');
    return false;
  }
  return true;
}

export function umountTmpfs(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
}

export function resizeTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir], { stdio: 'pipe' });
}
