// Issue 12 (cases 1 and 2) as written, on a real rclone and a real pair (local↔local or local↔sftp on 127.0.0.1):
// 20 files, max_delete 25. Shared by the 1.75 integration file and the 1.60 compat file.
import assert from 'node:assert/strict';
import { existsSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pendingDeletesPath } from '../../src/state/pending-deletes.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles, type EngineEnv } from './engine-env.js';
import { startSftpServer } from './sftp-server.js';

export type PairKind = 'local' | 'sftp';

/** Fixed mtimes, so a restored file is the same file to rclone (not a newer one). */
const MTIME = 1_700_000_000;
const NAMES = Array.from({ length: 20 }, (_, i) => `f${String(i + 1).padStart(2, '0')}.txt`);

interface Pair {
  env: EngineEnv;
  local: string;
  /** The other side's directory on disk (the served directory for sftp). */
  remoteDir: string;
  /** How rclone names a path on the other side (the form pending deletes use). */
  remotePath: (name: string) => string;
  /** The content of every file, by name. */
  content: Record<string, string>;
}

async function createPair(t: TestContext, rclone: string, kind: PairKind): Promise<Pair> {
  const dir = tempDir(t, `rbm-approval-${kind}-`);
  const job = { rcloneOptions: { 'max-delete': 25 } };
  let env: EngineEnv;
  let remoteDir: string;
  let remotePath: (name: string) => string;
  if (kind === 'sftp') {
    const server = await startSftpServer(t, rclone, dir);
    remoteDir = join(server.root, 'share');
    env = createEngineEnv({ rclone, dir, path2: `${server.name}:share`, env: server.env, job: { rcloneOptions: { ...job.rcloneOptions, low_level_retries: 1, contimeout: '5s' } } });
    remotePath = (name) => `${server.name}:share/${name}`;
  } else {
    remoteDir = join(dir, 'remote');
    env = createEngineEnv({ rclone, dir, path2: remoteDir, job });
    remotePath = (name) => join(remoteDir, name);
  }
  const content: Record<string, string> = {};
  for (const name of NAMES) {
    content[name] = `content of ${name}\n`;
    writeFiles(env.local, { [name]: content[name] });
    utimesSync(join(env.local, name), MTIME, MTIME);
  }
  const first = await env.run({ trigger: 'add-job' });
  assert.equal(first.outcome, 'success', `${first.message}\n${first.tail.join('\n')}`);
  return { env, local: env.local, remoteDir, remotePath, content };
}

function hashesOf(pair: Pair, names: readonly string[]): Record<string, string> {
  return Object.fromEntries([...names].sort().map((n) => [n, hashOf(pair.content[n]!)]));
}

function assertTrees(pair: Pair, local: readonly string[], remote: readonly string[], what: string): void {
  assert.deepEqual(treeHashes(pair.local), hashesOf(pair, local), `local side: ${what}`);
  assert.deepEqual(treeHashes(pair.remoteDir), hashesOf(pair, remote), `other side: ${what}`);
}

function deleteLocally(pair: Pair, names: readonly string[]): void {
  for (const name of names) unlinkSync(join(pair.local, name));
}

function restoreLocally(pair: Pair, names: readonly string[]): void {
  for (const name of names) {
    writeFiles(pair.local, { [name]: pair.content[name]! });
    utimesSync(join(pair.local, name), MTIME, MTIME);
  }
}

/**
 * Case 1: delete 12 → parked with 12; delete 7 more; approve the 12 (old token) → parks again with 19, nothing deleted
 * on the other side; approve the 19 (new token) → 19 deleted, the 20th file intact on both sides.
 */
export async function approvalBoundToWhatWasShown(t: TestContext, rclone: string, kind: PairKind): Promise<void> {
  const pair = await createPair(t, rclone, kind);
  const { env } = pair;
  const twelve = NAMES.slice(0, 12);
  const seven = NAMES.slice(12, 19);
  const last = NAMES.slice(19);

  deleteLocally(pair, twelve);
  const parked = await env.run({ trigger: 'schedule' });
  assert.equal(parked.outcome, 'needs-approval', parked.message);
  const shown = env.runner.pendingApproval('pair');
  assert.deepEqual(shown.deletes, twelve.map(pair.remotePath).sort());
  assert.equal(env.runner.readState('pair').approvalToken, shown.token);
  assertTrees(pair, [...seven, ...last], NAMES, 'parked: nothing deleted');

  deleteLocally(pair, seven);
  const again = await env.run({ trigger: 'manual', approvalToken: shown.token });
  assert.equal(again.outcome, 'needs-approval', again.message);
  assert.match(again.message, /the deletes changed since the approval: 7 new deletes not in the 12 approved paths/);
  assert.ok(again.message.includes(pair.remotePath('f13.txt')), again.message);
  assert.ok(!env.spawned.slice(-3).some((s) => s.args.includes('--force') && !s.args.includes('--dry-run')), 'no forced run');
  const newer = env.runner.pendingApproval('pair');
  assert.deepEqual(newer.deletes, [...twelve, ...seven].map(pair.remotePath).sort());
  assert.notEqual(newer.token, shown.token);
  assert.equal(env.runner.readState('pair').pendingDeleteCount, 19);
  assertTrees(pair, last, NAMES, 'approving the 12 with 19 pending deletes nothing on the other side');

  const stale = await env.run({ trigger: 'manual', approvalToken: shown.token });
  assert.equal(stale.outcome, 'needs-approval', 'the old token stays useless');
  assertTrees(pair, last, NAMES, 'the old token deletes nothing');

  const approved = await env.run({ trigger: 'manual', approvalToken: newer.token });
  assert.equal(approved.outcome, 'success', `${approved.message}\n${approved.tail.join('\n')}`);
  assert.match(approved.message, /approved \(19 deletes\)/);
  assertTrees(pair, last, last, 'the 19 approved deletes happened; the file nobody approved is intact');
  const state = env.runner.readState('pair');
  assert.deepEqual([state.needsApproval, state.approvalToken, state.pendingDeleteCount], [false, '', 0]);
  assert.equal(existsSync(pendingDeletesPath(join(env.dir, 'state'), 'pair')), false, 'the list is gone with the approval');
}

