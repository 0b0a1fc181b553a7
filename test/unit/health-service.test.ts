// Health through the service on a fake clock: failing after failures_before_alert, stale exactly after stale_after
// (announced once, at that moment, by the one timer), stale at once after a long downtime, no timer when nothing can
// become stale, jobChanged whenever health changes (runs, pause/resume, a reload of stale_after), and the first-seen
// reference of a job that never ran kept across restarts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRealPlatform } from '../../src/service/wiring.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { flush, makeState } from '../helpers/scheduler-fixtures.js';
import { DAY, HOUR, MINUTE, YEARLY, alertJob, makeConfig, makeJob, startHealthWorld } from '../helpers/health-world.js';
import { NO_CONDITIONS } from '../../src/conditions/evaluate.js';
import { parseWindow } from '../../src/conditions/windows.js';

/** Hourly: the default stale_after is 3 h without a window. */
const HOURLY = '0 * * * *';

process.env.TZ = 'UTC';

test('a job whose runs fail becomes failing after failures_before_alert runs in a row, and ok after a good run', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  runner.states.set('a', makeState({ lastSuccessMs: start, trackedSinceMs: start - DAY }));
  const w = await startHealthWorld(makeConfig([alertJob('a', { failuresBeforeAlert: 2 }, { schedule: YEARLY })]), { clock, runner });
  w.take();
  for (let failures = 1; failures <= 2; failures++) {
    await w.service.sync(['a'], {});
    await flush();
    runner.states.set('a', makeState({ lastSuccessMs: start, trackedSinceMs: start - DAY, consecutiveFailures: failures, lastOutcome: 'failed', lastMessage: 'remote unreachable' }));
    runner.active()[0]!.finish({ outcome: 'failed', message: 'remote unreachable' });
    await flush();
    const expected = failures < 2 ? 'ok' : 'failing';
    assert.equal(w.service.jobStatus('a').health, expected, `after ${failures} failures`);
  }
  assert.deepEqual(w.health('a'), ['failing', 'failed 2 times in a row: remote unreachable']);
  assert.deepEqual(w.take().at(-1), ['a', 'failing'], 'the run that made it failing announced it');
  assert.deepEqual(w.services.at(-1)?.attentionJobs, ['a'], 'serviceChanged carries the jobs that need attention');
  assert.deepEqual(w.service.summary().attentionJobs, ['a']);

  await w.service.sync(['a'], {});
  await flush();
  runner.states.set('a', makeState({ lastSuccessMs: clock.now(), trackedSinceMs: start - DAY }));
  runner.active()[0]!.finish({ outcome: 'success' });
  await flush();
  assert.deepEqual(w.health('a'), ['ok', '']);
  assert.deepEqual(w.take().at(-1), ['a', 'ok']);
  assert.deepEqual(w.services.at(-1)?.attentionJobs, []);
  await w.service.shutdown();
});

test('a job that stops succeeding becomes stale exactly after stale_after: one jobChanged at that moment, not before', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  // Its last success was 30 min ago; its runs fail from now on, too few to be failing.
  runner.states.set('a', makeState({ lastSuccessMs: start - 30 * MINUTE, trackedSinceMs: start - DAY, consecutiveFailures: 1, lastOutcome: 'failed' }));
  runner.states.set('b', makeState({ lastSuccessMs: start, trackedSinceMs: start - DAY }));
  const w = await startHealthWorld(makeConfig([alertJob('a', { staleAfterSec: 2 * 3600 }, { schedule: YEARLY }), alertJob('b', { staleAfterSec: 10 * 3600 }, { schedule: YEARLY })]), { clock, runner });
  assert.deepEqual(w.health('a'), ['ok', '']);
  w.take();
  const servicesBefore = w.services.length;

  clock.advance(90 * MINUTE); // stale_after - 30 min: the last moment it is still ok
  assert.deepEqual(w.take(), [], 'nothing announced before stale_after');
  assert.equal(w.service.jobStatus('a').health, 'ok');
  clock.advance(1);
  assert.deepEqual(w.take(), [['a', 'stale']], 'one jobChanged, for the job that became stale, at that moment');
  assert.deepEqual(w.health('a'), ['stale', 'no successful sync for more than 2 h: see why with rbmctl history a']);
  assert.equal(w.services.length, servicesBefore + 1, 'one serviceChanged');
  assert.deepEqual(w.services.at(-1)?.attentionJobs, ['a']);

  clock.advance(8 * HOUR + 30 * MINUTE - 1); // b: still ok, 1 ms before its own stale_after
  assert.deepEqual(w.take(), [], 'a stale job is not announced again as time passes');
  clock.advance(1);
  assert.deepEqual(w.take(), [['b', 'stale']]);
  assert.deepEqual(w.service.summary().attentionJobs, ['a', 'b']);
  clock.advance(30 * DAY);
  assert.deepEqual(w.take(), []);
  await w.service.shutdown();
});

