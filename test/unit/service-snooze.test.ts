// Snooze and Unsnooze through the service on a fake clock: per job and global, the events they cause, their expiry,
// unknown jobs, and the snoozes kept across a restart in the state directory (the real file store of wiring.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isRbmError } from '../../src/errors.js';
import { createRealPlatform } from '../../src/service/wiring.js';
import { snoozesPath } from '../../src/state/paths.js';
import type { SnoozeStore } from '../../src/service/snoozes.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { flush, makeState } from '../helpers/scheduler-fixtures.js';
import { HOUR, MINUTE, YEARLY, makeConfig, makeJob, startHealthWorld } from '../helpers/health-world.js';

process.env.TZ = 'UTC';

function healthyRunner(now: number, names: string[]): FakeRunner {
  const runner = new FakeRunner();
  for (const name of names) runner.states.set(name, makeState({ lastSuccessMs: now, trackedSinceMs: now }));
  return runner;
}

const twoJobs = () => makeConfig([makeJob('a', { schedule: YEARLY }), makeJob('b', { schedule: YEARLY })]);

/** The real snooze store of the service process, on a private state directory. */
function stateDirStore(t: TestContext): { store: SnoozeStore; stateDir: string } {
  const home = mkdtempSync(join(tmpdir(), 'rbm-snooze-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const platform = createRealPlatform({ HOME: home, XDG_STATE_HOME: join(home, 'state'), PATH: process.env.PATH });
  assert.ok(platform.snoozes);
  return { store: platform.snoozes, stateDir: join(home, 'state', 'rclone-bisync-manager') };
}

test('snoozing one job: its snoozedUntilMs, one jobChanged for it, the health still shown; expiry on the clock', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const w = await startHealthWorld(twoJobs(), { clock, runner: healthyRunner(start, ['a', 'b']) });
  w.take();
  const servicesBefore = w.services.length;
  w.service.snooze(['a'], 3600);
  await flush();
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, start + HOUR);
  assert.equal(w.service.jobStatus('b').snoozedUntilMs, 0);
  assert.deepEqual(w.changed.slice(-1).map((s) => [s.name, s.snoozedUntilMs]), [['a', start + HOUR]]);
  assert.deepEqual(w.take(), [['a', 'ok']], 'only the snoozed job changed');
  assert.equal(w.services.length, servicesBefore, 'the global snooze did not change: no serviceChanged');
  assert.equal(w.service.summary().snoozedUntilMs, 0);

  clock.advance(HOUR - 1);
  assert.deepEqual(w.take(), []);
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, start + HOUR);
  clock.advance(1);
  assert.deepEqual(w.changed.slice(-1).map((s) => [s.name, s.snoozedUntilMs]), [['a', 0]], 'the end of the snooze is announced');
  assert.deepEqual(w.take(), [['a', 'ok']]);
  await w.service.shutdown();
});

test('the global snooze covers every job (new ones too) and is announced by serviceChanged; a longer own snooze stays', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const w = await startHealthWorld(twoJobs(), { clock, runner: healthyRunner(start, ['a', 'b', 'c']) });
  w.service.snooze(['a'], 2 * 3600);
  await flush();
  w.take();
  w.service.snooze([], 600);
  await flush();
  assert.deepEqual(w.take(), [['b', 'ok']], "a's own snooze ends later: its snoozedUntilMs did not change");
  assert.equal(w.service.summary().snoozedUntilMs, start + 10 * MINUTE);
  assert.equal(w.services.at(-1)?.snoozedUntilMs, start + 10 * MINUTE);
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, start + 2 * HOUR);
  assert.equal(w.service.jobStatus('b').snoozedUntilMs, start + 10 * MINUTE);

  w.setConfig(makeConfig([makeJob('a', { schedule: YEARLY }), makeJob('b', { schedule: YEARLY }), makeJob('c', { schedule: YEARLY })]));
  await w.service.reload();
  assert.equal(w.service.jobStatus('c').snoozedUntilMs, start + 10 * MINUTE, 'a job added later is covered too');

  w.take();
  clock.advance(10 * MINUTE);
  assert.deepEqual(w.take(), [['b', 'ok'], ['c', 'ok']], 'the global snooze ends: the jobs it covered are announced');
  assert.equal(w.services.at(-1)?.snoozedUntilMs, 0);
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, start + 2 * HOUR);
  await w.service.shutdown();
});

test('a snooze hides nothing: a stale job is still stale and listed in attentionJobs while snoozed', async () => {
  const clock = new FakeClock();
  const runner = new FakeRunner();
  runner.states.set('a', makeState({ lastSuccessMs: clock.now() - 30 * 24 * HOUR, trackedSinceMs: 1 }));
  const w = await startHealthWorld(makeConfig([makeJob('a')]), { clock, runner });
  w.service.snooze([], 3600);
  assert.equal(w.service.jobStatus('a').health, 'stale');
  assert.deepEqual(w.service.summary().attentionJobs, ['a']);
  await w.service.shutdown();
});

