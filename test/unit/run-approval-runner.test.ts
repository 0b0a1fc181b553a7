// The runner's approval flow with a scripted spawner: a real captured safety abort, then a `--dry-run --force` preview
// whose Queue delete lines the test writes (thousands of them: more than the output summary keeps). Real files in a
// temp state dir. The real-rclone scenarios are in test/integration/approval.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalToken } from '../../src/state/approval-token.js';
import { STATE_PENDING_CAP } from '../../src/run/rules/approval.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import { MAX_LIST_ENTRIES } from '../../src/rclone/output.js';
import { createJobRunner, filtersFileHash, pairKeyOf } from '../../src/run/runner.js';
import { jobPaths } from '../../src/state/paths.js';
import { pendingDeletesPath } from '../../src/state/pending-deletes.js';
import { createStateStore } from '../../src/state/state-store.js';
import type { ExitStatus } from '../../src/ports.js';
import { CAPS_175 } from '../helpers/caps.js';
import { ManualClock, RecordingLogger, ScriptedSpawner, type Reply } from '../helpers/fake-spawner.js';
import { makeGlobal, makeJob } from '../helpers/job.js';
import { loadLog } from '../helpers/rclone-logs.js';

const abort = (): Reply => {
  const log = loadLog('1.75', 'too-many-deletes');
  return { lines: log.lines, exit: log.exit };
};
const success = (): Reply => {
  const log = loadLog('1.75', 'success');
  return { lines: log.lines, exit: log.exit };
};
const OK: ExitStatus = { code: 0, signal: null };

function preview(paths: readonly string[], exit: ExitStatus = OK): Reply {
  const lines = paths.map((p) => JSON.stringify({ level: 'info', msg: `- Path2    Queue delete                        - ${p}`, source: 'bisync/deltas.go:224' }));
  return { lines, exit };
}

function setup(t: TestContext, replies: Reply[]) {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-approval-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const job = makeJob({ local: join(dir, 'local'), path2: join(dir, 'remote') });
  const global = makeGlobal();
  const queue = [...replies];
  const spawner = new ScriptedSpawner((_cmd, args) => (args[0] === 'bisync' ? (queue.shift() ?? { exit: OK }) : { exit: OK }));
  const logger = new RecordingLogger();
  const stateDir = join(dir, 'state');
  const runner = createJobRunner({ spawner, clock: new ManualClock(), logger, stateDir, probeCaps: () => Promise.resolve(CAPS_175), env: { PATH: '/usr/bin' } });
  const store = createStateStore({ baseDir: stateDir, logger });
  store.save(job.name, { ...initialJobState(), resyncDone: true, lastRunId: 1, lastOutcome: 'success', filtersHash: filtersFileHash(undefined), pairKey: pairKeyOf(job, jobPaths(stateDir, job.name).workdir) });
  const forcedRuns = (): number => spawner.bisyncCalls().filter((c) => c.args.includes('--force') && !c.args.includes('--dry-run')).length;
  return { job, global, spawner, runner, stateDir, forcedRuns, run: (id: number, token?: string) => runner.run(job, global, token === undefined ? {} : { approvalToken: token }, id) };
}

const paths = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `/r/dir/file-${String(from + i).padStart(5, '0')}.bin`);

test('a list larger than the output summary keeps is stored in full: the token covers every path, state.json the first ones', async (t) => {
  const all = paths(2500);
  assert.ok(all.length > MAX_LIST_ENTRIES);
  const s = setup(t, [abort(), preview(all)]);
  assert.equal((await s.run(2)).outcome, 'needs-approval');
  const state = s.runner.readState(s.job.name);
  assert.equal(state.pendingDeleteCount, 2500);
  assert.equal(state.pendingDeletes.length, STATE_PENDING_CAP);
  assert.equal(state.approvalToken, approvalToken(s.job.name, all));
  assert.deepEqual(s.runner.pendingApproval(s.job.name), { token: state.approvalToken, deletes: all });
  assert.ok(readFileSync(join(s.stateDir, 'jobs', s.job.name, 'state.json'), 'utf8').length < 200_000, 'the state file stays small');
});

test('a new delete far down a long list (past the first 1,000) still parks the approved run', async (t) => {
  const all = paths(2500);
  const more = [...all, '/r/dir/zz-new.bin'];
  const s = setup(t, [abort(), preview(all), abort(), preview(more), abort(), preview(more), success()]);
  await s.run(2);
  const token = s.runner.pendingApproval(s.job.name).token;
  const parked = await s.run(3, token);
  assert.equal(parked.outcome, 'needs-approval');
  assert.match(parked.message, /1 new delete not in the 2500 approved paths \(\/r\/dir\/zz-new\.bin\)/);
  assert.equal(s.forcedRuns(), 0);
  const newer = s.runner.pendingApproval(s.job.name);
  assert.equal(newer.deletes.length, 2501);
  const approved = await s.run(4, newer.token);
  assert.equal(approved.outcome, 'success', approved.message);
  assert.equal(s.forcedRuns(), 1);
  const forced = s.spawner.bisyncCalls().at(-1)!;
  const dry = s.spawner.bisyncCalls().at(-2)!;
  assert.deepEqual(forced.args.filter((a) => a !== '--force'), dry.args.filter((a) => a !== '--force' && a !== '--dry-run'), 'the forced run is the previewed argv');
  assert.equal(s.runner.pendingApproval(s.job.name).token, '');
});

test('an approval never forces when the preview failed, or when the stored list was damaged', async (t) => {
  const all = paths(12);
  const s = setup(t, [abort(), preview(all), abort(), preview(all, { code: 1, signal: null }), abort(), preview(all)]);
  await s.run(2);
  const token = s.runner.pendingApproval(s.job.name).token;
  const failed = await s.run(3, token);
  assert.equal(failed.outcome, 'needs-approval');
  assert.match(failed.message, /preview of the approved run did not complete/);
  assert.equal(s.forcedRuns(), 0);
  // Someone edits the stored list to approve more than was shown: its content no longer gives its token.
  const file = pendingDeletesPath(s.stateDir, s.job.name);
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { token: string; deletes: string[] };
  writeFileSync(file, JSON.stringify({ token: stored.token, deletes: [...stored.deletes, '/r/other.bin'] }));
  const damaged = await s.run(4, token);
  assert.equal(damaged.outcome, 'needs-approval');
  assert.match(damaged.message, /no longer the pending one/);
  assert.equal(s.forcedRuns(), 0);
});

test('a too-many-deletes preview that lists no delete (log level above INFO) never leads to --force', async (t) => {
  const s = setup(t, [abort(), preview([]), abort(), preview([])]);
  await s.run(2);
  const shown = s.runner.pendingApproval(s.job.name);
  const r = await s.run(3, shown.token);
  assert.equal(r.outcome, 'needs-approval');
  assert.match(r.message, /did not complete/);
  assert.equal(s.forcedRuns(), 0);
});