test('the one timer is re-armed by a run: a success moves the moment a job becomes stale', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  runner.states.set('a', makeState({ lastSuccessMs: start - HOUR, trackedSinceMs: start - DAY }));
  const w = await startHealthWorld(makeConfig([alertJob('a', { staleAfterSec: 2 * 3600 }, { schedule: YEARLY })]), { clock, runner });
  clock.advance(30 * MINUTE);
  await w.service.sync(['a'], {});
  await flush();
  runner.states.set('a', makeState({ lastSuccessMs: clock.now(), trackedSinceMs: start - DAY }));
  runner.active()[0]!.finish({ outcome: 'success' });
  await flush();
  w.take();
  clock.advance(2 * HOUR); // the old moment (start + 1 h) has long passed; the new one is 2 h after the success
  assert.deepEqual(w.take(), []);
  assert.equal(w.service.jobStatus('a').health, 'ok');
  clock.advance(1);
  assert.deepEqual(w.take(), [['a', 'stale']]);
  await w.service.shutdown();
});

test('started after a long downtime, a job whose last success is older than stale_after is stale at once', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  runner.states.set('daily', makeState({ lastSuccessMs: start - 10 * DAY, trackedSinceMs: start - 90 * DAY }));
  runner.states.set('never-ok', makeState({ lastSuccessMs: 0, trackedSinceMs: start - 5 * HOUR, consecutiveFailures: 1 }));
  runner.states.set('fresh', makeState({ lastSuccessMs: start - HOUR, trackedSinceMs: start - DAY }));
  const jobs = [makeJob('daily', { schedule: '0 3 * * *' }), makeJob('never-ok', { schedule: '0 * * * *' }), makeJob('fresh', { schedule: '0 * * * *' })];
  const w = await startHealthWorld(makeConfig(jobs), { clock, runner });
  assert.deepEqual(w.health('daily'), ['stale', 'no successful sync for more than 3 d: see why with rbmctl history daily']);
  assert.deepEqual(w.health('never-ok'), ['stale', 'has not synced successfully once in more than 3 h: see why with rbmctl history never-ok']);
  assert.deepEqual(w.health('fresh'), ['ok', '']);
  assert.deepEqual(w.service.summary().attentionJobs, ['daily', 'never-ok']);
  assert.deepEqual(w.services.at(-1)?.attentionJobs, ['daily', 'never-ok'], 'announced by serviceChanged at start');
  const status = w.service.status();
  assert.deepEqual(status.jobs.map((j) => [j.name, j.health]), [['daily', 'stale'], ['never-ok', 'stale'], ['fresh', 'ok']]);
  await w.service.shutdown();
});

test('no timer when no job can become stale (paused, inactive, waiting for a person); resume announces a stale job', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  runner.states.set('paused', makeState({ lastSuccessMs: start - 30 * DAY }));
  runner.states.set('off', makeState({ lastSuccessMs: start - 30 * DAY }));
  runner.states.set('locked', makeState({ lastSuccessMs: start - 30 * DAY, needsResync: true, lastOutcome: 'needs-resync', lastMessage: 'listings are corrupt' }));
  const jobs = [makeJob('paused'), makeJob('off', { active: false }), makeJob('locked')];
  const w = await startHealthWorld(makeConfig(jobs), { clock, runner, pausedJobs: { load: () => ['paused'], save: () => undefined } });
  assert.deepEqual(w.service.status().jobs.map((j) => [j.name, j.health]), [['paused', 'ok'], ['off', 'ok'], ['locked', 'attention']]);
  assert.equal(clock.pendingTimers(), 0, 'no scheduler slot and no staleness timer');
  w.take();
  w.service.resume(['paused']);
  await flush();
  assert.deepEqual(w.take(), [['paused', 'stale']], 'resumed: its 30-day-old success makes it stale at once');
  assert.ok(clock.pendingTimers() > 0, 'the resumed job is scheduled again');
  w.service.pause(['paused']);
  await flush();
  assert.deepEqual(w.take(), [['paused', 'ok']], 'paused again: never stale');
  await w.service.shutdown();
});

test('a reload that changes stale_after announces the new health and moves the timer', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  runner.states.set('a', makeState({ lastSuccessMs: start - 3 * HOUR, trackedSinceMs: start - DAY }));
  const w = await startHealthWorld(makeConfig([alertJob('a', { staleAfterSec: 2 * 3600 }, { schedule: YEARLY })]), { clock, runner });
  assert.equal(w.service.jobStatus('a').health, 'stale');
  w.take();
  w.setConfig(makeConfig([alertJob('a', { staleAfterSec: 4 * 3600 }, { schedule: YEARLY })]));
  await w.service.reload();
  await flush();
  assert.deepEqual(w.take(), [['a', 'ok']]);
  clock.advance(HOUR);
  assert.deepEqual(w.take(), [], 'exactly 4 h after the last success: not yet');
  clock.advance(1);
  assert.deepEqual(w.take(), [['a', 'stale']]);
  await w.service.shutdown();
});

