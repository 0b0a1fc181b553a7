// Issue 12, cases 5 and 7, on the real rclone RBM_TEST_RCLONE names (1.75 from test/integration, Debian's 1.60 from
// test/compat), local↔local and local↔sftp on 127.0.0.1: a missing drive is a check that waits (check-failed), never
// a resync or a delete, and the job heals by itself once the drive is back. Real mounts (bind and tmpfs; root needed,
// a failure under CI=true), both trees compared by sha256.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { JobConfig } from '../../src/config/types.js';
import type { RunRecord } from '../../src/run/types.js';
import { createEngineEnv, hashOf, treeHashes, writeFiles, type EngineEnv } from './engine-env.js';
import { requireMount } from './hardening.js';
import { startSftpServer, type SftpServer } from './sftp-server.js';

export type PairKind = 'local' | 'sftp';

/** Old enough that any edit made now is newer on both rclone versions. */
const BASE_SEC = Math.floor(Date.now() / 1000) - 7200;

interface World {
  dir: string;
  env: EngineEnv;
  local: string;
  /** The other side's directory on disk (the served directory for sftp). */
  remoteRoot: string;
  expected: Record<string, string>;
  mount(source: string, target: string, type?: 'bind' | 'tmpfs'): void;
  umount(target: string): void;
  put(side: string, rel: string, content: string, mtimeSec?: number): void;
  bisyncCount(): number;
}

/**
 * A temp dir whose cleanup unmounts what the test mounted (innermost first) before removing the tree, so a failing
 * test never leaves a mount behind or removes a drive's files through one.
 */
