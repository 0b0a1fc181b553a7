// Session 6 (propagation latency): where both sides keep fine modtimes (local disks), a same-size edit is told apart
// by its modtime, so the engine leaves `--compare=size,modtime,checksum` out (hashing every file on every run was most
// of a watch-triggered run). Real rclone, local↔local: an option that widens rclone's modtime window keeps checksums
// (and a same-size edit inside that window still syncs); without it the same job runs without them over its hashed
// listings (no "hash unexpectedly blank"), same-size edits a millisecond apart sync both ways, rclone is asked for
// its local precision once; putting the option back switches to checksums again with no lockout. The 1-second sftp
// case keeps its checksums: test/integration/checksum-compare.test.ts and run-sftp.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { listingHashes, localFilesystemsFine } from '../../src/run/compare-mode.js';
import { jobPaths } from '../../src/state/paths.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { rcloneVersion, requireProgram, testRclone } from '../helpers/tools.js';

test('local↔local with fine modtimes: no checksum compare, same-size edits still sync; a widened modtime window keeps checksums', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const version = rcloneVersion(rclone);
  const modern = version.major > 1 || version.minor >= 66;
  const dir = tempDir(t);
  const path2 = join(dir, 'remote');
  mkdirSync(path2, { recursive: true });
  const widened = { modify_window: '2s' };
  const env = createEngineEnv({ rclone, dir, path2, job: { rcloneRemote: '', checksumCompare: true, rcloneOptions: widened } });
  const { local } = env;
  mkdirSync(local, { recursive: true });
  assert.ok(localFilesystemsFine([local, path2]), 'this test needs a temp directory on a file system with fine times (ext4, xfs, btrfs, tmpfs)');
  const workdir = jobPaths(join(dir, 'state'), 'pair').workdir;
  const syncedSec = Math.floor(Date.now() / 1000) - 3600;
  const expected: Record<string, string> = {};
  const put = (side: string, rel: string, content: string, mtimeSec: number): void => {
    writeFiles(side, { [rel]: content });
    utimesSync(join(side, rel), mtimeSec, mtimeSec);
    expected[rel] = hashOf(content);
  };
  const bisyncArgvs = (from: number): (readonly string[])[] => env.spawned.slice(from).map((s) => s.args).filter((a) => a[0] === 'bisync');
  const compares = (from: number): boolean[] => bisyncArgvs(from).map((a) => a.includes('--compare=size,modtime,checksum'));
  const features = (): (readonly string[])[] => env.spawned.map((s) => s.args).filter((a) => a[0] === 'backend');
  const blankWarnings = (): string[] => env.logger.messages().filter((m) => /hash unexpectedly blank/.test(m));
  const noLockout = (): void => assert.ok(readdirSync(workdir).every((n) => !n.endsWith('-err')), 'no lockout');

  await t.test('modify_window 2s: checksums compared; a same-size edit 1 s later (inside the window) syncs', async () => {
    for (const f of ['a.txt', 'b.txt', 'c.txt']) put(local, f, `content of ${f}\n`, syncedSec);
    const first = await env.run();
    assert.equal(first.outcome, 'success', `${first.message}\n${first.tail.join('\n')}`);
    put(local, 'a.txt', 'a edited locally\n', syncedSec + 1);
    assert.equal('a edited locally\n'.length, 'content of a.txt\n'.length);
    const from = env.spawned.length;
    const record = await env.run();
    assert.equal(record.outcome, modern ? 'success' : 'no-changes', `${record.message}\n${record.tail.join('\n')}`);
    if (!modern) {
      // 1.60 has no --compare: nothing is decided, nothing is asked.
      assert.deepEqual(compares(0).filter(Boolean), []);
      assert.deepEqual(features(), []);
      return;
    }
    assert.deepEqual(compares(0), [true, true, true], 'the resync, the bisync after it (for --recover) and the run');
    assert.deepEqual(treeHashes(path2), expected);
    assert.deepEqual(treeHashes(local), expected);
    assert.equal(listingHashes(workdir), 'hashed');
    assert.deepEqual(features(), [], 'an option that widens the window: nothing to ask rclone');
    assert.ok(bisyncArgvs(from).every((a) => a.includes('--modify-window=2s')));
  });
  if (!modern) return;

  await t.test('without it: the same job runs without checksums over its hashed listings; same-size edits 1 ms apart sync both ways', async () => {
    const from = env.spawned.length;
    const quiet = await env.run({}, { rcloneOptions: {} });
    assert.equal(quiet.outcome, 'no-changes', `${quiet.message}\n${quiet.tail.join('\n')}`);
    put(local, 'b.txt', 'b edited locally\n', syncedSec + 0.001);
    put(path2, 'c.txt', 'c edited remote.\n', syncedSec + 0.002);
    const record = await env.run({}, { rcloneOptions: {} });
    assert.equal(record.outcome, 'success', `${record.message}\n${record.tail.join('\n')}`);
    assert.deepEqual(treeHashes(local), expected);
    assert.deepEqual(treeHashes(path2), expected);
    assert.deepEqual(compares(from), [false, false], 'no --compare: size and modtime');
    assert.deepEqual(features(), [['backend', 'features', local]], 'rclone\'s local precision asked once, then kept');
    assert.deepEqual(blankWarnings(), []);
    assert.equal(record.hashWarnings, 0);
    noLockout();
  });

  await t.test('the option back: the job switches to checksums again (one run without, the settling one with), no lockout', async () => {
    put(local, 'a.txt', 'a edited again..\n', syncedSec + 5);
    const from = env.spawned.length;
    const record = await env.run();
    assert.equal(record.outcome, 'success', `${record.message}\n${record.tail.join('\n')}`);
    assert.deepEqual(treeHashes(path2), expected);
    assert.deepEqual(compares(from), [false, true], 'the switch-over run, then the settling run');
    assert.equal(listingHashes(workdir), 'hashed');
    assert.deepEqual(blankWarnings(), []);
    noLockout();
  });
});
