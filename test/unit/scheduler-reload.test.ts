// Scheduler reload on a fake clock: added, removed and changed jobs while runs are in flight.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHarness, MINUTE } from '../helpers/scheduler-harness.js';
import { makeJob } from '../helpers/scheduler-fixtures.js';

process.env.TZ = 'UTC';
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const never = '0 0 1 1 *';

test('a removed job finishes its current run, then disappears', async () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { schedule: never }), makeJob('b', { schedule: never })] });
  h.scheduler.trigger('a', {});
  await h.advance(0);
  h.scheduler.trigger('a', {}); // a pending run too: dropped by the removal
  h.scheduler.applyConfig([makeJob('b', { schedule: never })]);
  assert.equal(h.runs[0]!.signal.aborted, false, 'the running run is undisturbed');
  assert.equal(h.scheduler.info('a')!.removed, true);
  assert.equal(h.scheduler.info('a')!.queued, false);
  assert.deepEqual(h.scheduler.jobs().map((j) => j.name), ['b', 'a']);
  assert.throws(() => h.scheduler.trigger('a', {}), { code: 'NoSuchJob' });
  assert.ok(!h.events.some((e) => e.type === 'job-removed'));
  await h.runs[0]!.finish();
  assert.ok(h.events.some((e) => e.type === 'job-removed' && e.job === 'a'));
  assert.equal(h.scheduler.info('a'), undefined);
  assert.equal(h.runs.length, 1, 'the dropped pending run never started');
});

test('a removed idle job disappears at once', () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a'), makeJob('b')] });
  h.scheduler.applyConfig([makeJob('b')]);
  assert.equal(h.scheduler.info('a'), undefined);
  assert.ok(h.events.some((e) => e.type === 'job-removed' && e.job === 'a'));
});

test('a changed job keeps its running run as started and uses the new settings from its next run', async () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { schedule: '*/10 * * * *', rcloneOptions: { bwlimit: '1M' } })] });
  for (let i = 0; i < 10; i++) await h.advance(MINUTE);
  assert.equal(h.runs.length, 1);
  h.scheduler.applyConfig([makeJob('a', { schedule: '*/15 * * * *', rcloneOptions: { bwlimit: '5M' } })]);
  assert.equal(h.runs[0]!.signal.aborted, false);
  assert.deepEqual(h.runs[0]!.config.rcloneOptions, { bwlimit: '1M' });
  await h.runs[0]!.finish();
  for (let i = 0; i < 5; i++) await h.advance(MINUTE);
  assert.equal(h.runs.length, 2, 'the new schedule fires at 00:15');
  assert.equal(h.runs[1]!.atMs, T0 + 15 * MINUTE);
  assert.deepEqual(h.runs[1]!.config.rcloneOptions, { bwlimit: '5M' });
});

test('a queued run of a changed job starts with the new settings', async () => {
  const h = createHarness({ startMs: T0, maxParallel: 1, jobs: [makeJob('a', { schedule: never }), makeJob('b', { schedule: never })] });
  h.scheduler.trigger('a', {});
  h.scheduler.trigger('b', {});
  await h.advance(0);
  h.scheduler.applyConfig([makeJob('a', { schedule: never }), makeJob('b', { schedule: never, dryRun: true })]);
  await h.runs[0]!.finish();
  assert.equal(h.runs[1]!.job, 'b');
  assert.equal(h.runs[1]!.config.dryRun, true);
});

test('an added job is scheduled from the reload on, and an unchanged job emits nothing', async () => {
  const h = createHarness({ startMs: T0, autoFinish: true, jobs: [makeJob('a', { schedule: never })] });
  await h.advance(3 * MINUTE);
  const before = h.events.length;
  h.scheduler.applyConfig([makeJob('a', { schedule: never }), makeJob('new', { schedule: '*/5 * * * *' })]);
  assert.deepEqual(h.events.slice(before).map((e) => e.type + ':' + ('job' in e ? e.job : '')), ['job-added:new']);
  for (let i = 0; i < 2; i++) await h.advance(MINUTE);
  assert.deepEqual(h.runs.map((r) => [r.job, r.atMs - T0]), [['new', 5 * MINUTE]]);
});

test('a lower parallel limit applies to the next dispatch; running runs continue', async () => {
  const h = createHarness({ startMs: T0, maxParallel: 3, jobs: ['a', 'b', 'c'].map((n) => makeJob(n, { schedule: never })) });
  h.scheduler.trigger('a', {});
  h.scheduler.trigger('b', {});
  await h.advance(0);
  h.scheduler.applyConfig(['a', 'b', 'c'].map((n) => makeJob(n, { schedule: never })), 1);
  h.scheduler.trigger('c', {});
  await h.advance(0);
  assert.deepEqual(h.active().map((r) => r.job), ['a', 'b']);
  await h.runs[0]!.finish();
  assert.deepEqual(h.active().map((r) => r.job), ['b']);
  await h.runs[1]!.finish();
  assert.deepEqual(h.active().map((r) => r.job), ['c']);
});