function mountingTempDir(t: TestContext): { dir: string; mounted: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-side-check-'));
  const mounted: string[] = [];
  t.after(() => {
    for (const target of [...mounted].reverse()) {
      if (spawnSync('umount', [target], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', target], { stdio: 'ignore' });
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, mounted };
}

export function makeWorld(t: TestContext, rclone: string, pair: PairKind, server: SftpServer | undefined, job: Partial<JobConfig>): World {
  const { dir, mounted } = mountingTempDir(t);
  const sub = `share-${Math.random().toString(36).slice(2, 8)}`;
  const remoteRoot = pair === 'sftp' && server ? join(server.root, sub) : join(dir, 'remote');
  const path2 = pair === 'sftp' && server ? `${server.name}:${sub}` : remoteRoot;
  // max_delete 100: rclone's own safety limit would let every delete through; only the side check stands in the way.
  const rcloneOptions = { max_delete: 100, ...(pair === 'sftp' ? { low_level_retries: 1, contimeout: '5s' } : {}) };
  const env = createEngineEnv({ rclone, dir, path2, ...(server && pair === 'sftp' ? { env: server.env } : {}), job: { rcloneOptions, ...job } });
  mkdirSync(env.local, { recursive: true });
  const expected: Record<string, string> = {};
  return {
    dir,
    env,
    local: env.local,
    remoteRoot,
    expected,
    mount(source, target, type = 'bind') {
      mkdirSync(target, { recursive: true });
      if (type === 'bind') execFileSync('mount', ['--bind', source, target]);
      else execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', target]);
      mounted.push(target);
    },
    umount(target) {
      execFileSync('umount', [target]);
      mounted.splice(mounted.lastIndexOf(target), 1);
    },
    put(side, rel, content, mtimeSec = BASE_SEC) {
      writeFiles(side, { [rel]: content });
      utimesSync(join(side, rel), mtimeSec, mtimeSec);
      expected[rel] = hashOf(content);
    },
    bisyncCount: () => env.spawned.filter((s) => s.args[0] === 'bisync').length,
  };
}

function ok(record: RunRecord): void {
  assert.ok(['success', 'no-changes'].includes(record.outcome), `${record.outcome}: ${record.message}\n${record.tail.join('\n')}`);
}

/** The refused run: nothing spawned, nothing changed, the status names the path; no retry storm. */
function assertWaits(w: World, record: RunRecord, bisyncsBefore: number, path: string, message: RegExp): void {
  assert.equal(record.outcome, 'check-failed', `${record.outcome}: ${record.message}\n${record.tail.join('\n')}`);
  assert.equal(w.bisyncCount(), bisyncsBefore, 'rclone bisync never ran');
  assert.match(record.message, message);
  assert.match(record.hint, /syncs again by itself/);
  const state = w.env.runner.readState('pair');
  assert.equal(state.lastOutcome, 'check-failed');
  assert.equal(state.sideCheck?.path, path);
  assert.match(state.lastMessage, message, 'the status (last message) names the path');
  assert.match(state.lastError, new RegExp(`side check failed: local ${escape(path)}`));
  assert.equal(state.needsResync, false);
  assert.equal(state.retryAtMs, 0, 'no backoff retries: the next scheduled trigger checks again');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The run after the drive came back: a plain bisync (never a resync), and the wait is over. */
function assertHealed(w: World, record: RunRecord): void {
  ok(record);
  assert.equal(record.operation, 'bisync');
  const last = w.env.spawned.filter((s) => s.args[0] === 'bisync').at(-1);
  assert.equal(last?.args.includes('--resync'), false, 'no resync');
  const state = w.env.runner.readState('pair');
  assert.equal(state.sideCheck, null);
  assert.equal(state.lastOutcome, record.outcome);
  assert.deepEqual(treeHashes(w.local), w.expected);
  assert.deepEqual(treeHashes(w.remoteRoot), w.expected);
}

/**
 * Case 5: check_access, the local root is a drive (bind mount) that is not mounted now; its mount point holds a stray
 * file and no RCLONE_TEST; the remote has files and an edit.
 */
export async function case5UnmountedDrive(t: TestContext, rclone: string, pair: PairKind, server?: SftpServer): Promise<void> {
  if (!requireMount(t)) return;
  const w = makeWorld(t, rclone, pair, server, { checkAccess: true });
  const drive = join(w.dir, 'drive');
  mkdirSync(drive);
  w.mount(drive, w.local);
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'sub/d.txt']) w.put(w.local, f, `content of ${f}\n`);
  const first = await w.env.run({ trigger: 'add-job' });
  ok(first);
  assert.deepEqual(treeHashes(w.remoteRoot), w.expected);
  const seenLocal = Object.keys(treeHashes(w.local, { keepSentinel: true })).length;

  w.put(w.remoteRoot, 'a.txt', 'a edited on the remote\n', BASE_SEC + 3600);
  const remoteBefore = treeHashes(w.remoteRoot, { keepSentinel: true });
  w.umount(w.local);
  writeFiles(w.local, { 'stray.txt': 'written into the empty mount point\n' });

  const before = w.bisyncCount();
  const refused = await w.env.run({ trigger: 'schedule' });
  assertWaits(w, refused, before, w.local, new RegExp(`the local side looks unmounted or emptied: ${escape(w.local)} \\(no longer a mount point; RCLONE_TEST is missing; last run saw ${seenLocal} files, now 1\\); is the drive mounted\\?`));
  assert.deepEqual(treeHashes(w.remoteRoot, { keepSentinel: true }), remoteBefore, 'the remote is unchanged');
  assert.deepEqual(readdirSync(w.local), ['stray.txt'], 'nothing was copied into the mount point');
  const again = await w.env.run({ trigger: 'schedule' });
  assert.equal(again.outcome, 'check-failed', 'each trigger checks again, and waits again');
  assert.equal(w.bisyncCount(), before);

  w.mount(drive, w.local); // the drive is back, with RCLONE_TEST and the data
  const healed = await w.env.run({ trigger: 'schedule' });
  assertHealed(w, healed);
  assert.equal(treeHashes(w.local)['a.txt'], hashOf('a edited on the remote\n'), 'the remote edit survived');
  w.umount(w.local);
  assert.deepEqual(readdirSync(w.local), ['stray.txt'], 'the mount point still holds only the stray file');
  w.mount(drive, w.local);
}

/**
 * Case 5, rclone's own test: no mount is recorded (a state from before mounts were recorded), a nested folder that
 * held RCLONE_TEST is gone locally. rclone fails the check-access test; the job waits (never a resync), and on 1.60
 * the listings it renamed -err are put back, so the next run is a plain bisync.
 */
export async function case5RcloneCheckAccess(t: TestContext, rclone: string, pair: PairKind, server?: SftpServer): Promise<void> {
  const w = makeWorld(t, rclone, pair, server, { checkAccess: true });
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'f.txt', 'g.txt', 'nested/x.txt', 'nested/y.txt']) w.put(w.local, f, `content of ${f}\n`);
  // The nested drive's own check file, on both sides (1.64+ checks them during the first resync too).
  writeFiles(w.local, { 'nested/RCLONE_TEST': '' });
  writeFiles(w.remoteRoot, { 'nested/RCLONE_TEST': '' });
  ok(await w.env.run({ trigger: 'add-job' }));
  ok(await w.env.run({ trigger: 'schedule' }));
  w.expected['nested/RCLONE_TEST'] = hashOf('');
  assert.deepEqual(treeHashes(w.remoteRoot), w.expected);

  w.put(w.remoteRoot, 'b.txt', 'b edited on the remote\n', BASE_SEC + 3600);
  const remoteBefore = treeHashes(w.remoteRoot, { keepSentinel: true });
  const stash = join(w.dir, 'stash');
  renameSync(join(w.local, 'nested'), stash);

  const before = w.bisyncCount();
  const refused = await w.env.run({ trigger: 'schedule' });
  assert.equal(refused.outcome, 'check-failed', `${refused.outcome}: ${refused.message}\n${refused.tail.join('\n')}`);
  assert.equal(w.bisyncCount(), before + 1, 'rclone ran once and was not followed by a resync');
  assert.match(refused.message, new RegExp(`check-access test failed.*the local side looks unmounted or emptied: ${escape(join(w.local, 'nested'))} \\(RCLONE_TEST is missing\\)`));
  assert.deepEqual(treeHashes(w.remoteRoot, { keepSentinel: true }), remoteBefore, 'nothing deleted on the remote');
  const state = w.env.runner.readState('pair');
  assert.equal(state.needsResync, false);
  assert.equal(state.retryAtMs, 0);
  const workdir = join(w.dir, 'state', 'jobs', 'pair', 'workdir');
  assert.deepEqual(readdirSync(workdir).filter((n) => /\.lst-err$/.test(n)), [], 'no listing left renamed -err');

  renameSync(stash, join(w.local, 'nested'));
  const healed = await w.env.run({ trigger: 'schedule' });
  assertHealed(w, healed);
  assert.equal(treeHashes(w.local)['b.txt'], hashOf('b edited on the remote\n'));
}

/** Case 7: the local root emptied, or holding only residue, while the last good run saw files; with and without check_access. */
export async function case7EmptiedRoot(t: TestContext, rclone: string, pair: PairKind, opts: { checkAccess: boolean; residue: boolean }, server?: SftpServer): Promise<void> {
  const w = makeWorld(t, rclone, pair, server, { checkAccess: opts.checkAccess });
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'sub/d.txt', 'sub/e.txt']) w.put(w.local, f, `content of ${f}\n`);
  ok(await w.env.run({ trigger: 'add-job' }));
  assert.deepEqual(treeHashes(w.remoteRoot), w.expected);
  const seenLocal = Object.keys(treeHashes(w.local, { keepSentinel: true })).length;
  const remoteBefore = treeHashes(w.remoteRoot, { keepSentinel: true });

  const stash = join(w.dir, 'stash');
  mkdirSync(stash);
  for (const name of readdirSync(w.local)) renameSync(join(w.local, name), join(stash, name));
  if (opts.residue) {
    mkdirSync(join(w.local, 'lost+found'));
    writeFiles(w.local, { '.Trash-1000/files/old.txt': 'in the trash\n', '.directory': '[Desktop Entry]\nIcon=drive\n' });
  }

  const before = w.bisyncCount();
  const refused = await w.env.run({ trigger: 'schedule' });
  const what = [opts.checkAccess ? 'RCLONE_TEST is missing' : '', opts.residue ? 'only \\.Trash-1000, \\.directory, lost\\+found left' : 'no files'].filter((x) => x !== '').join('; ');
  assertWaits(w, refused, before, w.local, new RegExp(`the local side looks unmounted or emptied: ${escape(w.local)} \\(${what}; last run saw ${seenLocal} files, now 0\\); is the drive mounted\\?`));
  assert.deepEqual(treeHashes(w.remoteRoot, { keepSentinel: true }), remoteBefore, 'nothing deleted or changed on the remote');

  // The drive is back: the residue was the empty mount point's, the files are there again.
  for (const name of readdirSync(w.local)) rmSync(join(w.local, name), { recursive: true });
  for (const name of readdirSync(stash)) renameSync(join(stash, name), join(w.local, name));
  const healed = await w.env.run({ trigger: 'schedule' });
  assertHealed(w, healed);
}

