// The runner around the side check, with a scripted spawner (no rclone needed): a remote's check file is looked up
// with one `rclone lsf` before the bisync; a remote that cannot be listed is left to the bisync; an injected mount
// table drives the mount check; a refused run keeps an earlier interruption for the run that follows.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobConfig } from '../../src/config/types.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import type { JobState } from '../../src/run/types.js';
import { jobPaths } from '../../src/state/paths.js';
import { createJobRunner, filtersFileHash, pairKeyOf } from '../../src/run/runner.js';
import { createStateStore } from '../../src/state/state-store.js';
import { CAPS_175 } from '../helpers/caps.js';
import { writeFiles } from '../helpers/engine-env.js';
import { ManualClock, RecordingLogger, ScriptedSpawner, type Reply } from '../helpers/fake-spawner.js';
import { makeGlobal, makeJob } from '../helpers/job.js';
import { loadLog } from '../helpers/rclone-logs.js';

const success = (): Reply => {
  const log = loadLog('1.75', 'success');
  return { lines: log.lines, exit: log.exit };
};

function setup(t: TestContext, job: Partial<JobConfig>, lsf: Reply, mountinfo: () => string) {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-side-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fullJob = makeJob({ local: join(dir, 'local'), path2: 'box:share', ...job });
  const spawner = new ScriptedSpawner((_cmd, args) => (args[0] === 'lsf' ? { exit: lsf.exit ?? { code: 0, signal: null } } : args[0] === 'bisync' ? success() : { exit: { code: 0, signal: null } }));
  // rclone lsf prints its names on stdout (the scripted spawner replays on stderr).
  const scripted = spawner.spawn.bind(spawner);
  spawner.spawn = (cmd, args, options = {}) => {
    if (args[0] === 'lsf') queueMicrotask(() => (lsf.lines ?? []).forEach((line) => options.onLine?.(line, 'stdout')));
    return scripted(cmd, args, options);
  };
  const logger = new RecordingLogger();
  const stateDir = join(dir, 'state');
  const runner = createJobRunner({ spawner, clock: new ManualClock(), logger, stateDir, probeCaps: () => Promise.resolve(CAPS_175), env: { PATH: '/usr/bin' }, readMountInfo: mountinfo });
  const synced = (extra: Partial<JobState> = {}): void => {
    const paths = jobPaths(stateDir, fullJob.name);
    createStateStore({ baseDir: stateDir, logger }).save(fullJob.name, { ...initialJobState(), resyncDone: true, lastRunId: 1, lastOutcome: 'success', filtersHash: filtersFileHash(undefined), pairKey: pairKeyOf(fullJob, paths.workdir), ...extra });
    writeFiles(paths.workdir, { 'a..b.path1.lst': '# bisync listing v1\n-        1 - - 2026-01-01T00:00:00.000000000+0000 "a.txt"\n-        1 - - 2026-01-01T00:00:00.000000000+0000 "archive/b.txt"\n' });
  };
  return { job: fullJob, global: makeGlobal(), spawner, runner, synced };
}

const MOUNTS = '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n';

test('check_access on a remote: one rclone lsf of its root; the check file missing there → check-failed, no bisync', async (t) => {
  const s = setup(t, { checkAccess: true }, { lines: ['a.txt'], exit: { code: 0, signal: null } }, () => MOUNTS);
  s.synced();
  writeFiles(s.job.local, { RCLONE_TEST: '', 'a.txt': 'a' });
  const record = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, 2);
  assert.equal(record.outcome, 'check-failed');
  assert.match(record.message, /^the remote side looks unmounted or emptied: box:share \(RCLONE_TEST is missing\); is the remote folder intact\?$/);
  const lsf = s.spawner.calls.find((c) => c.args[0] === 'lsf');
  assert.deepEqual(lsf?.args.slice(0, 5), ['lsf', '--files-only', '--max-depth=1', '--include=/RCLONE_TEST', 'box:share']);
  assert.equal(s.spawner.bisyncCalls().length, 0);
});

test('check_access on a remote: the check file present → the bisync runs; a remote that cannot be listed is left to the bisync', async (t) => {
  for (const lsf of [{ lines: ['RCLONE_TEST'], exit: { code: 0, signal: null } }, { lines: ['connection refused'], exit: { code: 1, signal: null } }]) {
    const s = setup(t, { checkAccess: true }, lsf, () => MOUNTS);
    s.synced();
    writeFiles(s.job.local, { RCLONE_TEST: '', 'a.txt': 'a' });
    const record = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, 2);
    assert.equal(record.outcome, 'success', record.message);
    assert.equal(s.spawner.bisyncCalls().length, 1);
  }
});

test('mounts: recorded after a good run; a recorded nested mount that is gone → check-failed with the count under it', async (t) => {
  let table = MOUNTS;
  const s = setup(t, {}, { exit: { code: 0, signal: null } }, () => table);
  table = `${MOUNTS}50 22 8:17 / ${join(s.job.local, 'archive')} rw - ext4 /dev/sdb1 rw\n`;
  s.synced();
  writeFiles(s.job.local, { 'a.txt': 'a' });
  assert.equal((await s.runner.run(s.job, s.global, {}, 2)).outcome, 'success');
  assert.deepEqual(s.runner.readState(s.job.name).localMounts, { rootMount: '/', nested: [join(s.job.local, 'archive')] });
  table = MOUNTS;
  const refused = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, 3);
  assert.equal(refused.outcome, 'check-failed');
  assert.equal(refused.message, `the local side looks unmounted or emptied: ${join(s.job.local, 'archive')} (no longer a mount point; last run saw 1 files, now 0); is the drive mounted?`);
  assert.equal(s.spawner.bisyncCalls().length, 1);
  // No mount table (not Linux, a sandbox): the mount check is skipped, the others still apply.
  table = '';
  const s2 = setup(t, {}, { exit: { code: 0, signal: null } }, () => {
    throw new Error('ENOENT');
  });
  s2.synced({ localMounts: { rootMount: '/', nested: ['/nowhere'] } });
  writeFiles(s2.job.local, { 'a.txt': 'a' });
  assert.equal((await s2.runner.run(s2.job, s2.global, {}, 2)).outcome, 'success');
});

test('a refused run keeps an earlier interruption (rclone did not run), and a dry run is answered but changes no state', async (t) => {
  const s = setup(t, { path2: '/nonexistent-remote-dir-for-test' }, { exit: { code: 0, signal: null } }, () => MOUNTS);
  s.synced({ interrupted: true });
  writeFiles(s.job.local, { 'lost+found/x': '' });
  const dry = await s.runner.run(s.job, s.global, { dryRun: true }, 2);
  assert.equal(dry.outcome, 'check-failed');
  assert.equal(dry.dryRun, true);
  assert.equal(s.runner.readState(s.job.name).sideCheck, null, 'a dry run changes no state');
  const record = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, 3);
  assert.equal(record.outcome, 'check-failed');
  const state = s.runner.readState(s.job.name);
  assert.equal(state.interrupted, true);
  assert.equal(state.sideCheck?.path, s.job.local);
  assert.equal(s.spawner.bisyncCalls().length, 0);
});
