// Scheduler timing on a fake clock: cron order, start-up and missed runs, clock jumps, retries, pause, attention states.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRunAfter } from '../../src/scheduler/next-run.js';
import { createHarness, HOUR, MINUTE } from '../helpers/scheduler-harness.js';
import { makeJob, makeState } from '../helpers/scheduler-fixtures.js';

process.env.TZ = 'UTC';
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

async function stepThrough(h: ReturnType<typeof createHarness>, totalMs: number, stepMs = MINUTE): Promise<void> {
  for (let t = 0; t < totalMs; t += stepMs) await h.advance(stepMs);
}

test('nextRunAfter returns the first slot strictly after the given time', () => {
  assert.equal(nextRunAfter('0 * * * *', T0), T0 + HOUR);
  assert.equal(nextRunAfter('0 * * * *', T0 - 1), T0);
  assert.equal(nextRunAfter('*/15 * * * *', T0 + 20 * MINUTE), T0 + 30 * MINUTE);
});

test('jobs run in cron order, each on its own schedule', async () => {
  const h = createHarness({ startMs: T0, autoFinish: true, jobs: [makeJob('a', { schedule: '*/10 * * * *' }), makeJob('b', { schedule: '*/15 * * * *' })] });
  await stepThrough(h, 30 * MINUTE);
  const seen = h.runs.map((r) => `${r.job}@${(r.atMs - T0) / MINUTE}`);
  assert.deepEqual(seen, ['a@10', 'b@15', 'a@20', 'a@30', 'b@30']);
  assert.ok(h.runs.every((r) => r.request.trigger === 'schedule'));
});

test('the scheduler keeps exactly one timer, aimed at the earliest due time', () => {
  const h = createHarness({ startMs: T0, maxSleepMs: 10 * HOUR, jobs: [makeJob('a', { schedule: '0 5 * * *' }), makeJob('b', { schedule: '0 3 * * *' })] });
  assert.equal(h.clock.pendingTimers(), 1);
  assert.equal(h.clock.nextTimerIn(), 3 * HOUR);
  h.scheduler.pause('b');
  assert.equal(h.clock.pendingTimers(), 1);
  assert.equal(h.clock.nextTimerIn(), 5 * HOUR);
});

test('with no jobs there is no timer at all', () => {
  const h = createHarness({ startMs: T0, jobs: [] });
  assert.equal(h.clock.pendingTimers(), 0);
});

test('long sleeps are capped so a suspend cannot delay a run by more than maxSleepMs', () => {
  const h = createHarness({ startMs: T0, maxSleepMs: MINUTE, jobs: [makeJob('a', { schedule: '0 5 * * *' })] });
  assert.equal(h.clock.nextTimerIn(), MINUTE);
});

test('a job whose slots passed while the service was down runs once at start-up', async () => {
  const h = createHarness({
    startMs: T0 + 10 * HOUR + 30 * MINUTE,
    jobs: [makeJob('missed'), makeJob('recent'), makeJob('never')],
    states: { missed: { lastStartedMs: T0 + 5 * HOUR }, recent: { lastStartedMs: T0 + 10 * HOUR + 1000 } },
  });
  h.scheduler.runStartupChecks({ runMissed: true, runInitial: false });
  await h.advance(0);
  assert.deepEqual(h.runs.map((r) => [r.job, r.request.trigger]), [['missed', 'missed']]);
  await h.finishAll();
  await h.advance(20 * MINUTE);
  assert.equal(h.runs.length, 1, 'five missed slots coalesce into one run');
});

test('missed slots are ignored when run_missed_jobs is off', async () => {
  const h = createHarness({ startMs: T0 + 10 * HOUR + 30 * MINUTE, jobs: [makeJob('a')], states: { a: { lastScheduledMs: T0 } } });
  h.scheduler.runStartupChecks({ runMissed: false, runInitial: false });
  await h.advance(0);
  assert.equal(h.runs.length, 0);
});

test('run_initial_sync_on_startup runs every active job once, skipping inactive and attention-needing jobs', async () => {
  const h = createHarness({
    startMs: T0 + 5 * MINUTE,
    jobs: [makeJob('a'), makeJob('b'), makeJob('off', { active: false }), makeJob('locked', {})],
    states: { locked: { needsResync: true }, a: { lastStartedMs: T0 } },
  });
  h.scheduler.runStartupChecks({ runMissed: true, runInitial: true });
  h.scheduler.runStartupChecks({ runMissed: true, runInitial: true });
  await h.advance(0);
  assert.deepEqual(h.runs.map((r) => [r.job, r.request.trigger]).sort(), [['a', 'startup'], ['b', 'startup']]);
});

