// State files, history, the job lock and rclone's lock, on real files in a temp dir.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialJobState } from '../../src/run/rules/job-state.js';
import type { RunRecord } from '../../src/run/types.js';
import { createHistoryStore } from '../../src/state/history.js';
import { acquireJobLock } from '../../src/state/job-lock.js';
import { defaultStateDir, jobPaths } from '../../src/state/paths.js';
import { lockPid, removeStaleRcloneLocks } from '../../src/run/rclone-lock.js';
import { createStateStore } from '../../src/state/state-store.js';
import { RecordingLogger } from '../helpers/fake-spawner.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (path: string): number => statSync(path).mode & 0o777;

test('state dir follows XDG_STATE_HOME, else ~/.local/state', () => {
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state', HOME: '/h' }), '/x/state/rclone-bisync-manager');
  assert.equal(defaultStateDir({ HOME: '/h' }), '/h/.local/state/rclone-bisync-manager');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: 'relative', HOME: '/h' }), '/h/.local/state/rclone-bisync-manager');
});

test('job names cannot escape the state dir', () => {
  for (const bad of ['../x', 'a/b', '.hidden', '', 'a'.repeat(65)]) assert.throws(() => jobPaths('/s', bad), /invalid job name/);
  assert.equal(jobPaths('/s', 'docs').workdir, '/s/jobs/docs/workdir');
});

test('state round-trips atomically with private permissions; missing → initial; corrupt → rebuilt and reported', (t) => {
  const base = tempDir(t);
  const logger = new RecordingLogger();
  const store = createStateStore({ baseDir: base, logger });
  assert.deepEqual(store.load('docs'), { state: initialJobState(), status: 'missing' });
  const state = { ...initialJobState(), resyncDone: true, lastRunId: 7 };
  store.save('docs', state);
  assert.deepEqual(store.load('docs'), { state, status: 'ok' });
  const paths = jobPaths(base, 'docs');
  assert.equal(mode(paths.state), 0o600);
  assert.equal(mode(paths.dir), 0o700);
  assert.deepEqual(readdirSync(paths.dir), ['state.json'], 'no temp file left behind');
  writeFileSync(paths.state, '{"version":1,"resync');
  const rebuilt = store.load('docs');
  assert.equal(rebuilt.status, 'rebuilt');
  assert.equal(rebuilt.state.resyncDone, false);
  assert.ok(logger.messages('error').some((m) => /corrupt/.test(m)));
});

function rec(runId: number): RunRecord {
  return {
    runId, job: 'docs', operation: 'bisync', trigger: 'schedule', dryRun: false, startedMs: runId, finishedMs: runId, exitCode: 0, signal: null,
    outcome: 'success', message: 'ok', hint: '', counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 },
    conflicts: [], hashWarnings: 0, errorText: '', tail: [],
  };
}

test('history appends one line per run, reads newest first, skips a torn line, and stays bounded', (t) => {
  const base = tempDir(t);
  const history = createHistoryStore({ baseDir: base, logger: new RecordingLogger(), keep: 5 });
  for (let i = 1; i <= 10; i++) history.append(rec(i));
  assert.deepEqual(history.read('docs', 3).map((r) => r.runId), [10, 9, 8]);
  history.append(rec(11)); // 11 > 2 × 5: rotated to the last 5
  const path = jobPaths(base, 'docs').history;
  assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 5);
  assert.deepEqual(history.read('docs', 100).map((r) => r.runId), [11, 10, 9, 8, 7]);
  assert.equal(mode(path), 0o600);
  writeFileSync(path, readFileSync(path, 'utf8') + '{"runId":12,"job":"do');
  assert.deepEqual(history.read('docs', 2).map((r) => r.runId), [11, 10]);
});

test('job lock: exclusive while held, released, and a dead holder is taken over', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'lock');
  const logger = new RecordingLogger();
  const lock = acquireJobLock(path, 'docs', logger, 1);
  assert.throws(() => acquireJobLock(path, 'docs', logger, 2), (e: unknown) => (e as { code?: string }).code === 'AlreadyRunning');
  lock.release();
  assert.equal(existsSync(path), false);
  writeFileSync(path, JSON.stringify({ pid: 999_999_999, start: '1', acquiredMs: 0 }));
  const taken = acquireJobLock(path, 'docs', logger, 3);
  assert.ok(logger.messages('warn').some((m) => /stale job lock/.test(m)));
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  taken.release();
  // A live PID whose start time differs is a reused PID: stale.
  writeFileSync(path, JSON.stringify({ pid: process.pid, start: 'not-the-real-start', acquiredMs: 0 }));
  acquireJobLock(path, 'docs', logger, 4).release();
});

test('job lock: a leftover lock file of this very process (its release could not remove it) is taken over', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'lock');
  const logger = new RecordingLogger();
  const held = acquireJobLock(path, 'docs', logger, 1);
  const content = readFileSync(path, 'utf8');
  held.release();
  // As if the directory had been read-only at release time: the file is still there, naming us, alive.
  writeFileSync(path, content);
  const again = acquireJobLock(path, 'docs', logger, 2);
  assert.ok(logger.messages('warn').some((m) => /stale job lock/.test(m)), 'reported as stale');
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).acquiredMs, 2, 'the new lock replaced the leftover');
  // A lock this process does hold is still exclusive.
  assert.throws(() => acquireJobLock(path, 'docs', logger, 3), (e: unknown) => (e as { code?: string }).code === 'AlreadyRunning');
  again.release();
});

test("rclone lock PIDs are read in both formats (1.60 plain, 1.66+ JSON)", () => {
  assert.equal(lockPid('17256\n'), 17256);
  assert.equal(lockPid('{"Session":"/w/a..b","PID":"17256","TimeRenewed":"x","TimeExpires":"y"}'), 17256);
  assert.equal(lockPid('garbage'), undefined);
});

test('stale rclone locks are removed; live ones and ours are kept', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'wd'));
  const wd = join(dir, 'wd');
  writeFileSync(join(wd, 'dead.lck'), '999999999');
  writeFileSync(join(wd, 'dead-json.lck'), JSON.stringify({ PID: '999999998' }));
  writeFileSync(join(wd, 'live.lck'), String(process.ppid));
  writeFileSync(join(wd, 'ours.lck'), JSON.stringify({ PID: String(process.pid) }));
  writeFileSync(join(wd, 'x.path1.lst'), '');
  const result = removeStaleRcloneLocks(wd, new RecordingLogger());
  assert.deepEqual(result.removed.map((p) => p.slice(wd.length + 1)).sort(), ['dead-json.lck', 'dead.lck']);
  assert.deepEqual(readdirSync(wd).sort(), ['live.lck', 'ours.lck', 'x.path1.lst']);
  const outside = join(dir, 'elsewhere.lck');
  writeFileSync(outside, '999999999');
  removeStaleRcloneLocks(wd, new RecordingLogger(), outside);
  assert.ok(existsSync(outside), 'never touches a lock outside the job workdir');
});
