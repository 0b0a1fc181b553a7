// Approvals cover overwrites, on a real rclone and a real pair (local↔local or local↔sftp on 127.0.0.1). Shared by
// test/integration/approval-overwrites.test.ts (1.75) and test/compat/approval-overwrites.test.ts (1.60).
// Case 1: 10 files synced, then every local mtime shifted (content changed on 3): "all files were changed".
// Case 2: too many deletes together with edits: the edits are overwrites the approval must cover as well.
import assert from 'node:assert/strict';
import { unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles, type EngineEnv } from './engine-env.js';
import { startSftpServer } from './sftp-server.js';

export type PairKind = 'local' | 'sftp';

/** Fixed mtimes: the first sync, and the shift every local file gets (a day later, like a clock or DST mishap). */
const MTIME = 1_700_000_000;
const SHIFTED = MTIME + 86_400;

interface Pair {
  env: EngineEnv;
  local: string;
  /** The other side's directory on disk (the served directory for sftp). */
  remoteDir: string;
  /** How rclone names a path on the other side (the form pending lists use). */
  remotePath: (name: string) => string;
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `f${String(i + 1).padStart(2, '0')}.txt`);
const original = (name: string): string => `content of ${name}\n`;
const edited = (name: string): string => `edited ${name}, longer than before\n`;

async function createPair(t: TestContext, rclone: string, kind: PairKind, files: readonly string[], maxDelete: number): Promise<Pair> {
  const dir = tempDir(t, `rbm-overwrite-${kind}-`);
  const options = { 'max-delete': maxDelete };
  let env: EngineEnv;
  let remoteDir: string;
  let remotePath: (name: string) => string;
  if (kind === 'sftp') {
    const server = await startSftpServer(t, rclone, dir);
    remoteDir = join(server.root, 'share');
    env = createEngineEnv({ rclone, dir, path2: `${server.name}:share`, env: server.env, job: { rcloneOptions: { ...options, low_level_retries: 1, contimeout: '5s' } } });
    remotePath = (name) => `${server.name}:share/${name}`;
  } else {
    remoteDir = join(dir, 'remote');
    env = createEngineEnv({ rclone, dir, path2: remoteDir, job: { rcloneOptions: options } });
    remotePath = (name) => join(remoteDir, name);
  }
  for (const name of files) {
    writeFiles(env.local, { [name]: original(name) });
    utimesSync(join(env.local, name), MTIME, MTIME);
  }
  const first = await env.run({ trigger: 'add-job' });
  assert.equal(first.outcome, 'success', `${first.message}\n${first.tail.join('\n')}`);
  assert.deepEqual(treeHashes(remoteDir), expected(files, []), 'synced');
  return { env, local: env.local, remoteDir, remotePath };
}

/** name → sha256 of the content each file should have, `editedNames` with their edit. */
function expected(files: readonly string[], editedNames: readonly string[]): Record<string, string> {
  return Object.fromEntries([...files].sort().map((n) => [n, hashOf(editedNames.includes(n) ? edited(n) : original(n))]));
}

function assertTrees(pair: Pair, local: Record<string, string>, remote: Record<string, string>, what: string): void {
  assert.deepEqual(treeHashes(pair.local), local, `local side: ${what}`);
  assert.deepEqual(treeHashes(pair.remoteDir), remote, `other side: ${what}`);
}

function editLocally(pair: Pair, name: string, mtime: number): void {
  writeFiles(pair.local, { [name]: edited(name) });
  utimesSync(join(pair.local, name), mtime, mtime);
}

/** No bisync with --force (other than the --dry-run preview) since `from`. */
function assertNoForcedRun(pair: Pair, from: number): void {
  assert.ok(!pair.env.spawned.slice(from).some((s) => s.args.includes('--force') && !s.args.includes('--dry-run')), 'no forced run');
}

/**
 * "All files were changed": parked with the 10 overwrites (direction Path2) and no delete; one more file changed
 * (deleted locally) after the list was shown → the approval of that list parks again and overwrites nothing; the
 * approval of the new list runs, and both sides hold the expected contents.
 */
