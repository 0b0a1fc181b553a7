// The repair after an interrupted run never deletes a file it cannot prove is rclone's cut copy (real rclone lsjson;
// the remote side is rclone's on-the-fly `:local:` backend, so the repair treats it as a remote it cannot read locally).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repairAfterRun, type RepairInput } from '../../src/run/interrupt-repair.js';
import type { TransferJournal } from '../../src/run/transfer-journal.js';
import { createSpawner } from '../../src/platform/spawner.js';
import { hashOf, tempDir, treeHashes } from '../helpers/engine-env.js';
import { makeJob } from '../helpers/job.js';
import { RecordingLogger } from '../helpers/fake-spawner.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

const RUN_STARTED = Date.UTC(2026, 11, 4, 10, 0, 0);

interface Pair {
  local: string;
  remoteDir: string;
  input: (inPlaceWrites: boolean) => RepairInput;
  repair: (inPlaceWrites: boolean) => ReturnType<typeof repairAfterRun>;
}

/** A download of doc.txt (remote → local) was journaled; local doc.txt is now shorter than the remote's and newer than the run's start. */
function setup(t: TestContext): Pair | undefined {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return undefined;
  const dir = tempDir(t, 'rbm-repair-');
  const local = join(dir, 'local');
  const remoteDir = join(dir, 'remote');
  mkdirSync(local);
  mkdirSync(remoteDir);
  mkdirSync(join(dir, 'workdir'));
  writeFileSync(join(remoteDir, 'doc.txt'), 'the remote version, longer than the local edit\n');
  writeFileSync(join(local, 'doc.txt'), 'a local edit\n');
  const after = new Date(RUN_STARTED + 3_600_000);
  utimesSync(join(local, 'doc.txt'), after, after);
  const job = makeJob({ local, path2: `:local:${remoteDir}` });
  const journal: TransferJournal = { version: 1, runId: 7, operation: 'bisync', trigger: 'schedule', startedMs: RUN_STARTED, rcloneVersion: '', batches: [{ to: 'Path1', paths: ['doc.txt'], overflow: false }] };
  const input = (inPlaceWrites: boolean): RepairInput => ({ job, workdir: join(dir, 'workdir'), journal, restoreErrListings: false, reconcileListings: false, inPlaceWrites, nowMs: RUN_STARTED + 7_200_000, justEnded: false });
  const deps = { spawner: createSpawner(), rclone, env: { ...process.env }, flags: [], spawnOptions: {}, log: new RecordingLogger() };
  return { local, remoteDir, input, repair: (inPlace) => repairAfterRun(input(inPlace), deps) };
}

test('rclone writes *.partial copies (>= 1.63): a shorter file under the real name is the user\'s and stays', async (t) => {
  const p = setup(t);
  if (!p) return;
  const before = { local: treeHashes(p.local), remote: treeHashes(p.remoteDir) };
  const result = await p.repair(false);
  assert.deepEqual(result.removed, []);
  assert.deepEqual(treeHashes(p.local), before.local);
  assert.deepEqual(treeHashes(p.remoteDir), before.remote);
});

test('in-place writes (1.60, --inplace), repaired at a later run: a suspect copy that cannot be proven cut is kept aside, never deleted', async (t) => {
  const p = setup(t);
  if (!p) return;
  const result = await p.repair(true);
  assert.equal(result.removed.length, 1, result.removed.join(', '));
  const names = readdirSync(p.local);
  const aside = names.find((n) => /^doc\.rbm-conflict-\d{8}-\d{6}-local\.txt$/.test(n));
  assert.ok(aside, `kept under a conflict name: ${names.join(', ')}`);
  assert.ok(!names.includes('doc.txt'), 'the real name is free for the good version');
  assert.equal(treeHashes(p.local)[aside], hashOf('a local edit\n'));
  assert.equal(treeHashes(p.remoteDir)['doc.txt'], hashOf('the remote version, longer than the local edit\n'));
});