test('an unknown job: NoSuchJob and nothing snoozed or unsnoozed', async () => {
  const clock = new FakeClock();
  const w = await startHealthWorld(twoJobs(), { clock, runner: healthyRunner(clock.now(), ['a', 'b']) });
  w.take();
  assert.throws(() => w.service.snooze(['a', 'nope'], 600), (e: unknown) => isRbmError(e) && e.code === 'NoSuchJob' && /nope/.test(e.message));
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, 0);
  w.service.snooze(['a'], 600);
  assert.throws(() => w.service.unsnooze(['nope', 'a']), (e: unknown) => isRbmError(e) && e.code === 'NoSuchJob');
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, clock.now() + 10 * MINUTE);
  await w.service.shutdown();
});

test('unsnooze of a job ends its own snooze; unsnooze of none ends the global one and every job\'s', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const w = await startHealthWorld(twoJobs(), { clock, runner: healthyRunner(start, ['a', 'b']) });
  w.service.snooze(['a', 'b'], 3600);
  w.service.snooze([], 600);
  w.take();
  w.service.unsnooze(['a']);
  assert.deepEqual(w.take(), [['a', 'ok']]);
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, start + 10 * MINUTE, 'the global snooze still covers it');
  w.service.unsnooze([]);
  assert.deepEqual(w.take(), [['a', 'ok'], ['b', 'ok']]);
  assert.equal(w.service.summary().snoozedUntilMs, 0);
  assert.deepEqual(w.service.status().jobs.map((j) => j.snoozedUntilMs), [0, 0]);
  assert.equal(w.services.at(-1)?.snoozedUntilMs, 0);
  clock.advance(2 * HOUR);
  assert.deepEqual(w.take(), [], 'the cleared snoozes leave no expiry behind');
  await w.service.shutdown();
});

test('snoozes are kept across a restart in the state directory; expired ones and removed jobs are forgotten', async (t) => {
  const { store, stateDir } = stateDirStore(t);
  const clock = new FakeClock();
  const start = clock.now();
  const runner = healthyRunner(start, ['a', 'b']);
  const first = await startHealthWorld(twoJobs(), { clock, runner, snoozes: store });
  first.service.snooze(['a'], 2 * 3600);
  first.service.snooze(['b'], 600);
  first.service.snooze([], 3600);
  await first.service.shutdown();
  assert.deepEqual(JSON.parse(readFileSync(snoozesPath(stateDir), 'utf8')), { globalUntilMs: start + HOUR, jobs: { a: start + 2 * HOUR, b: start + 10 * MINUTE } });

  clock.advance(30 * MINUTE); // b's own snooze ended while the service was down
  const second = await startHealthWorld(makeConfig([makeJob('a', { schedule: YEARLY }), makeJob('b', { schedule: YEARLY })]), { clock, runner, snoozes: store });
  assert.equal(second.service.summary().snoozedUntilMs, start + HOUR);
  assert.equal(second.service.jobStatus('a').snoozedUntilMs, start + 2 * HOUR);
  assert.equal(second.service.jobStatus('b').snoozedUntilMs, start + HOUR, 'only the global snooze covers b now');
  second.take();
  clock.advance(30 * MINUTE);
  assert.deepEqual(second.take(), [['b', 'ok']], 'the restored global snooze ends on the clock');
  second.setConfig(makeConfig([makeJob('b', { schedule: YEARLY })]));
  await second.service.reload();
  await second.service.shutdown();
  assert.deepEqual(JSON.parse(readFileSync(snoozesPath(stateDir), 'utf8')), { globalUntilMs: 0, jobs: {} }, 'a left the config: its snooze is forgotten');
});

test('an unreadable snooze file counts as no snooze, logged once; the next snooze replaces it', async (t) => {
  const { store, stateDir } = stateDirStore(t);
  const clock = new FakeClock();
  const start = clock.now();
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(snoozesPath(stateDir), '{"globalUntilMs": "tomorrow"');
  const w = await startHealthWorld(twoJobs(), { clock, runner: healthyRunner(start, ['a', 'b']), snoozes: store });
  assert.equal(w.service.summary().snoozedUntilMs, 0);
  w.service.status();
  w.service.jobStatus('a');
  assert.deepEqual(w.warnings.filter((m) => /snooze/.test(m)), ['cannot read the snoozed notifications; nothing is snoozed']);
  w.service.snooze(['a'], 60);
  assert.deepEqual(JSON.parse(readFileSync(snoozesPath(stateDir), 'utf8')), { globalUntilMs: 0, jobs: { a: start + MINUTE } });
  await w.service.shutdown();
});

test('a snooze longer than 30 days is cut to 30 days (the request parsers refuse it; typed callers are guarded too)', async () => {
  const clock = new FakeClock();
  const w = await startHealthWorld(twoJobs(), { clock, runner: healthyRunner(clock.now(), ['a', 'b']) });
  w.service.snooze(['a'], 365 * 86_400);
  assert.equal(w.service.jobStatus('a').snoozedUntilMs, clock.now() + 30 * 24 * HOUR);
  await w.service.shutdown();
});