/**
 * Approved, then some files come back before the run: the run deletes only the approved files that are still
 * gone; the restored ones, and the files never listed, stay on both sides.
 */
export async function approvedRunDeletesOnlyWhatIsStillGone(t: TestContext, rclone: string, kind: PairKind): Promise<void> {
  const pair = await createPair(t, rclone, kind);
  const { env } = pair;
  const twelve = NAMES.slice(0, 12);
  deleteLocally(pair, twelve);
  assert.equal((await env.run({ trigger: 'schedule' })).outcome, 'needs-approval');
  const shown = env.runner.pendingApproval('pair');
  const back = twelve.slice(0, 4);
  restoreLocally(pair, back); // 8 deletes of 20 still trip max_delete 25
  const approved = await env.run({ trigger: 'manual', approvalToken: shown.token });
  assert.equal(approved.outcome, 'success', `${approved.message}\n${approved.tail.join('\n')}`);
  const kept = NAMES.filter((n) => !twelve.includes(n) || back.includes(n));
  assertTrees(pair, kept, kept, 'only the 8 approved files still deleted locally are deleted');
}

/**
 * Case 2: parked; the files are restored → the next scheduled trigger syncs normally and the job is healthy. Parked
 * again; one more file deleted → the next trigger updates the list and its token.
 */
export async function parkedJobHeals(t: TestContext, rclone: string, kind: PairKind): Promise<void> {
  const pair = await createPair(t, rclone, kind);
  const { env } = pair;
  const twelve = NAMES.slice(0, 12);
  deleteLocally(pair, twelve);
  assert.equal((await env.run({ trigger: 'schedule' })).outcome, 'needs-approval');
  const first = env.runner.pendingApproval('pair');

  deleteLocally(pair, ['f13.txt']);
  const updated = await env.run({ trigger: 'schedule' });
  assert.equal(updated.outcome, 'needs-approval', updated.message);
  const second = env.runner.pendingApproval('pair');
  assert.deepEqual(second.deletes, [...twelve, 'f13.txt'].map(pair.remotePath).sort(), 'the list follows the files');
  assert.notEqual(second.token, first.token);
  assertTrees(pair, NAMES.slice(13), NAMES, 'a check deletes nothing');

  restoreLocally(pair, [...twelve, 'f13.txt']);
  const healed = await env.run({ trigger: 'schedule' });
  assert.ok(['success', 'no-changes'].includes(healed.outcome), `${healed.outcome}: ${healed.message}\n${healed.tail.join('\n')}`);
  const state = env.runner.readState('pair');
  assert.deepEqual([state.needsApproval, state.approvalToken, state.pendingDeletes, state.lastOutcome], [false, '', [], healed.outcome]);
  assert.deepEqual(env.runner.pendingApproval('pair'), { token: '', deletes: [] });
  assertTrees(pair, NAMES, NAMES, 'healed: every file on both sides');

  // Healthy again: an ordinary change syncs on the next trigger.
  writeFiles(pair.local, { 'f01.txt': 'edited after healing\n' });
  pair.content['f01.txt'] = 'edited after healing\n';
  assert.equal((await env.run({ trigger: 'schedule' })).outcome, 'success');
  assertTrees(pair, NAMES, NAMES, 'syncing normally');
}

/**
 * Parked, then most files restored: the deletes left are within max_delete, so the next trigger is an ordinary bisync
 * (the rule allows it) that deletes just those on the other side; every restored and untouched file stays on both.
 */
export async function partlyRestoredJobSyncsWithinLimits(t: TestContext, rclone: string, kind: PairKind): Promise<void> {
  const pair = await createPair(t, rclone, kind);
  const { env } = pair;
  const twelve = NAMES.slice(0, 12);
  deleteLocally(pair, twelve);
  assert.equal((await env.run({ trigger: 'schedule' })).outcome, 'needs-approval');
  restoreLocally(pair, twelve.slice(2)); // 2 deletes of 20: 10 %, under max_delete 25
  const record = await env.run({ trigger: 'schedule' });
  assert.equal(record.outcome, 'success', `${record.message}\n${record.tail.join('\n')}`);
  assert.ok(!env.spawned.slice(-1).some((s) => s.args.includes('--force')), 'an ordinary run, not a forced one');
  const kept = NAMES.slice(2);
  assertTrees(pair, kept, kept, 'only the 2 files still deleted locally are deleted; the rest stay on both sides');
  assert.equal(env.runner.readState('pair').needsApproval, false);
}
