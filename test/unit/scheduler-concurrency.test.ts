// Scheduler concurrency on a fake clock: coalescing, the parallel limit, path-overlap exclusion, slow jobs, cancel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RbmError } from '../../src/errors.js';
import { nullLogger } from '../../src/ports.js';
import { createScheduler, jobsOverlap } from '../../src/scheduler/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createHarness, HOUR, MINUTE } from '../helpers/scheduler-harness.js';
import { makeJob, makeState } from '../helpers/scheduler-fixtures.js';

process.env.TZ = 'UTC';
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const never = '0 0 1 1 *';

test('triggers for a running or queued job coalesce into one pending run', async () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { schedule: never })] });
  const first = h.scheduler.trigger('a', { trigger: 'manual' });
  await h.advance(0);
  assert.equal(h.scheduler.info('a')!.activity, 'running');
  const second = h.scheduler.trigger('a', { trigger: 'manual' });
  const third = h.scheduler.trigger('a', { trigger: 'schedule', resync: true });
  assert.notEqual(second, first);
  assert.equal(third, second, 'the pending run absorbs later triggers');
  assert.deepEqual(h.scheduler.queuedJobs(), ['a']);
  assert.equal(h.active().length, 1, 'one job never runs twice at once');
  await h.runs[0]!.finish();
  assert.equal(h.runs.length, 2);
  assert.equal(h.runs[1]!.runId, second);
  assert.equal(h.runs[1]!.request.resync, true, 'flags of coalesced triggers add up');
  assert.equal(h.runs[1]!.request.trigger, 'manual', 'an explicit trigger wins');
  await h.runs[1]!.finish();
  assert.equal(h.runs.length, 2, 'exactly one extra run');
});

test('a scheduled slot while the job still runs coalesces instead of piling up', async () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { schedule: '*/5 * * * *' })] });
  for (let i = 0; i < 30; i++) await h.advance(MINUTE);
  assert.equal(h.runs.length, 1, 'the 00:05 run is still going');
  assert.equal(h.scheduler.info('a')!.queued, true);
  await h.runs[0]!.finish();
  assert.equal(h.runs.length, 2);
  assert.equal(h.active().length, 1);
});

test('no more than max_parallel_jobs run at once; the next starts when one ends', async () => {
  const h = createHarness({ startMs: T0, maxParallel: 2, jobs: ['a', 'b', 'c', 'd'].map((n) => makeJob(n, { schedule: never })) });
  for (const n of ['a', 'b', 'c', 'd']) h.scheduler.trigger(n, { trigger: 'manual' });
  await h.advance(0);
  assert.deepEqual(h.active().map((r) => r.job), ['a', 'b']);
  assert.deepEqual(h.scheduler.queuedJobs(), ['c', 'd']);
  await h.runs[1]!.finish();
  assert.deepEqual(h.active().map((r) => r.job), ['a', 'c']);
  await h.runs[0]!.finish();
  assert.deepEqual(h.active().map((r) => r.job), ['c', 'd']);
});

test('path overlap: equal or nested paths on either side overlap; sibling prefixes do not', () => {
  const a = makeJob('a', { local: '/data/photos', path2: 'remote:photos' });
  assert.ok(jobsOverlap(a, makeJob('b', { local: '/data/photos/', path2: 'remote:other' })));
  assert.ok(jobsOverlap(a, makeJob('c', { local: '/data/photos/2024', path2: 'remote:x' })));
  assert.ok(jobsOverlap(a, makeJob('d', { local: '/elsewhere', path2: 'remote:photos/sub' })));
  assert.ok(jobsOverlap(makeJob('e', { local: '/x', path2: '/data' }), a), 'a local path2 nested above path1');
  assert.ok(!jobsOverlap(a, makeJob('f', { local: '/data/photos2', path2: 'remote:photos2' })));
  assert.ok(!jobsOverlap(a, makeJob('g', { local: '/data/ph', path2: 'other:photos' })));
});