test('a forward clock jump runs what became due once, not once per skipped slot', async () => {
  const h = createHarness({ startMs: T0 + 30 * MINUTE, maxSleepMs: MINUTE, autoFinish: true, jobs: [makeJob('a', { schedule: '*/10 * * * *' })] });
  h.clock.jump(5 * HOUR); // wall clock steps (suspend/NTP); the monotonic timer does not fire early
  await h.advance(MINUTE);
  assert.equal(h.runs.length, 1);
  assert.equal(h.runs[0]!.atMs, T0 + 5 * HOUR + 31 * MINUTE);
  await stepThrough(h, 8 * MINUTE);
  assert.equal(h.runs.length, 1, 'nothing more until the next slot');
  await stepThrough(h, 2 * MINUTE);
  assert.equal(h.runs.length, 2);
});

test('a backward clock jump does not run a slot twice', async () => {
  const h = createHarness({ startMs: T0 + 50 * MINUTE, maxSleepMs: MINUTE, autoFinish: true, jobs: [makeJob('a', { schedule: '0 * * * *' })] });
  await stepThrough(h, 10 * MINUTE);
  assert.equal(h.runs.length, 1, 'the 01:00 slot ran');
  h.clock.jump(-30 * MINUTE); // back to 00:30
  await stepThrough(h, 59 * MINUTE); // wall 00:30 → 01:29, passing 01:00 again
  assert.equal(h.runs.length, 1, 'the 01:00 slot did not run again');
  await stepThrough(h, 31 * MINUTE); // → 02:00
  assert.equal(h.runs.length, 2);
});

test('a retryable failure is retried at the state retry time, not before', async () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { schedule: '0 0 1 1 *' })] });
  h.scheduler.trigger('a', { trigger: 'manual' });
  await h.advance(0);
  h.states.set('a', makeState({ retryAtMs: T0 + 5 * MINUTE, consecutiveFailures: 1 }));
  await h.runs[0]!.finish({ outcome: 'retryable' });
  assert.equal(h.scheduler.info('a')!.nextRunMs, T0 + 5 * MINUTE);
  await h.advance(5 * MINUTE - 1);
  assert.equal(h.runs.length, 1);
  await h.advance(1);
  assert.equal(h.runs.length, 2);
  assert.equal(h.runs[1]!.request.trigger, 'retry');
  await h.advance(MINUTE);
  assert.equal(h.runs.length, 2, 'one retry time fires once');
});

test('a job needing resync is not run on schedule, only on request; a job waiting for approval keeps its schedule (it checks again)', async () => {
  const h = createHarness({
    startMs: T0,
    jobs: [makeJob('r', { schedule: '*/5 * * * *' }), makeJob('p', { schedule: '*/5 * * * *' })],
    states: { r: { needsResync: true }, p: { needsApproval: true } },
  });
  assert.equal(h.scheduler.info('p')!.activity, 'needs-approval');
  assert.equal(h.scheduler.info('p')!.nextRunMs, T0 + 5 * MINUTE);
  await stepThrough(h, 30 * MINUTE);
  assert.ok(h.runs.length > 0 && h.runs.every((r) => r.job === 'p' && r.request.trigger === 'schedule'), JSON.stringify(h.runs.map((r) => [r.job, r.request.trigger])));
  const before = h.runs.length;
  assert.equal(h.scheduler.info('r')!.activity, 'needs-resync');
  assert.equal(h.scheduler.info('r')!.nextRunMs, 0);
  h.scheduler.trigger('r', { trigger: 'manual', resync: true });
  await h.advance(0);
  assert.deepEqual(h.runs.slice(before).map((r) => [r.job, r.request.resync]), [['r', true]]);
});

test('a paused job is not run; resuming schedules from now without the slots missed while paused', async () => {
  const h = createHarness({ startMs: T0, autoFinish: true, jobs: [makeJob('a', { schedule: '*/10 * * * *' })] });
  h.scheduler.pause('a');
  assert.equal(h.scheduler.info('a')!.activity, 'paused');
  await stepThrough(h, 35 * MINUTE);
  assert.equal(h.runs.length, 0);
  h.scheduler.resume('a');
  await h.advance(MINUTE);
  assert.equal(h.runs.length, 0);
  await stepThrough(h, 4 * MINUTE);
  assert.deepEqual(h.runs.map((r) => (r.atMs - T0) / MINUTE), [40]);
});

test('an inactive job is never scheduled', async () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { active: false, schedule: '* * * * *' })] });
  await stepThrough(h, 5 * MINUTE);
  assert.equal(h.runs.length, 0);
  assert.equal(h.scheduler.info('a')!.activity, 'inactive');
});

test('a locked-out job with auto_resync keeps its schedule: its next run resyncs by itself', async () => {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { schedule: '*/5 * * * *', autoResync: true })], states: { a: { needsResync: true } } });
  assert.equal(h.scheduler.info('a')!.nextRunMs, T0 + 5 * MINUTE);
  await stepThrough(h, 6 * MINUTE);
  assert.deepEqual(h.runs.map((r) => [r.job, r.request.trigger]), [['a', 'schedule']]);
});
