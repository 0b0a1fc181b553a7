// Issue 12 case 4 (and the resync part of case 6), reproduced as written on a real rclone: both sides hold different
// versions of a file, then a resync happens for each reason the issue names. Shared by the 1.75 integration file and
// its 1.60 compat twin; each runs local↔local and local↔sftp (a real `rclone serve sftp` on 127.0.0.1).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { RunRecord } from '../../src/run/types.js';
import { jobPaths } from '../../src/state/paths.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles } from './engine-env.js';
import { startSftpServer } from './sftp-server.js';
import { rcloneVersion } from './tools.js';

export type PairKind = 'local' | 'sftp';

const CONFLICT_NAME = /^(.+)\.rbm-conflict-\d{8}-\d{6}-(local|remote)(\.[^.]+)?$/;

/** Writes `content` at `dir/rel` with the modtime `secs` (seconds since the epoch): modtime decides `newer`. */
function putAt(dir: string, rel: string, content: string | Buffer, secs: number): void {
  writeFiles(dir, { [rel]: content });
  utimesSync(join(dir, rel), secs, secs);
}

export async function resyncGuardCases(t: TestContext, rclone: string, kind: PairKind): Promise<void> {
  const version = rcloneVersion(rclone);
  const modern = version.major > 1 || version.minor >= 66;
  const dir = tempDir(t, `rbm-guard-${kind}-`);
  let remoteRoot: string;
  let path2: string;
  let env: Record<string, string | undefined> | undefined;
  let server: Awaited<ReturnType<typeof startSftpServer>> | undefined;
  if (kind === 'sftp') {
    server = await startSftpServer(t, rclone, dir);
    remoteRoot = join(server.root, 'pair');
    path2 = `${server.name}:pair`;
    env = server.env;
  } else {
    remoteRoot = join(dir, 'remote');
    path2 = remoteRoot;
  }
  const filters = join(dir, 'filters.txt');
  writeFileSync(filters, '- *.tmp\n');
  const e = createEngineEnv({ rclone, dir, path2, ...(env ? { env } : {}), job: { filtersFile: filters } });
  const { local } = e;
  const expected: Record<string, string> = {};
  const now = Math.floor(Date.now() / 1000);

  /**
   * Both sides changed `rel`: local gets `localText` at `now + localAt`, the remote `remoteText` at `now + remoteAt`.
   * Returns what to expect after a resync whose winner is `winner`.
   */
  const editBoth = (rel: string, localText: string, localAt: number, remoteText: string, remoteAt: number) => {
    putAt(local, rel, localText, now + localAt);
    putAt(remoteRoot, rel, remoteText, now + remoteAt);
    return { rel, local: localText, remote: remoteText };
  };

  /** The record kept the loser of `edit` as a conflict copy on both sides; adds both versions to `expected`. */
  const expectKept = (record: RunRecord, edit: { rel: string; local: string; remote: string }, winner: 'local' | 'remote'): string => {
    const conflict = record.conflicts.find((c) => c.path === edit.rel);
    assert.ok(conflict, `${edit.rel} is listed among the conflicts: ${JSON.stringify(record.conflicts)} — ${record.message}`);
    const copyName = conflict.copies[0]?.split('/').pop() ?? '';
    const m = CONFLICT_NAME.exec(copyName);
    assert.ok(m, `conflict name ${copyName}`);
    const loser = winner === 'local' ? 'remote' : 'local';
    assert.equal(m[2], loser, `the ${loser} version lost and is kept`);
    const rel = edit.rel.includes('/') ? `${edit.rel.slice(0, edit.rel.lastIndexOf('/') + 1)}${copyName}` : copyName;
    assert.deepEqual(conflict.copies, [join(local, rel), kind === 'sftp' ? `${path2}/${rel}` : join(remoteRoot, rel)]);
    expected[edit.rel] = hashOf(edit[winner]);
    expected[rel] = hashOf(edit[loser]);
    return rel;
  };

  const assertTrees = (what: string): void => {
    assert.deepEqual(treeHashes(local), expected, `${what}: local side`);
    assert.deepEqual(treeHashes(remoteRoot), expected, `${what}: remote side`);
  };

  const automaticWinner = (localAt: number, remoteAt: number): 'local' | 'remote' => (modern && remoteAt > localAt ? 'remote' : 'local');

  await t.test('a new share whose sides already hold different versions: the first resync keeps both', async () => {
    mkdirSync(remoteRoot, { recursive: true });
    for (const f of ['one.txt', 'two.txt', 'sub/three.txt']) {
      putAt(local, f, `${f} local only\n`, now - 5000);
      expected[f] = hashOf(`${f} local only\n`);
    }
    putAt(remoteRoot, 'remote-only.txt', 'from the remote\n', now - 5000);
    expected['remote-only.txt'] = hashOf('from the remote\n');
    const edit = editBoth('shared.txt', 'shared: the local version\n', -200, 'shared: the remote version, newer\n', -100);
    const record = await e.run({ trigger: 'add-job' });
    assert.equal(record.operation, 'resync');
    assert.equal(record.outcome, 'conflicts', `${record.message}\n${record.tail.join('\n')}`);
    assert.match(record.message, /1 file differed on both sides, both versions kept/);
    expectKept(record, edit, automaticWinner(-200, -100));
    assertTrees('first resync');
  });

  await t.test('(a) a changed filters file resyncs automatically and keeps both versions of a both-sides edit', async () => {
    const edit = editBoth('one.txt', 'one: edited locally (older)\n', 100, 'one: edited on the remote (newer), longer\n', 200);
    writeFileSync(filters, '- *.tmp\n- *.log\n');
    const record = await e.run();
    assert.equal(record.operation, 'resync');
    assert.match(record.message, /automatic resync \(the filters file changed/);
    assert.equal(record.outcome, 'conflicts', record.message);
    expectKept(record, edit, automaticWinner(100, 200));
    assertTrees('filters changed');
  });

  await t.test('(c) the user\'s --resync prefers Path1 and still keeps the newer remote edit', async () => {
    const edit = editBoth('two.txt', 'two: local\n', 300, 'two: remote, newer\n', 400);
    const localBefore = treeHashes(local);
    const remoteBefore = treeHashes(remoteRoot);
    const preview = await e.run({ resync: true, dryRun: true });
    assert.equal(preview.outcome, 'dry-run', preview.message);
    assert.match(preview.message, /the resync would keep two\.txt \(remote version kept as two\.rbm-conflict-\d{8}-\d{6}-remote\.txt\)/);
    assert.deepEqual([treeHashes(local), treeHashes(remoteRoot)], [localBefore, remoteBefore], 'a dry run copies nothing');
    const record = await e.run({ resync: true });
    assert.equal(record.operation, 'resync');
    assert.equal(record.outcome, 'conflicts', record.message);
    expectKept(record, edit, 'local');
    assertTrees('--resync');
  });

  await t.test('(d) a lockout healed by auto_resync: a newer remote edit is never dropped (1.60: Path1 always wins)', async () => {
    const edit = { rel: 'sub/three.txt', local: 'sub/three.txt local only\n', remote: 'three: edited on the remote only, newer\n' };
    putAt(remoteRoot, edit.rel, edit.remote, now + 500);
    // A lockout: rclone has no listings left (not even the backups --recover would use).
    const workdir = jobPaths(join(dir, 'state'), 'pair').workdir;
    for (const name of readdirSync(workdir)) if (name.includes('.lst')) rmSync(join(workdir, name));
    const record = await e.run({}, { autoResync: true });
    assert.equal(record.operation, 'resync', record.message);
    assert.match(record.message, /automatic resync/);
    assert.equal(record.outcome, 'conflicts', record.message);
    expectKept(record, edit, automaticWinner(-5000, 500));
    assertTrees('auto_resync');
  });

  await t.test('the hint after a full disk, followed as written: a 0-byte leftover never replaces a good file', async () => {
    const good = 'a good remote file\n'.repeat(50);
    putAt(local, 'big.bin', good, now + 600);
    expected['big.bin'] = hashOf(good);
    assert.equal((await e.run()).outcome, 'success');
    assertTrees('the good file reached the remote');
    // What a full local disk leaves behind on 1.60: the local file cut to 0 bytes, newer than the good copy.
    putAt(local, 'big.bin', '', now + 700);
    const record = await e.run({ resync: true });
    assert.equal(record.outcome, 'conflicts', record.message);
    expectKept(record, { rel: 'big.bin', local: '', remote: good }, 'remote');
    assertTrees('resync after a full disk');
  });

  if (server) {
    const sftp = server;
    await t.test('the remote is down when the guard compares: no resync starts, nothing changes, and it completes later', async () => {
      const edit = editBoth('one.txt', 'one: third local edit\n', 800, 'one: third remote edit, newer\n', 900);
      const localBefore = treeHashes(local);
      const remoteBefore = treeHashes(remoteRoot);
      await sftp.stop();
      const record = await e.run({ resync: true });
      assert.equal(record.outcome, 'retryable', record.message);
      assert.match(record.message, /the resync was not started/);
      assert.equal(e.spawned.at(-1)?.args[0], 'check', 'rclone bisync never ran');
      assert.deepEqual(treeHashes(local), localBefore);
      assert.deepEqual(treeHashes(remoteRoot), remoteBefore);
      await sftp.start();
      const again = await e.run({ resync: true });
      assert.equal(again.outcome, 'conflicts', again.message);
      expectKept(again, edit, 'local');
      assertTrees('after the remote came back');
    });
  }

  await t.test('(b) the config points the job at another pair whose sides differ: seeded and guarded like a new share', async () => {
    const newLocal = join(dir, 'moved-local');
    const newRemoteRoot = kind === 'sftp' ? join(server?.root ?? '', 'moved') : join(dir, 'moved-remote');
    const newPath2 = kind === 'sftp' ? `${server?.name ?? ''}:moved` : newRemoteRoot;
    for (const key of Object.keys(expected)) delete expected[key];
    putAt(newLocal, 'notes.txt', 'notes: local version\n', now + 100);
    putAt(newRemoteRoot, 'notes.txt', 'notes: remote version, newer\n', now + 200);
    putAt(newLocal, 'local.txt', 'only local\n', now);
    putAt(newRemoteRoot, 'deep/remote.txt', 'only remote\n', now);
    expected['local.txt'] = hashOf('only local\n');
    expected['deep/remote.txt'] = hashOf('only remote\n');
    const moved = { local: newLocal, path2: newPath2 };
    const record = await e.run({}, moved);
    assert.equal(record.operation, 'resync');
    assert.match(record.message, /automatic resync \(the local or remote path changed/);
    assert.equal(record.outcome, 'conflicts', record.message);
    const conflict = record.conflicts.find((c) => c.path === 'notes.txt');
    const copyName = conflict?.copies[0]?.split('/').pop() ?? '';
    const winner = automaticWinner(100, 200);
    assert.match(copyName, winner === 'remote' ? /-local\.txt$/ : /-remote\.txt$/);
    expected['notes.txt'] = hashOf(winner === 'remote' ? 'notes: remote version, newer\n' : 'notes: local version\n');
    expected[copyName] = hashOf(winner === 'remote' ? 'notes: local version\n' : 'notes: remote version, newer\n');
    assert.deepEqual(treeHashes(newLocal), expected, 'new local side');
    assert.deepEqual(treeHashes(newRemoteRoot), expected, 'new remote side');
    const next = await e.run({}, moved);
    assert.equal(next.outcome, 'no-changes', `the pair is in sync afterwards: ${next.message}`);
  });
}

/**
 * The hint case as written: the local side (a 2 MiB tmpfs) fills up while remote files come in; once there is
 * room, the user does what the record says (`--resync` after a lockout, else the next run). No leftover of the full
 * disk may replace a good remote file: every file ends whole on both sides, and any leftover is only a kept copy.
 */
export async function fullDiskHintCase(t: TestContext, rclone: string, disk: { path: string; remount(options: string): void }): Promise<void> {
  const dir = tempDir(t, 'rbm-guard-disk-');
  const remote = join(dir, 'remote');
  const e = createEngineEnv({ rclone, dir, path2: remote, job: { local: disk.path } });
  const expected: Record<string, string> = {};
  writeFiles(remote, { 'small.txt': 'small\n' });
  expected['small.txt'] = hashOf('small\n');
  const first = await e.run({ trigger: 'add-job' });
  assert.equal(first.outcome, 'success', first.message);

  for (const f of ['f1.bin', 'f2.bin', 'f3.bin']) {
    const content = randomBytes(1024 * 1024);
    writeFiles(remote, { [f]: content });
    expected[f] = hashOf(content);
  }
  const full = await e.run();
  assert.match(full.outcome, /^(retryable|failed|needs-resync)$/, `${full.outcome}: ${full.message}`);
  assert.deepEqual(treeHashes(remote), expected, 'the remote keeps every good file');

  disk.remount('size=16m');
  const next = await e.run(full.outcome === 'needs-resync' ? { resync: true } : {});
  assert.match(next.outcome, /^(success|conflicts)$/, `${next.outcome}: ${next.message}`);
  for (const conflict of next.conflicts) {
    const copy = conflict.copies[0]?.split('/').pop() ?? '';
    assert.match(copy, /\.rbm-conflict-\d{8}-\d{6}-local\.bin$/, `only a local leftover lost: ${copy}`);
    expected[copy] = hashOf(''); // the 0-byte leftover, kept as a copy; the good file keeps the name
  }
  assert.deepEqual(treeHashes(disk.path), expected, 'local side after following the hint');
  assert.deepEqual(treeHashes(remote), expected, 'remote side after following the hint');
}
