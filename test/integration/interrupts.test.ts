// Issue 13 (cases 1, 2 and 3) on the rclone RBM_TEST_RCLONE names (1.75 here; test/compat/interrupts.test.ts runs
// the same file on Debian's 1.60), local↔local and local↔sftp on 127.0.0.1. See test/helpers/interrupt-scenarios.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobPaths } from '../../src/state/paths.js';
import { hashOf } from '../helpers/engine-env.js';
import {
  assertConverges,
  assertNoLeftovers,
  detail,
  lastBisyncPid,
  makePair,
  midTransfer,
  mountTmpfs,
  preparePendingUpload,
  put,
  resizeTmpfs,
  umountTmpfs,
  type RemoteKind,
} from '../helpers/interrupt-scenarios.js';
import { treeHashes } from '../helpers/engine-env.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

const KINDS: RemoteKind[] = ['local', 'sftp'];
const SMALL_FILES: Record<RemoteKind, number> = { local: 300, sftp: 60 };

for (const kind of KINDS) {
  test(`local↔${kind}: kill -9 of rclone mid-upload leaves no truncated file, and the next run converges without conflicts`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (!rclone) return;
    const pair = await makePair(t, rclone, kind, { rcloneOptions: { bwlimit: '2M' } });
    await preparePendingUpload(pair, SMALL_FILES[kind]);
    let killed = false;
    const record = await pair.env.run({}, {}, {
      onProgress: (p) => {
        if (killed || !midTransfer(p)) return;
        killed = true;
        process.kill(lastBisyncPid(pair.env), 'SIGKILL');
      },
    });
    assert.ok(killed, 'rclone was killed while bytes were moving');
    assert.equal(record.outcome, 'retryable', detail(record));
    assert.equal(record.signal, 'SIGKILL');
    assert.notDeepEqual(treeHashes(pair.remoteDir), pair.expected, 'the transfer was really cut short');
    assertNoLeftovers(pair, pair.remoteDir, 'remote right after the kill');
    assert.equal(existsSync(join(jobPaths(join(pair.env.dir, 'state'), 'pair').dir, 'transfers.json')), false, 'the journal is settled once the run is recorded');
    await assertConverges(pair);
  });

  test(`local↔${kind}: cancel mid-upload (AbortSignal) leaves nothing half-done; a stop rclone finished is recorded as what it did`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (!rclone) return;
    const pair = await makePair(t, rclone, kind, { rcloneOptions: { bwlimit: '2M' } });
    await preparePendingUpload(pair, SMALL_FILES[kind]);
    const stop = new AbortController();
    const record = await pair.env.run({}, {}, {
      signal: stop.signal,
      onProgress: (p) => {
        if (midTransfer(p)) stop.abort();
      },
    });
    assert.ok(stop.signal.aborted);
    // 1.75 gets one SIGTERM: it finishes the transfers in flight, skips the rest and usually prints `Bisync successful`
    // (recorded as what it did, not `cancelled`); sometimes its cleanup races the wrap-up and the run ends critical
    // (reference §3): then it is `cancelled`. 1.60 gets SIGKILL at once (a signal would force a resync): `cancelled`.
    const rcloneFinished = record.tail.some((line) => /Bisync successful/.test(line));
    if (rcloneFinished) {
      assert.ok(pair.modern, '1.60 is killed, it never finishes');
      assert.equal(record.outcome, 'success', detail(record));
      assert.match(record.message, /a stop was requested: rclone wrapped up cleanly/);
    } else {
      assert.equal(record.outcome, 'cancelled', detail(record));
      assert.equal(pair.env.runner.readState('pair').needsResync, false, 'a stop is not a lockout');
    }
    if (!pair.modern) assert.notDeepEqual(treeHashes(pair.remoteDir), pair.expected, 'the transfer was really cut short');
    assertNoLeftovers(pair, pair.remoteDir, 'remote right after the cancel');
    const history = pair.env.runner.history('pair', 1)[0];
    assert.equal(history?.outcome, record.outcome, 'history has the run as it happened');
    await assertConverges(pair);
  });

  test(`local↔${kind}: a full LOCAL disk says "no space left on LOCAL", leaves no stubs, leaks nothing, and converges once space is freed`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (!rclone) return;
    let mounted = '';
    const pair = await makePair(t, rclone, kind, {
      mountLocal: (dir) => {
        if (mountTmpfs(t, dir, '3m')) mounted = dir;
      },
    });
    if (mounted === '') return;
    try {
      put(pair, pair.local, 'a.txt', 'a\n', -100);
      const first = await pair.env.run();
      assert.equal(first.outcome, 'success', detail(first));
      for (let i = 1; i <= 6; i++) put(pair, pair.remoteDir, `big${i}.bin`, Buffer.alloc(1024 * 1024, i), 10);
      pair.previous = {};
      const remoteBefore = treeHashes(pair.remoteDir);
      const full = await pair.env.run();
      assert.equal(full.outcome, 'failed', detail(full));
      assert.match(full.message, new RegExp(`^no space left on LOCAL \\(${pair.local.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
      assert.match(full.hint, /Free space on LOCAL/);
      const state = pair.env.runner.readState('pair');
      assert.match(state.lastMessage, /no space left on LOCAL/, 'status says so');
      assert.equal(state.needsResync, false, 'a full disk is not a lockout');
      assertNoLeftovers(pair, pair.local, 'LOCAL after the full disk');
      for (const [rel, hash] of Object.entries(treeHashes(pair.local))) assert.equal(hash, pair.expected[rel], `${rel} on LOCAL is complete`);
      assert.deepEqual(treeHashes(pair.remoteDir), remoteBefore, 'nothing of the failed run reached the remote');
      resizeTmpfs(mounted, '64m');
      await assertConverges(pair);
    } finally {
      umountTmpfs(mounted);
    }
  });
}

test('local↔sftp: the remote lost mid-upload: nothing syncs until what was left can be checked, then it converges', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const pair = await makePair(t, rclone, 'sftp', { rcloneOptions: { bwlimit: '2M' } });
  const server = pair.server!;
  // Few small files: with the server gone, rclone retries each one (minutes for 60 on 1.75).
  await preparePendingUpload(pair, 10);
  let stopping: Promise<void> | undefined;
  const lost = await pair.env.run({}, {}, {
    onProgress: (p) => {
      if (stopping === undefined && midTransfer(p)) stopping = server.stop();
    },
  });
  await stopping;
  assert.ok(stopping !== undefined, 'the server was stopped while bytes were moving');
  assert.equal(lost.outcome, 'retryable', detail(lost));
  const localBefore = treeHashes(pair.local);
  const down = await pair.env.run({ trigger: 'retry' });
  assert.equal(down.outcome, 'retryable', detail(down));
  assert.match(down.message, /^could not check what the interrupted run left behind, so nothing was synced/);
  assert.deepEqual(treeHashes(pair.local), localBefore, 'nothing synced');
  await server.start();
  const back = await assertConverges(pair);
  assert.match(back.message, /repaired an interrupted run/);
});

test('a journal left by a killed service becomes an interrupted record before the next run', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const pair = await makePair(t, rclone, 'local');
  put(pair, pair.local, 'a.txt', 'a\n', -100);
  const first = await pair.env.run();
  assert.equal(first.outcome, 'success', detail(first));
  const journal = join(jobPaths(join(pair.env.dir, 'state'), 'pair').dir, 'transfers.json');
  // What a service killed with -9 during run 77 leaves: the journal (no history record for run 77).
  const { writeJournal } = await import('../../src/run/transfer-journal.js');
  writeJournal(journal, { version: 1, runId: 77, operation: 'bisync', trigger: 'schedule', startedMs: Date.now() - 1000, rcloneVersion: 'x', batches: [{ to: 'Path2', paths: ['a.txt'], overflow: false }] });
  pair.env.runner.recordInterrupted('pair');
  pair.env.runner.recordInterrupted('pair');
  const records = pair.env.runner.history('pair', 10).filter((r) => r.runId === 77);
  assert.equal(records.length, 1, 'recorded once');
  assert.equal(records[0]?.outcome, 'cancelled');
  assert.match(records[0]?.message ?? '', /^interrupted: the service stopped while this run was in progress/);
  assert.equal(pair.env.runner.readState('pair').lastRunId, 77);
  const next = await pair.env.run();
  assert.ok(next.outcome === 'no-changes' || next.outcome === 'success', detail(next));
  assert.equal(existsSync(journal), false);
  assert.equal(hashOf(readFileSync(join(pair.remoteDir, 'a.txt'))), pair.expected['a.txt']);
});
