// The engine end to end with a real rclone (RBM_TEST_RCLONE, ≥ 1.66) on a local↔local pair:
// new share → resync → edits propagate → conflict → safety abort + approval → SIGKILL mid-transfer → recovery
// → changed filters → automatic resync → dry run changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { jobPaths } from '../../src/state/paths.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

test('local↔local: the whole life of a pair, with nothing lost', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const dir = tempDir(t);
  const remote = join(dir, 'remote dir with spaces');
  const filters = join(dir, 'filters.txt');
  writeFileSync(filters, '- *.tmp\n');
  const env = createEngineEnv({ rclone, dir, path2: remote, job: { filtersFile: filters, conflictResolve: 'newer', conflictLoser: 'num' } });
  const { local } = env;
  const expected: Record<string, string> = {};
  const put = (side: string, rel: string, content: string | Buffer): void => {
    writeFiles(side, { [rel]: content });
    expected[rel] = hashOf(content);
  };

  await t.test('a new share: first run seeds and resyncs', async () => {
    for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'sub/f.txt']) put(local, f, `content of ${f}\n`);
    writeFiles(local, { 'junk.tmp': 'filtered out' });
    const record = await env.run({ trigger: 'add-job' });
    assert.equal(record.operation, 'resync', record.message);
    assert.equal(record.outcome, 'success', record.message);
    assert.deepEqual(treeHashes(remote), expected);
    assert.equal(existsSync(join(remote, 'junk.tmp')), false, 'the filters file applies');
    rmSync(join(local, 'junk.tmp'));
    const state = env.runner.readState('pair');
    assert.equal(state.resyncDone, true);
  });

  await t.test('edits on both sides propagate', async () => {
    put(local, 'a.txt', 'a edited locally\n');
    put(remote, 'g.txt', 'new on the remote\n');
    unlinkSync(join(local, 'e.txt'));
    delete expected['e.txt'];
    const record = await env.run();
    assert.equal(record.outcome, 'success', record.message);
    assert.equal(record.counts.deletes, 1);
    assert.deepEqual(treeHashes(local), expected);
    assert.deepEqual(treeHashes(remote), expected);
  });

  await t.test('a conflict is resolved per policy (newer wins) and reported with its copy', async () => {
    const now = Date.now() / 1000;
    writeFiles(local, { 'b.txt': 'b from local (older)\n' });
    utimesSync(join(local, 'b.txt'), now + 100, now + 100);
    writeFiles(remote, { 'b.txt': 'b from remote (newer)\n' });
    utimesSync(join(remote, 'b.txt'), now + 200, now + 200);
    const record = await env.run();
    assert.equal(record.outcome, 'conflicts', record.message);
    assert.equal(record.conflicts.length, 1);
    assert.equal(record.conflicts[0]?.path, 'b.txt');
    assert.deepEqual(record.conflicts[0]?.copies, [join(local, 'b.txt.conflict1')]);
    expected['b.txt'] = hashOf('b from remote (newer)\n');
    expected['b.txt.conflict1'] = hashOf('b from local (older)\n');
    assert.deepEqual(treeHashes(local), expected);
    assert.deepEqual(treeHashes(remote), expected);
  });

  await t.test('deleting most files ends in needs-approval with nothing deleted; --force-bisync then proceeds', async () => {
    const before = treeHashes(remote);
    const doomed = ['a.txt', 'b.txt.conflict1', 'c.txt', 'd.txt', 'g.txt']; // 5 of 6 files
    for (const f of doomed) unlinkSync(join(local, f));
    const record = await env.run();
    assert.equal(record.outcome, 'needs-approval', record.message);
    assert.deepEqual(treeHashes(remote), before, 'nothing was deleted on the other side');
    const state = env.runner.readState('pair');
    assert.equal(state.needsApproval, true);
    assert.deepEqual([...state.pendingDeletes].sort(), doomed.map((f) => join(remote, f)).sort());
    const refused = await env.run({ trigger: 'schedule' });
    assert.equal(refused.outcome, 'needs-approval');
    assert.deepEqual(treeHashes(remote), before);
    const approved = await env.run({ force: true });
    assert.equal(approved.outcome, 'success', approved.message);
    for (const f of doomed) delete expected[f];
    assert.deepEqual(treeHashes(remote), expected);
    assert.equal(env.runner.readState('pair').needsApproval, false);
  });

  await t.test('rclone killed with SIGKILL mid-transfer: the next run recovers, nothing lost or corrupted', async () => {
    put(local, 'big.bin', randomBytes(3 * 1024 * 1024));
    put(remote, 'during.txt', 'written on the remote meanwhile\n');
    let killed = false;
    const record = await env.run({}, { rcloneOptions: { bwlimit: '1M' } }, {
      onProgress: (p) => {
        if (killed || p.bytes === 0) return;
        killed = true;
        const bisync = env.spawned.filter((s) => s.args[0] === 'bisync').at(-1);
        bisync?.child.kill('SIGKILL');
      },
    });
    assert.equal(killed, true, `rclone was killed while copying: ${JSON.stringify(record, null, 1)}`);
    assert.equal(record.signal, 'SIGKILL');
    assert.equal(record.outcome, 'retryable', record.message);
    assert.equal(env.runner.readState('pair').consecutiveFailures, 1);
    const recovered = await env.run({ trigger: 'retry' });
    assert.ok(['success', 'no-changes'].includes(recovered.outcome), `${recovered.outcome}: ${recovered.message}`);
    assert.ok(env.logger.messages('warn').includes('removed a stale rclone lock file'), 'the lock of the killed rclone was cleared');
    assert.deepEqual(treeHashes(local), expected, 'every file intact on the local side, no temp file left');
    assert.deepEqual(treeHashes(remote), expected, 'and on the other side');
    assert.equal(env.runner.readState('pair').consecutiveFailures, 0);
  });

  await t.test('a changed filters file triggers an automatic resync, and says why', async () => {
    writeFileSync(filters, '- *.tmp\n- *.log\n');
    put(local, 'h.txt', 'after the filter change\n');
    writeFiles(local, { 'x.log': 'now excluded' });
    const record = await env.run();
    assert.equal(record.operation, 'resync');
    assert.equal(record.outcome, 'success', record.message);
    assert.match(record.message, /automatic resync \(the filters file changed/);
    assert.equal(existsSync(join(remote, 'x.log')), false);
    rmSync(join(local, 'x.log'));
    assert.deepEqual(treeHashes(remote), expected);
    assert.deepEqual(treeHashes(local), expected);
  });


  await t.test('a dry run changes no file and no state', async () => {
    writeFiles(local, { 'dry.txt': 'only local\n' });
    const remoteBefore = treeHashes(remote);
    const statePath = jobPaths(join(dir, 'state'), 'pair').state;
    const stateBefore = readFileSync(statePath, 'utf8');
    const record = await env.run({ dryRun: true });
    assert.equal(record.outcome, 'dry-run', record.message);
    assert.equal(record.dryRun, true);
    assert.deepEqual(treeHashes(remote), remoteBefore);
    assert.equal(readFileSync(statePath, 'utf8'), stateBefore);
    assert.equal(env.runner.history('pair', 1)[0]?.dryRun, true);
    rmSync(join(local, 'dry.txt'));
  });
});