test('a clock that jumped (suspend) is caught up within maxSleepMs, without waiting for the old timer', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  runner.states.set('a', makeState({ lastSuccessMs: start, trackedSinceMs: start - DAY }));
  const w = await startHealthWorld(makeConfig([alertJob('a', { staleAfterSec: 6 * 3600 }, { schedule: YEARLY })]), { clock, runner, maxSleepMs: 5 * MINUTE });
  w.take();
  clock.jump(7 * HOUR); // asleep: the wall clock moved, no timer fired
  assert.deepEqual(w.take(), []);
  clock.advance(5 * MINUTE);
  assert.deepEqual(w.take(), [['a', 'stale']]);
  await w.service.shutdown();
});

test('after shutdown no staleness timer is left', async () => {
  const clock = new FakeClock();
  const runner = new FakeRunner();
  runner.states.set('a', makeState({ lastSuccessMs: clock.now(), trackedSinceMs: clock.now() }));
  const w = await startHealthWorld(makeConfig([makeJob('a', { active: false }), alertJob('b', { staleAfterSec: 3600 }, { active: false })]), { clock, runner });
  assert.equal(clock.pendingTimers(), 0, 'inactive jobs: nothing to watch');
  w.setConfig(makeConfig([alertJob('a', { staleAfterSec: 3600 }, { schedule: YEARLY, active: true })]));
  await w.service.reload();
  await flush();
  assert.ok(clock.pendingTimers() > 0);
  await w.service.shutdown();
  assert.equal(clock.pendingTimers(), 0);
});

test('a job that never ran counts from when the service first saw it, across restarts (first-seen.json in the state dir)', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'rbm-first-seen-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const platform = createRealPlatform({ HOME: home, XDG_STATE_HOME: join(home, 'state'), PATH: process.env.PATH });
  assert.ok(platform.firstSeen);
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner(); // no state: the job has never run
  const config = makeConfig([alertJob('nightly', { staleAfterSec: 2 * 3600 }, { schedule: YEARLY })]);
  const first = await startHealthWorld(config, { clock, runner, firstSeen: platform.firstSeen });
  assert.deepEqual(first.health('nightly'), ['ok', '']);
  clock.advance(HOUR);
  await first.service.shutdown();
  assert.deepEqual(JSON.parse(readFileSync(join(home, 'state', 'rclone-bisync-manager', 'first-seen.json'), 'utf8')), { nightly: start });

  clock.advance(90 * MINUTE); // down for longer than what was left of stale_after
  const second = await startHealthWorld(config, { clock, runner, firstSeen: platform.firstSeen });
  assert.deepEqual(second.health('nightly'), ['stale', 'has not run in more than 2 h: check its schedule, or run it now with rbmctl sync nightly']);
  assert.deepEqual(second.service.summary().attentionJobs, ['nightly']);
  await second.service.shutdown();
});

test('dry-run jobs are never stale: the job\'s dry_run, the global one, and the service\'s --dry-run', async () => {
  const clock = new FakeClock();
  const runner = new FakeRunner();
  for (const name of ['own', 'real']) runner.states.set(name, makeState({ lastSuccessMs: clock.now() - 30 * DAY, trackedSinceMs: 1 }));
  const jobs = [alertJob('own', { staleAfterSec: 3600 }, { schedule: YEARLY, dryRun: true }), alertJob('real', { staleAfterSec: 3600 }, { schedule: YEARLY })];
  const plain = await startHealthWorld(makeConfig(jobs), { clock, runner });
  assert.deepEqual(plain.service.status().jobs.map((j) => [j.name, j.health]), [['own', 'ok'], ['real', 'stale']]);
  await plain.service.shutdown();
  const global = await startHealthWorld(makeConfig(jobs, { dryRun: true }), { clock, runner });
  assert.deepEqual(global.service.status().jobs.map((j) => [j.name, j.health]), [['own', 'ok'], ['real', 'ok']]);
  await global.service.shutdown();
  const forced = await startHealthWorld(makeConfig(jobs), { clock, runner, forceDryRun: true });
  assert.deepEqual(forced.service.status().jobs.map((j) => [j.name, j.health]), [['own', 'ok'], ['real', 'ok']]);
  await forced.service.shutdown();
});

test('an hourly job with a 22:00-06:00 window is not stale during the day: its default stale_after counts the window (review finding 9)', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runner = new FakeRunner();
  // Its last run was at 05:00 this morning, and nothing can run before 22:00 tonight.
  runner.states.set('nightly', makeState({ lastSuccessMs: start - 10 * HOUR, trackedSinceMs: start - 90 * DAY }));
  runner.states.set('hourly', makeState({ lastSuccessMs: start - 10 * HOUR, trackedSinceMs: start - 90 * DAY }));
  const night = parseWindow('22:00-06:00');
  assert.ok(night.ok);
  const jobs = [makeJob('nightly', { schedule: HOURLY, runConditions: { ...NO_CONDITIONS, windows: [night.window] } }), makeJob('hourly', { schedule: HOURLY })];
  const w = await startHealthWorld(makeConfig(jobs), { clock, runner });
  assert.deepEqual(w.health('nightly'), ['ok', ''], 'three times 05:00 → 22:00, not three hours');
  assert.deepEqual(w.health('hourly'), ['stale', 'no successful sync for more than 3 h: see why with rbmctl history hourly'], 'the same schedule without a window');
  await w.service.shutdown();
});
