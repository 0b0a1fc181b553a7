// Run ids reserved in blocks, and the path from a trigger to rclone's spawn: no fsync on it (a recording Durability
// counts them), the "run in progress" state on disk before the spawn, the durable end-of-run save.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { initialJobState } from '../../src/run/rules/job-state.js';
import { jobPaths, runIdPath } from '../../src/state/paths.js';
import { processStartTime } from '../../src/platform/process-info.js';
import { createRunIdAllocator, RUN_ID_BLOCK } from '../../src/state/run-ids.js';
import { createJobRunner, filtersFileHash, pairKeyOf } from '../../src/run/runner.js';
import { createStateStore, type Durability } from '../../src/state/state-store.js';
import { RbmError } from '../../src/errors.js';
import { CAPS_175 } from '../helpers/caps.js';
import { ManualClock, RecordingLogger, ScriptedSpawner } from '../helpers/fake-spawner.js';
import { makeGlobal, makeJob } from '../helpers/job.js';
import { loadLog } from '../helpers/rclone-logs.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-ids-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A Durability that records instead of syncing: 'fsync' per synchronous fsync, 'flush <file>' per deferred one. */
function recording(events: string[]): Durability {
  return {
    syncFd: () => void events.push('fsync'),
    flush: (path) => {
      events.push(`flush ${basename(path)}`);
      return Promise.resolve();
    },
  };
}

const mark = (stateDir: string): number => Number(readFileSync(runIdPath(stateDir), 'utf8').trim());

test('ids come from a durably reserved block: fsyncs only when a block is reserved, never per id', (t) => {
  const dir = tempDir(t);
  const events: string[] = [];
  const ids = createRunIdAllocator({ stateDir: dir, logger: new RecordingLogger(), now: () => 0, durability: recording(events), block: 5 });
  const got = Array.from({ length: 12 }, () => ids.next());
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // Three blocks (1–5, 6–10, 11–15), each a durable write: file fsync + directory fsync.
  assert.equal(events.filter((e) => e === 'fsync').length, 3 * 2);
  assert.equal(mark(dir), 15);
  assert.equal(RUN_ID_BLOCK >= 50, true, 'the production block makes a reservation rare');
});

test('a restart starts above the stored mark, even when the last block was barely used', (t) => {
  const dir = tempDir(t);
  const make = () => createRunIdAllocator({ stateDir: dir, logger: new RecordingLogger(), now: () => 0, block: 10 });
  const before = make();
  assert.deepEqual([before.next(), before.next()], [1, 2]);
  const after = make();
  assert.equal(after.next(), 11);
  // A run-id file from before blocks existed (it held the last id handed out) reads as a mark: still above it.
  writeFileSync(runIdPath(dir), '41\n');
  assert.equal(make().next(), 42);
});

test('two processes sharing the state dir: no id twice, and each id is above every id allocated before it', (t) => {
  const dir = tempDir(t);
  const a = createRunIdAllocator({ stateDir: dir, logger: new RecordingLogger(), now: () => 0, block: 4 });
  const b = createRunIdAllocator({ stateDir: dir, logger: new RecordingLogger(), now: () => 0, block: 4 });
  const order = 'aabababbbaaaabbab'.split('');
  const got = order.map((who) => (who === 'a' ? a : b).next());
  assert.equal(new Set(got).size, got.length, `unique: ${got.join(',')}`);
  for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, `increasing in allocation order: ${got.join(',')}`);
  assert.ok(mark(dir) >= Math.max(...got));
});

test('with ids in hand, an unwritable state dir is still a StateError before anything is queued', (t) => {
  const dir = tempDir(t);
  const ids = createRunIdAllocator({ stateDir: dir, logger: new RecordingLogger(), now: () => 0, block: 10 });
  assert.equal(ids.next(), 1);
  // A non-empty directory where the per-id file goes: the rename fails whatever our privileges.
  mkdirSync(join(`${runIdPath(dir)}.last`, 'blocker'), { recursive: true });
  assert.throws(() => ids.next(), (e: unknown) => {
    assert.ok(e instanceof RbmError);
    assert.equal(e.code, 'StateError');
    assert.match(e.message, /cannot record the run id/);
    assert.match(e.hint ?? '', /writable/);
    return true;
  });
  rmSync(`${runIdPath(dir)}.last`, { recursive: true });
  assert.equal(ids.next(), 2);
});

