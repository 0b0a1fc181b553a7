// Issue 12.8 on a real `rclone serve sftp` (1 s modtime precision): a same-size edit whose mtime the listings cannot
// tell apart reaches the other side where rclone compares checksums (>= 1.66), also for a job that ran for a while
// without them (the switch-over), with no "hash unexpectedly blank" warning and no lockout. On 1.60 the engine passes
// no --compare and the job's note says such edits go unnoticed, which the trees confirm.
// Runs on whatever rclone RBM_TEST_RCLONE names (CI: 1.75 in the integration suite, 1.60 with RBM_TEST_COMPAT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { checksumNote, checksumSupport } from '../../src/rclone/compare.js';
import { cachedRemoteHashes, listingHashes } from '../../src/run/compare-mode.js';
import { jobPaths } from '../../src/state/paths.js';
import { probeRclone } from '../../src/platform/rclone-probe.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { startSftpServer } from '../helpers/sftp-server.js';
import { rcloneVersion, requireProgram, testRclone } from '../helpers/tools.js';

test('same-size edits within the modtime precision, and switching an existing job to checksums', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const version = rcloneVersion(rclone);
  const modern = version.major > 1 || version.minor >= 66;
  const dir = tempDir(t);
  const server = await startSftpServer(t, rclone, dir);
  const remoteRoot = join(server.root, 'share');
  // The job first runs with checksum_compare: false, as every job did before this setting existed.
  const env = createEngineEnv({ rclone, dir, path2: `${server.name}:share`, env: server.env, job: { checksumCompare: false, rcloneOptions: { low_level_retries: 1 } } });
  const { local } = env;
  const stateDir = join(dir, 'state');
  const workdir = jobPaths(stateDir, 'pair').workdir;
  const syncedMtime = Math.floor(Date.now() / 1000) - 3600;
  const expected: Record<string, string> = {};
  const put = (side: string, rel: string, content: string): void => {
    writeFiles(side, { [rel]: content });
    expected[rel] = hashOf(content);
  };
  const bisyncArgvs = (from: number): (readonly string[])[] => env.spawned.slice(from).map((s) => s.args).filter((a) => a[0] === 'bisync');
  const blankWarnings = (): string[] => env.logger.messages().filter((m) => /hash unexpectedly blank/.test(m));

  await t.test('without checksums: resync and a run, listings without hashes', async () => {
    for (const f of ['a.txt', 'b.txt', 'c.txt']) {
      put(local, f, `content of ${f}\n`);
      utimesSync(join(local, f), syncedMtime, syncedMtime);
    }
    const first = await env.run();
    assert.equal(first.outcome, 'success', `${first.message}\n${first.tail.join('\n')}`);
    const second = await env.run();
    assert.equal(second.outcome, 'no-changes', second.message);
    assert.deepEqual(treeHashes(remoteRoot), expected);
    assert.equal(listingHashes(workdir), modern ? 'unhashed' : 'hashed', '1.66+ writes no hashes without --compare checksum; 1.60 always does');
    assert.equal(env.spawned.some((s) => s.args[0] === 'backend'), false, 'no detection for a job that opted out');
  });

  await t.test('switched on with a change pending: one run without, one with checksums; no warning', async () => {
    const from = env.spawned.length;
    put(local, 'n.txt', 'new while switching\n');
    const record = await env.run({}, { checksumCompare: true });
    assert.equal(record.outcome, 'success', `${record.message}\n${record.tail.join('\n')}`);
    assert.deepEqual(treeHashes(local), expected);
    assert.deepEqual(treeHashes(remoteRoot), expected);
    const runs = bisyncArgvs(from);
    if (modern) {
      assert.deepEqual(runs.map((a) => a.includes('--compare=size,modtime,checksum')), [false, true], 'the switch-over run, then the settling run');
      assert.equal(listingHashes(workdir), 'hashed');
      assert.match(record.message, /from now on checksums are compared too/);
      assert.deepEqual(cachedRemoteHashes(stateDir, env.job, await probeRclone(rclone)), ['md5', 'sha1'], 'detected once and kept in the state dir');
    } else {
      assert.deepEqual(runs.map((a) => a.some((x) => x.startsWith('--compare'))), [false]);
      assert.equal(env.spawned.slice(from).some((s) => s.args[0] === 'backend'), false, '1.60: nothing to detect');
    }
    assert.deepEqual(blankWarnings(), []);
    assert.equal(record.hashWarnings, 0);
  });

  await t.test('same size, same instant locally and the same second on the server', async () => {
    const from = env.spawned.length;
    const before = { a: expected['a.txt'], c: expected['c.txt'] };
    put(local, 'a.txt', 'a edited locally\n');
    utimesSync(join(local, 'a.txt'), syncedMtime, syncedMtime);
    put(remoteRoot, 'c.txt', 'c edited remote.\n');
    utimesSync(join(remoteRoot, 'c.txt'), syncedMtime + 0.5, syncedMtime + 0.5);
    assert.equal(readFileSync(join(local, 'a.txt')).length, 'content of a.txt\n'.length);
    const record = await env.run({}, { checksumCompare: true });
    assert.equal(record.outcome, modern ? 'success' : 'no-changes', `${record.message}\n${record.tail.join('\n')}`);
    const caps = await probeRclone(rclone);
    const note = checksumNote(checksumSupport({ checksumCompare: true }, caps, cachedRemoteHashes(stateDir, env.job, caps), false), caps);
    if (modern) {
      assert.deepEqual(treeHashes(local), expected);
      assert.deepEqual(treeHashes(remoteRoot), expected);
      assert.ok(bisyncArgvs(from).every((a) => a.includes('--compare=size,modtime,checksum')));
      assert.equal(note, undefined);
    } else {
      // What the note says: the edits stay where they were made.
      assert.equal(hashOf(readFileSync(join(remoteRoot, 'a.txt'))), before.a);
      assert.equal(hashOf(readFileSync(join(local, 'c.txt'))), before.c);
      assert.match(note ?? '', /not detected: rclone 1\.60\.\d+ cannot compare checksums \(needs rclone >= 1\.66\)/);
    }
    assert.deepEqual(blankWarnings(), []);
    assert.ok(readdirSync(workdir).every((n) => !n.endsWith('-err')), 'no lockout');
  });
});