test('overlapping jobs never run at the same time, and a blocked job does not hold up others', async () => {
  const h = createHarness({
    startMs: T0,
    maxParallel: 3,
    jobs: [
      makeJob('photos', { local: '/data/photos', schedule: never }),
      makeJob('year', { local: '/data/photos/2024', schedule: never }),
      makeJob('docs', { local: '/data/docs', schedule: never }),
    ],
  });
  h.scheduler.trigger('photos', {});
  h.scheduler.trigger('year', {});
  h.scheduler.trigger('docs', {});
  await h.advance(0);
  assert.deepEqual(h.active().map((r) => r.job), ['photos', 'docs']);
  assert.equal(h.scheduler.info('year')!.activity, 'queued');
  await h.runs[0]!.finish();
  assert.deepEqual(h.active().map((r) => r.job), ['docs', 'year']);
});

test('a slow job does not delay another job\'s schedule', async () => {
  const h = createHarness({ startMs: T0, maxParallel: 2, jobs: [makeJob('slow', { schedule: '0 * * * *' }), makeJob('quick', { schedule: '*/10 * * * *' })] });
  for (let i = 0; i < 2 * 60; i++) {
    await h.advance(MINUTE);
    for (const r of h.active()) if (r.job === 'quick') await r.finish();
  }
  const quick = h.runs.filter((r) => r.job === 'quick').map((r) => (r.atMs - T0) / MINUTE);
  assert.deepEqual(quick, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
  assert.equal(h.runs.filter((r) => r.job === 'slow').length, 1, 'slow still runs its first slot');
  assert.ok(h.clock.now() - T0 >= 2 * HOUR);
});

test('cancel drops a queued run with a cancelled record and aborts a running one', async () => {
  const h = createHarness({ startMs: T0, maxParallel: 1, jobs: [makeJob('a', { schedule: never }), makeJob('b', { schedule: never })] });
  h.scheduler.trigger('a', {});
  const queuedId = h.scheduler.trigger('b', {});
  await h.advance(0);
  assert.equal(h.scheduler.cancel('b'), true);
  const dropped = h.events.find((e) => e.type === 'run-finished');
  assert.ok(dropped?.type === 'run-finished');
  assert.equal(dropped.record.runId, queuedId);
  assert.equal(dropped.record.outcome, 'cancelled');
  assert.equal(h.runs[0]!.signal.aborted, false);
  assert.equal(h.scheduler.cancel('a'), true);
  assert.equal(h.runs[0]!.signal.aborted, true);
  await h.runs[0]!.finish({ outcome: 'cancelled' });
  assert.equal(h.runs.length, 1, 'the dropped run never started');
  assert.equal(h.scheduler.cancel('a'), false, 'nothing left to cancel');
});

test('stop() ends scheduling: no timer, queued runs dropped, the running run finishes', async () => {
  const h = createHarness({ startMs: T0, maxParallel: 1, jobs: [makeJob('a', { schedule: '* * * * *' }), makeJob('b', { schedule: never })] });
  await h.advance(MINUTE);
  h.scheduler.trigger('b', {});
  h.scheduler.stop();
  assert.equal(h.clock.pendingTimers(), 0);
  assert.equal(h.scheduler.info('b')!.queued, false);
  assert.throws(() => h.scheduler.trigger('b', {}), { code: 'ServiceUnavailable' });
  let idle = false;
  void h.scheduler.idle().then(() => (idle = true));
  await h.advance(0);
  assert.equal(idle, false);
  await h.runs[0]!.finish();
  assert.equal(idle, true);
  await h.advance(10 * MINUTE);
  assert.equal(h.runs.length, 1);
});

test('a run that throws ends with a locked (or failed) record instead of wedging the job', async () => {
  let id = 1;
  const sched = createScheduler({
    clock: new FakeClock(T0),
    logger: nullLogger,
    maxParallel: 1,
    nextRunId: () => id++,
    readState: () => makeState(),
    startRun: () => Promise.reject(new RbmError('AlreadyRunning', 'held by pid 42')),
  });
  const outcomes: string[] = [];
  sched.on((e) => {
    if (e.type === 'run-finished') outcomes.push(e.record.outcome);
  });
  sched.applyConfig([makeJob('x', { schedule: never })]);
  sched.start();
  sched.trigger('x', {});
  await sched.idle();
  assert.deepEqual(outcomes, ['locked']);
  assert.equal(sched.info('x')!.activity, 'idle');
});
