// The engine against a real `rclone serve sftp` on 127.0.0.1: new share (remote dir created by seeding)
// → edits propagate → conflict → safety abort + approval → server stopped: retryable, nothing changed
// → server back: success → dry run changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { jobPaths } from '../../src/state/paths.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { startSftpServer } from '../helpers/sftp-server.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

test('local↔sftp: resync, propagate, conflict, approval, remote down and back, dry run', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const dir = tempDir(t);
  const server = await startSftpServer(t, rclone, dir);
  const remoteRoot = join(server.root, 'share');
  const env = createEngineEnv({
    rclone,
    dir,
    path2: `${server.name}:share`,
    env: server.env,
    // One low-level retry: a refused connection fails at once instead of after ~11 s.
    job: { checkAccess: true, conflictResolve: 'newer', rcloneOptions: { low_level_retries: 1, contimeout: '5s' } },
  });
  const { local } = env;
  const expected: Record<string, string> = {};
  const put = (side: string, rel: string, content: string): void => {
    writeFiles(side, { [rel]: content });
    expected[rel] = hashOf(content);
  };

  // Whole seconds, so that an mtime can be put back exactly (local keeps nanoseconds, sftp whole seconds).
  const syncedMtime = Math.floor(Date.now() / 1000) - 3600;

  await t.test('a new share: the remote dir and check files are created, then resync', async () => {
    for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'sub dir/é.txt']) {
      put(local, f, `content of ${f}\n`);
      utimesSync(join(local, f), syncedMtime, syncedMtime);
    }
    const record = await env.run();
    assert.equal(record.operation, 'resync');
    assert.equal(record.outcome, 'success', `${record.message} ${record.tail.join('\n')}`);
    assert.ok(existsSync(join(remoteRoot, 'RCLONE_TEST')), 'check file seeded on the sftp side');
    assert.ok(existsSync(join(local, 'RCLONE_TEST')));
    assert.deepEqual(treeHashes(remoteRoot), expected);
  });

  await t.test('edits on both sides propagate', async () => {
    // Issue 12.8: same size, and an mtime the listings cannot tell apart from the synced one (locally the very same
    // instant, on the server within the same second). Only a checksum compare sees these edits.
    assert.equal('a edited locally\n'.length, 'content of a.txt\n'.length);
    put(local, 'a.txt', 'a edited locally\n');
    utimesSync(join(local, 'a.txt'), syncedMtime, syncedMtime);
    assert.equal('c edited remote.\n'.length, 'content of c.txt\n'.length);
    put(remoteRoot, 'c.txt', 'c edited remote.\n');
    utimesSync(join(remoteRoot, 'c.txt'), syncedMtime + 0.5, syncedMtime + 0.5);
    put(remoteRoot, 'e.txt', 'new on the server\n');
    const record = await env.run();
    assert.equal(record.outcome, 'success', record.message);
    assert.deepEqual(treeHashes(local), expected);
    assert.deepEqual(treeHashes(remoteRoot), expected);
    const argv = env.spawned.filter((s) => s.args[0] === 'bisync').at(-1)?.args ?? [];
    assert.ok(argv.includes('--compare=size,modtime,checksum'), `checksums are compared: ${argv.join(' ')}`);
  });

  await t.test('a conflict keeps the newer version and reports the renamed loser', async () => {
    const now = Date.now() / 1000;
    writeFiles(local, { 'b.txt': 'local older\n' });
    utimesSync(join(local, 'b.txt'), now + 100, now + 100);
    writeFiles(remoteRoot, { 'b.txt': 'remote newer\n' });
    utimesSync(join(remoteRoot, 'b.txt'), now + 200, now + 200);
    const record = await env.run();
    assert.equal(record.outcome, 'conflicts', record.message);
    assert.deepEqual(record.conflicts.map((c) => c.path), ['b.txt']);
    assert.equal(record.conflicts[0]?.copies.length, 1);
    assert.match(record.conflicts[0]?.copies[0] ?? '', /b\.txt\.conflict1$/);
    assert.equal(readFileSync(join(local, 'b.txt'), 'utf8'), 'remote newer\n');
    assert.equal(readFileSync(join(remoteRoot, 'b.txt.conflict1'), 'utf8'), 'local older\n');
    expected['b.txt'] = hashOf('remote newer\n');
    expected['b.txt.conflict1'] = hashOf('local older\n');
  });

  await t.test('too many deletes: needs-approval, nothing deleted on the server, then approved', async () => {
    const before = treeHashes(remoteRoot);
    const doomed = ['a.txt', 'c.txt', 'd.txt', 'e.txt', 'b.txt.conflict1'];
    for (const f of doomed) unlinkSync(join(local, f));
    const record = await env.run();
    assert.equal(record.outcome, 'needs-approval', record.message);
    assert.deepEqual(treeHashes(remoteRoot), before);
    assert.deepEqual([...env.runner.readState('pair').pendingDeletes].sort(), doomed.map((f) => `box:share/${f}`).sort());
    const approved = await env.run({ force: true });
    assert.equal(approved.outcome, 'success', approved.message);
    for (const f of doomed) delete expected[f];
    assert.deepEqual(treeHashes(remoteRoot), expected);
  });

  await t.test('server stopped: retryable, nothing changed; back again: success', async () => {
    await server.stop();
    put(local, 'while-down.txt', 'written while the server was down\n');
    const remoteBefore = treeHashes(remoteRoot);
    const down = await env.run({ trigger: 'schedule' });
    assert.equal(down.outcome, 'retryable', `${down.message} ${down.errorText}`);
    assert.match(down.errorText, /connection refused|couldn't connect/);
    const state = env.runner.readState('pair');
    assert.equal(state.consecutiveFailures, 1);
    assert.ok(state.retryAtMs > down.finishedMs, 'a retry is scheduled with backoff');
    assert.equal(state.needsResync, false, 'an unreachable remote is never a lockout');
    assert.deepEqual(treeHashes(remoteRoot), remoteBefore);
    await server.start();
    const back = await env.run({ trigger: 'retry' });
    assert.equal(back.outcome, 'success', back.message);
    assert.deepEqual(treeHashes(remoteRoot), expected);
    assert.equal(env.runner.readState('pair').consecutiveFailures, 0);
  });

  await t.test('a dry run changes nothing', async () => {
    writeFiles(local, { 'dry.txt': 'dry\n' });
    const statePath = jobPaths(join(dir, 'state'), 'pair').state;
    const stateBefore = readFileSync(statePath, 'utf8');
    const record = await env.run({ dryRun: true });
    assert.equal(record.outcome, 'dry-run', record.message);
    assert.equal(existsSync(join(remoteRoot, 'dry.txt')), false);
    assert.equal(readFileSync(statePath, 'utf8'), stateBefore);
  });
});