test('a reservation waits for a live holder of run-id.lock, then gives up with a StateError; a dead holder is taken over', (t) => {
  const dir = tempDir(t);
  const lockPath = `${runIdPath(dir)}.lock`;
  let now = 0;
  const logger = new RecordingLogger();
  const ids = createRunIdAllocator({ stateDir: dir, logger, now: () => (now += 100), block: 10, lockWaitMs: 1_000 });
  // A live holder that is another process (our parent: the test runner); a lock naming this very process and not held
  // by it would be a leftover of ours and taken over (job-lock.ts).
  writeFileSync(lockPath, JSON.stringify({ pid: process.ppid, start: processStartTime(process.ppid), acquiredMs: 0 }));
  assert.throws(() => ids.next(), (e: unknown) => e instanceof RbmError && e.code === 'StateError' && new RegExp(`held by process ${process.ppid}`).test(e.message));
  writeFileSync(lockPath, JSON.stringify({ pid: 2 ** 22 + 12345, start: '1', acquiredMs: 0 }));
  assert.equal(ids.next(), 1);
  assert.ok(logger.messages('warn').some((m) => /stale run-id lock/.test(m)));
});

function runnerSetup(t: TestContext, opts: { runIdBlock: number }) {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const events: string[] = [];
  const job = makeJob({ local: join(dir, 'local'), path2: join(dir, 'remote') });
  const paths = jobPaths(stateDir, job.name);
  const logger = new RecordingLogger();
  const noChange = loadLog('1.75', 'no-change');
  const seenAtSpawn: boolean[] = [];
  const spawner = new ScriptedSpawner((_cmd, args) => {
    events.push(`spawn ${args[0] ?? ''}`);
    if (args[0] === 'bisync') seenAtSpawn.push((JSON.parse(readFileSync(paths.state, 'utf8')) as { interrupted: boolean }).interrupted);
    return { lines: noChange.lines, exit: noChange.exit };
  });
  const durability = recording(events);
  createStateStore({ baseDir: stateDir, logger }).save(job.name, {
    ...initialJobState(), resyncDone: true, lastRunId: 0, lastOutcome: 'success', filtersHash: filtersFileHash(undefined), pairKey: pairKeyOf(job, paths.workdir),
  });
  const runner = createJobRunner({ spawner, clock: new ManualClock(), logger, stateDir, probeCaps: () => Promise.resolve(CAPS_175), durability, runIdBlock: opts.runIdBlock });
  return { runner, events, job, global: makeGlobal(), seenAtSpawn, stateDir };
}

test('trigger → spawn: no fsync, many runs through several id blocks; the state says "in progress" before rclone starts', async (t) => {
  const s = runnerSetup(t, { runIdBlock: 4 });
  s.events.push('created');
  for (let i = 0; i < 10; i++) {
    s.events.push('trigger');
    const runId = s.runner.nextRunId();
    const record = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, runId);
    assert.equal(record.outcome, 'no-changes');
    s.events.push('finished');
  }
  let runs = 0;
  for (let i = s.events.indexOf('trigger'); i !== -1; i = s.events.indexOf('trigger', i + 1)) {
    const spawn = s.events.indexOf('spawn bisync', i);
    assert.ok(spawn > i);
    assert.deepEqual(s.events.slice(i, spawn).filter((e) => e === 'fsync'), [], `no fsync between trigger and spawn: ${s.events.slice(i, spawn + 1).join(' → ')}`);
    // The pre-spawn state is flushed once rclone runs; the end-of-run save is flushed too (off the event loop) before
    // the run resolves.
    const finished = s.events.indexOf('finished', spawn);
    const after = s.events.slice(spawn, finished);
    assert.equal(after.filter((e) => e === 'flush state.json').length, 2, `both saves are made durable before the run is reported: ${after.join(' → ')}`);
    runs++;
  }
  assert.equal(runs, 10);
  assert.deepEqual(s.seenAtSpawn, Array(10).fill(true), 'interrupted: true is in state.json when rclone starts');
  assert.equal(s.runner.readState(s.job.name).interrupted, false, 'cleared by the end-of-run save');
  assert.ok(mark(s.stateDir) >= 10, 'the run ids are covered by the durable mark');
});

test('a dry run writes no state and so flushes nothing; its trigger is fsync-free too', async (t) => {
  const s = runnerSetup(t, { runIdBlock: 100 });
  s.events.push('trigger');
  const record = await s.runner.run(s.job, s.global, { dryRun: true }, s.runner.nextRunId());
  assert.equal(record.outcome, 'dry-run');
  assert.deepEqual(s.events.slice(s.events.indexOf('trigger') + 1).filter((e) => e !== 'spawn bisync'), []);
});