/** Case 7: a drive mounted inside the job's tree (`photos/archive`, a tmpfs) is not mounted now. */
export async function case7NestedMount(t: TestContext, rclone: string, pair: PairKind, opts: { checkAccess: boolean }, server?: SftpServer): Promise<void> {
  if (!requireMount(t)) return;
  const w = makeWorld(t, rclone, pair, server, { checkAccess: opts.checkAccess });
  const archive = join(w.local, 'photos', 'archive');
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'f.txt', 'photos/p1.jpg', 'photos/p2.jpg']) w.put(w.local, f, `content of ${f}\n`);
  const archived = ['photos/archive/2019.jpg', 'photos/archive/2020.jpg', 'photos/archive/old/2018.jpg'];
  const fillArchive = (): void => {
    for (const f of archived) w.put(w.local, f, `content of ${f}\n`);
  };
  w.mount('tmpfs', archive, 'tmpfs');
  fillArchive();
  ok(await w.env.run({ trigger: 'add-job' }));
  assert.deepEqual(treeHashes(w.remoteRoot), w.expected);
  assert.deepEqual(w.env.runner.readState('pair').localMounts?.nested, [archive], 'the nested mount point is recorded');
  const remoteBefore = treeHashes(w.remoteRoot, { keepSentinel: true });

  w.umount(archive);
  const before = w.bisyncCount();
  const refused = await w.env.run({ trigger: 'schedule' });
  assertWaits(w, refused, before, archive, new RegExp(`the local side looks unmounted or emptied: ${escape(archive)} \\(no longer a mount point; last run saw ${archived.length} files, now 0\\); is the drive mounted\\?`));
  assert.deepEqual(treeHashes(w.remoteRoot, { keepSentinel: true }), remoteBefore, 'the archive files were not deleted on the remote');
  assert.deepEqual(readdirSync(archive), [], 'nothing was copied into the mount point');

  w.mount('tmpfs', archive, 'tmpfs');
  fillArchive(); // the drive is back with the same files (same content and mtimes)
  const healed = await w.env.run({ trigger: 'schedule' });
  assertHealed(w, healed);
}

export async function sftpServer(t: TestContext, rclone: string): Promise<SftpServer> {
  const { dir } = mountingTempDir(t);
  return startSftpServer(t, rclone, dir);
}
