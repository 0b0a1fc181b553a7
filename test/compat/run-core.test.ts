// The engine's core scenarios on whatever rclone RBM_TEST_RCLONE names: CI runs this file with Debian's 1.60
// (and the full suite covers 1.75): resync, propagate, conflict, safety abort + approval, one-shot exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { requireProgram, rcloneVersion, testRclone } from '../helpers/tools.js';
import { standaloneSync } from '../helpers/standalone-sync.js';

test('core scenarios on this rclone: resync, propagate, conflict, safety abort', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const version = rcloneVersion(rclone);
  const modern = version.major > 1 || version.minor >= 66;
  const dir = tempDir(t, 'rbm-compat-');
  const remote = join(dir, 'remote');
  const env = createEngineEnv({ rclone, dir, path2: remote });
  const { local } = env;
  const expected: Record<string, string> = {};
  const put = (side: string, rel: string, content: string): void => {
    writeFiles(side, { [rel]: content });
    expected[rel] = hashOf(content);
  };

  await t.test('first run resyncs a new share (the remote dir is created)', async () => {
    for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt']) put(local, f, `content of ${f}\n`);
    const record = await env.run();
    assert.equal(record.operation, 'resync');
    assert.equal(record.outcome, 'success', `${record.message}\n${record.tail.join('\n')}`);
    assert.deepEqual(treeHashes(remote), expected);
    const argv = env.spawned.find((s) => s.args[0] === 'bisync')?.args ?? [];
    assert.equal(argv.includes('--color=NEVER'), modern, '--color only where rclone has it');
    assert.equal(argv.includes('--recover'), modern);
  });

  await t.test('edits on both sides propagate', async () => {
    put(local, 'a.txt', 'a edited\n');
    put(remote, 'f.txt', 'new on the remote\n');
    const record = await env.run();
    assert.equal(record.outcome, 'success', record.message);
    assert.deepEqual(treeHashes(local), expected);
    assert.deepEqual(treeHashes(remote), expected);
  });

  await t.test('a conflict keeps both versions and lists both copies', async () => {
    const now = Date.now() / 1000;
    writeFiles(local, { 'b.txt': 'b local\n' });
    utimesSync(join(local, 'b.txt'), now + 100, now + 100);
    writeFiles(remote, { 'b.txt': 'b remote, longer\n' });
    utimesSync(join(remote, 'b.txt'), now + 200, now + 200);
    const record = await env.run();
    assert.equal(record.outcome, 'conflicts', record.message);
    assert.equal(record.conflicts[0]?.path, 'b.txt');
    const copies = record.conflicts[0]?.copies.map((c) => c.split('/').pop());
    assert.deepEqual(copies, modern ? ['b.txt.conflict1', 'b.txt.conflict2'] : ['b.txt..path1', 'b.txt..path2']);
    for (const copy of copies ?? []) {
      assert.ok(existsSync(join(local, copy ?? '')) && existsSync(join(remote, copy ?? '')), `${copy} on both sides`);
    }
    assert.equal(existsSync(join(local, 'b.txt')), false, 'no version was overwritten: both were renamed');
  });

  await t.test('deleting most files is refused (nothing deleted) until approved', async () => {
    const before = treeHashes(remote);
    const doomed = ['a.txt', 'c.txt', 'd.txt', 'e.txt', 'f.txt'];
    for (const f of doomed) unlinkSync(join(local, f));
    const record = await env.run();
    assert.equal(record.outcome, 'needs-approval', record.message);
    assert.deepEqual(treeHashes(remote), before);
    assert.deepEqual([...env.runner.readState('pair').pendingDeletes].sort(), doomed.map((f) => join(remote, f)).sort());
    const config = { path: join(dir, 'c.yaml'), global: env.global, jobs: [env.job] };
    const waiting = await standaloneSync(config, env.runner, ['pair']);
    assert.equal(waiting.code, 7, `one-shot exits 7 while approval is pending\n${waiting.stdout}`);
    assert.match(waiting.stdout, /rbmctl approve pair/);
    assert.deepEqual(treeHashes(remote), before, 'the check on the next run deleted nothing');
    const forced = await standaloneSync(config, env.runner, ['pair', '--force-bisync']);
    assert.equal(forced.code, 0, forced.stdout);
    for (const f of doomed) assert.equal(existsSync(join(remote, f)), false, `${f} deleted after approval`);
  });
});