export async function allFilesChangedNeedsApprovalOfItsOverwrites(t: TestContext, rclone: string, kind: PairKind): Promise<void> {
  const files = names(10);
  const pair = await createPair(t, rclone, kind, files, 50);
  const { env } = pair;
  const editedNames = ['f02.txt', 'f05.txt', 'f09.txt'];
  for (const name of files) utimesSync(join(pair.local, name), SHIFTED, SHIFTED);
  for (const name of editedNames) editLocally(pair, name, SHIFTED);

  const parked = await env.run({ trigger: 'schedule' });
  assert.equal(parked.outcome, 'needs-approval', `${parked.message}\n${parked.tail.join('\n')}`);
  assert.ok(parked.tail.some((l) => /all files were changed/.test(l)), parked.tail.join('\n'));
  const shown = env.runner.pendingApproval('pair');
  assert.deepEqual(shown.deletes, []);
  assert.deepEqual(shown.overwrites, files.map((n) => ({ to: 'Path2', path: pair.remotePath(n) })).sort((a, b) => (a.path < b.path ? -1 : 1)));
  const state = env.runner.readState('pair');
  assert.deepEqual([state.approvalToken, state.pendingDeleteCount, state.pendingOverwriteCount, state.pendingOverwrites], [shown.token, 0, 10, shown.overwrites]);
  assertTrees(pair, expected(files, editedNames), expected(files, []), 'parked: nothing overwritten');

  unlinkSync(join(pair.local, 'f10.txt')); // one more change after the list was shown
  const before = env.spawned.length;
  const again = await env.run({ trigger: 'manual', approvalToken: shown.token });
  assert.equal(again.outcome, 'needs-approval', again.message);
  assert.match(again.message, /the changes differ from the approval: 1 new delete and 0 new overwrites not in the 10 approved changes/);
  assert.ok(again.message.includes(pair.remotePath('f10.txt')), again.message);
  assertNoForcedRun(pair, before);
  const newer = env.runner.pendingApproval('pair');
  assert.notEqual(newer.token, shown.token);
  assert.deepEqual(newer.deletes, [pair.remotePath('f10.txt')]);
  assert.equal(newer.overwrites?.length, 9);
  const kept = files.filter((n) => n !== 'f10.txt');
  assertTrees(pair, expected(kept, editedNames), expected(files, []), 'an approval of the old list overwrites and deletes nothing');

  const approved = await env.run({ trigger: 'manual', approvalToken: newer.token });
  assert.equal(approved.outcome, 'success', `${approved.message}\n${approved.tail.join('\n')}`);
  assert.match(approved.message, /approved \(1 delete, 9 overwrites\)/);
  assertTrees(pair, expected(kept, editedNames), expected(kept, editedNames), 'the approved changes were made');
  const after = env.runner.readState('pair');
  assert.deepEqual([after.needsApproval, after.approvalToken, after.pendingOverwrites, after.pendingOverwriteCount], [false, '', [], 0]);
}

/**
 * Too many deletes with two edits: the list holds 12 deletes and 2 overwrites; a third edit after the list was
 * shown is an overwrite nobody approved → parks again, nothing deleted or overwritten; approving the new list runs.
 */
export async function deletesWithEditsNeedApprovalOfBoth(t: TestContext, rclone: string, kind: PairKind): Promise<void> {
  const files = names(20);
  const pair = await createPair(t, rclone, kind, files, 25);
  const { env } = pair;
  const doomed = files.slice(0, 12);
  for (const name of doomed) unlinkSync(join(pair.local, name));
  editLocally(pair, 'f13.txt', SHIFTED);
  editLocally(pair, 'f14.txt', SHIFTED);

  const parked = await env.run({ trigger: 'schedule' });
  assert.equal(parked.outcome, 'needs-approval', parked.message);
  const shown = env.runner.pendingApproval('pair');
  assert.deepEqual(shown.deletes, doomed.map(pair.remotePath).sort());
  assert.deepEqual(shown.overwrites, ['f13.txt', 'f14.txt'].map((n) => ({ to: 'Path2', path: pair.remotePath(n) })));
  const rest = files.slice(12);
  assertTrees(pair, expected(rest, ['f13.txt', 'f14.txt']), expected(files, []), 'parked: nothing deleted or overwritten');

  editLocally(pair, 'f15.txt', SHIFTED);
  const before = env.spawned.length;
  const again = await env.run({ trigger: 'manual', approvalToken: shown.token });
  assert.equal(again.outcome, 'needs-approval', again.message);
  assert.ok(again.message.includes(`0 new deletes and 1 new overwrite not in the 14 approved changes (to Path2: ${pair.remotePath('f15.txt')})`), again.message);
  assertNoForcedRun(pair, before);
  const three = ['f13.txt', 'f14.txt', 'f15.txt'];
  assertTrees(pair, expected(rest, three), expected(files, []), 'an unapproved overwrite stops the whole run');

  const newer = env.runner.pendingApproval('pair');
  assert.deepEqual(newer.overwrites, three.map((n) => ({ to: 'Path2', path: pair.remotePath(n) })));
  const approved = await env.run({ trigger: 'manual', approvalToken: newer.token });
  assert.equal(approved.outcome, 'success', `${approved.message}\n${approved.tail.join('\n')}`);
  assert.match(approved.message, /approved \(12 deletes, 3 overwrites\)/);
  assertTrees(pair, expected(rest, three), expected(rest, three), 'the approved deletes and overwrites were made');
}
